/* hutch's typed model of an OCI runtime-spec 1.3 config.json.
 *
 * The parser (parse.c) fills it from json-c; nothing else looks at JSON.  Every
 * optional scalar has a `has_` flag so "absent" and "zero" stay distinct (the
 * spec gives them different meanings, e.g. memory.swap).  Strings are owned
 * (free with hutch_spec_free); string vectors are NULL-terminated.
 */
#ifndef HUTCH_SPEC_MODEL_H
#define HUTCH_SPEC_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hutch_error;

struct hutch_kv {
	char *key;
	char *value;
};

struct hutch_idmap {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

/* ---- mounts ------------------------------------------------------------ */

/* One propagation/attribute change decoded from mount options. */
struct hutch_mount {
	char *destination;
	char *type;	/* may be NULL (bind) */
	char *source;	/* may be NULL */
	char **options; /* as given, NULL-terminated (may be NULL) */
	struct hutch_idmap *uid_mappings;
	size_t n_uid_mappings;
	struct hutch_idmap *gid_mappings;
	size_t n_gid_mappings;
	/* hutch's own bind (the NOTIFY_SOCKET directory), not config.json's:
	 * the parent clones the source, which the root of a user namespace
	 * may not be able to reach */
	bool runtime_tree;
};

/* ---- process ------------------------------------------------------------- */

struct hutch_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft;
	uint64_t hard;
};

/* Capability sets as bitmasks of CAP_* numbers; names are checked by the parser. */
struct hutch_capabilities {
	uint64_t bounding, effective, inheritable, permitted, ambient;
	bool has_bounding, has_effective, has_inheritable, has_permitted, has_ambient;
};

struct hutch_user {
	uint32_t uid;
	uint32_t gid;
	bool has_umask;
	uint32_t umask;
	gid_t *additional_gids;
	size_t n_additional_gids;
	char *username; /* windows only; recorded */
};

struct hutch_scheduler {
	int policy; /* SCHED_* */
	int nice;
	int priority;
	uint32_t flags; /* SCHED_FLAG_* */
	uint64_t runtime, deadline, period;
};

struct hutch_io_priority {
	int klass; /* IOPRIO_CLASS_* */
	int priority;
};

struct hutch_process {
	bool terminal;
	bool has_console_size;
	unsigned console_height, console_width;
	char *cwd;
	char **env;
	char **args;
	char *command_line; /* windows only */
	struct hutch_user user;
	bool has_capabilities;
	struct hutch_capabilities capabilities;
	struct hutch_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *selinux_label;
	bool has_scheduler;
	struct hutch_scheduler scheduler;
	bool has_io_priority;
	struct hutch_io_priority io_priority;
	char *exec_cpu_affinity_initial;
	char *exec_cpu_affinity_final;
};

/* ---- hooks --------------------------------------------------------------- */

struct hutch_hook {
	char *path;
	char **args;
	char **env;
	bool has_timeout;
	int timeout; /* seconds, > 0 */
};

enum hutch_hook_kind {
	HUTCH_HOOK_PRESTART,
	HUTCH_HOOK_CREATE_RUNTIME,
	HUTCH_HOOK_CREATE_CONTAINER,
	HUTCH_HOOK_START_CONTAINER,
	HUTCH_HOOK_POSTSTART,
	HUTCH_HOOK_POSTSTOP,
	HUTCH_HOOK__COUNT,
};

struct hutch_hook_list {
	struct hutch_hook *hooks;
	size_t n;
};

/* ---- linux: namespaces ---------------------------------------------------- */

enum hutch_ns_type {
	HUTCH_NS_PID,
	HUTCH_NS_NETWORK,
	HUTCH_NS_MOUNT,
	HUTCH_NS_IPC,
	HUTCH_NS_UTS,
	HUTCH_NS_USER,
	HUTCH_NS_CGROUP,
	HUTCH_NS_TIME,
	HUTCH_NS__COUNT,
};

struct hutch_namespace {
	bool present;
	char *path; /* NULL: create a new one */
};

struct hutch_time_offset {
	bool present;
	int64_t secs;
	uint32_t nanosecs;
};

/* ---- linux: devices ------------------------------------------------------- */

struct hutch_device {
	char *path;
	char type; /* 'c', 'b', 'u', 'p' */
	int64_t major, minor;
	bool has_file_mode;
	uint32_t file_mode;
	bool has_uid, has_gid;
	uint32_t uid, gid;
};

