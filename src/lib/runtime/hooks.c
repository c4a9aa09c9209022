/* OCI hooks.
 *
 * Each hook runs as a child: its environment is exactly hook.env (empty when
 * absent: the spec gives hooks no inherited environment), argv is hook.args
 * (or just the path), stdin is a pipe carrying the state JSON, stdout and
 * stderr are ours.  Nothing else is inherited: every other fd is closed in the
 * child before execve, whether or not its owner remembered O_CLOEXEC.
 *
 * The parent feeds stdin without blocking and waits for the child with a
 * deadline in one poll() loop, so a hook that never reads its stdin (and
 * never exits) cannot hang the runtime past its timeout: the state may be
 * larger than a pipe buffer.  The wait uses a pidfd (Linux 5.3); without one
 * it polls waitpid(WNOHANG) every 10 ms.  SIGPIPE is blocked while a hook
 * runs (a hook may exit without reading) and a pending one is discarded
 * afterwards, so the caller's disposition is untouched. */
#include "hooks.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "spec/model.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define FALLBACK_TICK_MS 10

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child, between fork and execve: only async-signal-safe calls. */
static void close_fds_from(int lowfd)
{
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
	/* Kernels before 5.9: close the plausible range one by one. */
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = lowfd; fd < max; fd++)
		close(fd);
}

static __attribute__((noreturn)) void child_exec(const struct hutch_hook *h, char *const argv[],
						 char *const envp[], int stdin_fd, int errfd)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;
	int e;

	/* Our signal mask (SIGPIPE blocked) and ignored signals would be inherited
	 * across execve; a hook starts with default dispositions. */
	for (int s = 1; s < NSIG; s++) {
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* A caller started with 0, 1 or 2 closed may have got errfd there. */
	if (errfd <= STDERR_FILENO && (errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 3)) < 0)
		_exit(127);
	if (stdin_fd != STDIN_FILENO) {
		if (dup2(stdin_fd, STDIN_FILENO) < 0)
			goto fail;
	} else if (fcntl(STDIN_FILENO, F_SETFD, 0) < 0) {
		goto fail;
	}
	/* errfd (O_CLOEXEC) reports an execve failure; move it above every fd
	 * we keep and close the rest. */
	if (errfd != 3) {
		if (dup3(errfd, 3, O_CLOEXEC) < 0)
			goto fail;
		errfd = 3;
	}
	close_fds_from(4);
	execve(h->path, argv, envp);
fail:
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0) {
		/* nothing left to report to */
	}
	_exit(127);
}

static void describe_status(char *buf, size_t size, int status)
{
	if (WIFEXITED(status)) {
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(status));
		if (abbrev != NULL)
			snprintf(buf, size, "killed by signal SIG%s", abbrev);
		else
			snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	} else {
		snprintf(buf, size, "ended with wait status %#x", (unsigned)status);
	}
}

static int reap(pid_t pid, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, 0);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

struct feeder {
	int fd; /* -1 once everything is written or the hook closed its end */
	const char *data;
	size_t left;
};

/* Write what the pipe takes now; close it when done or when the reader left. */
static void feed(struct feeder *f)
{
	while (f->fd >= 0 && f->left > 0) {
		ssize_t w = write(f->fd, f->data, f->left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			break; /* EPIPE: the hook does not want its stdin */
		}
		f->data += w;
		f->left -= (size_t)w;
	}
	hutch_closep(&f->fd);
}

/* Wait for PID, feeding F; 1 when the deadline passed (the hook is still
 * running), 0 when *status is set, -1 on error. */
static int wait_hook(pid_t pid, int pidfd, struct feeder *f, int64_t deadline, int *status)
{
	for (;;) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		int timeout = -1, r;

		if (pidfd >= 0) {
			pfd[n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		} else {
			pid_t w = waitpid(pid, status, WNOHANG);
			if (w == pid)
				return 0;
			if (w < 0 && errno != EINTR)
				return -1;
			timeout = FALLBACK_TICK_MS;
		}
		if (f->fd >= 0)
			pfd[n++] = (struct pollfd){.fd = f->fd, .events = POLLOUT};
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return 1;
			if (timeout < 0 || left < timeout)
				timeout = left > INT_MAX ? INT_MAX : (int)left;
		}
		r = poll(pfd, n, timeout);
		if (r < 0 && errno != EINTR)
			return -1;
		if (f->fd >= 0)
			feed(f);
		if (pidfd >= 0 && r > 0 && (pfd[0].revents & POLLIN)) {
			if (reap(pid, status) < 0)
				return -1;
			return 0;
		}
	}
}

