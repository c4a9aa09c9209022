/* The CVE-2019-5736 guard (linux/exeguard.c): the program is refused when it
 * is this very binary, directly or as a script's interpreter at any level,
 * and scripts get the argv the kernel would build.  Temp dirs only. */
#include "test.h"

#include "core/error.h"
#include "linux/exeguard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/hutch-exeguard-XXXXXX";

static const char *script(const char *name, const char *text)
{
	static char path[8][256];
	static int next;
	char *p = path[next++ % 8];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	chmod(p, 0755);
	return p;
}

static int prepare(const char *exe, char **argv, struct hutch_exeguard_prog *prog, int *code,
		   char *msg, size_t len)
{
	struct hutch_error *err = NULL;
	int r = hutch_exeguard_prepare(exe, argv, 40, prog, &err);

	*code = 0;
	if (msg != NULL)
		msg[0] = '\0';
	if (r < 0) {
		*code = err->code;
		if (msg != NULL)
			snprintf(msg, len, "%s", hutch_error_text(err));
		hutch_error_free(err);
	}
	return r;
}

TEST(plain_binary_opened_above_min_fd)
{
	struct hutch_exeguard_prog prog;
	char *argv[] = {"sh", "-c", "true", NULL};
	int code;

	CHECK_INT(prepare("/bin/sh", argv, &prog, &code, NULL, 0), 0);
	CHECK(prog.fd >= 40);
	CHECK(prog.argv == argv);
	CHECK(fcntl(prog.fd, F_GETFD) & FD_CLOEXEC);
	hutch_exeguard_prog_clear(&prog);
}

TEST(self_refused)
{
	struct hutch_exeguard_prog prog;
	char *argv[] = {"x", NULL};
	char msg[512];
	int code;

	CHECK_INT(prepare("/proc/self/exe", argv, &prog, &code, msg, sizeof(msg)), -1);
	CHECK_INT(code, EPERM);
	CHECK(strstr(msg, "CVE-2019-5736") != NULL);
}

TEST(script_argv_like_the_kernel)
{
	struct hutch_exeguard_prog prog;
	const char *s = script("s1", "#!  /bin/sh   -e -x  \necho hi\n");
	char *argv[] = {"ignored", "a", "b", NULL};
	int code;

	CHECK_INT(prepare(s, argv, &prog, &code, NULL, 0), 0);
	CHECK_STR(prog.argv[0], "/bin/sh");
	CHECK_STR(prog.argv[1], "-e -x");
	CHECK_STR(prog.argv[2], s);
	CHECK_STR(prog.argv[3], "a");
	CHECK_STR(prog.argv[4], "b");
	CHECK(prog.argv[5] == NULL);
	hutch_exeguard_prog_clear(&prog);
}

TEST(script_interpreter_self_refused_at_depth)
{
	struct hutch_exeguard_prog prog;
	char line[300], msg[512];
	const char *s1 = script("i1", "#!/proc/self/exe\n");
	const char *s2;
	char *argv[] = {"x", NULL};
	int code;

	snprintf(line, sizeof(line), "#!%s arg\n", s1);
	s2 = script("i2", line);
	CHECK_INT(prepare(s2, argv, &prog, &code, msg, sizeof(msg)), -1);
	CHECK_INT(code, EPERM);
	CHECK(strstr(msg, "interpreter of") != NULL);
}

TEST(too_many_interpreters)
{
	struct hutch_exeguard_prog prog;
	char line[300], name[16];
	const char *prev = script("l0", "#!/bin/sh\n");
	char *argv[] = {"x", NULL};
	int code;

	for (int i = 1; i <= 5; i++) {
		snprintf(line, sizeof(line), "#!%s\n", prev);
		snprintf(name, sizeof(name), "l%d", i);
		prev = script(name, line);
	}
	CHECK_INT(prepare(prev, argv, &prog, &code, NULL, 0), -1);
	CHECK_INT(code, ELOOP);
}

TEST(empty_shebang)
{
	struct hutch_exeguard_prog prog;
	const char *s = script("e", "#!   \n");
	char *argv[] = {"x", NULL};
	int code;

	CHECK_INT(prepare(s, argv, &prog, &code, NULL, 0), -1);
	CHECK_INT(code, ENOEXEC);
}

TEST(seal_clears_dumpable)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		struct hutch_error *err = NULL;
		if (prctl(PR_GET_DUMPABLE) != 1 || hutch_exeguard_seal(&err) < 0)
			_exit(2);
		_exit(prctl(PR_GET_DUMPABLE) == 0 ? 0 : 1);
	}
	CHECK(pid > 0);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	struct hutch_error *err = NULL;
	char cmd[64];
	int r;

	if (mkdtemp(dir) == NULL)
		return 1;
	if (hutch_exeguard_remember(&err) < 0)
		return 1;
	RUN(plain_binary_opened_above_min_fd);
	RUN(self_refused);
	RUN(script_argv_like_the_kernel);
	RUN(script_interpreter_self_refused_at_depth);
	RUN(too_many_interpreters);
	RUN(empty_shebang);
	RUN(seal_clears_dumpable);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	r = system(cmd);
	(void)r;
	return test_summary();
}
