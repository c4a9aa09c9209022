/* linux.resources -> cgroup files.
 *
 * Plain values go through one table (field, controller, v1 file, v2 file,
 * formatters); the fields whose writes depend on each other (memory limit and
 * swap, cpu quota and period) or are lists (devices, blkio devices, hugepages,
 * priorities, unified) have a function each.  A field the host cannot honour
 * is an error naming it, except kernel memory, which runc ignores (the kmem
 * files are gone since Linux 6.1 on v1 and never existed on v2). */
#include "cgroup/cgroup-internal.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "spec/model.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- conversions ----------------------------------------------------------- */

/* cpu.shares [2, 262144] onto cpu.weight [1, 10000] linearly, as runc and
 * crun do, so 1024 (the default share) maps to 39 on both. */
uint64_t hutch_cgroup_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* blkio.weight [10, 1000] onto io.weight [1, 10000]. */
uint64_t hutch_cgroup_blkio_to_io_weight(uint64_t weight)
{
	if (weight == 0)
		return 0;
	if (weight < 10)
		weight = 10;
	return 1 + (weight - 10) * 9999 / 990;
}

/* The spec's swap is memory+swap (v1 memsw); v2 limits swap alone. */
int hutch_cgroup_swap_v2(int64_t swap, int64_t limit, char *buf, size_t size, bool *skip,
			 struct hutch_error **err)
{
	*skip = false;
	if (swap == 0 && limit == -1) {
		/* "unlimited memory" without a swap value: unlimited swap too */
		snprintf(buf, size, "max");
		return 0;
	}
	if (swap == 0) {
		*skip = true;
		return 0;
	}
	if (swap == -1) {
		snprintf(buf, size, "max");
		return 0;
	}
	if (swap < 0)
		return hutch_error_set(err, EINVAL, "invalid swap value %" PRId64, swap);
	if (limit <= 0)
		return hutch_error_set(err, EINVAL,
				       "swap %" PRId64 " needs a memory limit (cgroup v2 limits "
				       "swap alone: memory.swap.max = swap - limit)",
				       swap);
	if (swap < limit)
		return hutch_error_set(err, EINVAL,
				       "swap %" PRId64 " is below the memory limit %" PRId64
				       " (swap is memory+swap)",
				       swap, limit);
	snprintf(buf, size, "%" PRId64, swap - limit);
	return 0;
}

/* ---- formatters ---------------------------------------------------------------- */

typedef void (*fmt_fn)(int64_t v, char *buf, size_t n);

static void fmt_dec(int64_t v, char *buf, size_t n)
{
	snprintf(buf, n, "%" PRId64, v);
}

static void fmt_max(int64_t v, char *buf, size_t n)
{
	if (v < 0)
		snprintf(buf, n, "max");
	else
		snprintf(buf, n, "%" PRId64, v);
}

/* pids.limit: <= 0 is "no limit" (runtime-spec 1.3; runc 1.2) */
static void fmt_pids(int64_t v, char *buf, size_t n)
{
	if (v <= 0)
		snprintf(buf, n, "max");
	else
		snprintf(buf, n, "%" PRId64, v);
}

static void fmt_weight(int64_t v, char *buf, size_t n)
{
	snprintf(buf, n, "%" PRIu64, hutch_cgroup_shares_to_weight((uint64_t)v));
}

static void fmt_one(int64_t v, char *buf, size_t n)
{
	(void)v;
	snprintf(buf, n, "1");
}

/* ---- the table ----------------------------------------------------------------- */

enum {
	ZERO_UNSET = 1,	  /* 0 means "not set" also in apply (runc skips it) */
	WARN_MISSING = 2, /* missing file: warn and go on (kernel memory, as runc) */
	V2_IGNORE = 4,	  /* no meaning on v2: silently ignored */
	READ_BACK = 8,	  /* the kernel may accept and drop it: warn then */
};

struct scalar {
	const char *field;
	const char *ctrl, *ctrl2; /* v1 controller; v2 one when it differs */
	const char *v1, *v2;	  /* files; NULL: not available in that version */
	bool (*get)(const struct hutch_resources *r, int64_t *v);
	fmt_fn f1, f2;
	unsigned flags;
};

