/* hutch: global options, then one command (runc's command line).
 *
 *   hutch [--root DIR] [--log FILE] [--log-format text|json] [--debug]
 *         [--systemd-cgroup] [--cgroup-manager cgroupfs] [--rootless auto]
 *         COMMAND [OPTIONS] ARGS
 *
 * Engines (containerd's shim, conmon) pass "--opt value" and "--opt=value"
 * forms alike; getopt_long takes both. */
#include "cli.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "version.h"

#include <errno.h>
#include <getopt.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HUTCH_VERSION
#define HUTCH_VERSION "0.1.0"
#endif
#ifndef HUTCH_OCI_VERSION
#define HUTCH_OCI_VERSION "1.3.0"
#endif

/* network.c (the net module's command) has its own signature. */
static int cmd_network_main(struct hutch_cli *g, int argc, char **argv)
{
	return cmd_network(argc, argv, g->ctx.root);
}

static const struct command {
	const char *name;
	int (*fn)(struct hutch_cli *g, int argc, char **argv);
	const char *summary;
} commands[] = {
    {"checkpoint", cmd_checkpoint, "checkpoint a running container (not implemented)"},
    {"create", cmd_create, "create a container"},
    {"delete", cmd_delete, "delete a container and its resources"},
    {"events", cmd_events, "container events and statistics (not implemented)"},
    {"exec", cmd_exec, "run a new process inside a container"},
    {"features", cmd_features, "show what this runtime supports"},
    {"kill", cmd_kill, "send a signal to a container's init process"},
    {"list", cmd_list, "list the containers"},
    {"network", cmd_network_main, "manage bridge networks (create, ls, inspect, rm, gc, ...)"},
    {"pause", cmd_pause, "suspend every process in a container"},
    {"ps", cmd_ps, "show the processes of a container"},
    {"restore", cmd_restore, "restore a container from a checkpoint (not implemented)"},
    {"resume", cmd_resume, "resume every process of a paused container"},
    {"run", cmd_run, "create and start a container"},
    {"spec", cmd_spec, "write a default config.json"},
    {"start", cmd_start, "run the user process of a created container"},
    {"state", cmd_state, "print the state of a container"},
    {"update", cmd_update, "update a container's resource limits (not implemented)"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: hutch [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
		   "hutch is an OCI runtime (runtime-spec " HUTCH_OCI_VERSION ").\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(commands); i++)
		fprintf(f, "   %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nGlobal options:\n"
		   "   --root DIR              state directory (default /run/hutch;\n"
		   "                           $XDG_RUNTIME_DIR/hutch for other users)\n"
		   "   --log FILE              write log messages to FILE (default stderr)\n"
		   "   --log-format FORMAT     text or json\n"
		   "   --debug                 log debug messages\n"
		   "   --systemd-cgroup        (not supported)\n"
		   "   --cgroup-manager NAME   cgroupfs (systemd and disabled are not supported)\n"
		   "   --rootless VALUE        auto, true or false (accepted, ignored)\n"
		   "   -v, --version           print the version\n"
		   "   -h, --help              show this help\n\n"
		   "Run 'hutch COMMAND --help' for a command's options.\n");
}

static void version(void)
{
	const struct scmp_version *v = seccomp_version();

	printf("hutch version %s\n", HUTCH_VERSION);
	printf("spec: %s\n", HUTCH_OCI_VERSION);
	printf("commit: %s\n", HUTCH_COMMIT);
	if (v != NULL)
		printf("libseccomp: %u.%u.%u\n", v->major, v->minor, v->micro);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

static char *default_root(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *r;

	if (geteuid() != 0 && xdg != NULL && xdg[0] == '/') {
		if (asprintf(&r, "%s/hutch", xdg) < 0)
			return NULL;
		return r;
	}
	return strdup("/run/hutch");
}

enum {
	OPT_ROOT = 1000,
	OPT_LOG,
	OPT_LOG_FORMAT,
	OPT_DEBUG,
	OPT_SYSTEMD_CGROUP,
	OPT_CGROUP_MANAGER,
	OPT_ROOTLESS,
	OPT_CRIU,
};

static const struct cli_help global_help = {"", "COMMAND [OPTIONS] [ARGS]", NULL};

static int global_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "hutch: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nRun 'hutch --help' for usage.\n");
	return 1;
}

/* Parse the global options; returns -1 to go on, else an exit status. */
static int parse_global(struct hutch_cli *g, int argc, char **argv, char **root_out)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"log", required_argument, NULL, OPT_LOG},
	    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	    {"debug", optional_argument, NULL, OPT_DEBUG},
	    {"systemd-cgroup", optional_argument, NULL, OPT_SYSTEMD_CGROUP},
	    {"cgroup-manager", required_argument, NULL, OPT_CGROUP_MANAGER},
	    {"rootless", required_argument, NULL, OPT_ROOTLESS},
	    {"criu", required_argument, NULL, OPT_CRIU},
	    {"version", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *root = NULL;
	bool b;
	int c;

	cli_getopt_reset();
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:vh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			if (optarg[0] == '\0')
				return global_error("--root: empty path%s", "");
			root = optarg;
			break;
		case OPT_LOG:
			g->log_path = optarg;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "json") == 0)
				g->log_json = true;
			else if (strcmp(optarg, "text") == 0)
				g->log_json = false;
			else
				return global_error("--log-format: unknown format \"%.64s\" "
						    "(text or json)",
						    optarg);
			break;
		case OPT_DEBUG:
			if (cli_bool(&global_help, "debug", optarg, &b) < 0)
				return 1;
			g->ctx.debug = b;
			break;
		case OPT_SYSTEMD_CGROUP:
			if (cli_bool(&global_help, "systemd-cgroup", optarg, &b) < 0)
				return 1;
			if (b)
				return global_error("--systemd-cgroup: not supported by hutch%s",
						    " (use the cgroupfs manager)");
			break;
		case OPT_CGROUP_MANAGER:
			if (strcmp(optarg, "cgroupfs") != 0)
				return global_error(
				    "--cgroup-manager %.64s: not supported by hutch "
				    "(only cgroupfs)",
				    optarg);
			break;
		case OPT_ROOTLESS:
			if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "true") != 0 &&
			    strcmp(optarg, "false") != 0)
				return global_error("--rootless: invalid value \"%.64s\" "
						    "(auto, true or false)",
						    optarg);
			break;
		case OPT_CRIU:
			break; /* checkpoint/restore are not implemented */
		case 'v':
			version();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return global_error("flag %s needs a value", argv[optind - 1]);
		default:
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				return global_error("unknown or misused global flag %.64s",
						    argv[optind - 1]);
			{
				char s[3] = {'-', (char)optopt, '\0'};
				return global_error("unknown global flag %s", s);
			}
		}
	}
	if (root != NULL) {
		_cleanup_error_ struct hutch_error *e = NULL;
		*root_out = cli_abspath(root, &e);
		if (*root_out == NULL)
			return cli_fail(steal_ptr(e));
	} else {
		*root_out = default_root();
		if (*root_out == NULL)
			return global_error("out of memory%s", "");
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct hutch_cli g = {0};
	_cleanup_free_ char *root = NULL;
	const struct command *cmd;
	struct hutch_error *e = NULL;
	int r;

	r = parse_global(&g, argc, argv, &root);
	if (r >= 0)
		return r;
	g.ctx.root = root;
	if (optind >= argc) {
		fprintf(stderr, "hutch: no command given\n");
		usage(stderr);
		return 1;
	}
	if (hutch_log_init(g.log_path, g.log_json, g.ctx.debug, &e) < 0)
		return cli_fail(e);
	if (strcmp(argv[optind], "help") == 0) {
		if (optind + 1 < argc && (cmd = find_command(argv[optind + 1])) != NULL) {
			char *hargv[] = {argv[optind + 1], (char *)"--help", NULL};
			cli_getopt_reset();
			return cmd->fn(&g, 2, hargv);
		}
		usage(stdout);
		return 0;
	}
	cmd = find_command(argv[optind]);
	if (cmd == NULL) {
		fprintf(stderr, "hutch: unknown command \"%.64s\"\nRun 'hutch --help' for usage.\n",
			argv[optind]);
		return 1;
	}
	argc -= optind;
	argv += optind;
	cli_getopt_reset();
	return cmd->fn(&g, argc, argv);
}
