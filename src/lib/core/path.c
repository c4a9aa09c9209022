/* Resolution of container paths inside a root directory fd.
 *
 * The fast path is openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) (Linux
 * 5.6), where the kernel clamps ".." and absolute symlinks to the root and
 * rejects rename races with EAGAIN.  Without it (old kernel, or a seccomp
 * profile returning ENOSYS, as some engines' default profiles did), a
 * userspace walk does the same: one component at a time with
 * O_PATH|O_NOFOLLOW, symlinks read with readlinkat and spliced back into the
 * remaining path, absolute targets and ".." restarting from the root.  ".."
 * is never resolved by the kernel: the walk keeps the list of components it
 * went through and re-walks them from the root, so a directory moved out of
 * the root while we stand in it cannot take us outside.
 */
#include "core/path.h"
#include "core/cleanup.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_SYMLINKS 40
#define MAX_DEPTH    256

static bool force_fallback;
static bool no_openat2;

void hutch_path_force_fallback(bool on)
{
	force_fallback = on;
}

const char *hutch_fd_path(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
	return buf;
}

/* ---- the userspace walk ----------------------------------------------- */

enum create_mode {
	CREATE_NONE,
	CREATE_DIR,
	CREATE_FILE,
};

struct walk {
	int rootfd;
	char *stack[MAX_DEPTH]; /* components from the root to cur */
	size_t depth;
	int cur; /* O_PATH fd of the current directory */
};

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->depth; i++)
		free(w->stack[i]);
	w->depth = 0;
	if (w->cur >= 0)
		close(w->cur);
	w->cur = -1;
}

