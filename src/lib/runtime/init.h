/* The container's side of create: namespaces, [second fork], rootfs, hooks,
 * console, then blocking on the exec fifo until `start`, then the user
 * switch and execve.  See sync.h for the ladder. */
#ifndef HUTCH_RUNTIME_INIT_H
#define HUTCH_RUNTIME_INIT_H

#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "linux/ns.h"
#include "linux/rootfs.h"
#include "linux/seccomp.h"
#include "spec/model.h"

struct hutch_init_args {
	const struct hutch_spec *spec;
	struct hutch_ns_plan plan;
	int ns_fds[HUTCH_NS__COUNT];
	int sync;    /* the child's end */
	int fifo_fd; /* O_PATH fd of <state>/exec.fifo */
	const char *id;
	const char *rootfs;
	const char *bundle;
	bool no_pivot;
	bool no_new_keyring;
	int preserve_fds;
	char *state_json;		     /* from HOOKS, for the startContainer hooks */
	struct hutch_seccomp_filter seccomp; /* compiled by the parent */
	int *prepared_trees;		     /* per spec mount, from hutch_rootfs_prepare_trees */
	struct hutch_cgroup_join *cg_join;   /* the v1 hierarchies to join (cgroup.h), or NULL */
	struct hutch_rootfs_cgroup *cgroups; /* for /sys/fs/cgroup (rootfs.h), or NULL */
	size_t n_cgroups;
};

/* Runs in the cloned child; never returns. */
__attribute__((noreturn)) void hutch_init_main(struct hutch_init_args *a);

#endif
