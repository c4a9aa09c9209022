/* Idmapped mounts; see idmap.h. */
#include "linux/idmap.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "linux/ns.h"
#include "spec/model.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif

static int write_map(pid_t pid, const char *file, const struct hutch_idmap *m, size_t n,
		     struct hutch_error **err)
{
	_cleanup_free_ char *text = hutch_ns_format_idmap(m, n);
	char path[64];

	if (text == NULL)
		return hutch_error_set(err, ENOMEM, "idmap: %s", file);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if (hutch_write_file(path, text, strlen(text), err) < 0)
		return hutch_error_prefix(err, "idmap");
	return 0;
}

/* A child unshares a user namespace and tells us its pid as the mounted
 * /proc knows it (we may be in another pid namespace); we write its maps
 * and keep a handle on the namespace. */
int hutch_idmap_userns_fd(const struct hutch_idmap *uids, size_t n_uids,
			  const struct hutch_idmap *gids, size_t n_gids, struct hutch_error **err)
{
	int up[2] = {-1, -1}, down[2] = {-1, -1};
	char buf[32], path[64];
	pid_t child;
	ssize_t n;
	int fd = -1;

	if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) {
		hutch_error_errno(err, "idmap: pipe");
		goto out;
	}
	child = fork();
	if (child < 0) {
		hutch_error_errno(err, "idmap: fork");
		goto out;
	}
	if (child == 0) {
		char self[32];
		ssize_t l;
		close(up[0]);
		close(down[1]);
		l = readlink("/proc/self", self, sizeof(self) - 1);
		if (l <= 0 || unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		if (write(up[1], self, (size_t)l) != l)
			_exit(1);
		close(up[1]);
		(void)!read(down[0], buf, 1); /* until the parent is done */
		_exit(0);
	}
	hutch_closep(&up[1]);
	hutch_closep(&down[0]);
	n = read(up[0], buf, sizeof(buf) - 1);
	if (n <= 0) {
		hutch_error_set(err, EPERM, "idmap: could not create a user namespace");
	} else {
		pid_t hp;
		buf[n] = '\0';
		hp = (pid_t)strtol(buf, NULL, 10);
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)hp);
		if (write_map(hp, "uid_map", uids, n_uids, err) == 0 &&
		    write_map(hp, "gid_map", gids, n_gids, err) == 0) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				hutch_error_errno(err, "idmap: open %s", path);
		}
	}
	hutch_closep(&down[1]);
	waitpid(child, NULL, 0);
out:
	hutch_closep(&up[0]);
	hutch_closep(&up[1]);
	hutch_closep(&down[0]);
	hutch_closep(&down[1]);
	return fd;
}

int hutch_idmap_clone(const char *src, bool recursive, bool idmap_recursive, int userns_fd,
		      struct hutch_error **err)
{
	struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd};
	_cleanup_close_ int tree = -1;

	hutch_debug("open_tree %s (clone%s), idmapped%s", src, recursive ? ", recursive" : "",
		    idmap_recursive ? " recursively" : "");
	tree = (int)syscall(SYS_open_tree, AT_FDCWD, src,
			    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
	if (tree < 0)
		return hutch_error_errno(err, "idmap: open_tree %s", src);
	if (syscall(SYS_mount_setattr, tree, "",
		    AT_EMPTY_PATH | (idmap_recursive ? AT_RECURSIVE : 0), &a, sizeof(a)) < 0) {
		if (errno == EINVAL)
			return hutch_error_errno(err,
						 "idmap: mount_setattr %s (does its filesystem "
						 "support idmapped mounts?)",
						 src);
		return hutch_error_errno(err, "idmap: mount_setattr %s", src);
	}
	return steal_fd(tree);
}

int hutch_idmap_attach(int tree, int dstfd, struct hutch_error **err)
{
	if (syscall(SYS_move_mount, tree, "", dstfd, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return hutch_error_errno(err, "idmap: move_mount");
	return 0;
}
