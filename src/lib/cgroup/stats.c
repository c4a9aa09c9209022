/* Resource usage of a container's cgroup in the shape of runc's `events
 * --stats` data (runc's types/events.go: the same field names, and Go's
 * omitempty rules, so Docker's and containerd's decoders read it unchanged),
 * from the v1 files (cpuacct, cpu, memory, pids, blkio, hugetlb) or the v2
 * ones (cpu.stat, memory.*, pids.*, io.stat, hugetlb.*), and the OOM watch
 * behind `events`: v1 memory.oom_control with a cgroup.event_control eventfd,
 * v2 inotify on memory.events and its oom_kill counter.
 *
 * A file the kernel does not have leaves its numbers at zero (as runc): the
 * set of stat files varies between kernels and controllers; only a missing
 * cgroup is an error. */
#include "cgroup/cgroup-internal.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

static void json_putp(struct json_object **o)
{
	if (*o != NULL)
		json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(json_putp)))

/* ---- reading ---------------------------------------------------------------- */

static char *read_opt(const char *dir, const char *file)
{
	return dir != NULL ? hutch_cg_read(dir, file, NULL) : NULL;
}

/* A number, or "max" as UINT64_MAX (runc reports unlimited v2 values so). */
static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "max", 3) == 0) {
		*v = UINT64_MAX;
		return true;
	}
	errno = 0;
	*v = strtoull(s, &end, 10);
	return end != s && errno == 0;
}

static bool read_u64(const char *dir, const char *file, uint64_t *v)
{
	_cleanup_free_ char *text = read_opt(dir, file);

	*v = 0;
	return text != NULL && parse_u64(text, v);
}

/* The value of KEY in a flat keyed file ("key value" lines). */
static bool kv_get(const char *text, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);

	*v = 0;
	for (const char *l = text; l != NULL && *l != '\0';) {
		if (strncmp(l, key, kl) == 0 && l[kl] == ' ')
			return parse_u64(l + kl + 1, v);
		l = strchr(l, '\n');
		if (l != NULL)
			l++;
	}
	return false;
}

static uint64_t kv_file(const char *dir, const char *file, const char *key)
{
	_cleanup_free_ char *text = read_opt(dir, file);
	uint64_t v = 0;

	if (text != NULL)
		kv_get(text, key, &v);
	return v;
}

/* ---- json helpers ---------------------------------------------------------- */

/* Go's omitempty: a zero number is left out. */
static void put_u64(struct json_object *o, const char *key, uint64_t v, bool omitempty)
{
	if (v != 0 || !omitempty)
		json_object_object_add(o, key, json_object_new_uint64(v));
}

static struct json_object *new_obj(struct json_object *parent, const char *key)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(parent, key, o);
	return o;
}

/* A space separated list of numbers as an array (omitted when empty). */
static void put_list(struct json_object *o, const char *key, const char *text)
{
	struct json_object *a;
	const char *p = text;
	char *end;

	if (text == NULL)
		return;
	a = json_object_new_array();
	for (;;) {
		uint64_t v = strtoull(p, &end, 10);
		if (end == p)
			break;
		json_object_array_add(a, json_object_new_uint64(v));
		p = end;
	}
	if (json_object_array_length(a) == 0)
		json_object_put(a);
	else
		json_object_object_add(o, key, a);
}

/* A cpuset list ("0-3,7") as an array of numbers (omitted when empty). */
static void put_cpuset(struct json_object *o, const char *key, const char *text)
{
	struct json_object *a;
	const char *p = text;

	if (text == NULL)
		return;
	a = json_object_new_array();
	while (*p != '\0' && *p != '\n') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi;
		if (end == p)
			break;
		hi = lo;
		p = end;
		if (*p == '-') {
			hi = strtoul(p + 1, &end, 10);
			if (end == p + 1)
				break;
			p = end;
		}
		for (unsigned long i = lo; i <= hi && i < 65536; i++)
			json_object_array_add(a, json_object_new_uint64(i));
		if (*p == ',')
			p++;
	}
	if (json_object_array_length(a) == 0)
		json_object_put(a);
	else
		json_object_object_add(o, key, a);
}

