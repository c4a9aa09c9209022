/* The container's filesystem: mounts, /dev, pivot_root, masked and
 * read-only paths, sysctl.  Runs in the child, in its new mount namespace.
 *
 * Order (hutch_rootfs_setup):
 *   1. make "/" rslave (or the rootfsPropagation value) so nothing leaks back;
 *   2. bind the rootfs onto itself (pivot_root needs a mount point);
 *   3. each spec mount, in order, onto a destination resolved in the root;
 *   4. default /dev devices (unless /dev came from a bind), linux.devices,
 *      /dev symlinks (fd, stdin, stdout, stderr, ptmx -> pts/ptmx);
 * then the caller runs the createContainer hooks (the spec wants them after
 * the mounts, before pivot_root), and hutch_rootfs_pivot:
 *   5. pivot_root (or, with --no-pivot, MS_MOVE + chroot);
 * and after pivot (hutch_rootfs_finish):
 *   6. masked paths, read-only paths, sysctl, root.readonly, final
 *      rootfsPropagation.
 */
#ifndef HUTCH_LINUX_ROOTFS_H
#define HUTCH_LINUX_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

struct hutch_error;
struct hutch_spec;

/* The container's cgroup in one hierarchy of a v1 or hybrid host: NAME as
 * /proc/self/cgroup spells the hierarchy ("cpu,cpuacct", "name=systemd",
 * "" for cgroup2), DIR the container's directory on the host.  The
 * container's /sys/fs/cgroup binds DIR directly (open_tree + move_mount,
 * one mount) instead of a fresh hierarchy mount with a bind on top. */
struct hutch_rootfs_cgroup {
	const char *name;
	const char *dir;
};

struct hutch_rootfs_opts {
	const char *rootfs; /* absolute path of root.path */
	const char *bundle; /* absolute; relative mount sources resolve here */
	bool no_pivot;
	bool in_userns; /* devices are bind-mounted from the host, not mknod'ed */
	/* per spec mount: a detached tree from hutch_rootfs_prepare_trees
	 * (idmapped, or hutch's own bind), or -1; NULL: none prepared */
	const int *prepared_trees;
	const struct hutch_rootfs_cgroup *cgroups; /* NULL: none known */
	size_t n_cgroups;
};

/* In the parent, before the clone (idmapped mounts need CAP_SYS_ADMIN over
 * the source's superblock, which a user-namespaced init no longer has):
 * one detached, idmapped clone of each idmap/ridmap bind source, with the
 * mount's uidMappings/gidMappings or, without them, the container's; and a
 * plain detached clone of each of hutch's own binds (runtime_tree), whose
 * source the init may not reach.  *TREES is NULL when the spec has none.
 * The child inherits the fds. */
int hutch_rootfs_prepare_trees(const struct hutch_spec *spec, const char *bundle, int **trees,
			       struct hutch_error **err);
/* Close and free what hutch_rootfs_prepare_trees made (parent, after clone). */
void hutch_rootfs_release_trees(const struct hutch_spec *spec, int **trees);

int hutch_rootfs_setup(const struct hutch_spec *spec, const struct hutch_rootfs_opts *o,
		       struct hutch_error **err);
/* pivot_root into o->rootfs (or MS_MOVE + chroot with o->no_pivot). */
int hutch_rootfs_pivot(const struct hutch_rootfs_opts *o, struct hutch_error **err);
/* After pivot_root, with the container's /proc mounted. */
int hutch_rootfs_finish(const struct hutch_spec *spec, struct hutch_error **err);
/* Bind the pty slave (a path inside the container, e.g. /dev/pts/0) onto
 * /dev/console; /dev/console is created as a regular file if missing and
 * never followed if it is a symlink (CVE-2025-52565). */
int hutch_rootfs_bind_console(const char *slave_path, struct hutch_error **err);
/* chdir to CWD (resolved in the container) and make sure it is inside the
 * root: a "/proc/self/fd/N" of an inherited host fd is refused
 * (CVE-2024-21626). */
int hutch_rootfs_chdir(const char *cwd, struct hutch_error **err);

#endif
