/* Name tables of the runtime-spec: namespaces, capabilities, rlimits, hooks.
 *
 * The tables are written out rather than taken from <linux/capability.h> so
 * the names hutch accepts do not depend on the headers of the build host;
 * hutch_cap_last() is the highest number listed here (CAP_CHECKPOINT_RESTORE,
 * Linux 5.9). */
#include "spec/model.h"
#include "spec/internal.h"

#include <seccomp.h>

#include <string.h>
#include <sys/resource.h>

#include "core/cleanup.h"

static const char *const ns_names[HUTCH_NS__COUNT] = {
    [HUTCH_NS_PID] = "pid",	  [HUTCH_NS_NETWORK] = "network", [HUTCH_NS_MOUNT] = "mount",
    [HUTCH_NS_IPC] = "ipc",	  [HUTCH_NS_UTS] = "uts",	  [HUTCH_NS_USER] = "user",
    [HUTCH_NS_CGROUP] = "cgroup", [HUTCH_NS_TIME] = "time",
};

int hutch_ns_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < HUTCH_NS__COUNT; i++)
		if (strcmp(ns_names[i], name) == 0)
			return i;
	return -1;
}

const char *hutch_ns_name(enum hutch_ns_type t)
{
	if ((int)t < 0 || t >= HUTCH_NS__COUNT)
		return NULL;
	return ns_names[t];
}

/* Index = capability number (include/uapi/linux/capability.h). */
static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

int hutch_cap_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	/* Exact, upper-case names only, as runc and the spec's examples use. */
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(cap_names); i++)
		if (strcmp(cap_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *hutch_cap_name(int cap)
{
	if (cap < 0 || (size_t)cap >= HUTCH_ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[cap];
}

int hutch_cap_last(void)
{
	return (int)HUTCH_ARRAY_SIZE(cap_names) - 1;
}

static const struct {
	const char *name;
	int resource;
} rlimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},		  {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},	  {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},	  {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},	  {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},	  {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},	  {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},	  {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

int hutch_rlimit_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(rlimits); i++)
		if (strcmp(rlimits[i].name, name) == 0)
			return rlimits[i].resource;
	return -1;
}

static const char *const hook_names[HUTCH_HOOK__COUNT] = {
    [HUTCH_HOOK_PRESTART] = "prestart",
    [HUTCH_HOOK_CREATE_RUNTIME] = "createRuntime",
    [HUTCH_HOOK_CREATE_CONTAINER] = "createContainer",
    [HUTCH_HOOK_START_CONTAINER] = "startContainer",
    [HUTCH_HOOK_POSTSTART] = "poststart",
    [HUTCH_HOOK_POSTSTOP] = "poststop",
};

const char *hutch_hook_name(enum hutch_hook_kind k)
{
	if ((int)k < 0 || k >= HUTCH_HOOK__COUNT)
		return NULL;
	return hook_names[k];
}

/* ---- seccomp names (config-linux.md "Seccomp") ----------------------------- */

/* Action bases without the errno/trace data, as <seccomp.h> defines them. */
const struct hutch_name_value hutch_seccomp_actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};
const size_t hutch_n_seccomp_actions = HUTCH_ARRAY_SIZE(hutch_seccomp_actions);

const struct hutch_name_value hutch_seccomp_ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};
const size_t hutch_n_seccomp_ops = HUTCH_ARRAY_SIZE(hutch_seccomp_ops);

/* Every architecture name of runtime-spec 1.3.  Whether the libseccomp hutch
 * runs with knows one is decided when the filter is built (features.c lists
 * only those it resolves). */
const char *const hutch_seccomp_archs[] = {
    "SCMP_ARCH_X86",	 "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",		"SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",	"SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",	 "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",	 "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",	"SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",	 "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",	"SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",	 "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};
const size_t hutch_n_seccomp_archs = HUTCH_ARRAY_SIZE(hutch_seccomp_archs);

/* The spec lists LOG, SPEC_ALLOW and WAIT_KILLABLE_RECV; TSYNC is accepted
 * too because runc does and older engines still send it (the container's init
 * is single-threaded when the filter is loaded, so it changes nothing). */
const char *const hutch_seccomp_flags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};
const size_t hutch_n_seccomp_flags = HUTCH_ARRAY_SIZE(hutch_seccomp_flags);

int64_t hutch_name_lookup(const struct hutch_name_value *t, size_t n, const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].value;
	return -1;
}

/* linux.memoryPolicy (config-linux.md), as features.md lists them */
const struct hutch_name_value hutch_mpol_modes[] = {
    {"MPOL_DEFAULT", HUTCH_MPOL_DEFAULT},
    {"MPOL_BIND", HUTCH_MPOL_BIND},
    {"MPOL_INTERLEAVE", HUTCH_MPOL_INTERLEAVE},
    {"MPOL_WEIGHTED_INTERLEAVE", HUTCH_MPOL_WEIGHTED_INTERLEAVE},
    {"MPOL_PREFERRED", HUTCH_MPOL_PREFERRED},
    {"MPOL_PREFERRED_MANY", HUTCH_MPOL_PREFERRED_MANY},
    {"MPOL_LOCAL", HUTCH_MPOL_LOCAL},
};
const size_t hutch_n_mpol_modes = HUTCH_ARRAY_SIZE(hutch_mpol_modes);
const struct hutch_name_value hutch_mpol_flags[] = {
    {"MPOL_F_NUMA_BALANCING", HUTCH_MPOL_F_NUMA_BALANCING},
    {"MPOL_F_RELATIVE_NODES", HUTCH_MPOL_F_RELATIVE_NODES},
    {"MPOL_F_STATIC_NODES", HUTCH_MPOL_F_STATIC_NODES},
};
const size_t hutch_n_mpol_flags = HUTCH_ARRAY_SIZE(hutch_mpol_flags);