/* Every "key number" line of a flat keyed file as an object (memory.raw). */
static struct json_object *raw_object(const char *text)
{
	struct json_object *o = json_object_new_object();
	_cleanup_free_ char *copy = text ? strdup(text) : NULL;
	char *save = NULL;

	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		uint64_t v;
		if (sp == NULL)
			continue;
		*sp = '\0';
		if (*l != '\0' && parse_u64(sp + 1, &v))
			json_object_object_add(o, l, json_object_new_uint64(v));
	}
	return o;
}

static const char *dir_of(struct hutch_cgroup *cg, const char *ctrl, bool *v2)
{
	struct hutch_cg_hier *h = hutch_cg_find(cg, ctrl);

	*v2 = h != NULL && h->v2;
	return h != NULL ? h->dir : NULL;
}

/* ---- cpu --------------------------------------------------------------------- */

static void cpu_stats(struct hutch_cgroup *cg, struct json_object *data)
{
	struct json_object *cpu = new_obj(data, "cpu");
	struct json_object *usage = new_obj(cpu, "usage");
	struct json_object *thr = new_obj(cpu, "throttling");
	bool v2;
	const char *dir = dir_of(cg, "cpuacct", &v2);
	uint64_t total = 0, kernel = 0, user = 0;

	if (v2) {
		_cleanup_free_ char *st = read_opt(dir, "cpu.stat");
		uint64_t v;
		if (st != NULL) {
			kv_get(st, "usage_usec", &v);
			total = v * 1000;
			kv_get(st, "system_usec", &v);
			kernel = v * 1000;
			kv_get(st, "user_usec", &v);
			user = v * 1000;
		}
	} else if (dir != NULL) {
		_cleanup_free_ char *st = read_opt(dir, "cpuacct.stat");
		_cleanup_free_ char *percpu = read_opt(dir, "cpuacct.usage_percpu");
		_cleanup_free_ char *psys = read_opt(dir, "cpuacct.usage_percpu_sys");
		_cleanup_free_ char *pusr = read_opt(dir, "cpuacct.usage_percpu_user");
		long tck = sysconf(_SC_CLK_TCK);
		uint64_t v;

		read_u64(dir, "cpuacct.usage", &total);
		/* cpuacct.stat counts USER_HZ ticks; runc reports nanoseconds */
		if (tck <= 0)
			tck = 100;
		if (st != NULL) {
			kv_get(st, "system", &v);
			kernel = v * (1000000000ULL / (uint64_t)tck);
			kv_get(st, "user", &v);
			user = v * (1000000000ULL / (uint64_t)tck);
		}
		put_list(usage, "percpu", percpu);
		put_list(usage, "percpu_kernel", psys);
		put_list(usage, "percpu_user", pusr);
	}
	put_u64(usage, "total", total, true);
	put_u64(usage, "kernel", kernel, false);
	put_u64(usage, "user", user, false);

	dir = dir_of(cg, "cpu", &v2);
	{
		_cleanup_free_ char *st = read_opt(dir, "cpu.stat");
		uint64_t v;
		kv_get(st, "nr_periods", &v);
		put_u64(thr, "periods", v, true);
		kv_get(st, "nr_throttled", &v);
		put_u64(thr, "throttledPeriods", v, true);
		if (v2) {
			kv_get(st, "throttled_usec", &v);
			v *= 1000;
		} else {
			kv_get(st, "throttled_time", &v);
		}
		put_u64(thr, "throttledTime", v, true);
	}
}

static void cpuset_stats(struct hutch_cgroup *cg, struct json_object *data)
{
	struct json_object *cs = new_obj(data, "cpuset");
	bool v2;
	const char *dir = dir_of(cg, "cpuset", &v2);
	_cleanup_free_ char *cpus = read_opt(dir, v2 ? "cpuset.cpus.effective" : "cpuset.cpus");
	_cleanup_free_ char *mems = read_opt(dir, v2 ? "cpuset.mems.effective" : "cpuset.mems");

	put_cpuset(cs, "cpus", cpus);
	put_cpuset(cs, "mems", mems);
}

