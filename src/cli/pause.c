/* hutch pause ID: freeze every process of a container. */
#include "cli.h"

static const struct cli_help help = {
    "pause",
    "ID",
    "Suspend every process of a running container (cgroup freezer).\n\n"
    "Options:\n"
    "   -h, --help    show this help\n",
};

int cmd_pause(struct hutch_cli *g, int argc, char **argv)
{
	return cli_id_command(&help, argc, argv, g, hutch_container_pause);
}
