/* Helpers shared by the commands: option parsing with runc-like messages,
 * usage, error exit. */
#include "cli.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_getopt_reset(void)
{
	optind = 0; /* GNU: full re-initialisation */
	opterr = 0; /* our own messages */
}

void cli_help_print(const struct cli_help *h, bool to_stdout)
{
	FILE *f = to_stdout ? stdout : stderr;

	fprintf(f, "Usage: hutch %s %s\n", h->name, h->synopsis);
	if (h->text != NULL && h->text[0] != '\0')
		fprintf(f, "\n%s", h->text);
}

int cli_usage_error(const struct cli_help *h, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hutch %s: ", h->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fprintf(stderr, "Usage: hutch %s %s\n", h->name, h->synopsis);
	return -1;
}

int cli_getopt(const struct cli_help *h, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	char opts[64];
	const char *arg;
	int c;

	snprintf(opts, sizeof(opts), "+:%sh", shortopts);
	c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c == 'h') {
		cli_help_print(h, true);
		return CLI_OPT_HELP;
	}
	if (c != '?' && c != ':')
		return c;
	arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	if (strncmp(arg, "--", 2) != 0) {
		static char shortname[3] = "-?";
		shortname[1] = (char)optopt;
		arg = shortname;
	}
	if (c == ':')
		cli_usage_error(h, "flag %s needs a value", arg);
	else
		cli_usage_error(h, "unknown or misused flag %s", arg);
	return CLI_OPT_ERROR;
}

int cli_nargs(const struct cli_help *h, int argc, char **argv, int min, int max)
{
	int n = argc - optind;

	if (n < min) {
		if (min == 1 && max == 1)
			return cli_usage_error(h, "requires a container id");
		return cli_usage_error(h, "requires at least %d argument%s", min,
				       min == 1 ? "" : "s");
	}
	if (max >= 0 && n > max)
		return cli_usage_error(h, "unexpected argument \"%.64s\"", argv[optind + max]);
	return 0;
}

int cli_fail(struct hutch_error *e)
{
	hutch_log_error(e);
	hutch_error_free(e);
	return 1;
}

int cli_bool(const struct cli_help *h, const char *flag, const char *arg, bool *out)
{
	if (arg == NULL || strcmp(arg, "true") == 0 || strcmp(arg, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(arg, "false") == 0 || strcmp(arg, "0") == 0) {
		*out = false;
		return 0;
	}
	return cli_usage_error(h, "--%s: invalid boolean \"%.64s\"", flag, arg);
}

int cli_format(const struct cli_help *h, const char *arg, bool *json)
{
	if (strcmp(arg, "json") == 0 || strcmp(arg, "table") == 0) {
		*json = arg[0] == 'j';
		return 0;
	}
	return cli_usage_error(h, "--format: unknown format \"%.64s\" (table or json)", arg);
}

int cli_uint(const struct cli_help *h, const char *flag, const char *arg, int *out)
{
	long v = 0;

	if (arg[0] == '\0')
		return cli_usage_error(h, "--%s: empty value", flag);
	for (const char *p = arg; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > 1000000)
			return cli_usage_error(h, "--%s: invalid number \"%.64s\"", flag, arg);
		v = v * 10 + (*p - '0');
	}
	if (v > 1000000)
		return cli_usage_error(h, "--%s: invalid number \"%.64s\"", flag, arg);
	*out = (int)v;
	return 0;
}

char *cli_abspath(const char *path, struct hutch_error **err)
{
	_cleanup_free_ char *cwd = NULL;
	char *r;

	if (path[0] == '/') {
		r = strdup(path);
		if (r == NULL)
			hutch_error_set(err, ENOMEM, "%s", path);
		return r;
	}
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return hutch_error_errno(err, "resolve %s: getcwd", path), NULL;
	if (path[0] == '\0' || strcmp(path, ".") == 0)
		return steal_ptr(cwd);
	if (asprintf(&r, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) < 0)
		return hutch_error_set(err, ENOMEM, "%s", path), NULL;
	return r;
}

int cli_not_implemented(const char *name, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "hutch: %s: not implemented yet\n", name);
	return 1;
}

int cli_set_path(char **dst, const char *arg)
{
	_cleanup_error_ struct hutch_error *e = NULL;

	free(*dst);
	*dst = cli_abspath(arg, &e);
	if (*dst == NULL) {
		cli_fail(steal_ptr(e));
		return -1;
	}
	return 0;
}

int cli_id_command(const struct cli_help *h, int argc, char **argv, struct hutch_cli *g,
		   int (*fn)(const struct hutch_context *, const char *, struct hutch_error **))
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hutch_error *e = NULL;
	int c;

	while ((c = cli_getopt(h, argc, argv, "", opts)) != -1)
		return c == CLI_OPT_HELP ? 0 : 1;
	if (cli_nargs(h, argc, argv, 1, 1) < 0)
		return 1;
	if (fn(&g->ctx, argv[optind], &e) < 0)
		return cli_fail(e);
	return 0;
}
