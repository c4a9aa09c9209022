#include "process.h"
#include "core/cleanup.h"
#include "core/bitlist.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "spec/model.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

uint64_t hutch_process_bounding_set(void)
{
	_cleanup_free_ char *status = hutch_read_file("/proc/self/status", 0, NULL, NULL);
	const char *p;

	if (status == NULL || (p = strstr(status, "\nCapBnd:")) == NULL)
		return ~0ULL;
	return strtoull(p + 8, NULL, 16);
}

static int last_cap(void)
{
	_cleanup_free_ char *s = hutch_read_file("/proc/sys/kernel/cap_last_cap", 64, NULL, NULL);
	int n = s != NULL ? atoi(s) : hutch_cap_last();

	return n > 0 && n < 64 ? n : hutch_cap_last();
}

int hutch_process_check_caps(const struct hutch_process *p, struct hutch_error **err)
{
	const struct hutch_capabilities *c = &p->capabilities;
	uint64_t have = hutch_process_bounding_set();
	struct {
		const char *name;
		bool present;
		uint64_t set;
	} sets[] = {
	    {"bounding", c->has_bounding, c->bounding},
	    {"effective", c->has_effective, c->effective},
	    {"permitted", c->has_permitted, c->permitted},
	    {"inheritable", c->has_inheritable, c->inheritable},
	    {"ambient", c->has_ambient, c->ambient},
	};

	if (!p->has_capabilities)
		return 0;
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(sets); i++) {
		uint64_t missing = sets[i].present ? sets[i].set & ~have : 0;
		for (int cap = 0; cap < 64 && missing != 0; cap++) {
			if (missing & (1ULL << cap))
				return hutch_error_set(err, EPERM,
						       "process.capabilities.%s: %s is not in "
						       "hutch's own bounding set, so it cannot be "
						       "granted on this host",
						       sets[i].name, hutch_cap_name(cap));
		}
	}
	return 0;
}

static const char *rlimit_name(int r)
{
	static const char *names[] = {
	    "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",	"RLIMIT_STACK",
	    "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",	"RLIMIT_NOFILE",
	    "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",	"RLIMIT_SIGPENDING",
	    "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME"};
	return r >= 0 && (size_t)r < HUTCH_ARRAY_SIZE(names) ? names[r] : "RLIMIT_?";
}

int hutch_process_set_rlimits(const struct hutch_process *p, struct hutch_error **err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct hutch_rlimit *r = &p->rlimits[i];
		struct rlimit rl = {r->soft, r->hard};

		if (setrlimit(r->resource, &rl) < 0) {
			struct rlimit cur;
			getrlimit(r->resource, &cur);
			return hutch_error_errno(
			    err,
			    "process.rlimits: set %s to %llu/%llu (hard limit "
			    "now %llu; raising it needs CAP_SYS_RESOURCE)",
			    rlimit_name(r->resource), (unsigned long long)r->soft,
			    (unsigned long long)r->hard, (unsigned long long)cur.rlim_max);
		}
	}
	return 0;
}

int hutch_process_set_oom_score_adj(const struct hutch_process *p, struct hutch_error **err)
{
	char buf[32];
	int n;

	if (!p->has_oom_score_adj)
		return 0;
	n = snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
	if (hutch_write_file("/proc/self/oom_score_adj", buf, (size_t)n, err) < 0)
		return hutch_error_prefix(err, "process.oomScoreAdj");
	return 0;
}

void hutch_process_new_keyring(const char *id)
{
	char name[128];

	snprintf(name, sizeof(name), "_ses.%.100s", id);
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0) < 0)
		hutch_warn("could not create a session keyring: %s", strerror(errno));
}

