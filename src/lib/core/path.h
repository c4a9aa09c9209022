/* Paths inside a container root, resolved by fd so a symlink in the rootfs can
 * never lead outside it (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, and
 * an O_PATH component walk for kernels without openat2, e.g. when a seccomp
 * filter makes it ENOSYS).  Never build a host path string from a container
 * path and mount onto it: that is how CVE-2021-30465, CVE-2019-16884 and
 * CVE-2025-31133/52565/52881 happened. */
#ifndef HUTCH_CORE_PATH_H
#define HUTCH_CORE_PATH_H

#include <stdbool.h>
#include <sys/types.h>

struct hutch_error;

/* Open PATH (absolute or relative, treated as relative to the root) inside
 * ROOTFD with FLAGS (O_PATH, O_RDONLY|O_DIRECTORY, ...; O_CLOEXEC is added).
 * Symlinks are followed but clamped to the root; magic links are refused. */
int hutch_path_open_in_root(int rootfd, const char *path, int flags, struct hutch_error **err);
/* Like open_in_root, creating missing components: directories along the
 * way and, at the end, a directory (is_dir) or an empty regular file.
 * Returns an O_PATH fd of the final component. */
int hutch_path_mkdir_in_root(int rootfd, const char *path, mode_t mode, bool is_dir,
			     struct hutch_error **err);
/* "/proc/self/fd/N" for an O_PATH fd, to mount onto or from; buf >= 32 bytes. */
const char *hutch_fd_path(int fd, char *buf, size_t size);
/* Force the fallback (tests; and when openat2 returned ENOSYS once). */
void hutch_path_force_fallback(bool on);

#endif
