/* hutch delete [--force] ID. */
#include "cli.h"
#include "core/error.h"
#include "state/state.h"

#include <errno.h>

static const struct cli_help help = {
    "delete",
    "[OPTIONS] ID",
    "Delete a stopped container and everything it holds (state, cgroup).\n\n"
    "Options:\n"
    "   -f, --force   kill it first if it is still running; a container that does\n"
    "                 not exist is not an error\n"
    "   -h, --help    show this help\n",
};

int cmd_delete(struct hutch_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", optional_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hutch_error *e = NULL;
	bool force = false;
	const char *id;
	int c;

	while ((c = cli_getopt(&help, argc, argv, "f", opts)) != -1) {
		if (c == CLI_OPT_HELP)
			return 0;
		if (c != 'f' || cli_bool(&help, "force", optarg, &force) < 0)
			return 1;
	}
	if (cli_nargs(&help, argc, argv, 1, 1) < 0)
		return 1;
	id = argv[optind];
	if (hutch_container_delete(&g->ctx, id, force, &e) < 0) {
		/* runc: `delete --force` of a container that is already gone
		 * succeeds (engines retry deletes after a crash).  Decide on a
		 * fresh read, not on the errno of whatever failed. */
		if (force && hutch_id_check(id, NULL) == 0) {
			struct hutch_error *re = NULL;
			struct hutch_state *st = hutch_state_read(g->ctx.root, id, &re);
			if (st == NULL && re != NULL && re->code == ENOENT) {
				hutch_error_free(re);
				hutch_error_free(e);
				return 0;
			}
			hutch_state_free(st);
			hutch_error_free(re);
		}
		return cli_fail(e);
	}
	return 0;
}