/* linux.resources.devices[] */
struct hutch_device_rule {
	bool allow;
	char type;	/* 'a', 'c', 'b' */
	int64_t major;	/* -1: wildcard */
	int64_t minor;	/* -1: wildcard */
	char access[4]; /* subset of "rwm" */
};

/* ---- linux: resources ----------------------------------------------------- */

struct hutch_memory {
	bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp, has_swappiness;
	int64_t limit, reservation, swap, kernel, kernel_tcp;
	uint64_t swappiness;
	bool has_disable_oom_killer, disable_oom_killer;
	bool has_use_hierarchy, use_hierarchy;
	bool has_check_before_update, check_before_update;
};

struct hutch_cpu {
	bool has_shares, has_quota, has_burst, has_period, has_realtime_runtime,
	    has_realtime_period, has_idle;
	uint64_t shares;
	int64_t quota;
	uint64_t burst;
	uint64_t period;
	int64_t realtime_runtime;
	uint64_t realtime_period;
	int64_t idle;
	char *cpus;
	char *mems;
};

struct hutch_weight_device {
	int64_t major, minor;
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
};

struct hutch_throttle_device {
	int64_t major, minor;
	uint64_t rate;
};

struct hutch_blockio {
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
	struct hutch_weight_device *weight_device;
	size_t n_weight_device;
	struct hutch_throttle_device *throttle[4]; /* read bps, write bps, read iops, write iops */
	size_t n_throttle[4];
};

enum {
	HUTCH_THROTTLE_READ_BPS,
	HUTCH_THROTTLE_WRITE_BPS,
	HUTCH_THROTTLE_READ_IOPS,
	HUTCH_THROTTLE_WRITE_IOPS,
};

struct hutch_hugepage_limit {
	char *page_size; /* "2MB", "1GB", ... */
	uint64_t limit;
};

struct hutch_net_priority {
	char *name;
	uint32_t priority;
};

struct hutch_rdma {
	char *device;
	bool has_hca_handles, has_hca_objects;
	uint32_t hca_handles, hca_objects;
};

struct hutch_resources {
	bool has_memory;
	struct hutch_memory memory;
	bool has_cpu;
	struct hutch_cpu cpu;
	bool has_pids_limit;
	int64_t pids_limit;
	bool has_blockio;
	struct hutch_blockio blockio;
	struct hutch_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	bool has_network;
	bool has_class_id;
	uint32_t class_id;
	struct hutch_net_priority *net_priorities;
	size_t n_net_priorities;
	struct hutch_rdma *rdma;
	size_t n_rdma;
	struct hutch_kv *unified;
	size_t n_unified;
	struct hutch_device_rule *devices;
	size_t n_devices;
};

/* ---- linux: seccomp ------------------------------------------------------ */

struct hutch_seccomp_arg {
	unsigned index;
	uint64_t value;
	uint64_t value_two;
	int op; /* HUTCH_SCMP_CMP_* = libseccomp's enum scmp_compare values */
};

struct hutch_seccomp_syscall {
	char **names;
	uint32_t action; /* SCMP_ACT_* without the errno/trace data */
	bool has_errno_ret;
	uint32_t errno_ret;
	struct hutch_seccomp_arg *args;
	size_t n_args;
};

struct hutch_seccomp {
	uint32_t default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	char **architectures; /* "SCMP_ARCH_X86_64", ... */
	char **flags;	      /* "SECCOMP_FILTER_FLAG_*" */
	char *listener_path;
	char *listener_metadata;
	struct hutch_seccomp_syscall *syscalls;
	size_t n_syscalls;
};

/* ---- linux ----------------------------------------------------------------- */

enum hutch_propagation {
	HUTCH_PROPAGATION_UNSET,
	HUTCH_PROPAGATION_PRIVATE,
	HUTCH_PROPAGATION_SHARED,
	HUTCH_PROPAGATION_SLAVE,
	HUTCH_PROPAGATION_UNBINDABLE,
	HUTCH_PROPAGATION_RPRIVATE,
	HUTCH_PROPAGATION_RSHARED,
	HUTCH_PROPAGATION_RSLAVE,
	HUTCH_PROPAGATION_RUNBINDABLE,
};

/* linux.memoryPolicy: set_mempolicy(2) for the container's processes.  The
 * kernel's values (linux/mempolicy.h; Debian 12's headers lack the newest). */