#define GETTER(name, cond, expr)                                                                   \
	static bool get_##name(const struct hutch_resources *r, int64_t *v)                        \
	{                                                                                          \
		if (!(cond))                                                                       \
			return false;                                                              \
		*v = (int64_t)(expr);                                                              \
		return true;                                                                       \
	}

GETTER(reservation, r->has_memory && r->memory.has_reservation, r->memory.reservation)
GETTER(kernel, r->has_memory && r->memory.has_kernel, r->memory.kernel)
GETTER(kernel_tcp, r->has_memory && r->memory.has_kernel_tcp, r->memory.kernel_tcp)
GETTER(swappiness, r->has_memory && r->memory.has_swappiness, r->memory.swappiness)
GETTER(oom, r->has_memory && r->memory.has_disable_oom_killer && r->memory.disable_oom_killer, 1)
GETTER(use_hierarchy, r->has_memory && r->memory.has_use_hierarchy && r->memory.use_hierarchy, 1)
GETTER(pids, r->has_pids_limit, r->pids_limit)
GETTER(shares, r->has_cpu && r->cpu.has_shares, r->cpu.shares)
GETTER(burst, r->has_cpu && r->cpu.has_burst, r->cpu.burst)
GETTER(rt_period, r->has_cpu && r->cpu.has_realtime_period, r->cpu.realtime_period)
GETTER(rt_runtime, r->has_cpu && r->cpu.has_realtime_runtime, r->cpu.realtime_runtime)
GETTER(idle, r->has_cpu && r->cpu.has_idle, r->cpu.idle)
GETTER(leaf_weight, r->has_blockio && r->blockio.has_leaf_weight, r->blockio.leaf_weight)
GETTER(class_id, r->has_class_id, r->class_id)

static const struct scalar scalars[] = {
    {"memory.reservation", "memory", NULL, "memory.soft_limit_in_bytes", "memory.low",
     get_reservation, fmt_dec, fmt_max, ZERO_UNSET},
    {"memory.kernel", "memory", NULL, "memory.kmem.limit_in_bytes", NULL, get_kernel, fmt_dec, NULL,
     ZERO_UNSET | WARN_MISSING | READ_BACK},
    {"memory.kernelTCP", "memory", NULL, "memory.kmem.tcp.limit_in_bytes", NULL, get_kernel_tcp,
     fmt_dec, NULL, ZERO_UNSET | WARN_MISSING | READ_BACK},
    {"memory.swappiness", "memory", NULL, "memory.swappiness", NULL, get_swappiness, fmt_dec, NULL,
     0},
    {"memory.disableOOMKiller", "memory", NULL, "memory.oom_control", NULL, get_oom, fmt_one, NULL,
     WARN_MISSING},
    {"memory.useHierarchy", "memory", NULL, "memory.use_hierarchy", NULL, get_use_hierarchy,
     fmt_one, NULL, V2_IGNORE},
    {"pids.limit", "pids", NULL, "pids.max", "pids.max", get_pids, fmt_pids, fmt_pids, 0},
    {"cpu.shares", "cpu", NULL, "cpu.shares", "cpu.weight", get_shares, fmt_dec, fmt_weight,
     ZERO_UNSET},
    {"cpu.burst", "cpu", NULL, "cpu.cfs_burst_us", "cpu.max.burst", get_burst, fmt_dec, fmt_dec, 0},
    /* v1 checks runtime/period against the parent: period first */
    {"cpu.realtimePeriod", "cpu", NULL, "cpu.rt_period_us", NULL, get_rt_period, fmt_dec, NULL,
     ZERO_UNSET},
    {"cpu.realtimeRuntime", "cpu", NULL, "cpu.rt_runtime_us", NULL, get_rt_runtime, fmt_dec, NULL,
     0},
    {"cpu.idle", "cpu", NULL, "cpu.idle", "cpu.idle", get_idle, fmt_dec, fmt_dec, 0},
    {"blockIO.leafWeight", "blkio", "io", "blkio.leaf_weight", NULL, get_leaf_weight, fmt_dec, NULL,
     ZERO_UNSET},
    {"network.classID", "net_cls", NULL, "net_cls.classid", NULL, get_class_id, fmt_dec, NULL, 0},
};

