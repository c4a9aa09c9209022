/* hutch run [OPTIONS] ID: create, start and (unless --detach) wait; exits
 * with the container's status. */
#include "cli.h"
#include "core/error.h"

static const struct cli_help help = {
    "run",
    "[OPTIONS] ID",
    "Create and start a container; without --detach, wait for it, exit with its\n"
    "status and delete it (unless --keep).\n\n"
    "Options:\n"
    "   -b, --bundle DIR         the bundle (default: the current directory)\n"
    "   --pid-file FILE          write the container's init pid to FILE\n"
    "   --console-socket PATH    unix socket receiving the terminal's master fd\n"
    "                            (without it, a foreground run relays the\n"
    "                            terminal to hutch's own stdio)\n"
    "   --preserve-fds N         pass fds 3 .. 3+N-1 to the container\n"
    "   --no-pivot               use MS_MOVE + chroot instead of pivot_root\n"
    "   --no-new-keyring         keep the caller's session keyring\n"
    "   --network NAME[:ip=A]    attach to a hutch network (repeatable)\n"
    "   -d, --detach             do not wait for the container\n"
    "   --keep                   do not delete the container after it exits\n"
    "   -h, --help               show this help\n",
};

int cmd_run(struct hutch_cli *g, int argc, char **argv)
{
	struct cli_create_args a;
	struct hutch_error *e = NULL;
	int status = 0;
	int r = cli_parse_create(&help, true, argc, argv, &a);

	if (r != 0) {
		cli_create_args_clear(&a);
		return r < 0 ? 0 : r;
	}
	if (hutch_container_run(&g->ctx, a.id, &a.o, &status, &e) < 0)
		r = cli_fail(e);
	else
		r = a.o.detach ? 0 : status;
	cli_create_args_clear(&a);
	return r;
}
