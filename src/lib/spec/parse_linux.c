/* The "linux" object of config.json (config-linux.md, runtime-spec 1.3):
 * namespaces, id mappings, time offsets, devices, network devices, cgroup
 * resources, seccomp, sysctl, masked and read-only paths, memoryPolicy,
 * personality, and intelRdt (parsed, refused at create: linux/security.c). */
#include "spec/internal.h"
#include "core/bitlist.h"

#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/error.h"

typedef int (*sub_fn)(struct pctx *c, struct json_object *o, void *arg);

/* Run fn on the object at KEY, if present, with the path pushed.  *has (may
 * be NULL) tells whether it was there. */
static int with_object(struct pctx *c, struct json_object *o, const char *key, sub_fn fn, void *arg,
		       bool *has)
{
	struct json_object *sub = NULL;
	size_t mark;
	int r;

	r = jf_object(c, o, key, &sub);
	if (r <= 0)
		return r;
	if (has != NULL)
		*has = true;
	mark = pc_key(c, key);
	r = fn(c, sub, arg);
	pc_pop(c, mark);
	return r < 0 ? -1 : 0;
}

/* A string array whose entries must be absolute paths. */
static int abs_strv(struct pctx *c, struct json_object *o, const char *key, char ***out)
{
	int r = jf_strv(c, o, key, out);

	if (r <= 0)
		return r;
	for (size_t i = 0; (*out)[i] != NULL; i++)
		if ((*out)[i][0] != '/') {
			size_t mark = pc_key(c, key);

			pc_idx(c, i);
			pc_fail(c, "must be an absolute path");
			pc_pop(c, mark);
			return -1;
		}
	return 0;
}

/* ---- namespaces, time offsets -------------------------------------------------- */

static int parse_namespaces(struct pctx *c, struct json_object *o, struct hutch_linux *l)
{
	struct json_object *arr;
	size_t mark, n;

	if (jf_get(o, "namespaces", &arr) == 0)
		return 0;
	mark = pc_key(c, "namespaces");
	if (!json_object_is_type(arr, json_type_array)) {
		pc_fail(c, "expected an array");
		goto fail;
	}
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		_cleanup_free_ char *type = NULL, *path = NULL;
		size_t m2 = pc_idx(c, i);
		int t;

		if (jv_object(c, e) < 0 || pc_need(c, jf_string(c, e, "type", &type), "type") < 0)
			goto fail;
		t = hutch_ns_from_name(type);
		if (t < 0) {
			pc_fail_at(c, "type", "unknown namespace type \"%s\"", type);
			goto fail;
		}
		/* "path ... MUST be an absolute path in the runtime mount
		 * namespace"; an empty one means "create", as in runc. */
		if (jf_string(c, e, "path", &path) < 0)
			goto fail;
		if (path != NULL && path[0] != '\0' && path[0] != '/') {
			pc_fail_at(c, "path", "must be an absolute path");
			goto fail;
		}
		pc_pop(c, m2);
		/* config-linux.md: "If a namespace type is specified more than
		 * once, the runtime MUST generate an error". */
		if (l->namespaces[t].present) {
			pc_fail(c, "duplicate namespace \"%s\"", type);
			goto fail;
		}
		l->namespaces[t].present = true;
		if (path != NULL && path[0] != '\0')
			l->namespaces[t].path = steal_ptr(path);
	}
	pc_pop(c, mark);
	return 0;
fail:
	pc_pop(c, mark);
	return -1;
}

static int parse_time_offset(struct pctx *c, const char *key, struct json_object *v,
			     struct hutch_linux *l)
{
	struct hutch_time_offset *t;
	uint32_t ns = 0;

	/* The clocks time_namespaces(7) can offset. */
	if (strcmp(key, "monotonic") == 0)
		t = &l->time_monotonic;
	else if (strcmp(key, "boottime") == 0)
		t = &l->time_boottime;
	else
		return pc_fail(c, "unknown clock (expected \"monotonic\" or \"boottime\")");
	if (jv_object(c, v) < 0 || jf_i64(c, v, "secs", INT64_MIN, INT64_MAX, &t->secs) < 0 ||
	    jf_u32(c, v, "nanosecs", &ns) < 0)
		return -1;
	/* /proc/PID/timens_offsets refuses a nanosecond part of a second or more. */
	if (ns >= 1000000000u)
		return pc_fail_at(c, "nanosecs", "must be below 1000000000");
	t->nanosecs = ns;
	t->present = true;
	return 0;
}

