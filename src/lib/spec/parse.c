/* config.json -> struct hutch_spec (runtime-spec 1.3, config.md).
 *
 * This file holds the top level, root, mounts, process, hooks and
 * annotations, the entry points and the free functions; the linux object is
 * in parse_linux.c, the JSON helpers in parse_json.c.
 *
 * Unknown properties are ignored, as config.md requires ("Runtimes MUST
 * ignore unknown properties"), so a config written for a newer 1.x spec still
 * runs.  Known properties the host cannot honour (intelRdt without resctrl,
 * an LSM the host lacks) are refused by name at create (linux/security.c)
 * rather than silently dropped. */
#include "spec/internal.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "core/bitlist.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"

/* ---- free -------------------------------------------------------------------- */

static void mount_clear(struct hutch_mount *m)
{
	free(m->destination);
	free(m->type);
	free(m->source);
	hutch_strv_free(m->options);
	free(m->uid_mappings);
	free(m->gid_mappings);
}

void hutch_process_clear(struct hutch_process *p)
{
	if (p == NULL)
		return;
	free(p->cwd);
	hutch_strv_free(p->env);
	hutch_strv_free(p->args);
	free(p->command_line);
	free(p->user.additional_gids);
	free(p->user.username);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	free(p->exec_cpu_affinity_initial);
	free(p->exec_cpu_affinity_final);
	memset(p, 0, sizeof(*p));
}

static void hook_list_clear(struct hutch_hook_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->hooks[i].path);
		hutch_strv_free(l->hooks[i].args);
		hutch_strv_free(l->hooks[i].env);
	}
	free(l->hooks);
	l->hooks = NULL;
	l->n = 0;
}

void hutch_spec_free(struct hutch_spec *s)
{
	if (s == NULL)
		return;
	free(s->oci_version);
	free(s->root_path);
	for (size_t i = 0; i < s->n_mounts; i++)
		mount_clear(&s->mounts[i]);
	free(s->mounts);
	hutch_process_clear(&s->process);
	free(s->hostname);
	free(s->domainname);
	for (int k = 0; k < HUTCH_HOOK__COUNT; k++)
		hook_list_clear(&s->hooks[k]);
	hutch_kv_free(s->annotations, s->n_annotations);
	hutch_linux_clear(&s->linux_);
	free(s);
}

void hutch_spec_freep(struct hutch_spec **s)
{
	hutch_spec_free(*s);
	*s = NULL;
}

/* ---- process ----------------------------------------------------------------- */

static int parse_console_size(struct pctx *c, struct json_object *o, struct hutch_process *p)
{
	uint32_t h = 0, w = 0;

	if (pc_need(c, jf_u32(c, o, "height", &h), "height") < 0 ||
	    pc_need(c, jf_u32(c, o, "width", &w), "width") < 0)
		return -1;
	p->has_console_size = true;
	p->console_height = h;
	p->console_width = w;
	return 0;
}

static int parse_user(struct pctx *c, struct json_object *o, struct hutch_user *u)
{
	struct json_object *gids;
	uint32_t umask_ = 0;
	int r;

	/* uid and gid are REQUIRED on Linux, but Go engines omit zeros. */
	if (jf_u32(c, o, "uid", &u->uid) < 0 || jf_u32(c, o, "gid", &u->gid) < 0)
		return -1;
	r = jf_u32(c, o, "umask", &umask_);
	if (r < 0)
		return -1;
	if (r > 0) {
		if (umask_ > 07777)
			return pc_fail_at(c, "umask", "%#o is not a file mode", umask_);
		u->has_umask = true;
		u->umask = umask_;
	}
	if (jf_get(o, "additionalGids", &gids) > 0) {
		size_t mark = pc_key(c, "additionalGids");
		size_t n;

		if (!json_object_is_type(gids, json_type_array)) {
			pc_fail(c, "expected an array");
			pc_pop(c, mark);
			return -1;
		}
		n = json_object_array_length(gids);
		free(u->additional_gids);
		u->additional_gids = calloc(n ? n : 1, sizeof(gid_t));
		if (u->additional_gids == NULL) {
			pc_pop(c, mark);
			return hutch_error_set(c->err, ENOMEM, "out of memory");
		}
		u->n_additional_gids = n;
		for (size_t i = 0; i < n; i++) {
			size_t m2 = pc_idx(c, i);
			uint64_t g = 0;

			r = jv_u64(c, json_object_array_get_idx(gids, i), UINT32_MAX, &g);
			pc_pop(c, m2);
			if (r < 0) {
				pc_pop(c, mark);
				return -1;
			}
			u->additional_gids[i] = (gid_t)g;
		}
		pc_pop(c, mark);
	}
	return jf_string(c, o, "username", &u->username) < 0 ? -1 : 0;
}

