/* Namespaces: the plan (which to clone, join or unshare, and whether a
 * second fork is needed) is a pure function of the spec, unit-tested; the
 * apply helpers do the syscalls.
 *
 * Why the plan looks like this:
 * - With nothing joined, every new namespace except cgroup and time is
 *   created by clone itself (no extra syscalls, no second fork).
 * - A namespace joined by path is entered with setns() in the child, the user
 *   namespace first (so the others are entered with its credentials); new
 *   namespaces are then unshared, the user namespace first, so they are
 *   owned by it.
 * - cgroup is always unshared after the parent placed the child in its
 *   cgroup, so the namespace's root is the container's own cgroup.
 * - time: offsets can only be written before any process lives in the new
 *   namespace, and unshare(CLONE_NEWTIME) only moves children; so does
 *   setns() into a pid namespace and unshare(CLONE_NEWPID).  Those need a
 *   second fork: the grandchild becomes the container's init.
 */
#ifndef HUTCH_LINUX_NS_H
#define HUTCH_LINUX_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "spec/model.h"

struct hutch_error;

struct hutch_ns_plan {
	unsigned long clone_flags;   /* CLONE_NEW* given to clone */
	unsigned long unshare_flags; /* CLONE_NEW* unshared in the child (not user/cgroup/time) */
	bool unshare_user;   /* unshare(CLONE_NEWUSER) in the child, maps written by parent */
	bool unshare_cgroup; /* after the cgroup placement */
	bool unshare_time;   /* + offsets, before the second fork */
	bool second_fork;
	bool new_user;		   /* a new user namespace, however made */
	int join[HUTCH_NS__COUNT]; /* order of setns: indexes into spec namespaces, -1 ends */
	size_t n_join;
};

/* Pure: compute the plan; refuses inconsistent specs (e.g. user mappings
 * without a new user namespace, time offsets without a new time namespace). */
int hutch_ns_plan(const struct hutch_linux *l, struct hutch_ns_plan *plan,
		  struct hutch_error **err);
unsigned long hutch_ns_clone_flag(enum hutch_ns_type t);

/* Open every namespace path of the spec (before clone, in the parent, so a
 * bad path fails early) checking each is an nsfs file of the right type.
 * fds[t] = -1 for namespaces not joined. */
int hutch_ns_open_paths(const struct hutch_linux *l, int fds[HUTCH_NS__COUNT],
			struct hutch_error **err);
/* setns() in the plan's order. */
int hutch_ns_join(const struct hutch_ns_plan *plan, const int fds[HUTCH_NS__COUNT],
		  struct hutch_error **err);
/* Format "C H S\n" lines of a mapping (pure; buf is malloc'd). */
char *hutch_ns_format_idmap(const struct hutch_idmap *m, size_t n);
/* Write /proc/PID/{uid_map,gid_map} (and setgroups "deny" when asked). */
int hutch_ns_write_idmaps(pid_t pid, const struct hutch_linux *l, bool deny_setgroups,
			  struct hutch_error **err);
/* "monotonic S N\nboottime S N\n" (pure). */
char *hutch_ns_format_time_offsets(const struct hutch_linux *l);
/* Bring "lo" up in the current network namespace. */
int hutch_ns_loopback_up(struct hutch_error **err);

#endif
