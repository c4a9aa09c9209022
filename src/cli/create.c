/* hutch create [OPTIONS] ID, and the flags `run` shares with it. */
#include "cli.h"
#include "core/cleanup.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

enum {
	OPT_BUNDLE = 'b',
	OPT_DETACH = 'd',
	OPT_PID_FILE = 1000,
	OPT_CONSOLE_SOCKET,
	OPT_PRESERVE_FDS,
	OPT_NO_PIVOT,
	OPT_NO_NEW_KEYRING,
	OPT_KEEP,
	OPT_NO_SUBREAPER,
	OPT_NETWORK,
};

void cli_create_args_clear(struct cli_create_args *a)
{
	free(a->bundle);
	free(a->pid_file);
	free(a->console_socket);
	memset(a, 0, sizeof(*a));
}

/* 0: parsed; -1: --help was printed (exit 0); 1: usage error printed (exit 1). */
int cli_parse_create(const struct cli_help *h, bool run, int argc, char **argv,
		     struct cli_create_args *a)
{
	static const struct option create_opts[] = {
	    {"bundle", required_argument, NULL, OPT_BUNDLE},
	    {"pid-file", required_argument, NULL, OPT_PID_FILE},
	    {"console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET},
	    {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
	    {"no-pivot", optional_argument, NULL, OPT_NO_PIVOT},
	    {"no-new-keyring", optional_argument, NULL, OPT_NO_NEW_KEYRING},
	    {"no-subreaper", optional_argument, NULL, OPT_NO_SUBREAPER},
	    {"network", required_argument, NULL, OPT_NETWORK},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const struct option run_opts[] = {
	    {"bundle", required_argument, NULL, OPT_BUNDLE},
	    {"pid-file", required_argument, NULL, OPT_PID_FILE},
	    {"console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET},
	    {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
	    {"no-pivot", optional_argument, NULL, OPT_NO_PIVOT},
	    {"no-new-keyring", optional_argument, NULL, OPT_NO_NEW_KEYRING},
	    {"no-subreaper", optional_argument, NULL, OPT_NO_SUBREAPER},
	    {"detach", optional_argument, NULL, OPT_DETACH},
	    {"keep", optional_argument, NULL, OPT_KEEP},
	    {"network", required_argument, NULL, OPT_NETWORK},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool ignored;
	int c;

	memset(a, 0, sizeof(*a));
	while ((c = cli_getopt(h, argc, argv, run ? "b:d" : "b:", run ? run_opts : create_opts)) !=
	       -1) {
		switch (c) {
		case CLI_OPT_HELP:
			return -1;
		case CLI_OPT_ERROR:
			return 1;
		case OPT_BUNDLE:
			if (cli_set_path(&a->bundle, optarg) < 0)
				return 1;
			break;
		case OPT_PID_FILE:
			if (cli_set_path(&a->pid_file, optarg) < 0)
				return 1;
			break;
		case OPT_CONSOLE_SOCKET:
			if (cli_set_path(&a->console_socket, optarg) < 0)
				return 1;
			break;
		case OPT_PRESERVE_FDS:
			if (cli_uint(h, "preserve-fds", optarg, &a->o.preserve_fds) < 0)
				return 1;
			break;
		case OPT_NO_PIVOT:
			if (cli_bool(h, "no-pivot", optarg, &a->o.no_pivot) < 0)
				return 1;
			break;
		case OPT_NO_NEW_KEYRING:
			if (cli_bool(h, "no-new-keyring", optarg, &a->o.no_new_keyring) < 0)
				return 1;
			break;
		case OPT_NO_SUBREAPER:
			/* runc's flag, deprecated there too; hutch never needs it. */
			if (cli_bool(h, "no-subreaper", optarg, &ignored) < 0)
				return 1;
			break;
		case OPT_DETACH:
			if (cli_bool(h, "detach", optarg, &a->o.detach) < 0)
				return 1;
			break;
		case OPT_NETWORK:
			if (a->n_networks >= HUTCH_ARRAY_SIZE(a->networks) - 1) {
				fputs("hutch: too many --network flags\n", stderr);
				return 1;
			}
			a->networks[a->n_networks++] = optarg;
			break;
		case OPT_KEEP:
			if (cli_bool(h, "keep", optarg, &a->o.keep) < 0)
				return 1;
			break;
		}
	}
	if (cli_nargs(h, argc, argv, 1, 1) < 0)
		return 1;
	a->id = argv[optind];
	a->o.bundle = a->bundle;
	a->o.pid_file = a->pid_file;
	a->o.console_socket = a->console_socket;
	a->o.networks = a->n_networks ? a->networks : NULL;
	return 0;
}

static const struct cli_help help = {
    "create",
    "[OPTIONS] ID",
    "Create a container from a bundle; its process waits for `hutch start ID`.\n\n"
    "Options:\n"
    "   -b, --bundle DIR         the bundle (default: the current directory)\n"
    "   --pid-file FILE          write the container's init pid to FILE\n"
    "   --console-socket PATH    unix socket receiving the terminal's master fd\n"
    "   --preserve-fds N         pass fds 3 .. 3+N-1 to the container\n"
    "   --no-pivot               use MS_MOVE + chroot instead of pivot_root\n"
    "   --no-new-keyring         keep the caller's session keyring\n"
    "   --network NAME[:ip=A]    attach to a hutch network (repeatable; after\n"
    "                            the org.hutch.network annotation's)\n"
    "   -h, --help               show this help\n",
};

int cmd_create(struct hutch_cli *g, int argc, char **argv)
{
	struct cli_create_args a;
	struct hutch_error *e = NULL;
	int r = cli_parse_create(&help, false, argc, argv, &a);

	if (r != 0) {
		cli_create_args_clear(&a);
		return r < 0 ? 0 : r;
	}
	r = hutch_container_create(&g->ctx, a.id, &a.o, &e) < 0 ? cli_fail(e) : 0;
	cli_create_args_clear(&a);
	return r;
}
