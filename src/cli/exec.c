/* hutch exec [OPTIONS] ID COMMAND [ARGS...] | -p process.json ID
 *
 * runc's exec flags; exits with the process's status unless --detach. */
#include "cli.h"
#include "core/cleanup.h"
#include "core/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_help help = {
    "exec",
    "[OPTIONS] ID COMMAND [ARGS...]",
    "Run a new process inside a running container.\n\n"
    "Options:\n"
    "   -p, --process FILE          the process, as a runtime-spec process JSON\n"
    "   -e, --env K=V               set an environment variable (repeatable)\n"
    "   --cwd DIR                   working directory in the container\n"
    "   -u, --user UID[:GID]        user and group ids\n"
    "   -g, --additional-gids GID   an additional group (repeatable)\n"
    "   -c, --cap CAP               add a capability (repeatable)\n"
    "   -t, --tty                   allocate a terminal\n"
    "   -d, --detach                do not wait for the process\n"
    "   --pid-file FILE             write the process's pid to FILE\n"
    "   --console-socket PATH       unix socket receiving the terminal's master fd\n"
    "                               (without it, -t relays the terminal to\n"
    "                               hutch's own stdio)\n"
    "   --preserve-fds N            pass fds 3 .. 3+N-1 to the process\n"
    "   --no-new-privs              set no_new_privs\n"
    "   --cgroup [CTRL,...:]PATH    join this existing sub-cgroup of the container's\n"
    "                               (every hierarchy, or those of CTRL); repeatable\n"
    "   --ignore-paused             exec even if the container is paused\n"
    "   --apparmor PROFILE          AppArmor profile\n"
    "   --process-label LABEL       SELinux label\n"
    "   -h, --help                  show this help\n",
};

enum {
	OPT_CWD = 1000,
	OPT_PID_FILE,
	OPT_CONSOLE_SOCKET,
	OPT_PRESERVE_FDS,
	OPT_NO_NEW_PRIVS,
	OPT_CGROUP,
	OPT_IGNORE_PAUSED,
	OPT_APPARMOR,
	OPT_PROCESS_LABEL,
};

struct exec_args {
	struct hutch_exec_opts o;
	char **env, **caps, **cgroups;
	size_t n_env, n_caps, n_cgroups;
	char *pid_file, *console_socket, *process_file;
};

static void exec_args_clear(struct exec_args *a)
{
	free(a->env);
	free(a->caps);
	free(a->cgroups);
	free(a->o.additional_gids);
	free(a->pid_file);
	free(a->console_socket);
	free(a->process_file);
}

/* Append to a NULL-terminated vector of borrowed strings. */
static int push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (nv == NULL)
		return -1;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

static int parse_id(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 0xfffffffeUL)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_user(const char *arg, struct hutch_exec_opts *o)
{
	_cleanup_free_ char *copy = strdup(arg);
	char *colon;

	if (copy == NULL)
		return -1;
	colon = strchr(copy, ':');
	if (colon != NULL)
		*colon = '\0';
	if (parse_id(copy, &o->uid) < 0)
		return -1;
	o->gid = 0;
	if (colon != NULL && parse_id(colon + 1, &o->gid) < 0)
		return -1;
	o->has_user = true;
	return 0;
}

