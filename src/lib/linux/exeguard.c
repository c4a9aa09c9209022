/* The CVE-2019-5736 guard; see exeguard.h for the design. */
#include "linux/exeguard.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* binfmt_script: at most 4 levels of interpreters, a 256-byte first line */
#define MAX_DEPTH   4
#define HEADER_SIZE 256

static bool self_known;
static dev_t self_dev;
static ino_t self_ino;

int hutch_exeguard_remember(struct hutch_error **err)
{
	struct stat st;

	if (stat("/proc/self/exe", &st) < 0)
		return hutch_error_errno(err, "stat /proc/self/exe");
	self_dev = st.st_dev;
	self_ino = st.st_ino;
	self_known = true;
	return 0;
}

int hutch_exeguard_seal(struct hutch_error **err)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return hutch_error_errno(err, "prctl(PR_SET_DUMPABLE, 0)");
	return 0;
}

static int check_not_self(int fd, const char *name, struct hutch_error **err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return hutch_error_errno(err, "exec: stat %s", name);
	if (self_known && st.st_dev == self_dev && st.st_ino == self_ino)
		return hutch_error_set(err, EPERM,
				       "exec: %s is the hutch binary itself; a container may not "
				       "run it (CVE-2019-5736)",
				       name);
	return 0;
}

/* The interpreter line of a "#!" script in BUF (N bytes), as binfmt_script
 * reads it: *INTERP and *ARG point into BUF (*ARG NULL when absent).
 * Returns 1 for a script, 0 for anything else, -1 for an empty "#!". */
static int parse_shebang(char *buf, size_t n, char **interp, char **arg)
{
	char *p, *end;

	if (n < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	buf[n < HEADER_SIZE ? n : HEADER_SIZE - 1] = '\0';
	end = strchr(buf, '\n');
	if (end != NULL)
		*end = '\0';
	end = buf + strlen(buf);
	while (end > buf + 2 && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	for (p = buf + 2; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0')
		return -1;
	*interp = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	*arg = NULL;
	if (*p != '\0') {
		*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0')
			*arg = p;
	}
	return 1;
}

static int prepare_level(const char *exe, char *const argv[], int min_fd, int depth,
			 struct hutch_exeguard_prog *prog, struct hutch_error **err)
{
	_cleanup_close_ int fd = open(exe, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	char *buf = NULL, *interp = NULL, *arg = NULL;
	ssize_t n = 0;
	int r;

	if (fd < 0 && (errno == EACCES || errno == EPERM))
		fd = open(exe, O_PATH | O_CLOEXEC); /* execute-only: not a script */
	if (fd < 0)
		return hutch_error_errno(err, "exec %s", exe);
	if (check_not_self(fd, exe, err) < 0)
		return -1;
	buf = calloc(1, HEADER_SIZE + 1); /* kept: argv may point into it */
	if (buf == NULL)
		return hutch_error_set(err, ENOMEM, "exec %s", exe);
	n = pread(fd, buf, HEADER_SIZE, 0);
	r = n > 0 ? parse_shebang(buf, (size_t)n, &interp, &arg) : 0;
	if (r < 0) {
		free(buf);
		return hutch_error_set(err, ENOEXEC, "exec %s: empty \"#!\" line", exe);
	}
	if (r == 0) {
		free(buf);
		prog->fd = fcntl(fd, F_DUPFD_CLOEXEC, min_fd);
		if (prog->fd < 0)
			return hutch_error_errno(err, "exec %s: dup", exe);
		prog->argv = (char **)argv;
		return 0;
	}
	if (depth >= MAX_DEPTH) {
		free(buf);
		return hutch_error_set(err, ELOOP, "exec %s: too many interpreters", exe);
	}
	size_t argc = 0, i = 0;
	char **nargv;
	while (argv[0] != NULL && argv[argc] != NULL)
		argc++;
	nargv = calloc(argc + 4, sizeof(char *));
	if (nargv == NULL) {
		free(buf);
		return hutch_error_set(err, ENOMEM, "exec %s", exe);
	}
	/* as binfmt_script: interpreter, its argument, the script's path, and
	 * the original argv without argv[0] */
	nargv[i++] = interp;
	if (arg != NULL)
		nargv[i++] = arg;
	nargv[i++] = (char *)exe;
	for (size_t k = 1; k < argc; k++)
		nargv[i++] = argv[k];
	if (prepare_level(interp, nargv, min_fd, depth + 1, prog, err) < 0) {
		free(nargv);
		free(buf);
		return hutch_error_prefix(err, "interpreter of %s", exe);
	}
	/* nargv and buf live until execve (or hutch_exeguard_prog_clear) */
	prog->owned[prog->n_owned++] = buf;
	prog->owned[prog->n_owned++] = nargv;
	return 0;
}

void hutch_exeguard_prog_clear(struct hutch_exeguard_prog *prog)
{
	for (size_t i = 0; i < prog->n_owned; i++)
		free(prog->owned[i]);
	prog->n_owned = 0;
	prog->argv = NULL;
	if (prog->fd >= 0)
		close(prog->fd);
	prog->fd = -1;
}

int hutch_exeguard_prepare(const char *exe, char *const argv[], int min_fd,
			   struct hutch_exeguard_prog *prog, struct hutch_error **err)
{
	prog->fd = -1;
	prog->argv = NULL;
	prog->n_owned = 0;
	return prepare_level(exe, argv, min_fd, 0, prog, err);
}

int hutch_exeguard_exec(struct hutch_exeguard_prog *prog, const char *name, char *const envp[],
			struct hutch_error **err)
{
	char path[64];

	syscall(SYS_execveat, prog->fd, "", prog->argv, envp, AT_EMPTY_PATH);
	/* execveat refused (a seccomp profile listing only execve, a kernel
	 * without it): the same file through its fd's magic link */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", prog->fd);
	execve(path, prog->argv, envp);
	return hutch_error_errno(err, "exec %s", name);
}
