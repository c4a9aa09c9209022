/* Process attributes applied in the container's init (or an exec'd process)
 * right before execve: rlimits, umask, oom_score_adj, keyring, user switch
 * with capabilities, no_new_privs. */
#ifndef HUTCH_LINUX_PROCESS_H
#define HUTCH_LINUX_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hutch_error;
struct hutch_process;
struct hutch_linux;

/* In the parent, before anything is created: every capability asked for
 * must be in hutch's own bounding set (this host lacks CAP_SYS_RESOURCE;
 * asking for it fails later with a bare EPERM otherwise). */
int hutch_process_check_caps(const struct hutch_process *p, struct hutch_error **err);
/* The bounding set of the calling process (CapBnd). */
uint64_t hutch_process_bounding_set(void);
int hutch_process_set_rlimits(const struct hutch_process *p, struct hutch_error **err);
int hutch_process_set_oom_score_adj(const struct hutch_process *p, struct hutch_error **err);
/* Join a new session keyring named _ses.ID (warns where keyrings are unavailable). */
void hutch_process_new_keyring(const char *id);
/* Drop from the bounding set what process.capabilities.bounding leaves
 * out (nothing without a capabilities object).  Idempotent. */
int hutch_process_drop_bounding(const struct hutch_process *p, struct hutch_error **err);
/* setgroups, setresgid, setresuid, keeping the capabilities the spec asks
 * for (capset + ambient after).  The bounding set is the caller's to drop
 * first (hutch_process_drop_bounding): the init may have done it already. */
int hutch_process_switch_user(const struct hutch_process *p, struct hutch_error **err);
int hutch_process_no_new_privs(const struct hutch_process *p, struct hutch_error **err);
/* Find args[0] (a path, or a name searched in PATH of the process env) in
 * the current root; returns the malloc'd path or NULL with an error like
 * exec: "foo": executable file not found in $PATH. */
char *hutch_process_find_exe(const struct hutch_process *p, struct hutch_error **err);

/* process.scheduler through sched_setattr(2) (glibc has no wrapper). */
int hutch_process_set_scheduler(const struct hutch_process *p, struct hutch_error **err);
/* process.ioPriority through ioprio_set(2) for the calling process. */
int hutch_process_set_io_priority(const struct hutch_process *p, struct hutch_error **err);
/* Pin the calling process to a cpu list ("0-3,7"); FIELD names the spec
 * field in errors.  A NULL or empty list is a no-op. */
int hutch_process_set_cpu_affinity(const char *list, const char *field, struct hutch_error **err);
/* Parse a cpu list into a set (exposed for the unit tests). */
int hutch_process_parse_cpu_list(const char *list, unsigned long *mask, size_t n_bits,
				 struct hutch_error **err);
/* linux.personality: the persona value for DOMAIN plus FLAGS, or -1 with
 * an error naming the unknown domain or flag. */
long hutch_process_personality_value(const char *domain, char *const *flags,
				     struct hutch_error **err);
/* linux.memoryPolicy for the calling process (kept across fork and execve). */
int hutch_process_set_memory_policy(const struct hutch_linux *l, struct hutch_error **err);
int hutch_process_set_personality(const struct hutch_linux *l, struct hutch_error **err);

#endif
