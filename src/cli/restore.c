/* hutch restore: not implemented yet. */
#include "cli.h"

int cmd_restore(struct hutch_cli *g, int argc, char **argv)
{
	(void)g;
	return cli_not_implemented("restore", argc, argv);
}