/* ---- helpers --------------------------------------------------------------------- */

struct ctx {
	struct hutch_cgroup *cg;
	const struct hutch_resources *r;
	bool update;
};

#define FIELD "linux.resources."

static bool wanted(const struct ctx *c, bool has, int64_t v, bool zero_unset)
{
	return has && !(v == 0 && (c->update || zero_unset));
}

/* v1 hierarchy of CTRL, else the cgroup2 tree if it has CTRL2. */
static struct hutch_cg_hier *find(struct ctx *c, const char *ctrl, const char *ctrl2)
{
	struct hutch_cg_hier *h = hutch_cg_find(c->cg, ctrl);

	if (h == NULL && ctrl2 != NULL)
		h = hutch_cg_find(c->cg, ctrl2);
	if (h != NULL && h->v2 && ctrl2 != NULL && strcmp(ctrl, ctrl2) != 0 &&
	    c->cg->mode == HUTCH_CGROUP_HYBRID && !hutch_cg_strv_has(h->ctrls, ctrl2))
		return NULL;
	return h;
}

static int no_ctrl(const char *field, const char *ctrl, struct hutch_error **err)
{
	return hutch_error_set(err, ENOTSUP, FIELD "%s: the %s cgroup controller is not mounted",
			       field, ctrl);
}

static int missing(const char *field, const char *file, struct hutch_error **err)
{
	return hutch_error_set(err, ENOTSUP, FIELD "%s: not supported by this kernel (%s missing)",
			       field, file);
}

/* Write VALUE to DIR/FILE for FIELD; a missing file is the named error. */
static int put(const char *field, const char *dir, const char *file, const char *value,
	       struct hutch_error **err)
{
	if (!hutch_cg_exists(dir, file))
		return missing(field, file, err);
	if (hutch_cg_write(dir, file, value, err) < 0)
		return hutch_error_prefix(err, FIELD "%s", field);
	return 0;
}

static int apply_scalar(struct ctx *c, const struct scalar *s, struct hutch_error **err)
{
	struct hutch_cg_hier *h;
	const char *file;
	char buf[64];
	int64_t v;

	if (!s->get(c->r, &v) || !wanted(c, true, v, s->flags & ZERO_UNSET))
		return 0;
	h = find(c, s->ctrl, s->ctrl2);
	if (h == NULL)
		return no_ctrl(s->field, s->ctrl, err);
	file = h->v2 ? s->v2 : s->v1;
	if (file == NULL) {
		if (s->flags & V2_IGNORE)
			return 0;
		if (s->flags & WARN_MISSING) {
			hutch_warn(FIELD "%s: not supported on cgroup v2, ignored", s->field);
			return 0;
		}
		return hutch_error_set(err, ENOTSUP, FIELD "%s: not supported on cgroup v2",
				       s->field);
	}
	if (!hutch_cg_exists(h->dir, file) && (s->flags & WARN_MISSING)) {
		hutch_warn(FIELD "%s: not supported by this kernel (%s missing), ignored", s->field,
			   file);
		return 0;
	}
	(h->v2 ? s->f2 : s->f1)(v, buf, sizeof(buf));
	if (put(s->field, h->dir, file, buf, err) < 0)
		return -1;
	if ((s->flags & READ_BACK) && v > 0) {
		/* Since Linux 6.1 memory.kmem.limit_in_bytes stays but a write is
		 * accepted and dropped: say so rather than pretend. */
		_cleanup_free_ char *now = hutch_cg_read(h->dir, file, NULL);
		long long got = now != NULL ? strtoll(now, NULL, 10) : -1;
		if (now != NULL)
			now[strcspn(now, "\n")] = '\0';
		/* the kernel rounds a limit down to whole pages */
		if (got < 0 || got > v || v - got >= 65536)
			hutch_warn(FIELD "%s: %" PRId64 " written but the kernel keeps %s in %s, "
					 "ignored",
				   s->field, v, now != NULL ? now : "?", file);
	}
	return 0;
}

