/* hutch events [--stats] [--interval DURATION] ID
 *
 * As runc: --stats prints one stats event and exits; otherwise a stream of
 * JSON lines, a stats event every interval (default 5s) and an oom event on
 * every OOM kill, ending when the container stops. */
#include "cli.h"
#include "core/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_help help = {
    "events",
    "[OPTIONS] ID",
    "Show a container's resource usage and OOM events as JSON lines.\n\n"
    "Options:\n"
    "   --stats              print one stats event and exit\n"
    "   --interval DURATION  time between stats events (default 5s; e.g. 500ms, 2s, 1m)\n"
    "   -h, --help           show this help\n",
};

/* A Go-style duration ("1.5s", "500ms", "2m"; a bare number is seconds) in
 * milliseconds, at least 1. */
static int parse_duration(const char *s, unsigned *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3},	 {"ms", 1},
		     {"s", 1000},  {"m", 60000}, {"h", 3600000}, {"", 1000}};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !(v > 0) || *s == '-' || *s == '+')
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			double r = ceil(v * units[i].ms);
			if (r > 86400000.0 * 365)
				return -1;
			*ms = r < 1 ? 1 : (unsigned)r;
			return 0;
		}
	}
	return -1;
}

static int print_line(const char *json, void *data)
{
	(void)data;
	if (puts(json) == EOF || fflush(stdout) != 0)
		return 1; /* the reader went away */
	return 0;
}

int cmd_events(struct hutch_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"stats", no_argument, NULL, 's'},
	    {"interval", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hutch_error *e = NULL;
	unsigned interval = 5000;
	bool stats = false;
	int c;

	while ((c = cli_getopt(&help, argc, argv, "", opts)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			return 0;
		case 's':
			stats = true;
			break;
		case 'i':
			if (parse_duration(optarg, &interval) < 0)
				return cli_usage_error(&help,
						       "--interval: invalid duration \"%.64s\" "
						       "(a positive number with ns, us, ms, s, m "
						       "or h)",
						       optarg),
				       1;
			break;
		default:
			return 1;
		}
	}
	if (cli_nargs(&help, argc, argv, 1, 1) < 0)
		return 1;
	if (stats) {
		char *ev = hutch_container_stats(&g->ctx, argv[optind], &e);
		int rc;
		if (ev == NULL)
			return cli_fail(e);
		rc = print_line(ev, NULL);
		free(ev);
		return rc;
	}
	if (hutch_container_events(&g->ctx, argv[optind], interval, print_line, NULL, &e) < 0)
		return cli_fail(e);
	return 0;
}