static int cap_set(struct pctx *c, struct json_object *o, const char *key, uint64_t *set, bool *has)
{
	_cleanup_strv_ char **names = NULL;
	int r = jf_strv(c, o, key, &names);

	if (r <= 0)
		return r;
	*has = true;
	*set = 0;
	for (size_t i = 0; names[i] != NULL; i++) {
		int cap = hutch_cap_from_name(names[i]);

		if (cap < 0) {
			size_t mark = pc_key(c, key);

			pc_idx(c, i);
			pc_fail(c, "unknown capability \"%s\"", names[i]);
			pc_pop(c, mark);
			return -1;
		}
		*set |= UINT64_C(1) << cap;
	}
	return 1;
}

static int parse_capabilities(struct pctx *c, struct json_object *o, struct hutch_capabilities *k)
{
	if (cap_set(c, o, "bounding", &k->bounding, &k->has_bounding) < 0 ||
	    cap_set(c, o, "effective", &k->effective, &k->has_effective) < 0 ||
	    cap_set(c, o, "inheritable", &k->inheritable, &k->has_inheritable) < 0 ||
	    cap_set(c, o, "permitted", &k->permitted, &k->has_permitted) < 0 ||
	    cap_set(c, o, "ambient", &k->ambient, &k->has_ambient) < 0)
		return -1;
	return 0;
}

static int parse_rlimit(struct pctx *c, struct json_object *o, void *elem)
{
	struct hutch_rlimit *rl = elem;
	_cleanup_free_ char *type = NULL;

	if (pc_need(c, jf_string(c, o, "type", &type), "type") < 0)
		return -1;
	rl->resource = hutch_rlimit_from_name(type);
	if (rl->resource < 0)
		return pc_fail_at(c, "type", "unknown rlimit \"%s\"", type);
	if (pc_need(c, jf_u64(c, o, "soft", UINT64_MAX, &rl->soft), "soft") < 0 ||
	    pc_need(c, jf_u64(c, o, "hard", UINT64_MAX, &rl->hard), "hard") < 0)
		return -1;
	/* setrlimit() would fail with EINVAL inside the container; say why here. */
	if (rl->soft > rl->hard)
		return pc_fail(c, "soft limit %llu is above hard limit %llu",
			       (unsigned long long)rl->soft, (unsigned long long)rl->hard);
	return 0;
}

