/* The hutch command line: runc-compatible global options and commands.
 *
 * main.c parses the global options (before the command) and dispatches; each
 * command lives in its own file as cmd_<name>(), parses its own flags with
 * getopt_long and makes one library call.  A command returns the process exit
 * status: 0, 1 on any error (runc exits 1 too), or the container's status for
 * `run` and `exec`. */
#ifndef HUTCH_CLI_H
#define HUTCH_CLI_H

#include "hutch/hutch.h"

#include <getopt.h>
#include <stdbool.h>

struct hutch_error;

struct hutch_cli {
	struct hutch_context ctx;
	const char *log_path;
	bool log_json;
};

/* A command's usage: "create [OPTIONS] ID" and the lines under it. */
struct cli_help {
	const char *name;
	const char *synopsis;
	const char *text;
};

/* Option parsing for a command: getopt_long with our own messages.  Returns
 * the option (as getopt_long), -1 at the end, or CLI_OPT_ERROR after printing
 * "hutch NAME: ..." and the usage to stderr. */
#define CLI_OPT_ERROR (-2)
#define CLI_OPT_HELP  (-3)
void cli_getopt_reset(void);
int cli_getopt(const struct cli_help *h, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);

/* Print the usage of H: to stdout for --help, or to stderr after MSG. */
void cli_help_print(const struct cli_help *h, bool to_stdout);
int cli_usage_error(const struct cli_help *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The remaining arguments must be exactly MIN..MAX (MAX -1: no limit);
 * prints the usage error and returns -1 otherwise. */
int cli_nargs(const struct cli_help *h, int argc, char **argv, int min, int max);
/* Log E (to stderr and the --log file), free it, return 1. */
int cli_fail(struct hutch_error *e);
/* An optional "=true"/"=false" value of a boolean flag; NULL is true. */
int cli_bool(const struct cli_help *h, const char *flag, const char *arg, bool *out);
/* --format: "table" or "json" (*json set accordingly). */
int cli_format(const struct cli_help *h, const char *arg, bool *json);
/* A non-negative int option value. */
int cli_uint(const struct cli_help *h, const char *flag, const char *arg, int *out);
/* *DST = ARG made absolute (freeing the old *DST); prints the error. */
int cli_set_path(char **dst, const char *arg);
/* A command that takes only ID and --help and makes one library call. */
int cli_id_command(const struct cli_help *h, int argc, char **argv, struct hutch_cli *g,
		   int (*fn)(const struct hutch_context *, const char *, struct hutch_error **));
/* PATH made absolute against the cwd (no symlink resolution); malloc'd. */
char *cli_abspath(const char *path, struct hutch_error **err);

/* create and run share their flags. */
struct cli_create_args {
	struct hutch_create_opts o;
	char *bundle, *pid_file, *console_socket; /* owned, absolute */
	char *networks[33];			  /* --network, borrowed from argv */
	size_t n_networks;
	const char *id;
};
int cli_parse_create(const struct cli_help *h, bool run, int argc, char **argv,
		     struct cli_create_args *a);
void cli_create_args_clear(struct cli_create_args *a);

int cmd_create(struct hutch_cli *g, int argc, char **argv);
int cmd_start(struct hutch_cli *g, int argc, char **argv);
int cmd_state(struct hutch_cli *g, int argc, char **argv);
int cmd_kill(struct hutch_cli *g, int argc, char **argv);
int cmd_delete(struct hutch_cli *g, int argc, char **argv);
int cmd_run(struct hutch_cli *g, int argc, char **argv);
int cmd_list(struct hutch_cli *g, int argc, char **argv);
int cmd_spec(struct hutch_cli *g, int argc, char **argv);
int cmd_features(struct hutch_cli *g, int argc, char **argv);
int cmd_pause(struct hutch_cli *g, int argc, char **argv);
int cmd_resume(struct hutch_cli *g, int argc, char **argv);
int cmd_ps(struct hutch_cli *g, int argc, char **argv);
int cmd_exec(struct hutch_cli *g, int argc, char **argv);
int cmd_update(struct hutch_cli *g, int argc, char **argv);
int cmd_events(struct hutch_cli *g, int argc, char **argv);
int cmd_checkpoint(struct hutch_cli *g, int argc, char **argv);
int cmd_restore(struct hutch_cli *g, int argc, char **argv);

/* network.c: argv[0] "network", argv[1] the subcommand. */
int cmd_network(int argc, char **argv, const char *root);

/* The stubs' common body. */
int cli_not_implemented(const char *name, int argc, char **argv);

#endif
