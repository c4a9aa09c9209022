/* hutch ps [--format table|json] ID [PS-ARGS...]
 *
 * json: the array of host pids (as runc).  table: "PID" and one pid per line;
 * with PS-ARGS, ps(1) is run with them (e.g. -ef) and only the lines of the
 * container's processes are kept, found by the header's PID column (as
 * runc does). */
#include "cli.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct cli_help help = {
    "ps",
    "[OPTIONS] ID [PS-ARGS...]",
    "Show the processes of a container.\n\n"
    "Options:\n"
    "   -f, --format FORMAT   table (default) or json (an array of host pids)\n"
    "   -h, --help            show this help\n"
    "With PS-ARGS (e.g. -ef), ps(1) is run with them and its lines for the\n"
    "container's processes are printed.\n",
};

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

/* Run ps(1) with ARGS; its output, malloc'd. */
static char *run_ps(char **args, int nargs, struct hutch_error **err)
{
	_cleanup_free_ char **argv = calloc((size_t)nargs + 2, sizeof(*argv));
	_cleanup_close_ int rd = -1;
	char *out;
	int p[2], status;
	pid_t pid;

	if (argv == NULL)
		return hutch_error_set(err, ENOMEM, "ps"), NULL;
	argv[0] = (char *)"ps";
	for (int i = 0; i < nargs; i++)
		argv[i + 1] = args[i];
	if (pipe2(p, O_CLOEXEC) < 0)
		return hutch_error_errno(err, "ps: pipe"), NULL;
	rd = p[0];
	pid = fork();
	if (pid < 0) {
		close(p[1]);
		return hutch_error_errno(err, "ps: fork"), NULL;
	}
	if (pid == 0) {
		if (dup2(p[1], STDOUT_FILENO) < 0)
			_exit(127);
		execvp("ps", argv);
		fprintf(stderr, "hutch: exec ps: %s\n", strerror(errno));
		_exit(127);
	}
	close(p[1]);
	out = hutch_read_fd(rd, 0, NULL, err);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (out == NULL)
		return NULL;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		free(out);
		return hutch_error_set(err, 0, "ps(1) failed (status %#x)", (unsigned)status), NULL;
	}
	return out;
}

/* Index of the "PID" column in the header line, -1 if none. */
static int pid_column(const char *line, size_t len)
{
	int col = 0;
	size_t i = 0;

	while (i < len) {
		size_t start;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (i - start == 3 && strncmp(line + start, "PID", 3) == 0)
			return col;
		col++;
	}
	return -1;
}

static long field_long(const char *line, size_t len, int col)
{
	size_t i = 0;

	for (int c = 0; i < len; c++) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (c == col) {
			char *end;
			long v = strtol(line + i, &end, 10);
			return end != line + i ? v : -1;
		}
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
	}
	return -1;
}

static int print_ps(char **args, int nargs, const pid_t *pids, size_t n)
{
	struct hutch_error *e = NULL;
	_cleanup_free_ char *out = run_ps(args, nargs, &e);
	const char *line, *nl;
	int col;

	if (out == NULL)
		return cli_fail(e);
	nl = strchr(out, '\n');
	col = pid_column(out, nl != NULL ? (size_t)(nl - out) : strlen(out));
	if (col < 0) {
		hutch_error_set(&e, 0, "ps(1) output has no PID column");
		return cli_fail(e);
	}
	for (line = out; *line != '\0'; line = nl != NULL ? nl + 1 : line + strlen(line)) {
		size_t len;
		nl = strchr(line, '\n');
		len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (line == out || has_pid(pids, n, field_long(line, len, col)))
			printf("%.*s\n", (int)len, line);
	}
	return 0;
}

int cmd_ps(struct hutch_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hutch_error *e = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	bool json = false;
	int c, rc = 0, first_arg;

	while ((c = cli_getopt(&help, argc, argv, "f:", opts)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			return 0;
		case 'f':
			if (cli_format(&help, optarg, &json) < 0)
				return 1;
			break;
		default:
			return 1;
		}
	}
	if (cli_nargs(&help, argc, argv, 1, -1) < 0)
		return 1;
	first_arg = optind + 1;
	if (first_arg < argc && strcmp(argv[first_arg], "--") == 0)
		first_arg++;
	if (json && first_arg < argc)
		return cli_usage_error(&help, "PS-ARGS cannot be used with --format json"), 1;
	if (hutch_container_ps(&g->ctx, argv[optind], &pids, &n, &e) < 0)
		return cli_fail(e);
	if (json) {
		fputc('[', stdout);
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i > 0 ? "," : "", (int)pids[i]);
		fputs("]\n", stdout);
	} else if (first_arg < argc) {
		fflush(stdout);
		rc = print_ps(argv + first_arg, argc - first_arg, pids, n);
	} else {
		printf("PID\n");
		for (size_t i = 0; i < n; i++)
			printf("%d\n", (int)pids[i]);
	}
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