static int parse_time_offsets(struct pctx *c, struct json_object *o, struct hutch_linux *l)
{
	struct json_object *v;
	size_t mark;
	int r = 0;

	if (jf_get(o, "timeOffsets", &v) == 0)
		return 0;
	mark = pc_key(c, "timeOffsets");
	if (jv_object(c, v) < 0) {
		pc_pop(c, mark);
		return -1;
	}
	json_object_object_foreach(v, k, val)
	{
		size_t m2 = pc_mapkey(c, k);

		r = parse_time_offset(c, k, val, l);
		pc_pop(c, m2);
		if (r < 0)
			break;
	}
	pc_pop(c, mark);
	return r;
}

/* ---- devices, network devices ---------------------------------------------------- */

static int parse_device(struct pctx *c, struct json_object *o, void *elem)
{
	struct hutch_device *d = elem;
	_cleanup_free_ char *type = NULL;
	int r;

	if (pc_need(c, jf_abspath(c, o, "path", &d->path), "path") < 0 ||
	    pc_need(c, jf_string(c, o, "type", &type), "type") < 0)
		return -1;
	if (strlen(type) != 1 || strchr("cbup", type[0]) == NULL)
		return pc_fail_at(c, "type", "unknown device type \"%s\" (expected c, b, u or p)",
				  type);
	d->type = type[0];
	/* major and minor are REQUIRED except for a fifo. */
	r = jf_i64(c, o, "major", INT64_MIN, INT64_MAX, &d->major);
	if (r < 0 || (r == 0 && d->type != 'p' && pc_missing(c, "major") < 0))
		return -1;
	r = jf_i64(c, o, "minor", INT64_MIN, INT64_MAX, &d->minor);
	if (r < 0 || (r == 0 && d->type != 'p' && pc_missing(c, "minor") < 0))
		return -1;
	if ((r = jf_u32(c, o, "fileMode", &d->file_mode)) < 0)
		return -1;
	d->has_file_mode = r > 0;
	if ((r = jf_u32(c, o, "uid", &d->uid)) < 0)
		return -1;
	d->has_uid = r > 0;
	if ((r = jf_u32(c, o, "gid", &d->gid)) < 0)
		return -1;
	d->has_gid = r > 0;
	return 0;
}

