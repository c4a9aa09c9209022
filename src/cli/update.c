/* hutch update [OPTIONS] ID: change a container's limits, from a resources
 * JSON (--resources FILE, or - for stdin, as containerd's shim sends it) and
 * runc's flags, which override the JSON.  Zero fields mean "unchanged". */
#include "cli.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "spec/model.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cli_help help = {
    "update",
    "[OPTIONS] ID",
    "Update the resource limits of a container.\n\n"
    "Options:\n"
    "   -r, --resources FILE     linux.resources JSON from FILE (- for stdin)\n"
    "   --memory BYTES           memory limit (units k, m, g; -1 for none)\n"
    "   --memory-swap BYTES      memory + swap limit\n"
    "   --memory-reservation BYTES  memory soft limit\n"
    "   --kernel-memory BYTES    kernel memory limit (v1)\n"
    "   --kernel-memory-tcp BYTES  kernel TCP buffer limit (v1)\n"
    "   --cpu-shares N           CPU shares (weight on v2)\n"
    "   --cpu-quota N            CFS quota in microseconds (-1 for none)\n"
    "   --cpu-period N           CFS period in microseconds\n"
    "   --cpu-rt-runtime N       realtime runtime (v1)\n"
    "   --cpu-rt-period N        realtime period (v1)\n"
    "   --cpuset-cpus LIST       CPUs the container may use\n"
    "   --cpuset-mems LIST       memory nodes the container may use\n"
    "   --pids-limit N           maximum number of processes (-1 for none)\n"
    "   --blkio-weight N         block I/O weight (10-1000)\n"
    "   -h, --help               show this help\n",
};

enum {
	OPT_MEMORY = 1000,
	OPT_SWAP,
	OPT_RESERVATION,
	OPT_KMEM,
	OPT_KMEM_TCP,
	OPT_SHARES,
	OPT_QUOTA,
	OPT_PERIOD,
	OPT_RT_RUNTIME,
	OPT_RT_PERIOD,
	OPT_CPUS,
	OPT_MEMS,
	OPT_PIDS,
	OPT_BLKIO,
};

/* "512", "512k", "64m", "1g", "-1" -> bytes. */
static int parse_bytes(const char *flag, const char *s, int64_t *out, struct hutch_error **err)
{
	char *end;
	long long v;
	int64_t mult = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s)
		return hutch_error_set(err, 0, "--%s: invalid size \"%s\"", flag, s);
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'b':
		break;
	case 'k':
		mult = 1LL << 10;
		break;
	case 'm':
		mult = 1LL << 20;
		break;
	case 'g':
		mult = 1LL << 30;
		break;
	case 't':
		mult = 1LL << 40;
		break;
	default:
		return hutch_error_set(err, 0, "--%s: invalid size \"%s\"", flag, s);
	}
	if (*end != '\0' && end[1] != '\0' && !(tolower((unsigned char)end[1]) == 'b' && !end[2]))
		return hutch_error_set(err, 0, "--%s: invalid size \"%s\"", flag, s);
	if (v == -1) {
		*out = -1;
		return 0;
	}
	if (v < 0 || v > INT64_MAX / mult)
		return hutch_error_set(err, 0, "--%s: size \"%s\" is out of range", flag, s);
	*out = v * mult;
	return 0;
}

static int parse_int(const char *flag, const char *s, int64_t min, int64_t *out,
		     struct hutch_error **err)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min)
		return hutch_error_set(err, 0, "--%s: invalid value \"%s\"", flag, s);
	*out = v;
	return 0;
}

static int read_resources(const char *path, struct hutch_resources *r, struct hutch_error **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (strcmp(path, "-") == 0)
		text = hutch_read_fd(STDIN_FILENO, 1u << 20, &len, err);
	else
		text = hutch_read_file(path, 1u << 20, &len, err);
	if (text == NULL)
		return hutch_error_prefix(err, "--resources");
	return hutch_spec_parse_resources(text, len, r, err);
}