/* 0: parsed; -1: help shown; 1: error. */
static int parse(int argc, char **argv, struct exec_args *a)
{
	static const struct option opts[] = {
	    {"process", required_argument, NULL, 'p'},
	    {"env", required_argument, NULL, 'e'},
	    {"cwd", required_argument, NULL, OPT_CWD},
	    {"user", required_argument, NULL, 'u'},
	    {"additional-gids", required_argument, NULL, 'g'},
	    {"cap", required_argument, NULL, 'c'},
	    {"tty", optional_argument, NULL, 't'},
	    {"detach", optional_argument, NULL, 'd'},
	    {"pid-file", required_argument, NULL, OPT_PID_FILE},
	    {"console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET},
	    {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
	    {"no-new-privs", optional_argument, NULL, OPT_NO_NEW_PRIVS},
	    {"cgroup", required_argument, NULL, OPT_CGROUP},
	    {"ignore-paused", optional_argument, NULL, OPT_IGNORE_PAUSED},
	    {"apparmor", required_argument, NULL, OPT_APPARMOR},
	    {"process-label", required_argument, NULL, OPT_PROCESS_LABEL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hutch_exec_opts *o = &a->o;
	int c;

	while ((c = cli_getopt(&help, argc, argv, "p:e:u:g:c:td", opts)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			return -1;
		case 'p':
			if (cli_set_path(&a->process_file, optarg) < 0)
				return 1;
			break;
		case 'e':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=')
				return cli_usage_error(&help, "--env: \"%.64s\" is not KEY=VALUE",
						       optarg),
				       1;
			if (push(&a->env, &a->n_env, optarg) < 0)
				return 1;
			break;
		case OPT_CWD:
			o->cwd = optarg;
			break;
		case 'u':
			if (parse_user(optarg, o) < 0)
				return cli_usage_error(&help,
						       "--user: \"%.64s\" is not UID[:GID] "
						       "(numeric ids)",
						       optarg),
				       1;
			break;
		case 'g': {
			unsigned gid, *ng;
			if (parse_id(optarg, &gid) < 0)
				return cli_usage_error(&help,
						       "--additional-gids: invalid gid \"%.64s\"",
						       optarg),
				       1;
			ng = realloc(o->additional_gids, (o->n_additional_gids + 1) * sizeof(*ng));
			if (ng == NULL)
				return 1;
			ng[o->n_additional_gids++] = gid;
			o->additional_gids = ng;
			break;
		}
		case 'c':
			if (push(&a->caps, &a->n_caps, optarg) < 0)
				return 1;
			break;
		case 't':
			if (cli_bool(&help, "tty", optarg, &o->tty) < 0)
				return 1;
			break;
		case 'd':
			if (cli_bool(&help, "detach", optarg, &o->detach) < 0)
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
			if (cli_uint(&help, "preserve-fds", optarg, &o->preserve_fds) < 0)
				return 1;
			break;
		case OPT_NO_NEW_PRIVS:
			if (cli_bool(&help, "no-new-privs", optarg, &o->no_new_privs) < 0)
				return 1;
			break;
		case OPT_CGROUP:
			if (push(&a->cgroups, &a->n_cgroups, optarg) < 0)
				return 1;
			break;
		case OPT_IGNORE_PAUSED:
			if (cli_bool(&help, "ignore-paused", optarg, &o->ignore_paused) < 0)
				return 1;
			break;
		case OPT_APPARMOR:
			o->apparmor = optarg;
			break;
		case OPT_PROCESS_LABEL:
			o->process_label = optarg;
			break;
		default:
			return 1;
		}
	}
	if (cli_nargs(&help, argc, argv, a->process_file != NULL ? 1 : 2,
		      a->process_file != NULL ? 1 : -1) < 0)
		return 1;
	o->process_file = a->process_file;
	o->args = a->process_file != NULL ? NULL : argv + optind + 1;
	o->env = a->env;
	o->add_caps = a->caps;
	o->cgroups = a->cgroups;
	o->pid_file = a->pid_file;
	o->console_socket = a->console_socket;
	return 0;
}

int cmd_exec(struct hutch_cli *g, int argc, char **argv)
{
	struct exec_args a = {0};
	struct hutch_error *e = NULL;
	int status = 0, r;

	r = parse(argc, argv, &a);
	if (r == 0) {
		if (hutch_container_exec(&g->ctx, argv[optind], &a.o, &status, &e) < 0)
			r = cli_fail(e);
		else
			r = a.o.detach ? 0 : status;
	} else if (r < 0) {
		r = 0;
	}
	exec_args_clear(&a);
	return r;
}
