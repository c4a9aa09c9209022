/* hutch state ID: the runtime-spec state JSON of a container. */
#include "cli.h"
#include "core/cleanup.h"

#include <stdio.h>
#include <string.h>

static const struct cli_help help = {
    "state",
    "ID",
    "Print the state of a container as the runtime spec defines it (JSON).\n\n"
    "Options:\n"
    "   -h, --help    show this help\n",
};

int cmd_state(struct hutch_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hutch_error *e = NULL;
	_cleanup_free_ char *json = NULL;
	size_t len;
	int c;

	while ((c = cli_getopt(&help, argc, argv, "", opts)) != -1)
		return c == CLI_OPT_HELP ? 0 : 1;
	if (cli_nargs(&help, argc, argv, 1, 1) < 0)
		return 1;
	json = hutch_container_state(&g->ctx, argv[optind], &e);
	if (json == NULL)
		return cli_fail(e);
	len = strlen(json);
	fputs(json, stdout);
	if (len == 0 || json[len - 1] != '\n')
		fputc('\n', stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