/* ---- memory ------------------------------------------------------------------- */

struct mem_entry {
	uint64_t limit, usage, max, failcnt;
};

static void put_mem_entry(struct json_object *mem, const char *key, const struct mem_entry *e)
{
	struct json_object *o = new_obj(mem, key);

	put_u64(o, "limit", e->limit, false);
	put_u64(o, "usage", e->usage, true);
	put_u64(o, "max", e->max, true);
	put_u64(o, "failcnt", e->failcnt, false);
}

/* v1: PREFIX is "memory", "memory.memsw", "memory.kmem" or "memory.kmem.tcp". */
static void mem_entry_v1(const char *dir, const char *prefix, struct mem_entry *e)
{
	char f[64];

	snprintf(f, sizeof(f), "%s.limit_in_bytes", prefix);
	read_u64(dir, f, &e->limit);
	snprintf(f, sizeof(f), "%s.usage_in_bytes", prefix);
	read_u64(dir, f, &e->usage);
	snprintf(f, sizeof(f), "%s.max_usage_in_bytes", prefix);
	read_u64(dir, f, &e->max);
	snprintf(f, sizeof(f), "%s.failcnt", prefix);
	read_u64(dir, f, &e->failcnt);
}

static void memory_stats(struct hutch_cgroup *cg, struct json_object *data)
{
	struct json_object *mem = new_obj(data, "memory");
	struct mem_entry usage = {0}, swap = {0}, kernel = {0}, tcp = {0};
	bool v2;
	const char *dir = dir_of(cg, "memory", &v2);
	_cleanup_free_ char *stat = read_opt(dir, "memory.stat");
	uint64_t cache = 0;

	if (dir != NULL && !v2) {
		mem_entry_v1(dir, "memory", &usage);
		mem_entry_v1(dir, "memory.memsw", &swap);
		mem_entry_v1(dir, "memory.kmem", &kernel);
		mem_entry_v1(dir, "memory.kmem.tcp", &tcp);
		kv_get(stat, "cache", &cache);
	} else if (dir != NULL) {
		/* v2 keeps swap apart; like runc, report memory+swap as v1's
		 * memsw did (a combined peak cannot be derived: 0). */
		read_u64(dir, "memory.current", &usage.usage);
		read_u64(dir, "memory.max", &usage.limit);
		read_u64(dir, "memory.peak", &usage.max);
		usage.failcnt = kv_file(dir, "memory.events", "max");
		if (read_u64(dir, "memory.swap.current", &swap.usage))
			swap.usage += usage.usage;
		read_u64(dir, "memory.swap.max", &swap.limit);
		if (swap.limit != UINT64_MAX && usage.limit != UINT64_MAX)
			swap.limit += usage.limit;
		else
			swap.limit = UINT64_MAX;
		swap.failcnt = kv_file(dir, "memory.swap.events", "max");
		kv_get(stat, "file", &cache);
	}
	put_u64(mem, "cache", cache, true);
	put_mem_entry(mem, "usage", &usage);
	put_mem_entry(mem, "swap", &swap);
	put_mem_entry(mem, "kernel", &kernel);
	put_mem_entry(mem, "kernelTCP", &tcp);
	if (stat != NULL) {
		struct json_object *raw = raw_object(stat);
		if (json_object_object_length(raw) > 0)
			json_object_object_add(mem, "raw", raw);
		else
			json_object_put(raw);
	}
}

/* ---- pids ----------------------------------------------------------------------- */

static void pids_stats(struct hutch_cgroup *cg, struct json_object *data)
{
	struct json_object *pids = new_obj(data, "pids");
	bool v2;
	const char *dir = dir_of(cg, "pids", &v2);
	uint64_t cur = 0, max = 0;

	read_u64(dir, "pids.current", &cur);
	read_u64(dir, "pids.max", &max);
	if (max == UINT64_MAX)
		max = 0; /* "max": no limit, reported as 0 (runc) */
	put_u64(pids, "current", cur, true);
	put_u64(pids, "limit", max, true);
}

/* ---- block io -------------------------------------------------------------------- */