static int apply_flag(int c, const char *arg, struct hutch_resources *r, struct hutch_error **err)
{
	struct hutch_memory *m = &r->memory;
	struct hutch_cpu *cpu = &r->cpu;
	int64_t v = 0;

	switch (c) {
	case OPT_MEMORY:
	case OPT_SWAP:
	case OPT_RESERVATION:
	case OPT_KMEM:
	case OPT_KMEM_TCP:
		if (parse_bytes(c == OPT_MEMORY	       ? "memory"
				: c == OPT_SWAP	       ? "memory-swap"
				: c == OPT_RESERVATION ? "memory-reservation"
				: c == OPT_KMEM	       ? "kernel-memory"
						       : "kernel-memory-tcp",
				arg, &v, err) < 0)
			return -1;
		r->has_memory = true;
		if (c == OPT_MEMORY)
			m->has_limit = true, m->limit = v;
		else if (c == OPT_SWAP)
			m->has_swap = true, m->swap = v;
		else if (c == OPT_RESERVATION)
			m->has_reservation = true, m->reservation = v;
		else if (c == OPT_KMEM)
			m->has_kernel = true, m->kernel = v;
		else
			m->has_kernel_tcp = true, m->kernel_tcp = v;
		return 0;
	case OPT_SHARES:
	case OPT_PERIOD:
	case OPT_RT_PERIOD:
		if (parse_int("cpu", arg, 0, &v, err) < 0)
			return -1;
		r->has_cpu = true;
		if (c == OPT_SHARES)
			cpu->has_shares = true, cpu->shares = (uint64_t)v;
		else if (c == OPT_PERIOD)
			cpu->has_period = true, cpu->period = (uint64_t)v;
		else
			cpu->has_realtime_period = true, cpu->realtime_period = (uint64_t)v;
		return 0;
	case OPT_QUOTA:
	case OPT_RT_RUNTIME:
		if (parse_int("cpu", arg, -1, &v, err) < 0)
			return -1;
		r->has_cpu = true;
		if (c == OPT_QUOTA)
			cpu->has_quota = true, cpu->quota = v;
		else
			cpu->has_realtime_runtime = true, cpu->realtime_runtime = v;
		return 0;
	case OPT_CPUS:
	case OPT_MEMS: {
		char **dst = c == OPT_CPUS ? &cpu->cpus : &cpu->mems;
		free(*dst);
		*dst = strdup(arg);
		r->has_cpu = true;
		return *dst != NULL ? 0 : hutch_error_set(err, ENOMEM, "update");
	}
	case OPT_PIDS:
		if (parse_int("pids-limit", arg, -1, &v, err) < 0)
			return -1;
		r->has_pids_limit = true;
		r->pids_limit = v;
		return 0;
	case OPT_BLKIO:
		if (parse_int("blkio-weight", arg, 0, &v, err) < 0 || v > 1000)
			return hutch_error_set(err, 0, "--blkio-weight: \"%s\" is not in 10-1000",
					       arg);
		r->has_blockio = true;
		r->blockio.has_weight = true;
		r->blockio.weight = (uint16_t)v;
		return 0;
	default:
		return hutch_error_set(err, 0, "update: unknown option");
	}
}

int cmd_update(struct hutch_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"resources", required_argument, NULL, 'r'},
	    {"memory", required_argument, NULL, OPT_MEMORY},
	    {"memory-swap", required_argument, NULL, OPT_SWAP},
	    {"memory-reservation", required_argument, NULL, OPT_RESERVATION},
	    {"kernel-memory", required_argument, NULL, OPT_KMEM},
	    {"kernel-memory-tcp", required_argument, NULL, OPT_KMEM_TCP},
	    {"cpu-shares", required_argument, NULL, OPT_SHARES},
	    {"cpu-quota", required_argument, NULL, OPT_QUOTA},
	    {"cpu-period", required_argument, NULL, OPT_PERIOD},
	    {"cpu-rt-runtime", required_argument, NULL, OPT_RT_RUNTIME},
	    {"cpu-rt-period", required_argument, NULL, OPT_RT_PERIOD},
	    {"cpuset-cpus", required_argument, NULL, OPT_CPUS},
	    {"cpuset-mems", required_argument, NULL, OPT_MEMS},
	    {"pids-limit", required_argument, NULL, OPT_PIDS},
	    {"blkio-weight", required_argument, NULL, OPT_BLKIO},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct {
		int c;
		const char *arg;
	} flags[32];
	size_t nflags = 0;
	const char *resources = NULL;
	struct hutch_resources r;
	struct hutch_error *e = NULL;
	int c, rc = 1;

	memset(&r, 0, sizeof(r));
	while ((c = cli_getopt(&help, argc, argv, "r:", opts)) != -1) {
		if (c == CLI_OPT_HELP)
			return 0;
		if (c == CLI_OPT_ERROR)
			return 1;
		if (c == 'r')
			resources = optarg;
		else if (nflags < sizeof(flags) / sizeof(flags[0]))
			flags[nflags++] = (typeof(flags[0])){c, optarg};
	}
	if (cli_nargs(&help, argc, argv, 1, 1) < 0)
		return 1;
	/* The JSON first, the flags over it, as runc does. */
	if (resources != NULL && read_resources(resources, &r, &e) < 0)
		goto out;
	for (size_t i = 0; i < nflags; i++)
		if (apply_flag(flags[i].c, flags[i].arg, &r, &e) < 0)
			goto out;
	if (hutch_container_update(&g->ctx, argv[optind], &r, &e) < 0)
		goto out;
	rc = 0;
out:
	hutch_resources_clear(&r);
	return e != NULL ? cli_fail(e) : rc;
}
