/* Hooks: state on stdin, exact env, argv, fds, timeout, failures, run_warn.
 * The hooks are /bin/sh scripts in a temp dir. */
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "runtime/hooks.h"
#include "spec/model.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/hutch-unit-hooks-XXXXXX";

static char *path_of(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

/* Write an executable script NAME; returns its path. */
static char *script(const char *name, const char *body)
{
	char *p = path_of(name);
	_cleanup_free_ char *text = NULL;
	_cleanup_error_ struct hutch_error *e = NULL;

	if (asprintf(&text, "#!/bin/sh\n%s\n", body) < 0)
		abort();
	if (hutch_write_file_atomic(p, text, strlen(text), 0755, false, &e) < 0) {
		fprintf(stderr, "%s\n", hutch_error_text(e));
		abort();
	}
	return p;
}

static char *slurp(const char *name)
{
	_cleanup_free_ char *p = path_of(name);
	_cleanup_error_ struct hutch_error *e = NULL;

	return hutch_read_file(p, 0, NULL, &e);
}

static int run1(struct hutch_hook *h, const char *json, char **msg)
{
	struct hutch_hook_list l = {h, 1};
	struct hutch_error *e = NULL;
	int r = hutch_hooks_run(&l, "prestart", json, &e);

	*msg = NULL;
	if (r < 0) {
		*msg = strdup(hutch_error_text(e));
		hutch_error_free(e);
	}
	return r;
}

TEST(state_on_stdin)
{
	_cleanup_free_ char *p = NULL, *out = NULL, *msg = NULL, *cmd = NULL;
	const char *json = "{\"ociVersion\":\"1.3.0\",\"id\":\"c1\",\"status\":\"creating\"}";
	struct hutch_hook h = {0};

	if (asprintf(&cmd, "cat > %s/stdin.out", dir) < 0)
		abort();
	p = script("stdin.sh", cmd);
	h.path = p;
	CHECK_INT(run1(&h, json, &msg), 0);
	out = slurp("stdin.out");
	CHECK_STR(out, json);
}

TEST(big_state_fully_written)
{
	_cleanup_free_ char *p = NULL, *out = NULL, *msg = NULL, *cmd = NULL, *big = NULL;
	struct hutch_hook h = {0};
	size_t n = 1 << 20; /* larger than a pipe buffer */

	big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	if (asprintf(&cmd, "sleep 0.2; cat > %s/big.out", dir) < 0)
		abort();
	p = script("big.sh", cmd);
	h.path = p;
	h.has_timeout = true;
	h.timeout = 10;
	CHECK_INT(run1(&h, big, &msg), 0);
	out = slurp("big.out");
	CHECK(out != NULL && strlen(out) == n);
}

TEST(env_exact_and_args)
{
	_cleanup_free_ char *p = NULL, *out = NULL, *msg = NULL, *cmd = NULL;
	char *env[] = {(char *)"FOO=bar", (char *)"X=1 2", NULL};
	char *args[] = {NULL, (char *)"one", (char *)"two words", NULL};
	struct hutch_hook h = {0};

	/* /usr/bin/env would add nothing: print argv[0] as the script sees
	 * it ($0 is the script path), its args, and the whole environment. */
	if (asprintf(&cmd,
		     "{ echo \"$#:$1:$2\"; /usr/bin/env | LC_ALL=C /usr/bin/sort; } > %s/env.out",
		     dir) < 0)
		abort();
	p = script("env.sh", cmd);
	args[0] = p;
	h.path = p;
	h.args = args;
	h.env = env;
	setenv("HUTCH_UNIT_LEAK", "1", 1);
	CHECK_INT(run1(&h, "{}", &msg), 0);
	out = slurp("env.out");
	CHECK(out != NULL);
	if (out != NULL) {
		CHECK_CONTAINS(out, "2:one:two words\n");
		CHECK_CONTAINS(out, "FOO=bar\n");
		CHECK_CONTAINS(out, "X=1 2\n");
		CHECK(strstr(out, "HUTCH_UNIT_LEAK") == NULL);
		CHECK(strstr(out, "\nHOME=") == NULL);
	}
	free(out);
	out = NULL;

	/* No env at all: empty (sh itself may add PWD and friends only). */
	h.env = NULL;
	h.args = NULL;
	CHECK_INT(run1(&h, "{}", &msg), 0);
	out = slurp("env.out");
	CHECK(out != NULL);
	if (out != NULL) {
		CHECK_CONTAINS(out, "0::\n");
		CHECK(strstr(out, "FOO=") == NULL);
		CHECK(strstr(out, "HUTCH_UNIT_LEAK") == NULL);
	}
}

TEST(no_fds_inherited)
{
	_cleanup_free_ char *p = NULL, *out = NULL, *msg = NULL, *cmd = NULL;
	struct hutch_hook h = {0};
	/* Deliberately without O_CLOEXEC: the hook must still not get it. */
	int leak = open("/dev/null", O_RDONLY);

	CHECK(leak > 2);
	if (asprintf(&cmd, "ls /proc/self/fd > %s/fds.out", dir) < 0)
		abort();
	p = script("fds.sh", cmd);
	h.path = p;
	CHECK_INT(run1(&h, "{}", &msg), 0);
	out = slurp("fds.out");
	/* ls itself opens one fd (its directory); 0, 1, 2 and that one. */
	CHECK(out != NULL);
	if (out != NULL) {
		int count = 0;
		for (char *c = out; *c; c++)
			count += *c == '\n';
		CHECK_INT(count, 4);
	}
	close(leak);
}

TEST(failure_messages)
{
	_cleanup_free_ char *p = NULL, *k = NULL, *msg = NULL;
	struct hutch_hook h = {0};

	p = script("fail.sh", "exit 3");
	h.path = p;
	CHECK_INT(run1(&h, "{}", &msg), -1);
	CHECK(msg != NULL);
	if (msg != NULL) {
		CHECK_CONTAINS(msg, "prestart hook ");
		CHECK_CONTAINS(msg, "/fail.sh exited with status 3");
	}
	free(msg);

	k = script("killed.sh", "kill -USR1 $$");
	h.path = k;
	CHECK_INT(run1(&h, "{}", &msg), -1);
	CHECK_CONTAINS(msg, "/killed.sh killed by signal SIGUSR1");
	free(msg);

	h.path = (char *)"/nonexistent/hook";
	CHECK_INT(run1(&h, "{}", &msg), -1);
	CHECK_CONTAINS(msg, "prestart hook /nonexistent/hook: exec: No such file or directory");
}

TEST(timeout_kills)
{
	_cleanup_free_ char *p = NULL, *msg = NULL, *cmd = NULL, *pidtxt = NULL;
	struct hutch_hook h = {0};
	struct timespec a, b;
	double secs;

	/* Never reads stdin, never exits; the shell execs sleep so the pid we
	 * kill is the one sleeping. */
	if (asprintf(&cmd, "echo $$ > %s/sleep.pid; exec sleep 30", dir) < 0)
		abort();
	p = script("sleep.sh", cmd);
	h.path = p;
	h.has_timeout = true;
	h.timeout = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK_INT(run1(&h, "{}", &msg), -1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	CHECK(secs >= 0.9 && secs < 5);
	CHECK_CONTAINS(msg, "/sleep.sh timed out after 1 s");
	pidtxt = slurp("sleep.pid");
	CHECK(pidtxt != NULL);
	if (pidtxt != NULL) {
		pid_t pid = (pid_t)atoi(pidtxt);
		/* Killed and reaped: gone. */
		CHECK(pid > 0 && kill(pid, 0) < 0 && errno == ESRCH);
	}
}

TEST(stop_at_first_failure_and_warn_continues)
{
	_cleanup_free_ char *a = NULL, *f = NULL, *c = NULL, *ca = NULL, *cc = NULL, *out = NULL;
	struct hutch_hook hooks[3] = {0};
	struct hutch_hook_list l = {hooks, 3};
	_cleanup_error_ struct hutch_error *e = NULL;
	_cleanup_free_ char *log = path_of("order.out");

	if (asprintf(&ca, "echo a >> %s", log) < 0 || asprintf(&cc, "echo c >> %s", log) < 0)
		abort();
	a = script("a.sh", ca);
	f = script("f.sh", "exit 1");
	c = script("c.sh", cc);
	hooks[0].path = a;
	hooks[1].path = f;
	hooks[2].path = c;
	CHECK_INT(hutch_hooks_run(&l, "poststart", "{}", &e), -1);
	CHECK_CONTAINS(hutch_error_text(e), "poststart hook ");
	out = slurp("order.out");
	CHECK_STR(out, "a\n");
	free(out);
	unlink(log);
	hutch_hooks_run_warn(&l, "poststop", "{}");
	out = slurp("order.out");
	CHECK_STR(out, "a\nc\n");
	/* An empty list is fine. */
	l.n = 0;
	CHECK_INT(hutch_hooks_run(&l, "prestart", "{}", NULL), 0);
}

TEST(sigpipe_does_not_kill_us)
{
	_cleanup_free_ char *p = NULL, *msg = NULL, *big = NULL;
	struct hutch_hook h = {0};
	size_t n = 1 << 20;
	sigset_t mask;

	big = malloc(n + 1);
	memset(big, '{', n);
	big[n] = '\0';
	p = script("noread.sh", "exec 0<&-; exit 0");
	h.path = p;
	CHECK_INT(run1(&h, big, &msg), 0);
	/* The caller's mask is restored. */
	sigprocmask(SIG_BLOCK, NULL, &mask);
	CHECK(!sigismember(&mask, SIGPIPE));
}

int main(void)
{
	_cleanup_error_ struct hutch_error *e = NULL;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(state_on_stdin);
	RUN(big_state_fully_written);
	RUN(env_exact_and_args);
	RUN(no_fds_inherited);
	RUN(failure_messages);
	RUN(timeout_kills);
	RUN(stop_at_first_failure_and_warn_continues);
	RUN(sigpipe_does_not_kill_us);
	hutch_rm_rf(dir, &e);
	return test_summary();
}