static bool valid_ifname(const char *n)
{
	size_t len = strlen(n);

	/* dev_valid_name() in net/core/dev.c. */
	if (len == 0 || len >= IFNAMSIZ || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
		return false;
	for (; *n != '\0'; n++)
		if (*n == '/' || *n == ':' || *n == ' ' || *n == '\t' || *n == '\n')
			return false;
	return true;
}

static int parse_net_device(struct pctx *c, const char *key, struct json_object *v, void *elem)
{
	struct hutch_kv *kv = elem;

	if (!valid_ifname(key))
		return pc_fail(c, "invalid network interface name");
	kv->key = strdup(key);
	if (kv->key == NULL)
		return hutch_error_set(c->err, ENOMEM, "out of memory");
	if (jv_object(c, v) < 0 || jf_string(c, v, "name", &kv->value) < 0)
		return -1;
	/* "If not specified, the host name is used"; "%d" asks the kernel
	 * for a free number, so it may be longer than the final name. */
	if (kv->value == NULL || kv->value[0] == '\0') {
		free(kv->value);
		kv->value = strdup(key);
		if (kv->value == NULL)
			return hutch_error_set(c->err, ENOMEM, "out of memory");
	} else if (!valid_ifname(kv->value)) {
		return pc_fail_at(c, "name", "invalid network interface name \"%s\"", kv->value);
	}
	return 0;
}

/* ---- resources ----------------------------------------------------------------- */

static int parse_device_rule(struct pctx *c, struct json_object *o, void *elem)
{
	struct hutch_device_rule *d = elem;
	_cleanup_free_ char *type = NULL, *access = NULL;
	int r;

	if (pc_need(c, jf_bool(c, o, "allow", &d->allow), "allow") < 0)
		return -1;
	if (jf_string(c, o, "type", &type) < 0)
		return -1;
	d->type = 'a';
	if (type != NULL && type[0] != '\0') {
		if (strlen(type) != 1 || strchr("acb", type[0]) == NULL)
			return pc_fail_at(c, "type",
					  "unknown device type \"%s\" (expected a, c or b)", type);
		d->type = type[0];
	}
	d->major = d->minor = -1;
	if ((r = jf_i64(c, o, "major", -1, INT64_MAX, &d->major)) < 0 ||
	    (r = jf_i64(c, o, "minor", -1, INT64_MAX, &d->minor)) < 0)
		return -1;
	if (jf_string(c, o, "access", &access) < 0)
		return -1;
	/* An absent or empty access means every access, as in runc and crun.
	 * The model keeps it in "rwm" order without repeats. */
	if (access == NULL || access[0] == '\0') {
		strcpy(d->access, "rwm");
		return 0;
	}
	{
		bool seen[3] = {false, false, false};
		size_t n = 0;

		for (const char *p = access; *p != '\0'; p++) {
			const char *at = strchr("rwm", *p);

			if (at == NULL)
				return pc_fail_at(c, "access",
						  "invalid access \"%s\" (expected letters of rwm)",
						  access);
			seen[at - "rwm"] = true;
		}
		for (int i = 0; i < 3; i++)
			if (seen[i])
				d->access[n++] = "rwm"[i];
		d->access[n] = '\0';
	}
	return 0;
}

/* A memory value: bytes, or -1 for unlimited ("max"). */
static int mem_value(struct pctx *c, struct json_object *o, const char *key, int64_t *out,
		     bool *has)
{
	int r = jf_i64(c, o, key, -1, INT64_MAX, out);

	if (r > 0)
		*has = true;
	return r < 0 ? -1 : 0;
}

static int opt_bool(struct pctx *c, struct json_object *o, const char *key, bool *out, bool *has)
{
	int r = jf_bool(c, o, key, out);

	if (r > 0)
		*has = true;
	return r < 0 ? -1 : 0;
}

static int opt_u64(struct pctx *c, struct json_object *o, const char *key, uint64_t max,
		   uint64_t *out, bool *has)
{
	int r = jf_u64(c, o, key, max, out);

	if (r > 0)
		*has = true;
	return r < 0 ? -1 : 0;
}

static int opt_i64(struct pctx *c, struct json_object *o, const char *key, int64_t min, int64_t max,
		   int64_t *out, bool *has)
{
	int r = jf_i64(c, o, key, min, max, out);

	if (r > 0)
		*has = true;
	return r < 0 ? -1 : 0;
}

static int opt_u16(struct pctx *c, struct json_object *o, const char *key, uint16_t *out, bool *has)
{
	int r = jf_u16(c, o, key, out);

	if (r > 0)
		*has = true;
	return r < 0 ? -1 : 0;
}

static int parse_memory(struct pctx *c, struct json_object *o, void *arg)
{
	struct hutch_memory *m = arg;

	if (mem_value(c, o, "limit", &m->limit, &m->has_limit) < 0 ||
	    mem_value(c, o, "reservation", &m->reservation, &m->has_reservation) < 0 ||
	    mem_value(c, o, "swap", &m->swap, &m->has_swap) < 0 ||
	    mem_value(c, o, "kernel", &m->kernel, &m->has_kernel) < 0 ||
	    mem_value(c, o, "kernelTCP", &m->kernel_tcp, &m->has_kernel_tcp) < 0 ||
	    /* memory.swappiness takes 0 to 100 (runc checks the same). */
	    opt_u64(c, o, "swappiness", 100, &m->swappiness, &m->has_swappiness) < 0 ||
	    opt_bool(c, o, "disableOOMKiller", &m->disable_oom_killer, &m->has_disable_oom_killer) <
		0 ||
	    opt_bool(c, o, "useHierarchy", &m->use_hierarchy, &m->has_use_hierarchy) < 0 ||
	    opt_bool(c, o, "checkBeforeUpdate", &m->check_before_update,
		     &m->has_check_before_update) < 0)
		return -1;
	return 0;
}

static int parse_cpu(struct pctx *c, struct json_object *o, void *arg)
{
	struct hutch_cpu *p = arg;

	if (opt_u64(c, o, "shares", UINT64_MAX, &p->shares, &p->has_shares) < 0 ||
	    /* -1: no quota (cpu.cfs_quota_us), "max" on v2. */
	    opt_i64(c, o, "quota", -1, INT64_MAX, &p->quota, &p->has_quota) < 0 ||
	    opt_u64(c, o, "burst", UINT64_MAX, &p->burst, &p->has_burst) < 0 ||
	    opt_u64(c, o, "period", UINT64_MAX, &p->period, &p->has_period) < 0 ||
	    opt_i64(c, o, "realtimeRuntime", -1, INT64_MAX, &p->realtime_runtime,
		    &p->has_realtime_runtime) < 0 ||
	    opt_u64(c, o, "realtimePeriod", UINT64_MAX, &p->realtime_period,
		    &p->has_realtime_period) < 0 ||
	    opt_i64(c, o, "idle", INT64_MIN, INT64_MAX, &p->idle, &p->has_idle) < 0 ||
	    jf_string(c, o, "cpus", &p->cpus) < 0 || jf_string(c, o, "mems", &p->mems) < 0)
		return -1;
	return 0;
}

static int parse_pids(struct pctx *c, struct json_object *o, void *arg)
{
	struct hutch_resources *r = arg;

	/* config-linux.md 1.3: -1 is "max" and 0 is a real limit.  Older
	 * engines sent 0 or other negatives for "unlimited"; the cgroup code
	 * decides how to write them, the parser keeps the value. */
	return opt_i64(c, o, "limit", INT64_MIN, INT64_MAX, &r->pids_limit, &r->has_pids_limit);
}

static int parse_weight_device(struct pctx *c, struct json_object *o, void *elem)
{
	struct hutch_weight_device *w = elem;

	if (pc_need(c, jf_i64(c, o, "major", INT64_MIN, INT64_MAX, &w->major), "major") < 0 ||
	    pc_need(c, jf_i64(c, o, "minor", INT64_MIN, INT64_MAX, &w->minor), "minor") < 0 ||
	    opt_u16(c, o, "weight", &w->weight, &w->has_weight) < 0 ||
	    opt_u16(c, o, "leafWeight", &w->leaf_weight, &w->has_leaf_weight) < 0)
		return -1;
	return 0;
}

static int parse_throttle_device(struct pctx *c, struct json_object *o, void *elem)
{
	struct hutch_throttle_device *t = elem;

	if (pc_need(c, jf_i64(c, o, "major", INT64_MIN, INT64_MAX, &t->major), "major") < 0 ||
	    pc_need(c, jf_i64(c, o, "minor", INT64_MIN, INT64_MAX, &t->minor), "minor") < 0 ||
	    pc_need(c, jf_u64(c, o, "rate", UINT64_MAX, &t->rate), "rate") < 0)
		return -1;
	return 0;
}

static int parse_blockio(struct pctx *c, struct json_object *o, void *arg)
{
	static const char *const throttle_keys[4] = {
	    [HUTCH_THROTTLE_READ_BPS] = "throttleReadBpsDevice",
	    [HUTCH_THROTTLE_WRITE_BPS] = "throttleWriteBpsDevice",
	    [HUTCH_THROTTLE_READ_IOPS] = "throttleReadIOPSDevice",
	    [HUTCH_THROTTLE_WRITE_IOPS] = "throttleWriteIOPSDevice",
	};
	struct hutch_blockio *b = arg;

	if (opt_u16(c, o, "weight", &b->weight, &b->has_weight) < 0 ||
	    opt_u16(c, o, "leafWeight", &b->leaf_weight, &b->has_leaf_weight) < 0 ||
	    jf_objarray(c, o, "weightDevice", sizeof(struct hutch_weight_device),
			parse_weight_device, (void **)&b->weight_device, &b->n_weight_device) < 0)
		return -1;
	for (int i = 0; i < 4; i++)
		if (jf_objarray(c, o, throttle_keys[i], sizeof(struct hutch_throttle_device),
				parse_throttle_device, (void **)&b->throttle[i],
				&b->n_throttle[i]) < 0)
			return -1;
	return 0;
}

static int parse_hugepage_limit(struct pctx *c, struct json_object *o, void *elem)
{
	struct hutch_hugepage_limit *h = elem;

	if (pc_need(c, jf_string(c, o, "pageSize", &h->page_size), "pageSize") < 0 ||
	    pc_need(c, jf_u64(c, o, "limit", UINT64_MAX, &h->limit), "limit") < 0)
		return -1;
	/* It becomes part of a file name: hugetlb.<pageSize>.limit_in_bytes. */
	if (h->page_size[0] == '\0' || strchr(h->page_size, '/') != NULL ||
	    strcmp(h->page_size, "..") == 0 || strcmp(h->page_size, ".") == 0)
		return pc_fail_at(c, "pageSize", "invalid page size \"%s\"", h->page_size);
	return 0;
}

static int parse_net_priority(struct pctx *c, struct json_object *o, void *elem)
{
	struct hutch_net_priority *p = elem;

	if (pc_need(c, jf_string(c, o, "name", &p->name), "name") < 0 ||
	    pc_need(c, jf_u32(c, o, "priority", &p->priority), "priority") < 0)
		return -1;
	return 0;
}

static int parse_network(struct pctx *c, struct json_object *o, void *arg)
{
	struct hutch_resources *r = arg;
	uint32_t class_id = 0;
	int rc;

	if ((rc = jf_u32(c, o, "classID", &class_id)) < 0)
		return -1;
	r->has_class_id = rc > 0;
	r->class_id = class_id;
	return jf_objarray(c, o, "priorities", sizeof(struct hutch_net_priority),
			   parse_net_priority, (void **)&r->net_priorities,
			   &r->n_net_priorities) < 0
		   ? -1
		   : 0;
}

static int parse_rdma_entry(struct pctx *c, const char *key, struct json_object *v, void *elem)
{
	struct hutch_rdma *d = elem;
	int r;

	d->device = strdup(key);
	if (d->device == NULL)
		return hutch_error_set(c->err, ENOMEM, "out of memory");
	if (jv_object(c, v) < 0)
		return -1;
	if ((r = jf_u32(c, v, "hcaHandles", &d->hca_handles)) < 0)
		return -1;
	d->has_hca_handles = r > 0;
	if ((r = jf_u32(c, v, "hcaObjects", &d->hca_objects)) < 0)
		return -1;
	d->has_hca_objects = r > 0;
	return 0;
}

static int check_unified(struct pctx *c, struct hutch_resources *r)
{
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *k = r->unified[i].key;

		/* A cgroup2 interface file in the container's own directory:
		 * "controller.name", never a path. */
		if (strchr(k, '/') != NULL || strchr(k, '.') == NULL || k[0] == '.') {
			size_t mark = pc_key(c, "unified");

			pc_mapkey(c, k);
			pc_fail(c, "not a cgroup interface file name");
			pc_pop(c, mark);
			return -1;
		}
	}
	return 0;
}