/* Parse "max" or a number (memory.max, cpu.max fields). */
static int64_t parse_limit(const char *s)
{
	if (strncmp(s, "max", 3) == 0)
		return -1;
	return strtoll(s, NULL, 10);
}

/* ---- memory limit and swap -------------------------------------------------------- */

static int memory_v1(struct ctx *c, const char *dir, bool has_limit, int64_t limit, bool has_swap,
		     int64_t swap, struct hutch_error **err)
{
	static const char memsw[] = "memory.memsw.limit_in_bytes";
	char lbuf[32], sbuf[32];
	_cleanup_error_ struct hutch_error *first = NULL;
	bool swap_first;

	(void)c;
	/* runc: an unlimited memory without swap given means unlimited swap */
	if (has_limit && limit == -1 && !has_swap && hutch_cg_exists(dir, memsw)) {
		has_swap = true;
		swap = -1;
	}
	if (has_swap && !hutch_cg_exists(dir, memsw)) {
		if (swap == -1) /* swap accounting off: nothing to lift */
			has_swap = false;
		else
			return missing("memory.swap", memsw, err);
	}
	fmt_dec(limit, lbuf, sizeof(lbuf));
	fmt_dec(swap, sbuf, sizeof(sbuf));
	if (!has_swap)
		return has_limit ? put("memory.limit", dir, "memory.limit_in_bytes", lbuf, err) : 0;
	if (!has_limit)
		return put("memory.swap", dir, memsw, sbuf, err);
	/* The kernel keeps memsw >= limit at every step: when the limits grow,
	 * memsw must move first; when they shrink, the limit first.  When the
	 * guess is wrong (EINVAL) try the other order. */
	{
		_cleanup_free_ char *cur = hutch_cg_read(dir, "memory.limit_in_bytes", NULL);
		int64_t cur_limit = cur ? strtoll(cur, NULL, 10) : 0;
		swap_first = swap == -1 || (cur != NULL && swap > cur_limit);
	}
	for (int attempt = 0; attempt < 2; attempt++, swap_first = !swap_first) {
		struct hutch_error **e = attempt == 0 ? &first : err;
		if (swap_first) {
			if (put("memory.swap", dir, memsw, sbuf, e) == 0 &&
			    put("memory.limit", dir, "memory.limit_in_bytes", lbuf, e) == 0)
				return 0;
		} else {
			if (put("memory.limit", dir, "memory.limit_in_bytes", lbuf, e) == 0 &&
			    put("memory.swap", dir, memsw, sbuf, e) == 0)
				return 0;
		}
		if (attempt == 0 && first->code != EINVAL) {
			*err = steal_ptr(first);
			return -1;
		}
	}
	return -1;
}

static int memory_v2(struct ctx *c, const char *dir, bool has_limit, int64_t limit, bool has_swap,
		     int64_t swap, struct hutch_error **err)
{
	char buf[32];
	bool skip;

	if (has_limit && c->update && c->r->memory.has_check_before_update &&
	    c->r->memory.check_before_update && limit > 0) {
		_cleanup_free_ char *cur = hutch_cg_read(dir, "memory.current", NULL);
		if (cur != NULL && strtoll(cur, NULL, 10) > limit)
			return hutch_error_set(err, EBUSY,
					       FIELD "memory.limit: %" PRId64
						     " is below the current usage %lld "
						     "(checkBeforeUpdate)",
					       limit, strtoll(cur, NULL, 10));
	}
	if (has_limit) {
		fmt_max(limit, buf, sizeof(buf));
		if (put("memory.limit", dir, "memory.max", buf, err) < 0)
			return -1;
	}
	if (!has_swap && !(has_limit && limit == -1))
		return 0;
	if (!has_limit && c->update) {
		/* update with swap only: against the limit in force */
		_cleanup_free_ char *cur = hutch_cg_read(dir, "memory.max", NULL);
		if (cur != NULL)
			limit = parse_limit(cur);
	}
	if (hutch_cgroup_swap_v2(has_swap ? swap : 0, has_limit || c->update ? limit : 0, buf,
				 sizeof(buf), &skip, err) < 0)
		return hutch_error_prefix(err, FIELD "memory.swap");
	if (skip)
		return 0;
	if (!hutch_cg_exists(dir, "memory.swap.max") && strcmp(buf, "max") == 0)
		return 0; /* no swap accounting: unlimited already */
	return put("memory.swap", dir, "memory.swap.max", buf, err);
}

