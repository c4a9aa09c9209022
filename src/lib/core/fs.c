#include "fs.h"
#include "cleanup.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX (64u << 20)

int hutch_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

ssize_t hutch_read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

char *hutch_read_fd(int fd, size_t max_len, size_t *len, struct hutch_error **err)
{
	size_t cap = 4096, n = 0;
	_cleanup_free_ char *buf = malloc(cap);

	if (max_len == 0)
		max_len = DEFAULT_MAX;
	if (buf == NULL)
		return hutch_error_set(err, ENOMEM, "read"), NULL;
	for (;;) {
		ssize_t r;
		if (n + 1 >= cap) {
			char *nb;
			if (cap > max_len) {
				hutch_error_set(err, EFBIG, "file larger than %zu bytes", max_len);
				return NULL;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (nb == NULL)
				return hutch_error_set(err, ENOMEM, "read"), NULL;
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			hutch_error_errno(err, "read");
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max_len) {
			hutch_error_set(err, EFBIG, "file larger than %zu bytes", max_len);
			return NULL;
		}
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return steal_ptr(buf);
}

char *hutch_read_file_at(int dirfd, const char *path, size_t max_len, size_t *len,
			 struct hutch_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *r;

	if (fd < 0)
		return hutch_error_errno(err, "open %s", path), NULL;
	r = hutch_read_fd(fd, max_len, len, err);
	if (r == NULL)
		hutch_error_prefix(err, "%s", path);
	return r;
}

char *hutch_read_file(const char *path, size_t max_len, size_t *len, struct hutch_error **err)
{
	return hutch_read_file_at(AT_FDCWD, path, max_len, len, err);
}

int hutch_write_file_at(int dirfd, const char *path, const char *data, size_t len,
			struct hutch_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return hutch_error_errno(err, "open %s", path);
	if (hutch_write_all(fd, data, len) < 0)
		return hutch_error_errno(err, "write %.*s to %s", (int)(len > 64 ? 64 : len), data,
					 path);
	return 0;
}

int hutch_write_file(const char *path, const char *data, size_t len, struct hutch_error **err)
{
	return hutch_write_file_at(AT_FDCWD, path, data, len, err);
}

int hutch_write_file_atomic(const char *path, const char *data, size_t len, mode_t mode, bool sync,
			    struct hutch_error **err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;

	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return hutch_error_set(err, ENOMEM, "write %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return hutch_error_errno(err, "create %s", tmp);
	if (hutch_write_all(fd, data, len) < 0 || (sync && fsync(fd) < 0)) {
		hutch_error_errno(err, "write %s", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		hutch_error_errno(err, "rename %s to %s", tmp, path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int hutch_mkdir_p(const char *path, mode_t mode, struct hutch_error **err)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return hutch_error_set(err, ENAMETOOLONG, "mkdir %s", path);
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return hutch_error_errno(err, "mkdir %s", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return hutch_error_errno(err, "mkdir %s", buf);
	return 0;
}

static int rm_rf_at(int dfd, const char *name, dev_t dev, int depth)
{
	struct stat st;
	int fd;
	DIR *d;
	struct dirent *de;

	if (depth > 64)
		return -1;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0);
	if (st.st_dev != dev)
		return -1; /* a mount point: never descend */
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rm_rf_at(dirfd(d), de->d_name, dev, depth + 1);
	}
	closedir(d);
	return unlinkat(dfd, name, AT_REMOVEDIR);
}

int hutch_rm_rf(const char *path, struct hutch_error **err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : hutch_error_errno(err, "stat %s", path);
	if (rm_rf_at(AT_FDCWD, path, st.st_dev, 0) < 0 && errno != ENOENT)
		return hutch_error_errno(err, "remove %s", path);
	return 0;
}