int hutch_parse_resources(struct pctx *c, struct json_object *o, struct hutch_resources *r)
{
	if (jf_objarray(c, o, "devices", sizeof(struct hutch_device_rule), parse_device_rule,
			(void **)&r->devices, &r->n_devices) < 0 ||
	    with_object(c, o, "memory", parse_memory, &r->memory, &r->has_memory) < 0 ||
	    with_object(c, o, "cpu", parse_cpu, &r->cpu, &r->has_cpu) < 0 ||
	    with_object(c, o, "pids", parse_pids, r, NULL) < 0 ||
	    with_object(c, o, "blockIO", parse_blockio, &r->blockio, &r->has_blockio) < 0 ||
	    jf_objarray(c, o, "hugepageLimits", sizeof(struct hutch_hugepage_limit),
			parse_hugepage_limit, (void **)&r->hugepage_limits,
			&r->n_hugepage_limits) < 0 ||
	    with_object(c, o, "network", parse_network, r, &r->has_network) < 0 ||
	    jf_objmap(c, o, "rdma", sizeof(struct hutch_rdma), parse_rdma_entry, (void **)&r->rdma,
		      &r->n_rdma) < 0 ||
	    jf_kvmap(c, o, "unified", &r->unified, &r->n_unified) < 0 || check_unified(c, r) < 0)
		return -1;
	return 0;
}