static int open_root_dup(int rootfd)
{
	return openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Re-walk the stack from the root (after ".."). */
static int walk_reopen(struct walk *w)
{
	int fd = open_root_dup(w->rootfd);

	if (fd < 0)
		return -1;
	for (size_t i = 0; i < w->depth; i++) {
		int next = openat(fd, w->stack[i], O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		int saved = errno;
		close(fd);
		if (next < 0) {
			errno = saved;
			return -1;
		}
		fd = next;
	}
	if (w->cur >= 0)
		close(w->cur);
	w->cur = fd;
	return 0;
}

/* A symlink on procfs outside the procfs root directory is a magic link
 * (/proc/<pid>/fd/N, exe, cwd, root, ns/...): refuse it as
 * RESOLVE_NO_MAGICLINKS does.  /proc/self, /proc/mounts and friends live in
 * the procfs root (inode 1) and are plain symlinks. */
static bool is_magic_link(int parentfd)
{
	struct statfs sfs;
	struct stat st;

	if (fstatfs(parentfd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return false;
	if (fstat(parentfd, &st) < 0)
		return true;
	return st.st_ino != 1;
}

/* Take the next component of *rest into name (NUL-terminated, may be "");
 * advance *rest past it and its slashes.  Sets *trailing_slash when the
 * component was followed by a slash and nothing else. */
static int next_component(const char **rest, char *name, size_t size, bool *last,
			  bool *trailing_slash)
{
	const char *p = *rest;
	size_t n;

	while (*p == '/')
		p++;
	n = strcspn(p, "/");
	if (n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	p += n;
	*trailing_slash = *p == '/';
	while (*p == '/')
		p++;
	*last = *p == '\0';
	*rest = p;
	return 0;
}

/* Splice a symlink target in front of the rest of the path ("" when the
 * link was the last component, "/" when it was followed by a slash). */
static char *splice_link(const char *target, const char *rest)
{
	char *r;

	if (asprintf(&r, "%s%s%s", target, rest[0] != '\0' && rest[0] != '/' ? "/" : "", rest) < 0)
		return NULL;
	return r;
}

static int create_component(int dirfd, const char *name, enum create_mode mode, bool last,
			    mode_t perm)
{
	if (!last || mode == CREATE_DIR) {
		if (mkdirat(dirfd, name, last ? perm : 0755) < 0 && errno != EEXIST)
			return -1;
		return 0;
	}
	int fd = openat(dirfd, name,
			O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, perm);
	if (fd < 0)
		return errno == EEXIST ? 0 : -1;
	close(fd);
	return 0;
}

/* Check the final fd against the requested type; for a non-O_PATH open,
 * reopen the same inode with the caller's flags (O_NOFOLLOW, then compare
 * inodes, so a swap between the checks cannot redirect the open). */
static int finish_open(int dirfd, const char *name, int pathfd, int flags)
{
	struct stat a, b;
	int fd;

	if (fstat(pathfd, &a) < 0)
		return -1;
	if ((flags & O_DIRECTORY) && !S_ISDIR(a.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	if (flags & O_PATH)
		return fcntl(pathfd, F_DUPFD_CLOEXEC, 0);
	fd = openat(dirfd, name[0] ? name : ".", (flags | O_NOFOLLOW | O_CLOEXEC) & ~O_CREAT);
	if (fd < 0)
		return -1;
	if (fstat(fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(fd);
		errno = EAGAIN;
		return -1;
	}
	return fd;
}

static int walk_path(int rootfd, const char *path, int flags, enum create_mode create, mode_t perm)
{
	struct walk w = {.rootfd = rootfd, .cur = -1};
	_cleanup_free_ char *buf = strdup(path);
	const char *rest = buf;
	char name[NAME_MAX + 2];
	int links = 0, creates = 0, r = -1;

	if (buf == NULL) {
		errno = ENOMEM;
		return -1;
	}
	w.cur = open_root_dup(rootfd);
	if (w.cur < 0)
		return -1;
	for (;;) {
		bool last, trailing;
		_cleanup_close_ int fd = -1;
		struct stat st;

		if (*rest == '\0' || strspn(rest, "/") == strlen(rest)) {
			/* the root itself (or a path ending in "..") */
			r = finish_open(w.cur, "", w.cur, flags);
			break;
		}
		if (next_component(&rest, name, sizeof(name), &last, &trailing) < 0)
			break;
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (w.depth > 0) {
				free(w.stack[--w.depth]);
				if (walk_reopen(&w) < 0)
					break;
			}
			continue;
		}
	again:
		fd = openat(w.cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create != CREATE_NONE &&
		    creates++ < 4 * MAX_DEPTH) {
			if (create_component(w.cur, name, create, last && !trailing, perm) < 0)
				break;
			goto again;
		}
		if (fd < 0 || fstat(fd, &st) < 0)
			break;
		if (S_ISLNK(st.st_mode) &&
		    !(last && !trailing && (flags & O_NOFOLLOW) && create == CREATE_NONE)) {
			char target[PATH_MAX];
			ssize_t n;
			char *nb;

			if (++links > MAX_SYMLINKS || is_magic_link(w.cur)) {
				errno = ELOOP;
				break;
			}
			n = readlinkat(fd, "", target, sizeof(target) - 1);
			if (n < 0)
				break;
			target[n] = '\0';
			nb = splice_link(target, last ? (trailing ? "/" : "") : rest);
			if (nb == NULL) {
				errno = ENOMEM;
				break;
			}
			free(buf);
			buf = nb;
			rest = buf;
			if (target[0] == '/') {
				for (size_t i = 0; i < w.depth; i++)
					free(w.stack[i]);
				w.depth = 0;
				if (walk_reopen(&w) < 0)
					break;
			}
			continue;
		}
		if (last) {
			if (trailing && !S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				break;
			}
			r = finish_open(w.cur, name, fd, flags);
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			break;
		}
		if (w.depth >= MAX_DEPTH) {
			errno = ENAMETOOLONG;
			break;
		}
		w.stack[w.depth] = strdup(name);
		if (w.stack[w.depth] == NULL) {
			errno = ENOMEM;
			break;
		}
		w.depth++;
		close(w.cur);
		w.cur = steal_fd(fd);
	}
	int saved = errno;
	walk_free(&w);
	errno = saved;
	return r;
}

/* ---- openat2 ----------------------------------------------------------- */

static int try_openat2(int rootfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	if (path[0] == '\0')
		path = ".";
	for (int i = 0; i < 16; i++) {
		long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		/* EAGAIN: a rename raced with the lookup; try again. */
		if (errno != EAGAIN)
			return -1;
	}
	return -1;
}

static int open_in_root(int rootfd, const char *path, int flags)
{
	if (!force_fallback && !no_openat2) {
		int fd = try_openat2(rootfd, path, flags);
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
		/* EPERM: some seccomp profiles answer unknown syscalls with it. */
		if (errno == ENOSYS)
			no_openat2 = true;
		else
			return -1;
	}
	return walk_path(rootfd, path, flags, CREATE_NONE, 0);
}

int hutch_path_open_in_root(int rootfd, const char *path, int flags, struct hutch_error **err)
{
	int fd = open_in_root(rootfd, path, flags);

	if (fd < 0)
		return hutch_error_errno(err, "open %s", path);
	return fd;
}

int hutch_path_mkdir_in_root(int rootfd, const char *path, mode_t mode, bool is_dir,
			     struct hutch_error **err)
{
	_cleanup_close_ int fd = open_in_root(rootfd, path, O_PATH);
	struct stat st;

	if (fd < 0 && errno == ENOENT)
		fd = walk_path(rootfd, path, O_PATH, is_dir ? CREATE_DIR : CREATE_FILE, mode);
	if (fd < 0)
		return hutch_error_errno(err, "create %s", path);
	if (fstat(fd, &st) < 0)
		return hutch_error_errno(err, "stat %s", path);
	if (is_dir && !S_ISDIR(st.st_mode))
		return hutch_error_set(err, ENOTDIR, "create %s: exists and is not a directory",
				       path);
	if (!is_dir && S_ISDIR(st.st_mode))
		return hutch_error_set(err, EISDIR, "create %s: exists and is a directory", path);
	return steal_fd(fd);
}