static char **hook_argv(const struct hutch_hook *h, char **fallback)
{
	if (h->args != NULL && h->args[0] != NULL)
		return h->args;
	fallback[0] = h->path;
	fallback[1] = NULL;
	return fallback;
}

static int run_one(const struct hutch_hook *h, const char *kind, const char *state_json,
		   struct hutch_error **err)
{
	static char *empty_env[] = {NULL};
	char *argv_fallback[2];
	char **argv = hook_argv(h, argv_fallback);
	char **envp = h->env != NULL ? h->env : empty_env;
	_cleanup_close_ int in_r = -1, err_r = -1, err_w = -1, pidfd = -1;
	struct feeder f = {.fd = -1, .data = state_json, .left = strlen(state_json)};
	int pipefd[2], status = 0, r, child_errno = 0;
	int64_t deadline = -1;
	char how[64];
	ssize_t got;
	pid_t pid;

	if (h->path == NULL)
		return hutch_error_set(err, EINVAL, "%s hook: no path", kind);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return hutch_error_errno(err, "%s hook %s: pipe", kind, h->path);
	in_r = pipefd[0];
	f.fd = pipefd[1];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		hutch_closep(&f.fd);
		return hutch_error_errno(err, "%s hook %s: pipe", kind, h->path);
	}
	err_r = pipefd[0];
	err_w = pipefd[1];
	hutch_debug("running %s hook %s", kind, h->path);
	pid = fork();
	if (pid < 0) {
		hutch_closep(&f.fd);
		return hutch_error_errno(err, "%s hook %s: fork", kind, h->path);
	}
	if (pid == 0)
		child_exec(h, argv, envp, in_r, err_w);
	hutch_closep(&in_r);
	hutch_closep(&err_w);
	/* EOF once execve succeeded (close-on-exec), an errno if it failed. */
	do
		got = read(err_r, &child_errno, sizeof(child_errno));
	while (got < 0 && errno == EINTR);
	if (got == sizeof(child_errno)) {
		hutch_closep(&f.fd);
		reap(pid, &status);
		return hutch_error_set(err, child_errno, "%s hook %s: exec", kind, h->path);
	}
	if (h->has_timeout && h->timeout > 0)
		deadline = now_ms() + (int64_t)h->timeout * 1000;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	fcntl(f.fd, F_SETFL, O_NONBLOCK);
	feed(&f);
	r = wait_hook(pid, pidfd, &f, deadline, &status);
	hutch_closep(&f.fd);
	if (r != 0) {
		int saved = errno;
		kill(pid, SIGKILL);
		reap(pid, &status);
		if (r > 0)
			return hutch_error_set(err, 0, "%s hook %s timed out after %d s", kind,
					       h->path, h->timeout);
		errno = saved;
		return hutch_error_errno(err, "%s hook %s: wait", kind, h->path);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	describe_status(how, sizeof(how), status);
	return hutch_error_set(err, 0, "%s hook %s %s", kind, h->path, how);
}

/* Block SIGPIPE for the duration; drop one that arrived meanwhile. */
struct sigpipe_guard {
	sigset_t old;
	bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, &g->old);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE);
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
	static const struct timespec zero = {0, 0};
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	if (!g->was_pending && sigismember(&pending, SIGPIPE)) {
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	sigprocmask(SIG_SETMASK, &g->old, NULL);
}

int hutch_hooks_run(const struct hutch_hook_list *list, const char *kind_name,
		    const char *state_json, struct hutch_error **err)
{
	struct sigpipe_guard g;
	int r = 0;

	if (list == NULL || list->n == 0)
		return 0;
	if (state_json == NULL)
		state_json = "";
	sigpipe_block(&g);
	for (size_t i = 0; i < list->n && r == 0; i++)
		r = run_one(&list->hooks[i], kind_name, state_json, err);
	sigpipe_restore(&g);
	return r;
}

void hutch_hooks_run_warn(const struct hutch_hook_list *list, const char *kind_name,
			  const char *state_json)
{
	struct sigpipe_guard g;

	if (list == NULL || list->n == 0)
		return;
	if (state_json == NULL)
		state_json = "";
	sigpipe_block(&g);
	for (size_t i = 0; i < list->n; i++) {
		_cleanup_error_ struct hutch_error *e = NULL;
		if (run_one(&list->hooks[i], kind_name, state_json, &e) < 0)
			hutch_warn("%s", hutch_error_text(e));
	}
	sigpipe_restore(&g);
}