static int parse_resources_sub(struct pctx *c, struct json_object *o, void *arg)
{
	return hutch_parse_resources(c, o, arg);
}

/* ---- seccomp ----------------------------------------------------------------------- */

static int seccomp_action(struct pctx *c, struct json_object *o, const char *key, uint32_t *out)
{
	_cleanup_free_ char *name = NULL;
	int64_t v;

	if (pc_need(c, jf_string(c, o, key, &name), key) < 0)
		return -1;
	v = hutch_name_lookup(hutch_seccomp_actions, hutch_n_seccomp_actions, name);
	if (v < 0)
		return pc_fail_at(c, key, "unknown seccomp action \"%s\"", name);
	*out = (uint32_t)v;
	return 0;
}

static int parse_seccomp_arg(struct pctx *c, struct json_object *o, void *elem)
{
	struct hutch_seccomp_arg *a = elem;
	_cleanup_free_ char *op = NULL;
	uint64_t index = 0;
	int64_t v;

	/* Six syscall arguments on every architecture. */
	if (pc_need(c, jf_u64(c, o, "index", 5, &index), "index") < 0 ||
	    pc_need(c, jf_u64(c, o, "value", UINT64_MAX, &a->value), "value") < 0 ||
	    jf_u64(c, o, "valueTwo", UINT64_MAX, &a->value_two) < 0 ||
	    pc_need(c, jf_string(c, o, "op", &op), "op") < 0)
		return -1;
	a->index = (unsigned)index;
	v = hutch_name_lookup(hutch_seccomp_ops, hutch_n_seccomp_ops, op);
	if (v < 0)
		return pc_fail_at(c, "op", "unknown seccomp operator \"%s\"", op);
	a->op = (int)v;
	return 0;
}

