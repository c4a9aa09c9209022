/* hutch spec [--bundle DIR] [--rootless]: write a default config.json,
 * refusing to overwrite one (as runc). */
#include "cli.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "spec/model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cli_help help = {
    "spec",
    "[OPTIONS]",
    "Write a default config.json in the bundle directory.\n\n"
    "Options:\n"
    "   -b, --bundle DIR   the bundle (default: the current directory)\n"
    "   --rootless         a config for a container run by an unprivileged user\n"
    "   -h, --help         show this help\n",
};

enum { OPT_ROOTLESS = 1000 };

int cmd_spec(struct hutch_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"rootless", optional_argument, NULL, OPT_ROOTLESS},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hutch_error *e = NULL;
	_cleanup_free_ char *json = NULL, *path = NULL;
	_cleanup_close_ int fd = -1;
	const char *bundle = NULL;
	bool rootless = false;
	int c;

	(void)g;
	while ((c = cli_getopt(&help, argc, argv, "b:", opts)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			return 0;
		case 'b':
			bundle = optarg;
			break;
		case OPT_ROOTLESS:
			if (cli_bool(&help, "rootless", optarg, &rootless) < 0)
				return 1;
			break;
		default:
			return 1;
		}
	}
	if (cli_nargs(&help, argc, argv, 0, 0) < 0)
		return 1;
	if (bundle != NULL && bundle[0] != '\0') {
		if (asprintf(&path, "%s/config.json", bundle) < 0)
			return 1;
	} else if ((path = strdup("config.json")) == NULL) {
		return 1;
	}
	json = hutch_spec_default_json(rootless, &e);
	if (json == NULL)
		return cli_fail(e);
	/* O_EXCL: never replace a config.json, even one created meanwhile. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd < 0) {
		if (errno == EEXIST) {
			/* runc's words, which scripts and engine tests match. */
			hutch_error_set(&e, 0, "File config.json exists. Remove it first.");
			return cli_fail(e);
		}
		hutch_error_errno(&e, "create %s", path);
		return cli_fail(e);
	}
	if (hutch_write_all(fd, json, strlen(json)) < 0 ||
	    (json[0] != '\0' && json[strlen(json) - 1] != '\n' &&
	     hutch_write_all(fd, "\n", 1) < 0) ||
	    close(steal_fd(fd)) < 0) {
		hutch_error_errno(&e, "write %s", path);
		return cli_fail(e);
	}
	return 0;
}