static const struct hutch_name_value sched_policies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},	  {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},	{"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};

/* SCHED_FLAG_* of include/uapi/linux/sched.h (not all in glibc's headers). */
static const struct hutch_name_value sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},	 {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},	 {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},	 {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

static int parse_scheduler(struct pctx *c, struct json_object *o, struct hutch_scheduler *s)
{
	_cleanup_free_ char *policy = NULL;
	_cleanup_strv_ char **flags = NULL;
	int64_t v;

	if (pc_need(c, jf_string(c, o, "policy", &policy), "policy") < 0)
		return -1;
	v = hutch_name_lookup(sched_policies, HUTCH_ARRAY_SIZE(sched_policies), policy);
	if (v < 0)
		return pc_fail_at(c, "policy", "unknown scheduler policy \"%s\"", policy);
	s->policy = (int)v;
	if (jf_int(c, o, "nice", -20, 19, &s->nice) < 0 ||
	    jf_int(c, o, "priority", INT32_MIN, INT32_MAX, &s->priority) < 0 ||
	    jf_strv(c, o, "flags", &flags) < 0 ||
	    jf_u64(c, o, "runtime", UINT64_MAX, &s->runtime) < 0 ||
	    jf_u64(c, o, "deadline", UINT64_MAX, &s->deadline) < 0 ||
	    jf_u64(c, o, "period", UINT64_MAX, &s->period) < 0)
		return -1;
	for (size_t i = 0; flags != NULL && flags[i] != NULL; i++) {
		v = hutch_name_lookup(sched_flags, HUTCH_ARRAY_SIZE(sched_flags), flags[i]);
		if (v < 0) {
			size_t mark = pc_key(c, "flags");

			pc_idx(c, i);
			pc_fail(c, "unknown scheduler flag \"%s\"", flags[i]);
			pc_pop(c, mark);
			return -1;
		}
		s->flags |= (uint32_t)v;
	}
	return 0;
}

static const struct hutch_name_value ioprio_classes[] = {
    {"IOPRIO_CLASS_RT", 1},
    {"IOPRIO_CLASS_BE", 2},
    {"IOPRIO_CLASS_IDLE", 3},
};

static int parse_io_priority(struct pctx *c, struct json_object *o, struct hutch_io_priority *io)
{
	_cleanup_free_ char *klass = NULL;
	int64_t v;

	if (pc_need(c, jf_string(c, o, "class", &klass), "class") < 0)
		return -1;
	v = hutch_name_lookup(ioprio_classes, HUTCH_ARRAY_SIZE(ioprio_classes), klass);
	if (v < 0)
		return pc_fail_at(c, "class", "unknown I/O priority class \"%s\"", klass);
	io->klass = (int)v;
	/* The kernel has 8 levels per class (IOPRIO_NR_LEVELS). */
	return pc_need(c, jf_int(c, o, "priority", 0, 7, &io->priority), "priority");
}

/* A cpu list as taskset -c and cpuset.cpus take it: "0-3,7,9-11". */
static bool valid_cpu_list(const char *s)
{
	cpu_set_t set;

	return *s != '\0' && hutch_bitlist_parse(s, (unsigned long *)&set, CPU_SETSIZE) == 0;
}

static int parse_cpu_affinity(struct pctx *c, struct json_object *o, struct hutch_process *p)
{
	static const char *const keys[] = {"initial", "final"};
	char **outs[] = {&p->exec_cpu_affinity_initial, &p->exec_cpu_affinity_final};

	for (size_t i = 0; i < 2; i++) {
		int r = jf_string(c, o, keys[i], outs[i]);

		if (r < 0)
			return -1;
		if (r > 0 && !valid_cpu_list(*outs[i]))
			return pc_fail_at(c, keys[i], "invalid cpu list \"%s\"", *outs[i]);
	}
	return 0;
}

static int parse_process_object(struct pctx *c, struct json_object *o, struct hutch_process *p)
{
	struct json_object *sub;
	int r;

	if (jf_bool(c, o, "terminal", &p->terminal) < 0)
		return -1;
	if ((r = jf_object(c, o, "consoleSize", &sub)) < 0)
		return -1;
	if (r > 0) {
		size_t mark = pc_key(c, "consoleSize");

		r = parse_console_size(c, sub, p);
		pc_pop(c, mark);
		if (r < 0)
			return -1;
	}
	if (pc_need(c, jf_abspath(c, o, "cwd", &p->cwd), "cwd") < 0)
		return -1;
	if (jf_strv(c, o, "env", &p->env) < 0)
		return -1;
	/* args is "at least one entry REQUIRED" off Windows: there is nothing
	 * to execve() otherwise. */
	if (pc_need(c, jf_strv(c, o, "args", &p->args), "args") < 0)
		return -1;
	if (p->args[0] == NULL)
		return pc_fail_at(c, "args", "must not be empty");
	if (jf_string(c, o, "commandLine", &p->command_line) < 0)
		return -1;
	if ((r = jf_object(c, o, "user", &sub)) < 0)
		return -1;
	if (r > 0) {
		size_t mark = pc_key(c, "user");

		r = parse_user(c, sub, &p->user);
		pc_pop(c, mark);
		if (r < 0)
			return -1;
	}
	if ((r = jf_object(c, o, "capabilities", &sub)) < 0)
		return -1;
	if (r > 0) {
		size_t mark = pc_key(c, "capabilities");

		p->has_capabilities = true;
		r = parse_capabilities(c, sub, &p->capabilities);
		pc_pop(c, mark);
		if (r < 0)
			return -1;
	}
	if (jf_objarray(c, o, "rlimits", sizeof(struct hutch_rlimit), parse_rlimit,
			(void **)&p->rlimits, &p->n_rlimits) < 0)
		return -1;
	for (size_t i = 0; i < p->n_rlimits; i++)
		for (size_t j = 0; j < i; j++)
			if (p->rlimits[i].resource == p->rlimits[j].resource) {
				size_t mark = pc_key(c, "rlimits");

				pc_idx(c, i);
				pc_fail(c, "duplicate rlimit type");
				pc_pop(c, mark);
				return -1;
			}
	if (jf_bool(c, o, "noNewPrivileges", &p->no_new_privileges) < 0 ||
	    jf_string(c, o, "apparmorProfile", &p->apparmor_profile) < 0 ||
	    jf_string(c, o, "selinuxLabel", &p->selinux_label) < 0)
		return -1;
	/* /proc/PID/oom_score_adj takes -1000 (OOM_SCORE_ADJ_MIN) to 1000. */
	if ((r = jf_int(c, o, "oomScoreAdj", -1000, 1000, &p->oom_score_adj)) < 0)
		return -1;
	p->has_oom_score_adj = r > 0;
	if ((r = jf_object(c, o, "scheduler", &sub)) < 0)
		return -1;
	if (r > 0) {
		size_t mark = pc_key(c, "scheduler");

		p->has_scheduler = true;
		r = parse_scheduler(c, sub, &p->scheduler);
		pc_pop(c, mark);
		if (r < 0)
			return -1;
	}
	if ((r = jf_object(c, o, "ioPriority", &sub)) < 0)
		return -1;
	if (r > 0) {
		size_t mark = pc_key(c, "ioPriority");

		p->has_io_priority = true;
		r = parse_io_priority(c, sub, &p->io_priority);
		pc_pop(c, mark);
		if (r < 0)
			return -1;
	}
	if ((r = jf_object(c, o, "execCPUAffinity", &sub)) < 0)
		return -1;
	if (r > 0) {
		size_t mark = pc_key(c, "execCPUAffinity");

		r = parse_cpu_affinity(c, sub, p);
		pc_pop(c, mark);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* ---- mounts, hooks ----------------------------------------------------------- */

static int parse_mount(struct pctx *c, struct json_object *o, void *elem)
{
	struct hutch_mount *m = elem;

	if (pc_need(c, jf_string(c, o, "destination", &m->destination), "destination") < 0)
		return -1;
	if (m->destination[0] == '\0')
		return pc_fail_at(c, "destination", "must not be empty");
	/* config.md (1.1 and later): a relative destination is deprecated but
	 * MUST be taken as relative to "/"; runc and crun accept it too. */
	if (m->destination[0] != '/') {
		char *abs;

		hutch_debug("%s.destination: relative path \"%s\" is deprecated, using \"/%s\"",
			    c->path, m->destination, m->destination);
		if (asprintf(&abs, "/%s", m->destination) < 0)
			return hutch_error_set(c->err, ENOMEM, "out of memory");
		free(m->destination);
		m->destination = abs;
	}
	if (jf_string(c, o, "type", &m->type) < 0 || jf_string(c, o, "source", &m->source) < 0 ||
	    jf_strv(c, o, "options", &m->options) < 0 ||
	    jf_idmaps(c, o, "uidMappings", &m->uid_mappings, &m->n_uid_mappings) < 0 ||
	    jf_idmaps(c, o, "gidMappings", &m->gid_mappings, &m->n_gid_mappings) < 0)
		return -1;
	return 0;
}

static int parse_hook(struct pctx *c, struct json_object *o, void *elem)
{
	struct hutch_hook *h = elem;
	int r;

	/* config.md: path is "absolute path" in the runtime namespace. */
	if (pc_need(c, jf_abspath(c, o, "path", &h->path), "path") < 0 ||
	    jf_strv(c, o, "args", &h->args) < 0 || jf_strv(c, o, "env", &h->env) < 0)
		return -1;
	r = jf_int(c, o, "timeout", INT_MIN, INT_MAX, &h->timeout);
	if (r < 0)
		return -1;
	if (r > 0 && h->timeout <= 0)
		return pc_fail_at(c, "timeout", "must be greater than zero");
	h->has_timeout = r > 0;
	return 0;
}

static int parse_hooks(struct pctx *c, struct json_object *o, struct hutch_spec *s)
{
	for (int k = 0; k < HUTCH_HOOK__COUNT; k++) {
		struct hutch_hook_list *l = &s->hooks[k];

		if (jf_objarray(c, o, hutch_hook_name(k), sizeof(struct hutch_hook), parse_hook,
				(void **)&l->hooks, &l->n) < 0)
			return -1;
	}
	return 0;
}

/* ---- top level ----------------------------------------------------------------- */

/* "1.0.0", "1.0.2-dev", "1.3.0+dev": any 1.x; a 2.x config may mean things
 * hutch cannot know about. */
static int check_oci_version(struct pctx *c, const char *v)
{
	const char *p = v;
	int parts = 0;

	for (;;) {
		if (*p < '0' || *p > '9')
			break;
		while (*p >= '0' && *p <= '9')
			p++;
		parts++;
		if (*p != '.' || parts == 3)
			break;
		p++;
	}
	if (parts != 3 || (*p != '\0' && *p != '-' && *p != '+'))
		return pc_fail_at(c, "ociVersion", "invalid version \"%s\"", v);
	if (strncmp(v, "1.", 2) != 0)
		return pc_fail_at(c, "ociVersion",
				  "unsupported version \"%s\" (hutch supports 1.0.0 to %s)", v,
				  HUTCH_OCI_VERSION);
	return 0;
}

static int parse_root(struct pctx *c, struct json_object *top, struct hutch_spec *s)
{
	struct json_object *o;
	size_t mark;
	int r;

	/* root is REQUIRED on every platform but Hyper-V containers. */
	r = jf_object(c, top, "root", &o);
	if (r < 0)
		return -1;
	if (r == 0)
		return pc_missing(c, "root.path");
	mark = pc_key(c, "root");
	r = pc_need(c, jf_string(c, o, "path", &s->root_path), "path");
	if (r == 0 && s->root_path[0] == '\0')
		r = pc_fail_at(c, "path", "must not be empty");
	if (r == 0)
		r = jf_bool(c, o, "readonly", &s->root_readonly);
	pc_pop(c, mark);
	return r < 0 ? -1 : 0;
}

static int parse_spec(struct pctx *c, struct json_object *top, struct hutch_spec *s)
{
	static const char *const other_platforms[] = {"windows", "solaris", "vm", "zos", "freebsd"};
	struct json_object *o;
	size_t mark;
	int r;

	if (pc_need(c, jf_string(c, top, "ociVersion", &s->oci_version), "ociVersion") < 0 ||
	    check_oci_version(c, s->oci_version) < 0)
		return -1;
	if (parse_root(c, top, s) < 0)
		return -1;
	if (jf_objarray(c, top, "mounts", sizeof(struct hutch_mount), parse_mount,
			(void **)&s->mounts, &s->n_mounts) < 0)
		return -1;
	if ((r = jf_object(c, top, "process", &o)) < 0)
		return -1;
	if (r > 0) {
		mark = pc_key(c, "process");
		s->has_process = true;
		r = parse_process_object(c, o, &s->process);
		pc_pop(c, mark);
		if (r < 0)
			return -1;
	}
	if (jf_string(c, top, "hostname", &s->hostname) < 0 ||
	    jf_string(c, top, "domainname", &s->domainname) < 0)
		return -1;
	if ((r = jf_object(c, top, "hooks", &o)) < 0)
		return -1;
	if (r > 0) {
		mark = pc_key(c, "hooks");
		r = parse_hooks(c, o, s);
		pc_pop(c, mark);
		if (r < 0)
			return -1;
	}
	if (jf_kvmap(c, top, "annotations", &s->annotations, &s->n_annotations) < 0)
		return -1;
	if ((r = jf_object(c, top, "linux", &o)) < 0)
		return -1;
	if (r > 0) {
		mark = pc_key(c, "linux");
		s->has_linux = true;
		r = hutch_parse_linux(c, o, &s->linux_);
		pc_pop(c, mark);
		if (r < 0)
			return -1;
	}
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(other_platforms); i++)
		if (jf_get(top, other_platforms[i], &o) > 0)
			hutch_debug("config.json: ignoring the %s section", other_platforms[i]);
	return 0;
}

struct hutch_spec *hutch_spec_parse(const char *text, size_t len, struct hutch_error **err)
{
	_cleanup_spec_ struct hutch_spec *s = NULL;
	struct json_object *top;
	struct pctx c = {.err = err};
	int r;

	top = hutch_json_parse_object(text, len, err);
	if (top == NULL)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		json_object_put(top);
		hutch_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	r = parse_spec(&c, top, s);
	json_object_put(top);
	if (r < 0)
		return NULL;
	return steal_ptr(s);
}

struct hutch_spec *hutch_spec_load(const char *bundle, struct hutch_error **err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	struct hutch_spec *s;
	size_t len = 0;

	if (asprintf(&path, "%s/config.json", bundle) < 0) {
		hutch_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	/* The read error already names the file. */
	text = hutch_read_file(path, HUTCH_SPEC_MAX_SIZE, &len, err);
	if (text == NULL)
		return NULL;
	s = hutch_spec_parse(text, len, err);
	if (s == NULL)
		hutch_error_prefix(err, "%s", path);
	return s;
}

int hutch_spec_parse_process(const char *text, size_t len, struct hutch_process *out,
			     struct hutch_error **err)
{
	struct json_object *top;
	struct pctx c = {.err = err};
	int r;

	memset(out, 0, sizeof(*out));
	top = hutch_json_parse_object(text, len, err);
	if (top == NULL)
		return -1;
	/* Paths read "process.cwd" as in config.json: runc's exec --process
	 * takes the same object. */
	pc_key(&c, "process");
	r = parse_process_object(&c, top, out);
	json_object_put(top);
	if (r < 0)
		hutch_process_clear(out);
	return r;
}

int hutch_spec_parse_resources(const char *text, size_t len, struct hutch_resources *out,
			       struct hutch_error **err)
{
	struct json_object *top;
	struct pctx c = {.err = err};
	int r;

	memset(out, 0, sizeof(*out));
	top = hutch_json_parse_object(text, len, err);
	if (top == NULL)
		return -1;
	pc_key(&c, "linux.resources");
	r = hutch_parse_resources(&c, top, out);
	json_object_put(top);
	if (r < 0)
		hutch_resources_clear(out);
	return r;
}