static int parse_syscall(struct pctx *c, struct json_object *o, void *elem)
{
	struct hutch_seccomp_syscall *s = elem;
	int r;

	if (pc_need(c, jf_strv(c, o, "names", &s->names), "names") < 0)
		return -1;
	if (s->names[0] == NULL)
		return pc_fail_at(c, "names", "must not be empty");
	for (size_t i = 0; s->names[i] != NULL; i++)
		if (s->names[i][0] == '\0') {
			size_t mark = pc_key(c, "names");

			pc_idx(c, i);
			pc_fail(c, "must not be empty");
			pc_pop(c, mark);
			return -1;
		}
	if (seccomp_action(c, o, "action", &s->action) < 0)
		return -1;
	if ((r = jf_u32(c, o, "errnoRet", &s->errno_ret)) < 0)
		return -1;
	s->has_errno_ret = r > 0;
	return jf_objarray(c, o, "args", sizeof(struct hutch_seccomp_arg), parse_seccomp_arg,
			   (void **)&s->args, &s->n_args) < 0
		   ? -1
		   : 0;
}

static int check_names(struct pctx *c, const char *key, char **names, const char *const *known,
		       size_t n_known, const char *what)
{
	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		size_t j, mark;

		for (j = 0; j < n_known; j++)
			if (strcmp(names[i], known[j]) == 0)
				break;
		if (j < n_known)
			continue;
		mark = pc_key(c, key);
		pc_idx(c, i);
		pc_fail(c, "unknown %s \"%s\"", what, names[i]);
		pc_pop(c, mark);
		return -1;
	}
	return 0;
}

static int parse_seccomp(struct pctx *c, struct json_object *o, void *arg)
{
	struct hutch_seccomp *s = arg;
	int r;

	if (seccomp_action(c, o, "defaultAction", &s->default_action) < 0)
		return -1;
	if ((r = jf_u32(c, o, "defaultErrnoRet", &s->default_errno_ret)) < 0)
		return -1;
	s->has_default_errno_ret = r > 0;
	if (jf_strv(c, o, "architectures", &s->architectures) < 0 ||
	    check_names(c, "architectures", s->architectures, hutch_seccomp_archs,
			hutch_n_seccomp_archs, "architecture") < 0 ||
	    jf_strv(c, o, "flags", &s->flags) < 0 ||
	    check_names(c, "flags", s->flags, hutch_seccomp_flags, hutch_n_seccomp_flags,
			"seccomp flag") < 0 ||
	    jf_string(c, o, "listenerPath", &s->listener_path) < 0 ||
	    jf_string(c, o, "listenerMetadata", &s->listener_metadata) < 0 ||
	    jf_objarray(c, o, "syscalls", sizeof(struct hutch_seccomp_syscall), parse_syscall,
			(void **)&s->syscalls, &s->n_syscalls) < 0)
		return -1;
	return 0;
}

/* ---- intelRdt (refused for now), memoryPolicy, personality ------------------------------ */

/* Checked for types so that enabling the feature later keeps the errors. */
static int parse_intel_rdt(struct pctx *c, struct json_object *o, void *arg)
{
	_cleanup_free_ char *clos = NULL, *l3 = NULL, *mb = NULL;
	_cleanup_strv_ char **schemata = NULL;
	bool mon = false;

	(void)arg;
	if (jf_string(c, o, "closID", &clos) < 0 || jf_string(c, o, "l3CacheSchema", &l3) < 0 ||
	    jf_string(c, o, "memBwSchema", &mb) < 0 || jf_strv(c, o, "schemata", &schemata) < 0 ||
	    jf_bool(c, o, "enableMonitoring", &mon) < 0)
		return -1;
	/* It names a directory under /sys/fs/resctrl. */
	if (clos != NULL &&
	    (strchr(clos, '/') != NULL || strcmp(clos, ".") == 0 || strcmp(clos, "..") == 0))
		return pc_fail_at(c, "closID", "invalid CLOS name \"%s\"", clos);
	return 0;
}

