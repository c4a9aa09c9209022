/* hutch update: not implemented yet. */
#include "cli.h"

int cmd_update(struct hutch_cli *g, int argc, char **argv)
{
	(void)g;
	return cli_not_implemented("update", argc, argv);
}
