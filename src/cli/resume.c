/* hutch resume ID: thaw a paused container. */
#include "cli.h"

static const struct cli_help help = {
    "resume",
    "ID",
    "Resume every process of a paused container.\n\n"
    "Options:\n"
    "   -h, --help    show this help\n",
};

int cmd_resume(struct hutch_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hutch_error *e = NULL;
	int c;

	while ((c = cli_getopt(&help, argc, argv, "", opts)) != -1) {
		if (c == CLI_OPT_HELP)
			return 0;
		return 1;
	}
	if (cli_nargs(&help, argc, argv, 1, 1) < 0)
		return 1;
	if (hutch_container_resume(&g->ctx, argv[optind], &e) < 0)
		return cli_fail(e);
	return 0;
}
