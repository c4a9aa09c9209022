/* hutch features: the runtime-spec features JSON (what this build supports). */
#include "cli.h"
#include "core/cleanup.h"
#include "spec/model.h"

#include <stdio.h>
#include <string.h>

static const struct cli_help help = {
    "features",
    "",
    "Print what this runtime supports, as the runtime-spec features document.\n\n"
    "Options:\n"
    "   -h, --help    show this help\n",
};

int cmd_features(struct hutch_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hutch_error *e = NULL;
	_cleanup_free_ char *json = NULL;
	size_t len;
	int c;

	(void)g;
	while ((c = cli_getopt(&help, argc, argv, "", opts)) != -1)
		return c == CLI_OPT_HELP ? 0 : 1;
	if (cli_nargs(&help, argc, argv, 0, 0) < 0)
		return 1;
	json = hutch_spec_features_json(&e);
	if (json == NULL)
		return cli_fail(e);
	len = strlen(json);
	fputs(json, stdout);
	if (len == 0 || json[len - 1] != '\n')
		fputc('\n', stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
