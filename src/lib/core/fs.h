/* Small file helpers.  Every fd is O_CLOEXEC. */
#ifndef HUTCH_CORE_FS_H
#define HUTCH_CORE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct hutch_error;

/* Read a whole file (NUL-terminated; *len excludes the NUL).  max_len bounds
 * the size (0: 64 MiB) so a hostile config cannot exhaust memory. */
char *hutch_read_file_at(int dirfd, const char *path, size_t max_len, size_t *len,
			 struct hutch_error **err);
char *hutch_read_file(const char *path, size_t max_len, size_t *len, struct hutch_error **err);
char *hutch_read_fd(int fd, size_t max_len, size_t *len, struct hutch_error **err);
/* Write to an existing file (cgroup and proc files): no create, no truncate. */
int hutch_write_file_at(int dirfd, const char *path, const char *data, size_t len,
			struct hutch_error **err);
int hutch_write_file(const char *path, const char *data, size_t len, struct hutch_error **err);
/* Write a temp file beside PATH, optionally fsync it, rename over PATH. */
int hutch_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode, bool sync,
			    struct hutch_error **err);
int hutch_mkdir_p(const char *path, mode_t mode, struct hutch_error **err);
/* Remove a directory tree (no symlinks followed; stays on one device). */
int hutch_rm_rf(const char *path, struct hutch_error **err);
int hutch_write_all(int fd, const void *buf, size_t len);
ssize_t hutch_read_all(int fd, void *buf, size_t len);

#endif
