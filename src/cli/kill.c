/* hutch kill [--all] ID [SIGNAL]: signal the init (or, with --all, every
 * process of the container).  SIGNAL defaults to SIGTERM, as in runc. */
#include "cli.h"
#include "core/error.h"

#include <signal.h>

static const struct cli_help help = {
    "kill",
    "[OPTIONS] ID [SIGNAL]",
    "Send SIGNAL (a name such as KILL or SIGKILL, or a number; default TERM)\n"
    "to the container's init process.\n\n"
    "Options:\n"
    "   -a, --all     signal every process of the container\n"
    "   -h, --help    show this help\n",
};

int cmd_kill(struct hutch_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", optional_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hutch_error *e = NULL;
	bool all = false;
	int c, sig = SIGTERM;

	while ((c = cli_getopt(&help, argc, argv, "a", opts)) != -1) {
		if (c == CLI_OPT_HELP)
			return 0;
		if (c != 'a' || cli_bool(&help, "all", optarg, &all) < 0)
			return 1;
	}
	if (cli_nargs(&help, argc, argv, 1, 2) < 0)
		return 1;
	if (optind + 1 < argc && hutch_signal_parse(argv[optind + 1], &sig, &e) < 0)
		return cli_fail(e);
	if (hutch_container_kill(&g->ctx, argv[optind], sig, all, &e) < 0)
		return cli_fail(e);
	return 0;
}