static int apply_memory(struct ctx *c, struct hutch_error **err)
{
	const struct hutch_memory *m = &c->r->memory;
	bool has_limit, has_swap;
	struct hutch_cg_hier *h;

	if (!c->r->has_memory)
		return 0;
	has_limit = wanted(c, m->has_limit, m->limit, true);
	has_swap = wanted(c, m->has_swap, m->swap, true);
	if (!has_limit && !has_swap)
		return 0;
	h = find(c, "memory", NULL);
	if (h == NULL)
		return no_ctrl(has_limit ? "memory.limit" : "memory.swap", "memory", err);
	if (h->v2)
		return memory_v2(c, h->dir, has_limit, m->limit, has_swap, m->swap, err);
	return memory_v1(c, h->dir, has_limit, m->limit, has_swap, m->swap, err);
}

/* ---- cpu quota and period, cpuset ------------------------------------------------- */

static int apply_cpu_max(struct ctx *c, struct hutch_error **err)
{
	const struct hutch_cpu *cpu = &c->r->cpu;
	bool has_quota, has_period;
	struct hutch_cg_hier *h;
	char qbuf[32], pbuf[32], buf[80];

	if (!c->r->has_cpu)
		return 0;
	has_quota = wanted(c, cpu->has_quota, cpu->quota, true);
	has_period = wanted(c, cpu->has_period, (int64_t)cpu->period, true);
	if (!has_quota && !has_period)
		return 0;
	h = find(c, "cpu", NULL);
	if (h == NULL)
		return no_ctrl(has_quota ? "cpu.quota" : "cpu.period", "cpu", err);
	if (!h->v2) {
		_cleanup_error_ struct hutch_error *perr = NULL;
		bool period_failed = false;

		fmt_dec(cpu->quota, qbuf, sizeof(qbuf));
		snprintf(pbuf, sizeof(pbuf), "%" PRIu64, cpu->period);
		/* A smaller period can be refused (EINVAL) while the old quota
		 * would exceed the parent's; then retry after the quota. */
		if (has_period && put("cpu.period", h->dir, "cpu.cfs_period_us", pbuf, &perr) < 0) {
			if (!has_quota || perr->code != EINVAL) {
				*err = steal_ptr(perr);
				return -1;
			}
			period_failed = true;
		}
		if (has_quota && put("cpu.quota", h->dir, "cpu.cfs_quota_us", qbuf, err) < 0)
			return -1;
		if (period_failed && put("cpu.period", h->dir, "cpu.cfs_period_us", pbuf, err) < 0)
			return -1;
		return 0;
	}
	/* cpu.max is "QUOTA PERIOD": an update of one keeps the other. */
	{
		_cleanup_free_ char *cur =
		    c->update ? hutch_cg_read(h->dir, "cpu.max", NULL) : NULL;
		char *sp = cur ? strchr(cur, ' ') : NULL;

		if (has_quota && cpu->quota > 0)
			snprintf(qbuf, sizeof(qbuf), "%" PRId64, cpu->quota);
		else if (!has_quota && cur != NULL && sp != NULL)
			snprintf(qbuf, sizeof(qbuf), "%.*s", (int)(sp - cur), cur);
		else
			snprintf(qbuf, sizeof(qbuf), "max");
		if (has_period)
			snprintf(pbuf, sizeof(pbuf), "%" PRIu64, cpu->period);
		else if (sp != NULL && strtoull(sp + 1, NULL, 10) > 0)
			snprintf(pbuf, sizeof(pbuf), "%llu", strtoull(sp + 1, NULL, 10));
		else
			snprintf(pbuf, sizeof(pbuf), "100000"); /* the kernel's default */
	}
	snprintf(buf, sizeof(buf), "%s %s", qbuf, pbuf);
	return put(has_quota ? "cpu.quota" : "cpu.period", h->dir, "cpu.max", buf, err);
}

