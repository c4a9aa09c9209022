/* Idmapped bind mounts (mounts[].options "idmap"/"ridmap" with the mount's
 * uidMappings/gidMappings; Linux 5.12, ext4/xfs/btrfs/tmpfs on 6.x):
 * open_tree(OPEN_TREE_CLONE) of the source, mount_setattr(MOUNT_ATTR_IDMAP)
 * with a user namespace made from the mappings, move_mount onto the
 * destination fd.  Needs CAP_SYS_ADMIN over the source's superblock, i.e.
 * host root: the container's init does it before pivot_root when the
 * container has no user namespace of its own. */
#ifndef HUTCH_LINUX_IDMAP_H
#define HUTCH_LINUX_IDMAP_H

#include <stdbool.h>
#include <stddef.h>

struct hutch_error;
struct hutch_idmap;

/* An fd of a new user namespace with these maps (hostID = our ids). */
int hutch_idmap_userns_fd(const struct hutch_idmap *uids, size_t n_uids,
			  const struct hutch_idmap *gids, size_t n_gids, struct hutch_error **err);
/* A detached clone of SRC (its submounts too when RECURSIVE), idmapped with
 * USERNS_FD (on the submounts too when IDMAP_RECURSIVE). */
int hutch_idmap_clone(const char *src, bool recursive, bool idmap_recursive, int userns_fd,
		      struct hutch_error **err);
/* Attach the detached TREE onto the O_PATH fd DSTFD. */
int hutch_idmap_attach(int tree, int dstfd, struct hutch_error **err);

#endif