static int parse_memory_policy(struct pctx *c, struct json_object *o, void *arg)
{
	struct hutch_memory_policy *m = arg;
	_cleanup_strv_ char **flags = NULL;
	size_t i;

	if (pc_need(c, jf_string(c, o, "mode", &m->mode_name), "mode") < 0)
		return -1;
	for (i = 0; i < hutch_n_mpol_modes; i++)
		if (strcmp(m->mode_name, hutch_mpol_modes[i].name) == 0)
			break;
	if (i == hutch_n_mpol_modes)
		return pc_fail_at(c, "mode", "unknown memory policy mode \"%s\"", m->mode_name);
	m->mode = (int)hutch_mpol_modes[i].value;
	if (jf_string(c, o, "nodes", &m->nodes) < 0 || jf_strv(c, o, "flags", &flags) < 0)
		return -1;
	for (char **f = flags; f != NULL && *f != NULL; f++) {
		for (i = 0; i < hutch_n_mpol_flags; i++)
			if (strcmp(*f, hutch_mpol_flags[i].name) == 0)
				break;
		if (i == hutch_n_mpol_flags)
			return pc_fail_at(c, "flags", "unknown memory policy flag \"%s\"", *f);
		m->flags |= (unsigned)hutch_mpol_flags[i].value;
	}
	if ((m->flags & HUTCH_MPOL_F_STATIC_NODES) && (m->flags & HUTCH_MPOL_F_RELATIVE_NODES))
		return pc_fail_at(
		    c, "flags", "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other");
	if (m->nodes != NULL && hutch_bitlist_parse(m->nodes, m->mask, HUTCH_MPOL_MAX_NODES) < 0)
		return pc_fail_at(c, "nodes",
				  "invalid node list \"%s\" (want e.g. \"0-3,7\", nodes below %d)",
				  m->nodes, HUTCH_MPOL_MAX_NODES);
	for (i = 0; i < HUTCH_ARRAY_SIZE(m->mask); i++)
		m->has_nodes = m->has_nodes || m->mask[i] != 0;
	/* set_mempolicy(2): these take no nodes, those at least one */
	if ((m->mode == HUTCH_MPOL_DEFAULT || m->mode == HUTCH_MPOL_LOCAL) && m->has_nodes)
		return pc_fail_at(c, "nodes", "%s takes no nodes", m->mode_name);
	if ((m->mode == HUTCH_MPOL_BIND || m->mode == HUTCH_MPOL_INTERLEAVE ||
	     m->mode == HUTCH_MPOL_WEIGHTED_INTERLEAVE || m->mode == HUTCH_MPOL_PREFERRED_MANY) &&
	    !m->has_nodes)
		return pc_fail_at(c, "nodes", "%s needs at least one node", m->mode_name);
	return 0;
}

static int parse_personality(struct pctx *c, struct json_object *o, void *arg)
{
	struct hutch_linux *l = arg;

	if (pc_need(c, jf_string(c, o, "domain", &l->personality_domain), "domain") < 0)
		return -1;
	if (strcmp(l->personality_domain, "LINUX") != 0 &&
	    strcmp(l->personality_domain, "LINUX32") != 0)
		return pc_fail_at(c, "domain", "unknown personality domain \"%s\"",
				  l->personality_domain);
	return jf_strv(c, o, "flags", &l->personality_flags) < 0 ? -1 : 0;
}

/* ---- linux ------------------------------------------------------------------------- */