static void blkio_entry(struct json_object *arr, uint64_t major, uint64_t minor, const char *op,
			uint64_t value)
{
	struct json_object *e = json_object_new_object();

	put_u64(e, "major", major, true);
	put_u64(e, "minor", minor, true);
	if (op != NULL && *op != '\0')
		json_object_object_add(e, "op", json_object_new_string(op));
	put_u64(e, "value", value, true);
	json_object_array_add(arr, e);
}

/* v1 "MAJ:MIN Op value" lines ("Total value" lines are skipped, as runc). */
static struct json_object *blkio_v1_list(const char *text)
{
	struct json_object *arr = json_object_new_array();
	_cleanup_free_ char *copy = text ? strdup(text) : NULL;
	char *save = NULL;

	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		unsigned long long ma, mi, v;
		char op[32];
		if (sscanf(l, "%llu:%llu %31s %llu", &ma, &mi, op, &v) == 4)
			blkio_entry(arr, ma, mi, op, v);
	}
	return arr;
}

static void put_nonempty(struct json_object *o, const char *key, struct json_object *arr)
{
	if (json_object_array_length(arr) > 0)
		json_object_object_add(o, key, arr);
	else
		json_object_put(arr);
}

/* The first of FILES with at least one device line: the CFQ files went with
 * Linux 5.0; the throttle layer counts every bio, BFQ only its own devices. */
static struct json_object *blkio_v1_first(const char *dir, const char *const *files)
{
	for (; *files != NULL; files++) {
		_cleanup_free_ char *text = read_opt(dir, *files);
		struct json_object *arr;
		if (text == NULL)
			continue;
		arr = blkio_v1_list(text);
		if (json_object_array_length(arr) > 0)
			return arr;
		json_object_put(arr);
	}
	return json_object_new_array();
}

static void blkio_v2(const char *dir, struct json_object *blk)
{
	static const struct {
		const char *key, *op;
		bool bytes;
	} keys[] = {
	    {"rbytes", "Read", true}, {"wbytes", "Write", true}, {"dbytes", "Discard", true},
	    {"rios", "Read", false},  {"wios", "Write", false},	 {"dios", "Discard", false},
	};
	_cleanup_free_ char *text = read_opt(dir, "io.stat");
	_cleanup_free_ char *copy = text ? strdup(text) : NULL;
	struct json_object *bytes = json_object_new_array(), *ios = json_object_new_array();
	char *save = NULL;

	for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		unsigned long long ma, mi;
		int n = 0;
		char *save2 = NULL;
		if (sscanf(l, "%llu:%llu %n", &ma, &mi, &n) < 2 || n == 0)
			continue;
		for (char *t = strtok_r(l + n, " ", &save2); t != NULL;
		     t = strtok_r(NULL, " ", &save2)) {
			char *eq = strchr(t, '=');
			uint64_t v;
			if (eq == NULL)
				continue;
			*eq = '\0';
			for (size_t k = 0; k < HUTCH_ARRAY_SIZE(keys); k++)
				if (strcmp(t, keys[k].key) == 0 && parse_u64(eq + 1, &v))
					blkio_entry(keys[k].bytes ? bytes : ios, ma, mi, keys[k].op,
						    v);
		}
	}
	put_nonempty(blk, "ioServiceBytesRecursive", bytes);
	put_nonempty(blk, "ioServicedRecursive", ios);
}

static void blkio_stats(struct hutch_cgroup *cg, struct json_object *data)
{
	static const char *const bytes_files[] = {"blkio.io_service_bytes_recursive",
						  "blkio.throttle.io_service_bytes_recursive",
						  "blkio.bfq.io_service_bytes_recursive", NULL};
	static const char *const ios_files[] = {"blkio.io_serviced_recursive",
						"blkio.throttle.io_serviced_recursive",
						"blkio.bfq.io_serviced_recursive", NULL};
	struct json_object *blk = new_obj(data, "blkio");
	struct hutch_cg_hier *h = hutch_cg_find(cg, "blkio");

	if (h == NULL || h->v2) {
		if (h == NULL)
			h = hutch_cg_find(cg, "io");
		if (h != NULL && h->v2)
			blkio_v2(h->dir, blk);
		return;
	}
	put_nonempty(blk, "ioServiceBytesRecursive", blkio_v1_first(h->dir, bytes_files));
	put_nonempty(blk, "ioServicedRecursive", blkio_v1_first(h->dir, ios_files));
}