enum {
	HUTCH_MPOL_DEFAULT = 0,
	HUTCH_MPOL_PREFERRED = 1,
	HUTCH_MPOL_BIND = 2,
	HUTCH_MPOL_INTERLEAVE = 3,
	HUTCH_MPOL_LOCAL = 4,
	HUTCH_MPOL_PREFERRED_MANY = 5,
	HUTCH_MPOL_WEIGHTED_INTERLEAVE = 6,
	HUTCH_MPOL_F_NUMA_BALANCING = 1 << 13,
	HUTCH_MPOL_F_RELATIVE_NODES = 1 << 14,
	HUTCH_MPOL_F_STATIC_NODES = 1 << 15,
};
#define HUTCH_MPOL_MAX_NODES 1024
struct hutch_memory_policy {
	char *mode_name; /* as given, for messages */
	int mode;	 /* MPOL_* */
	unsigned flags;	 /* MPOL_F_* */
	char *nodes;	 /* as given (NULL: none) */
	bool has_nodes;	 /* at least one node in the mask */
	unsigned long mask[HUTCH_MPOL_MAX_NODES / (8 * sizeof(unsigned long))];
};

struct hutch_linux {
	struct hutch_namespace namespaces[HUTCH_NS__COUNT];
	struct hutch_idmap *uid_mappings;
	size_t n_uid_mappings;
	struct hutch_idmap *gid_mappings;
	size_t n_gid_mappings;
	struct hutch_time_offset time_monotonic, time_boottime;
	struct hutch_device *devices;
	size_t n_devices;
	char *cgroups_path;
	bool has_resources;
	struct hutch_resources resources;
	enum hutch_propagation rootfs_propagation;
	bool has_seccomp;
	struct hutch_seccomp seccomp;
	struct hutch_kv *sysctl;
	size_t n_sysctl;
	char **masked_paths;
	char **readonly_paths;
	char *mount_label;
	bool has_personality;
	char *personality_domain; /* "LINUX" or "LINUX32" */
	char **personality_flags;
	bool has_intel_rdt;
	struct hutch_kv *net_devices; /* host name -> name in the container */
	size_t n_net_devices;
	bool has_memory_policy;
	struct hutch_memory_policy memory_policy;
};

/* ---- the whole config ------------------------------------------------------ */

struct hutch_spec {
	char *oci_version;
	char *root_path;
	bool root_readonly;
	struct hutch_mount *mounts;
	size_t n_mounts;
	bool has_process;
	struct hutch_process process;
	char *hostname;
	char *domainname;
	struct hutch_hook_list hooks[HUTCH_HOOK__COUNT];
	struct hutch_kv *annotations;
	size_t n_annotations;
	bool has_linux;
	struct hutch_linux linux_;
};

/* Parse a config.json text (len bytes).  Strict: UTF-8 checked, depth
 * limited, wrong types refused with the JSON path of the value.  Unknown
 * properties are ignored; recognised ones hutch cannot honour yet are refused
 * by name. */
struct hutch_spec *hutch_spec_parse(const char *text, size_t len, struct hutch_error **err);
/* Read and parse DIR/config.json. */
struct hutch_spec *hutch_spec_load(const char *bundle, struct hutch_error **err);
/* Parse a standalone process object (exec --process); returns 0 or -1. */
int hutch_spec_parse_process(const char *text, size_t len, struct hutch_process *out,
			     struct hutch_error **err);
/* Parse a linux.resources object (update --resources). */
int hutch_spec_parse_resources(const char *text, size_t len, struct hutch_resources *out,
			       struct hutch_error **err);
void hutch_spec_free(struct hutch_spec *s);
void hutch_process_clear(struct hutch_process *p);
void hutch_resources_clear(struct hutch_resources *r);
void hutch_spec_freep(struct hutch_spec **s);
#define _cleanup_spec_ __attribute__((cleanup(hutch_spec_freep)))

/* Names: "pid" <-> HUTCH_NS_PID, "CAP_SYS_ADMIN" <-> 21, "RLIMIT_NOFILE" <-> 7.
 * Return -1 when unknown. */
int hutch_ns_from_name(const char *name);
const char *hutch_ns_name(enum hutch_ns_type t);
int hutch_cap_from_name(const char *name);
const char *hutch_cap_name(int cap);
int hutch_cap_last(void); /* highest capability number hutch knows */
int hutch_rlimit_from_name(const char *name);
const char *hutch_hook_name(enum hutch_hook_kind k);

/* The default config.json `hutch spec` writes (rootless: user namespace with
 * the caller's ids mapped, no network namespace, bind-mounted sysfs...).
 * Returns a malloc'd JSON text. */
char *hutch_spec_default_json(bool rootless, struct hutch_error **err);
/* features.md JSON, truthful about what this build supports. */
char *hutch_spec_features_json(struct hutch_error **err);

#endif
