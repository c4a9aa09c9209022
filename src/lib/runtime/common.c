/* Helpers shared by the lifecycle commands and exec. */
#include "common.h"
#include "hutch/hutch.h"
#include "cgroup/cgroup.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "state/state.h"

#include <errno.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int hutch_rt_pidfd_open(pid_t pid, unsigned long long start_time)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		return -1;
	/* The pid may have been reused between reading the state and opening
	 * the pidfd: the start time pins it to our process. */
	if (start_time != 0 && hutch_proc_start_time(pid) != start_time) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

/* Wait up to timeout_ms for the process behind PIDFD to exit. */
bool hutch_rt_wait_pidfd(int pidfd, int timeout_ms)
{
	struct pollfd p = {pidfd, POLLIN, 0};
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

void hutch_rt_kill_and_wait(pid_t pid, unsigned long long start_time)
{
	_cleanup_close_ int pidfd = -1;

	if (pid <= 0)
		return;
	pidfd = hutch_rt_pidfd_open(pid, start_time);
	if (pidfd < 0)
		return;
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	hutch_rt_wait_pidfd(pidfd, 5000);
	waitpid(pid, NULL, WNOHANG);
}

void hutch_rt_now_rfc3339(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	/* By hand: glibc's strftime loads the time zone (reads /etc/localtime)
	 * even for a UTC format without a zone. */
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

int hutch_rt_write_pid_file(const char *path, pid_t pid, struct hutch_error **err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);

	if (path == NULL)
		return 0;
	if (hutch_write_file_atomic(path, buf, (size_t)n, 0644, false, err) < 0)
		return hutch_error_prefix(err, "--pid-file");
	return 0;
}

/* clone3 (with CLONE_INTO_CGROUP when CGROUP_FD >= 0), or the classic clone
 * on kernels without clone3, when *INTO_CGROUP says the child is not in
 * that cgroup yet.  fork semantics: no new stack. */
pid_t hutch_rt_clone(unsigned long flags, int cgroup_fd, bool *into_cgroup)
{
	struct clone_args args = {.flags = flags, .exit_signal = SIGCHLD};
	pid_t pid;

	*into_cgroup = false;
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_fd;
	}
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid >= 0) {
		*into_cgroup = cgroup_fd >= 0;
		return pid;
	}
	if (errno != ENOSYS && errno != E2BIG && errno != EINVAL)
		return pid;
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* Read the state and refine the status with the cgroup freezer. */
struct hutch_state *hutch_rt_load(const struct hutch_context *ctx, const char *id,
				  struct hutch_cgroup **cgp, struct hutch_error **err)
{
	_cleanup_state_ struct hutch_state *st = NULL;
	_cleanup_cgroup_ struct hutch_cgroup *cg = NULL;

	if (hutch_id_check(id, err) < 0)
		return NULL;
	st = hutch_state_read(ctx->root, id, err);
	if (st == NULL)
		return NULL;
	if (st->cgroup_path != NULL) {
		_cleanup_error_ struct hutch_error *e = NULL;
		/* as create resolved it; rediscovered for older state files */
		if (st->cgroup_layout != NULL) {
			cg = hutch_cgroup_restore(CGROUP_MOUNT, st->cgroup_path, st->cgroup_layout,
						  &e);
			if (cg == NULL)
				hutch_debug("container %s: %s", id, hutch_error_text(e));
			hutch_error_freep(&e);
		}
		if (cg == NULL)
			cg = hutch_cgroup_load(CGROUP_MOUNT, st->cgroup_path, &e);
		if (cg == NULL)
			hutch_debug("container %s: %s", id, hutch_error_text(e));
	}
	if (cg != NULL &&
	    (st->status == HUTCH_STATUS_RUNNING || st->status == HUTCH_STATUS_CREATED)) {
		bool frozen = false;
		if (hutch_cgroup_is_frozen(cg, &frozen, NULL) == 0 && frozen)
			st->status = HUTCH_STATUS_PAUSED;
	}
	if (cgp != NULL)
		*cgp = steal_ptr(cg);
	return steal_ptr(st);
}

struct hutch_state *hutch_rt_load_locked(const struct hutch_context *ctx, const char *id, int *lock,
					 struct hutch_cgroup **cgp, struct hutch_error **err)
{
	if (hutch_id_check(id, err) < 0)
		return NULL;
	*lock = hutch_state_lock(ctx->root, id, err);
	if (*lock < 0)
		return NULL;
	return hutch_rt_load(ctx, id, cgp, err);
}

int hutch_rt_wait_forwarding(pid_t pid, int *status, struct hutch_error **err)
{
	static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	sigset_t set, old;
	_cleanup_close_ int sfd = -1, pidfd = -1;
	int ws = 0;

	sigemptyset(&set);
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(forwarded); i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (sfd < 0 || pidfd < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return hutch_error_errno(err, "wait for the container");
	}
	for (;;) {
		struct pollfd p[2] = {{sfd, POLLIN, 0}, {pidfd, POLLIN, 0}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				syscall(SYS_pidfd_send_signal, pidfd, (int)si.ssi_signo, NULL, 0);
		}
		if (p[1].revents & POLLIN)
			break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (waitpid(pid, &ws, 0) < 0)
		return hutch_error_errno(err, "wait for the container init %d", (int)pid);
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return 0;
}