/* ---- hugetlb ------------------------------------------------------------------------ */

static void hugetlb_stats(struct hutch_cgroup *cg, struct json_object *data)
{
	struct json_object *map = new_obj(data, "hugetlb");
	bool v2;
	const char *dir = dir_of(cg, "hugetlb", &v2);
	const char *suffix = v2 ? ".current" : ".usage_in_bytes";
	_cleanup_closedir_ DIR *d = dir != NULL ? opendir(dir) : NULL;
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name), sl = strlen(suffix);
		char size[32], f[96];
		struct json_object *o;
		uint64_t v;

		/* hugetlb.<size>.current / .usage_in_bytes, not the .rsvd ones */
		if (strncmp(de->d_name, "hugetlb.", 8) != 0 || len <= 8 + sl ||
		    strcmp(de->d_name + len - sl, suffix) != 0 || len - 8 - sl >= sizeof(size))
			continue;
		snprintf(size, sizeof(size), "%.*s", (int)(len - 8 - sl), de->d_name + 8);
		if (strchr(size, '.') != NULL)
			continue;
		o = new_obj(map, size);
		read_u64(dir, de->d_name, &v);
		put_u64(o, "usage", v, true);
		if (v2) {
			snprintf(f, sizeof(f), "hugetlb.%s.events", size);
			put_u64(o, "failcnt", kv_file(dir, f, "max"), false);
		} else {
			snprintf(f, sizeof(f), "hugetlb.%s.max_usage_in_bytes", size);
			read_u64(dir, f, &v);
			put_u64(o, "max", v, true);
			snprintf(f, sizeof(f), "hugetlb.%s.failcnt", size);
			read_u64(dir, f, &v);
			put_u64(o, "failcnt", v, false);
		}
	}
}

/* ---- the stats object ------------------------------------------------------------------ */

struct json_object *hutch_cgroup_stats(struct hutch_cgroup *cg, struct hutch_error **err)
{
	struct json_object *data;
	bool found = false;

	/* The container's cgroup must still be there in some hierarchy. */
	for (size_t i = 0; i < cg->n && !found; i++)
		found = access(cg->h[i].dir, F_OK) == 0;
	if (!found)
		return hutch_error_set(err, ENOENT, "stats of cgroup %s: no such cgroup", cg->path),
		       NULL;
	data = json_object_new_object();
	if (data == NULL)
		return hutch_error_set(err, ENOMEM, "stats of cgroup %s", cg->path), NULL;
	cpu_stats(cg, data);
	cpuset_stats(cg, data);
	memory_stats(cg, data);
	pids_stats(cg, data);
	blkio_stats(cg, data);
	hugetlb_stats(cg, data);
	json_object_object_add(data, "intel_rdt", json_object_new_object());
	json_object_object_add(data, "network_interfaces", NULL);
	return data;
}

char *hutch_cgroup_stats_json(struct hutch_cgroup *cg, struct hutch_error **err)
{
	_cleanup_json_ struct json_object *data = hutch_cgroup_stats(cg, err);
	const char *text;
	char *out;

	if (data == NULL)
		return NULL;
	text = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	out = text != NULL ? strdup(text) : NULL;
	if (out == NULL)
		return hutch_error_set(err, ENOMEM, "stats of cgroup %s", cg->path), NULL;
	return out;
}

/* ---- OOM watch ------------------------------------------------------------------------ */

struct hutch_cgroup_oom {
	int fd;	       /* v1: eventfd; v2: inotify */
	bool v2;       /* memory on the cgroup2 tree */
	char *dir;     /* the memory cgroup */
	uint64_t seen; /* v2: oom_kill count already reported */
};

void hutch_cgroup_oom_free(struct hutch_cgroup_oom *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->dir);
	free(w);
}

