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
	return cli_id_command(&help, argc, argv, g, hutch_container_resume);
}
