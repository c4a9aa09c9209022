/* hutch checkpoint: not implemented yet. */
#include "cli.h"

int cmd_checkpoint(struct hutch_cli *g, int argc, char **argv)
{
	(void)g;
	return cli_not_implemented("checkpoint", argc, argv);
}