static int apply_cpuset(struct ctx *c, struct hutch_error **err)
{
	const struct hutch_cpu *cpu = &c->r->cpu;
	struct hutch_cg_hier *h;

	if (!c->r->has_cpu || ((cpu->cpus == NULL || *cpu->cpus == '\0') &&
			       (cpu->mems == NULL || *cpu->mems == '\0')))
		return 0;
	h = find(c, "cpuset", NULL);
	if (h == NULL)
		return no_ctrl(cpu->cpus && *cpu->cpus ? "cpu.cpus" : "cpu.mems", "cpuset", err);
	if (cpu->cpus != NULL && *cpu->cpus != '\0' &&
	    put("cpu.cpus", h->dir, "cpuset.cpus", cpu->cpus, err) < 0)
		return -1;
	if (cpu->mems != NULL && *cpu->mems != '\0' &&
	    put("cpu.mems", h->dir, "cpuset.mems", cpu->mems, err) < 0)
		return -1;
	return 0;
}

/* ---- block io ---------------------------------------------------------------------- */

static int apply_blkio(struct ctx *c, struct hutch_error **err)
{
	static const char *const v1_throttle[4] = {
	    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
	static const char *const v2_key[4] = {"rbps", "wbps", "riops", "wiops"};
	static const char *const field_throttle[4] = {
	    "blockIO.throttleReadBpsDevice", "blockIO.throttleWriteBpsDevice",
	    "blockIO.throttleReadIOPSDevice", "blockIO.throttleWriteIOPSDevice"};
	const struct hutch_blockio *b = &c->r->blockio;
	struct hutch_cg_hier *h;
	const char *wfile, *wdfile;
	bool bfq;
	char buf[96];

	if (!c->r->has_blockio)
		return 0;
	if (!wanted(c, b->has_weight, b->weight, true) && b->n_weight_device == 0 &&
	    b->n_throttle[0] + b->n_throttle[1] + b->n_throttle[2] + b->n_throttle[3] == 0)
		return 0;
	h = find(c, "blkio", "io");
	if (h == NULL)
		return no_ctrl("blockIO", "blkio", err);
	/* CFQ's blkio.weight went with Linux 5.0; BFQ offers the same range. */
	if (h->v2) {
		bfq = hutch_cg_exists(h->dir, "io.bfq.weight");
		wfile = wdfile = bfq ? "io.bfq.weight" : "io.weight";
	} else {
		bfq = !hutch_cg_exists(h->dir, "blkio.weight");
		wfile = bfq ? "blkio.bfq.weight" : "blkio.weight";
		wdfile = bfq ? "blkio.bfq.weight_device" : "blkio.weight_device";
	}
	if (wanted(c, b->has_weight, b->weight, true)) {
		uint64_t w = h->v2 && !bfq ? hutch_cgroup_blkio_to_io_weight(b->weight) : b->weight;
		snprintf(buf, sizeof(buf), "%" PRIu64, w);
		if (put("blockIO.weight", h->dir, wfile, buf, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct hutch_weight_device *d = &b->weight_device[i];
		if (d->has_weight) {
			uint64_t w =
			    h->v2 && !bfq ? hutch_cgroup_blkio_to_io_weight(d->weight) : d->weight;
			snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
				 d->minor, w);
			if (put("blockIO.weightDevice", h->dir, wdfile, buf, err) < 0)
				return -1;
		}
		if (d->has_leaf_weight) {
			if (h->v2)
				return hutch_error_set(err, ENOTSUP,
						       FIELD "blockIO.weightDevice.leafWeight: not "
							     "supported on cgroup v2");
			snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
				 d->leaf_weight);
			if (put("blockIO.weightDevice.leafWeight", h->dir,
				"blkio.leaf_weight_device", buf, err) < 0)
				return -1;
		}
	}
	for (int k = 0; k < 4; k++) {
		for (size_t i = 0; i < b->n_throttle[k]; i++) {
			const struct hutch_throttle_device *d = &b->throttle[k][i];
			if (h->v2) {
				/* v1 takes 0 as "no limit"; v2 wants "max" */
				if (d->rate == 0)
					snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=max",
						 d->major, d->minor, v2_key[k]);
				else
					snprintf(buf, sizeof(buf),
						 "%" PRId64 ":%" PRId64 " %s=%" PRIu64, d->major,
						 d->minor, v2_key[k], d->rate);
			} else {
				snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu64,
					 d->major, d->minor, d->rate);
			}
			if (put(field_throttle[k], h->dir, h->v2 ? "io.max" : v1_throttle[k], buf,
				err) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- hugetlb, net_prio, rdma --------------------------------------------------------- */

static int apply_hugetlb(struct ctx *c, struct hutch_error **err)
{
	struct hutch_cg_hier *h;

	if (c->r->n_hugepage_limits == 0)
		return 0;
	/* On hybrid hosts hugetlb may be on the cgroup2 tree: v2 names there. */
	h = find(c, "hugetlb", NULL);
	if (h == NULL)
		return no_ctrl("hugepageLimits", "hugetlb", err);
	for (size_t i = 0; i < c->r->n_hugepage_limits; i++) {
		const struct hutch_hugepage_limit *l = &c->r->hugepage_limits[i];
		char file[96], rsvd[96], buf[32], field[64];

		snprintf(field, sizeof(field), "hugepageLimits[%zu]", i);
		if (l->page_size == NULL || *l->page_size == '\0' || strlen(l->page_size) > 16)
			return hutch_error_set(err, EINVAL, FIELD "%s: bad pageSize", field);
		for (const char *p = l->page_size; *p; p++)
			if (!isalnum((unsigned char)*p))
				return hutch_error_set(err, EINVAL, FIELD "%s: bad pageSize \"%s\"",
						       field, l->page_size);
		snprintf(file, sizeof(file), h->v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes",
			 l->page_size);
		snprintf(rsvd, sizeof(rsvd),
			 h->v2 ? "hugetlb.%s.rsvd.max" : "hugetlb.%s.rsvd.limit_in_bytes",
			 l->page_size);
		snprintf(buf, sizeof(buf), "%" PRIu64, l->limit);
		if (put(field, h->dir, file, buf, err) < 0)
			return -1;
		/* Reservations (Linux 5.7) are charged separately: limit both,
		 * as runc 1.1 does, or a MAP_NORESERVE-less mmap escapes. */
		if (hutch_cg_exists(h->dir, rsvd) && put(field, h->dir, rsvd, buf, err) < 0)
			return -1;
	}
	return 0;
}

static int apply_net_prio(struct ctx *c, struct hutch_error **err)
{
	struct hutch_cg_hier *h;

	if (c->r->n_net_priorities == 0)
		return 0;
	h = find(c, "net_prio", NULL);
	if (h == NULL)
		return no_ctrl("network.priorities", "net_prio", err);
	if (h->v2)
		return hutch_error_set(err, ENOTSUP,
				       FIELD "network.priorities: not supported on cgroup v2");
	for (size_t i = 0; i < c->r->n_net_priorities; i++) {
		const struct hutch_net_priority *p = &c->r->net_priorities[i];
		_cleanup_free_ char *buf = NULL;
		if (p->name == NULL || *p->name == '\0' || strpbrk(p->name, " \n") != NULL)
			return hutch_error_set(
			    err, EINVAL, FIELD "network.priorities[%zu]: bad interface name", i);
		if (asprintf(&buf, "%s %u", p->name, p->priority) < 0)
			return hutch_error_set(err, ENOMEM, FIELD "network.priorities");
		if (put("network.priorities", h->dir, "net_prio.ifpriomap", buf, err) < 0)
			return -1;
	}
	return 0;
}

static int apply_rdma(struct ctx *c, struct hutch_error **err)
{
	struct hutch_cg_hier *h;

	if (c->r->n_rdma == 0)
		return 0;
	h = find(c, "rdma", NULL);
	if (h == NULL)
		return no_ctrl("rdma", "rdma", err);
	for (size_t i = 0; i < c->r->n_rdma; i++) {
		const struct hutch_rdma *d = &c->r->rdma[i];
		char buf[160];
		int n;

		if (d->device == NULL || *d->device == '\0' || strpbrk(d->device, " \n") != NULL ||
		    strlen(d->device) > 64)
			return hutch_error_set(err, EINVAL, FIELD "rdma: bad device name");
		if (!d->has_hca_handles && !d->has_hca_objects)
			continue;
		n = snprintf(buf, sizeof(buf), "%s", d->device);
		if (d->has_hca_handles)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, " hca_handle=%u",
				      d->hca_handles);
		if (d->has_hca_objects)
			snprintf(buf + n, sizeof(buf) - (size_t)n, " hca_object=%u",
				 d->hca_objects);
		if (put("rdma", h->dir, "rdma.max", buf, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- devices, unified ------------------------------------------------------------------ */

static int apply_devices(struct ctx *c, struct hutch_error **err)
{
	struct hutch_cg_hier *h;

	if (c->r->n_devices == 0)
		return 0;
	h = hutch_cg_find(c->cg, "devices");
	if (h != NULL && !h->v2)
		return hutch_cg_v1_devices(h->dir, c->r, err);
	if (c->cg->mode == HUTCH_CGROUP_UNIFIED && c->cg->unified >= 0)
		return hutch_cg_v2_devices(c->cg->h[c->cg->unified].dir, c->r, err);
	return no_ctrl("devices", "devices", err);
}

static int apply_unified(struct ctx *c, struct hutch_error **err)
{
	struct hutch_cg_hier *h;

	if (c->r->n_unified == 0)
		return 0;
	if (c->cg->mode == HUTCH_CGROUP_LEGACY || c->cg->unified < 0)
		return hutch_error_set(err, ENOTSUP,
				       FIELD "unified: needs cgroup v2 (this host has cgroup v1 "
					     "only)");
	h = &c->cg->h[c->cg->unified];
	for (size_t i = 0; i < c->r->n_unified; i++) {
		const struct hutch_kv *kv = &c->r->unified[i];
		const char *dot = kv->key ? strchr(kv->key, '.') : NULL;
		_cleanup_free_ char *ctrl = NULL;

		if (kv->key == NULL || dot == NULL || dot == kv->key || strchr(kv->key, '/') ||
		    kv->value == NULL)
			return hutch_error_set(err, EINVAL, FIELD "unified: bad key \"%s\"",
					       kv->key ? kv->key : "");
		ctrl = strndup(kv->key, (size_t)(dot - kv->key));
		if (ctrl == NULL)
			return hutch_error_set(err, ENOMEM, FIELD "unified");
		if (c->cg->mode == HUTCH_CGROUP_HYBRID && strcmp(ctrl, "cgroup") != 0 &&
		    !hutch_cg_strv_has(h->ctrls, ctrl))
			return hutch_error_set(err, ENOTSUP,
					       FIELD "unified.%s: the %s controller is not on the "
						     "cgroup2 tree of this hybrid host",
					       kv->key, ctrl);
		if (!hutch_cg_exists(h->dir, kv->key))
			return hutch_error_set(err, ENOENT,
					       FIELD "unified.%s: no such file in %s (controller "
						     "%s not enabled?)",
					       kv->key, h->dir, ctrl);
		if (hutch_cg_write(h->dir, kv->key, kv->value, err) < 0)
			return hutch_error_prefix(err, FIELD "unified.%s", kv->key);
	}
	return 0;
}

int hutch_cg_set_resources(struct hutch_cgroup *cg, const struct hutch_resources *r, bool update,
			   struct hutch_error **err)
{
	struct ctx c = {cg, r, update};

	if (r == NULL)
		return 0;
	/* cpuset first: a v1 cpuset needs cpus/mems before anything joins;
	 * unified last: its raw values override the converted ones. */
	if (apply_cpuset(&c, err) < 0 || apply_memory(&c, err) < 0)
		return -1;
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(scalars); i++)
		if (apply_scalar(&c, &scalars[i], err) < 0)
			return -1;
	if (apply_cpu_max(&c, err) < 0 || apply_blkio(&c, err) < 0 || apply_hugetlb(&c, err) < 0 ||
	    apply_net_prio(&c, err) < 0 || apply_rdma(&c, err) < 0 || apply_devices(&c, err) < 0 ||
	    apply_unified(&c, err) < 0)
		return -1;
	return 0;
}
