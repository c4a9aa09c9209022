/* hutch start ID: run the user process of a created container. */
#include "cli.h"

static const struct cli_help help = {
    "start",
    "ID",
    "Run the user process of a created container (the one `create` prepared).\n\n"
    "Options:\n"
    "   -h, --help    show this help\n",
};

int cmd_start(struct hutch_cli *g, int argc, char **argv)
{
	return cli_id_command(&help, argc, argv, g, hutch_container_start);
}