static int parse_propagation(struct pctx *c, struct json_object *o, struct hutch_linux *l)
{
	static const struct hutch_name_value names[] = {
	    {"private", HUTCH_PROPAGATION_PRIVATE},
	    {"shared", HUTCH_PROPAGATION_SHARED},
	    {"slave", HUTCH_PROPAGATION_SLAVE},
	    {"unbindable", HUTCH_PROPAGATION_UNBINDABLE},
	    {"rprivate", HUTCH_PROPAGATION_RPRIVATE},
	    {"rshared", HUTCH_PROPAGATION_RSHARED},
	    {"rslave", HUTCH_PROPAGATION_RSLAVE},
	    {"runbindable", HUTCH_PROPAGATION_RUNBINDABLE},
	};
	_cleanup_free_ char *v = NULL;
	int64_t p;
	int r = jf_string(c, o, "rootfsPropagation", &v);

	if (r <= 0)
		return r;
	if (v[0] == '\0')
		return 0;
	p = hutch_name_lookup(names, HUTCH_ARRAY_SIZE(names), v);
	if (p < 0)
		return pc_fail_at(c, "rootfsPropagation", "unknown propagation \"%s\"", v);
	l->rootfs_propagation = (enum hutch_propagation)p;
	return 0;
}

int hutch_parse_linux(struct pctx *c, struct json_object *o, struct hutch_linux *l)
{
	if (parse_namespaces(c, o, l) < 0 ||
	    jf_idmaps(c, o, "uidMappings", &l->uid_mappings, &l->n_uid_mappings) < 0 ||
	    jf_idmaps(c, o, "gidMappings", &l->gid_mappings, &l->n_gid_mappings) < 0 ||
	    parse_time_offsets(c, o, l) < 0 ||
	    jf_objarray(c, o, "devices", sizeof(struct hutch_device), parse_device,
			(void **)&l->devices, &l->n_devices) < 0 ||
	    jf_objmap(c, o, "netDevices", sizeof(struct hutch_kv), parse_net_device,
		      (void **)&l->net_devices, &l->n_net_devices) < 0 ||
	    jf_string(c, o, "cgroupsPath", &l->cgroups_path) < 0 ||
	    with_object(c, o, "resources", parse_resources_sub, &l->resources, &l->has_resources) <
		0 ||
	    with_object(c, o, "intelRdt", parse_intel_rdt, NULL, &l->has_intel_rdt) < 0 ||
	    with_object(c, o, "memoryPolicy", parse_memory_policy, &l->memory_policy,
			&l->has_memory_policy) < 0 ||
	    with_object(c, o, "personality", parse_personality, l, &l->has_personality) < 0 ||
	    parse_propagation(c, o, l) < 0 ||
	    with_object(c, o, "seccomp", parse_seccomp, &l->seccomp, &l->has_seccomp) < 0 ||
	    jf_kvmap(c, o, "sysctl", &l->sysctl, &l->n_sysctl) < 0 ||
	    abs_strv(c, o, "maskedPaths", &l->masked_paths) < 0 ||
	    abs_strv(c, o, "readonlyPaths", &l->readonly_paths) < 0 ||
	    jf_string(c, o, "mountLabel", &l->mount_label) < 0)
		return -1;
	return 0;
}

/* ---- free ------------------------------------------------------------------------------ */

void hutch_resources_clear(struct hutch_resources *r)
{
	if (r == NULL)
		return;
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->blockio.weight_device);
	for (int i = 0; i < 4; i++)
		free(r->blockio.throttle[i]);
	for (size_t i = 0; i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	for (size_t i = 0; i < r->n_net_priorities; i++)
		free(r->net_priorities[i].name);
	free(r->net_priorities);
	for (size_t i = 0; i < r->n_rdma; i++)
		free(r->rdma[i].device);
	free(r->rdma);
	hutch_kv_free(r->unified, r->n_unified);
	free(r->devices);
	memset(r, 0, sizeof(*r));
}

static void seccomp_clear(struct hutch_seccomp *s)
{
	hutch_strv_free(s->architectures);
	hutch_strv_free(s->flags);
	free(s->listener_path);
	free(s->listener_metadata);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		hutch_strv_free(s->syscalls[i].names);
		free(s->syscalls[i].args);
	}
	free(s->syscalls);
}

void hutch_linux_clear(struct hutch_linux *l)
{
	for (int i = 0; i < HUTCH_NS__COUNT; i++)
		free(l->namespaces[i].path);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	hutch_resources_clear(&l->resources);
	seccomp_clear(&l->seccomp);
	hutch_kv_free(l->sysctl, l->n_sysctl);
	hutch_strv_free(l->masked_paths);
	hutch_strv_free(l->readonly_paths);
	free(l->mount_label);
	free(l->personality_domain);
	hutch_strv_free(l->personality_flags);
	hutch_kv_free(l->net_devices, l->n_net_devices);
	free(l->memory_policy.mode_name);
	free(l->memory_policy.nodes);
	memset(l, 0, sizeof(*l));
}
