/* hutch events: not implemented yet. */
#include "cli.h"

int cmd_events(struct hutch_cli *g, int argc, char **argv)
{
	(void)g;
	return cli_not_implemented("events", argc, argv);
}