static uint64_t oom_kills_v2(const char *dir)
{
	_cleanup_free_ char *text = read_opt(dir, "memory.events");
	uint64_t v = 0;

	/* oom_kill: processes the OOM killer killed (Linux 4.13); "oom"
	 * counts limit hits that invoked it, the fallback. */
	if (text != NULL && !kv_get(text, "oom_kill", &v))
		kv_get(text, "oom", &v);
	return v;
}

struct hutch_cgroup_oom *hutch_cgroup_oom_watch(struct hutch_cgroup *cg, struct hutch_error **err)
{
	struct hutch_cgroup_oom *w;
	bool v2;
	const char *dir = dir_of(cg, "memory", &v2);
	_cleanup_free_ char *path = NULL;

	if (dir == NULL)
		return hutch_error_set(err, ENOTSUP, "watch OOM of cgroup %s: no memory controller",
				       cg->path),
		       NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL || (w->dir = strdup(dir)) == NULL) {
		free(w);
		return hutch_error_set(err, ENOMEM, "watch OOM of cgroup %s", cg->path), NULL;
	}
	w->v2 = v2;
	w->fd = -1;
	if (v2) {
		if (asprintf(&path, "%s/memory.events", dir) < 0) {
			path = NULL;
			hutch_error_set(err, ENOMEM, "watch OOM of cgroup %s", cg->path);
			goto fail;
		}
		w->seen = oom_kills_v2(dir);
		/* kernfs notifies a modification of memory.events on every
		 * counter change (cgroup_file_notify). */
		w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (w->fd < 0) {
			hutch_error_errno(err, "watch OOM: inotify_init1");
			goto fail;
		}
		if (inotify_add_watch(w->fd, path, IN_MODIFY) < 0) {
			hutch_error_errno(err, "watch OOM: inotify on %s", path);
			goto fail;
		}
	} else {
		_cleanup_close_ int ofd = -1;
		char buf[64];

		if (asprintf(&path, "%s/memory.oom_control", dir) < 0) {
			path = NULL;
			hutch_error_set(err, ENOMEM, "watch OOM of cgroup %s", cg->path);
			goto fail;
		}
		ofd = open(path, O_RDONLY | O_CLOEXEC);
		if (ofd < 0) {
			hutch_error_errno(err, "watch OOM: open %s", path);
			goto fail;
		}
		w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (w->fd < 0) {
			hutch_error_errno(err, "watch OOM: eventfd");
			goto fail;
		}
		/* "<eventfd> <fd of memory.oom_control>": the kernel signals
		 * the eventfd on every OOM of the cgroup, and once more when
		 * the cgroup is removed. */
		snprintf(buf, sizeof(buf), "%d %d", w->fd, ofd);
		if (hutch_cg_write(dir, "cgroup.event_control", buf, err) < 0) {
			hutch_error_prefix(err, "watch OOM of cgroup %s", cg->path);
			goto fail;
		}
	}
	return w;
fail:
	hutch_cgroup_oom_free(w);
	return NULL;
}

int hutch_cgroup_oom_fd(const struct hutch_cgroup_oom *w)
{
	return w->fd;
}

int hutch_cgroup_oom_check(struct hutch_cgroup_oom *w, struct hutch_error **err)
{
	if (w->v2) {
		char buf[4096];
		uint64_t now;

		while (read(w->fd, buf, sizeof(buf)) > 0)
			; /* drain: the counter file is the truth */
		now = oom_kills_v2(w->dir);
		if (now <= w->seen)
			return 0;
		now -= w->seen;
		w->seen += now;
		return now > INT_MAX ? INT_MAX : (int)now;
	} else {
		uint64_t n = 0;

		if (read(w->fd, &n, sizeof(n)) != sizeof(n)) {
			if (errno == EAGAIN)
				return 0;
			return hutch_error_errno(err, "read OOM eventfd of %s", w->dir);
		}
		/* The removal of the cgroup signals too: not an OOM. */
		if (!hutch_cg_exists(w->dir, "memory.oom_control"))
			return 0;
		return n > INT_MAX ? INT_MAX : (int)n;
	}
}