static int capset_sets(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	d[0].effective = (uint32_t)eff;
	d[1].effective = (uint32_t)(eff >> 32);
	d[0].permitted = (uint32_t)perm;
	d[1].permitted = (uint32_t)(perm >> 32);
	d[0].inheritable = (uint32_t)inh;
	d[1].inheritable = (uint32_t)(inh >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

int hutch_process_drop_bounding(const struct hutch_process *p, struct hutch_error **err)
{
	const struct hutch_capabilities *c = &p->capabilities;
	int last = last_cap();

	/* A capabilities object is given: a set it leaves out is empty (as
	 * runc reads it), so the bounding set is always applied.  Each drop
	 * makes the kernel copy our credentials (freed only after an RCU
	 * grace period), so a capability already out is not dropped again. */
	if (!p->has_capabilities)
		return 0;
	for (int cap = 0; cap <= last; cap++) {
		if ((c->bounding & (1ULL << cap)) || prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return hutch_error_errno(err, "process.capabilities.bounding: drop %s",
						 hutch_cap_name(cap));
	}
	return 0;
}

int hutch_process_switch_user(const struct hutch_process *p, struct hutch_error **err)
{
	const struct hutch_capabilities *c = &p->capabilities;
	int last = last_cap();

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return hutch_error_errno(err, "prctl(PR_SET_KEEPCAPS)");
	if (setgroups(p->user.n_additional_gids, p->user.additional_gids) < 0) {
		/* setgroups is denied in a user namespace with setgroups=deny;
		 * only an error when groups were asked for. */
		if (p->user.n_additional_gids > 0 || errno != EPERM)
			return hutch_error_errno(err, "process.user.additionalGids: setgroups");
	}
	if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
		return hutch_error_errno(err, "process.user.gid: setresgid(%u)", p->user.gid);
	if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
		return hutch_error_errno(err, "process.user.uid: setresuid(%u)", p->user.uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return hutch_error_errno(err, "prctl(PR_SET_KEEPCAPS)");
	if (!p->has_capabilities)
		return 0;
	if (capset_sets(c->effective, c->permitted, c->inheritable) < 0)
		return hutch_error_errno(err, "process.capabilities: capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return hutch_error_errno(err, "process.capabilities.ambient: clear");
	for (int cap = 0; cap <= last && c->has_ambient; cap++) {
		if (!(c->ambient & (1ULL << cap)))
			continue;
		/* As runc: an ambient capability that is not also permitted and
		 * inheritable cannot be raised; `runc spec` itself writes such
		 * configs, so warn rather than fail. */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			hutch_debug("process.capabilities.ambient: cannot raise %s (it must "
				    "also be permitted and inheritable): %s",
				    hutch_cap_name(cap), strerror(errno));
	}
	return 0;
}

int hutch_process_no_new_privs(const struct hutch_process *p, struct hutch_error **err)
{
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return hutch_error_errno(err, "process.noNewPrivileges");
	return 0;
}

static bool is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *hutch_process_find_exe(const struct hutch_process *p, struct hutch_error **err)
{
	const char *name = p->args != NULL ? p->args[0] : NULL;
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

	if (name == NULL || name[0] == '\0')
		return hutch_error_set(err, EINVAL, "process.args: empty"), NULL;
	if (strchr(name, '/') != NULL) {
		if (!is_executable(name))
			return hutch_error_errno(err, "exec: \"%s\"", name), NULL;
		return strdup(name);
	}
	for (char **e = p->env; e != NULL && *e != NULL; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	for (const char *d = path; d != NULL;) {
		const char *colon = strchr(d, ':');
		size_t dl = colon != NULL ? (size_t)(colon - d) : strlen(d);
		char *cand = NULL;

		if (asprintf(&cand, "%.*s/%s", (int)dl, dl > 0 ? d : ".", name) < 0)
			return hutch_error_set(err, ENOMEM, "exec"), NULL;
		if (is_executable(cand))
			return cand;
		free(cand);
		d = colon != NULL ? colon + 1 : NULL;
	}
	hutch_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
	return NULL;
}

/* ---- scheduler, I/O priority, cpu affinity, personality --------------------- */

/* struct sched_attr of include/uapi/linux/sched/types.h (SCHED_ATTR_SIZE_VER1) */
struct sched_attr_v1 {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

int hutch_process_set_scheduler(const struct hutch_process *p, struct hutch_error **err)
{
	const struct hutch_scheduler *s = &p->scheduler;
	struct sched_attr_v1 a;

	if (!p->has_scheduler)
		return 0;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.sched_policy = (uint32_t)s->policy;
	a.sched_flags = s->flags;
	a.sched_nice = s->nice;
	a.sched_priority = (uint32_t)s->priority;
	a.sched_runtime = s->runtime;
	a.sched_deadline = s->deadline;
	a.sched_period = s->period;
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		return hutch_error_errno(err,
					 "process.scheduler: sched_setattr(policy %d, priority %d, "
					 "nice %d)%s",
					 s->policy, s->priority, s->nice,
					 errno == EPERM
					     ? " (a real-time policy needs CAP_SYS_NICE "
					       "in the initial user namespace and, under "
					       "a cgroup v1 cpu controller, real-time "
					       "runtime: linux.resources.cpu."
					       "realtimeRuntime)"
					     : "");
	return 0;
}

#define IOPRIO_WHO_PROCESS_ 1
#define IOPRIO_CLASS_SHIFT_ 13

int hutch_process_set_io_priority(const struct hutch_process *p, struct hutch_error **err)
{
	int prio;

	if (!p->has_io_priority)
		return 0;
	prio = (p->io_priority.klass << IOPRIO_CLASS_SHIFT_) | p->io_priority.priority;
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS_, 0, prio) < 0)
		return hutch_error_errno(err,
					 "process.ioPriority: ioprio_set(class %d, priority %d)",
					 p->io_priority.klass, p->io_priority.priority);
	return 0;
}

int hutch_process_parse_cpu_list(const char *list, unsigned long *mask, size_t n_bits,
				 struct hutch_error **err)
{
	if (list == NULL || *list == '\0')
		return hutch_error_set(err, EINVAL, "empty cpu list");
	if (hutch_bitlist_parse(list, mask, n_bits) < 0)
		return hutch_error_set(err, EINVAL, "invalid cpu list \"%s\" (cpus below %zu)",
				       list, n_bits);
	return 0;
}

int hutch_process_set_cpu_affinity(const char *list, const char *field, struct hutch_error **err)
{
	cpu_set_t set;

	if (list == NULL || list[0] == '\0')
		return 0;
	if (hutch_process_parse_cpu_list(list, (unsigned long *)&set, CPU_SETSIZE, err) < 0)
		return hutch_error_prefix(err, "%s", field);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		return hutch_error_errno(err, "%s: sched_setaffinity(%s)", field, list);
	return 0;
}

/* Persona flags of include/uapi/linux/personality.h */
static const struct {
	const char *name;
	unsigned long value;
} persona_flags[] = {
    {"UNAME26", 0x0020000},
    {"ADDR_NO_RANDOMIZE", 0x0040000},
    {"FDPIC_FUNCPTRS", 0x0080000},
    {"MMAP_PAGE_ZERO", 0x0100000},
    {"ADDR_COMPAT_LAYOUT", 0x0200000},
    {"READ_IMPLIES_EXEC", 0x0400000},
    {"ADDR_LIMIT_32BIT", 0x0800000},
    {"SHORT_INODE", 0x1000000},
    {"WHOLE_SECONDS", 0x2000000},
    {"STICKY_TIMEOUTS", 0x4000000},
    {"ADDR_LIMIT_3GB", 0x8000000},
};

long hutch_process_personality_value(const char *domain, char *const *flags,
				     struct hutch_error **err)
{
	unsigned long v;

	if (domain != NULL && strcmp(domain, "LINUX") == 0)
		v = 0x0000; /* PER_LINUX */
	else if (domain != NULL && strcmp(domain, "LINUX32") == 0)
		v = 0x0008; /* PER_LINUX32 */
	else
		return hutch_error_set(err, EINVAL,
				       "linux.personality.domain: unknown domain \"%s\"",
				       domain != NULL ? domain : "(null)");
	for (size_t i = 0; flags != NULL && flags[i] != NULL; i++) {
		size_t j;
		for (j = 0; j < HUTCH_ARRAY_SIZE(persona_flags); j++)
			if (strcmp(flags[i], persona_flags[j].name) == 0)
				break;
		if (j == HUTCH_ARRAY_SIZE(persona_flags))
			return hutch_error_set(err, EINVAL,
					       "linux.personality.flags[%zu]: unknown flag \"%s\"",
					       i, flags[i]);
		v |= persona_flags[j].value;
	}
	return (long)v;
}

int hutch_process_set_memory_policy(const struct hutch_linux *l, struct hutch_error **err)
{
	const struct hutch_memory_policy *m = &l->memory_policy;
	/* maxnode counts one past the last bit, as the kernel reads it */
	unsigned long maxnode = m->has_nodes ? HUTCH_MPOL_MAX_NODES + 1 : 0;

	if (!l->has_memory_policy)
		return 0;
	if (syscall(SYS_set_mempolicy, m->mode | (int)m->flags, m->has_nodes ? m->mask : NULL,
		    maxnode) < 0) {
		if (errno == EINVAL)
			return hutch_error_set(
			    err, EINVAL,
			    "linux.memoryPolicy: set_mempolicy(%s%s%s%s) refused: "
			    "a node this host (or the container's cpuset) does "
			    "not have, or a flag the mode or kernel does not take",
			    m->mode_name, m->nodes != NULL ? ", nodes \"" : "",
			    m->nodes != NULL ? m->nodes : "", m->nodes != NULL ? "\"" : "");
		return hutch_error_errno(err, "linux.memoryPolicy: set_mempolicy(%s)",
					 m->mode_name);
	}
	return 0;
}

int hutch_process_set_personality(const struct hutch_linux *l, struct hutch_error **err)
{
	long v;

	if (!l->has_personality)
		return 0;
	v = hutch_process_personality_value(l->personality_domain, l->personality_flags, err);
	if (v < 0)
		return -1;
	if (personality((unsigned long)v) < 0)
		return hutch_error_errno(err, "linux.personality: personality(0x%lx)",
					 (unsigned long)v);
	return 0;
}
