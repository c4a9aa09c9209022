/* The container's filesystem (see rootfs.h for the order of the steps).
 *
 * Every destination is resolved inside the root by fd (core/path.h) and
 * mounted onto "/proc/self/fd/N" of an O_PATH fd, never onto a string built
 * from the rootfs path: a symlink swapped into the rootfs between the check
 * and the mount is how CVE-2021-30465 (runc) escaped.  After a mount the
 * destination is reopened and its mount id compared, so the later remount,
 * propagation and mount_setattr steps act on the mount we just made.
 */
#include "linux/rootfs.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/path.h"
#include "linux/idmap.h"
#include "linux/mount.h"
#include "linux/security.h"
#include "spec/model.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct ctx {
	const struct hutch_spec *spec;
	const char *rootfs; /* for messages; NULL after pivot_root */
	const char *bundle;
	bool in_userns;
	bool selinux; /* SELinux enabled: linux.mountLabel applies */
	const int *prepared_trees;
	const struct hutch_rootfs_cgroup *cgroups;
	size_t n_cgroups;
	int rootfd;
};

/* One mount(2) call: the real arguments and the names to print. */
struct mnt {
	const char *src;      /* mount(2) source (may be a /proc/self/fd path) */
	const char *src_name; /* printed; NULL: src */
	const char *target;   /* mount(2) target */
	const char *dest;     /* printed destination inside the container */
	const char *type;
	unsigned long flags;
	const char *data;
};

static int fail_at(const struct ctx *c, struct hutch_error **err, const char *src, const char *dest)
{
	if (c->rootfs != NULL)
		return hutch_error_prefix(err, "mount %s on %s (rootfs %s)", src ? src : "none",
					  dest, c->rootfs);
	return hutch_error_prefix(err, "mount %s on %s", src ? src : "none", dest);
}

static int xmount(const struct ctx *c, const struct mnt *m, struct hutch_error **err)
{
	const char *name = m->src_name ? m->src_name : (m->src ? m->src : "none");

	hutch_debug("mount %s on %s (%s) type %s flags 0x%lx data %s", name, m->dest, m->target,
		    m->type ? m->type : "none", m->flags, m->data ? m->data : "");
	if (mount(m->src, m->target, m->type, m->flags, m->data) == 0)
		return 0;
	if (c->rootfs != NULL)
		return hutch_error_errno(err, "mount %s on %s (rootfs %s)", name, m->dest,
					 c->rootfs);
	return hutch_error_errno(err, "mount %s on %s", name, m->dest);
}

static int mount_id(int fd, uint64_t *id)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
		return -1;
	if (!(stx.stx_mask & STATX_MNT_ID)) {
		*id = 0;
		return 0;
	}
	*id = stx.stx_mnt_id;
	return 0;
}

/* Reopen DEST after something was mounted on OLDFD: the new fd must be on
 * another mount than OLDFD, or the path now leads somewhere else. */
static int reopen_mounted(const struct ctx *c, const char *dest, int oldfd, const char *src,
			  struct hutch_error **err)
{
	_cleanup_close_ int fd = hutch_path_open_in_root(c->rootfd, dest, O_PATH, err);
	uint64_t a, b;

	if (fd < 0)
		return fail_at(c, err, src, dest);
	if (mount_id(oldfd, &a) == 0 && mount_id(fd, &b) == 0 && a != 0 && a == b) {
		hutch_error_set(err, EAGAIN, "%s changed while it was being mounted", dest);
		return fail_at(c, err, src, dest);
	}
	return steal_fd(fd);
}

/* ---- tmpcopyup ------------------------------------------------------------ */

static int copy_data(int in, int out)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		if (hutch_write_all(out, buf, (size_t)n) < 0)
			return -1;
	}
}

static int copy_meta(int fd, const struct stat *st)
{
	struct timespec ts[2] = {st->st_atim, st->st_mtim};

	if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
		return -1;
	return futimens(fd, ts);
}

/* Copy the directory SRC into DST: files, directories, symlinks and device
 * nodes, with owners and modes; one filesystem, no symlink followed. */
static int copy_tree(int src, int dst, const char *path, int depth, struct hutch_error **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int dupfd;

	if (depth > 128)
		return hutch_error_set(err, ELOOP, "tmpcopyup %s: too deep", path);
	dupfd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dupfd < 0 || (d = fdopendir(dupfd)) == NULL) {
		if (dupfd >= 0)
			close(dupfd);
		return hutch_error_errno(err, "tmpcopyup: read %s", path);
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		struct stat st;
		_cleanup_close_ int sfd = -1, dfd = -1;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (fstatat(src, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return hutch_error_errno(err, "tmpcopyup: stat %s/%s", path, n);
		if (S_ISDIR(st.st_mode)) {
			_cleanup_free_ char *sub = NULL;
			if (asprintf(&sub, "%s/%s", path, n) < 0)
				return hutch_error_set(err, ENOMEM, "tmpcopyup %s", path);
			if (mkdirat(dst, n, 0700) < 0)
				return hutch_error_errno(err, "tmpcopyup: mkdir %s", sub);
			sfd = openat(src, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			dfd = openat(dst, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sfd < 0 || dfd < 0)
				return hutch_error_errno(err, "tmpcopyup: open %s", sub);
			if (copy_tree(sfd, dfd, sub, depth + 1, err) < 0)
				return -1;
			if (copy_meta(dfd, &st) < 0)
				return hutch_error_errno(err, "tmpcopyup: chown %s", sub);
		} else if (S_ISREG(st.st_mode)) {
			sfd = openat(src, n, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
			dfd = openat(dst, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				     0600);
			if (sfd < 0 || dfd < 0 || copy_data(sfd, dfd) < 0 ||
			    copy_meta(dfd, &st) < 0)
				return hutch_error_errno(err, "tmpcopyup: copy %s/%s", path, n);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t len = readlinkat(src, n, target, sizeof(target) - 1);
			if (len < 0)
				return hutch_error_errno(err, "tmpcopyup: readlink %s/%s", path, n);
			target[len] = '\0';
			if (symlinkat(target, dst, n) < 0 ||
			    fchownat(dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
				return hutch_error_errno(err, "tmpcopyup: symlink %s/%s", path, n);
		} else {
			if (mknodat(dst, n, st.st_mode, st.st_rdev) < 0 ||
			    fchownat(dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
			    fchmodat(dst, n, st.st_mode & 07777, 0) < 0)
				return hutch_error_errno(err, "tmpcopyup: mknod %s/%s", path, n);
		}
	}
	if (errno != 0)
		return hutch_error_errno(err, "tmpcopyup: read %s", path);
	return 0;
}

/* ---- one spec mount ------------------------------------------------------- */

/* Without mount_setattr (Linux < 5.12, or a seccomp profile that predates
 * it): make every mount below TOPFD read-only one by one, each found in
 * mountinfo, reopened inside the root and checked by mount id. */
static int remount_tree_ro(const struct ctx *c, const char *dest, int topfd,
			   struct hutch_error **err)
{
	_cleanup_free_ char *mi = hutch_read_file("/proc/self/mountinfo", 0, NULL, err);
	uint64_t ids[256];
	size_t n = 0, rootlen = c->rootfs != NULL ? strlen(c->rootfs) : 0;
	bool grew = true;

	if (mi == NULL)
		return -1;
	if (c->rootfs == NULL || mount_id(topfd, &ids[0]) < 0 || ids[0] == 0)
		return hutch_error_set(err, ENOSYS, "%s: ro over submounts needs mount_setattr",
				       dest);
	n = 1;
	while (grew) { /* the descendants of ids[0], by parent id */
		grew = false;
		for (char *l = mi; l != NULL && *l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
			unsigned long long id, parent;
			bool known = false, under = false;
			if (sscanf(l, "%llu %llu", &id, &parent) != 2)
				continue;
			for (size_t i = 0; i < n; i++) {
				known |= ids[i] == id;
				under |= ids[i] == parent;
			}
			if (under && !known && n < HUTCH_ARRAY_SIZE(ids)) {
				ids[n++] = id;
				grew = true;
			}
		}
	}
	for (char *l = mi; l != NULL && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned long long id;
		char mp[PATH_MAX];
		bool want = false;
		if (sscanf(l, "%llu %*u %*s %*s %4095s", &id, mp) != 2)
			continue;
		for (size_t i = 1; i < n; i++)
			want |= ids[i] == id;
		if (!want || strncmp(mp, c->rootfs, rootlen) != 0 || mp[rootlen] != '/')
			continue;
		_cleanup_close_ int fd =
		    hutch_path_open_in_root(c->rootfd, mp + rootlen, O_PATH, err);
		struct hutch_mount_plan ro = {.flags = MS_RDONLY};
		struct statfs sfs;
		uint64_t got;
		char t[32];
		if (fd < 0)
			return fail_at(c, err, "ro", mp + rootlen);
		if (mount_id(fd, &got) < 0 || got != id || fstatfs(fd, &sfs) < 0) {
			hutch_error_set(err, EAGAIN, "%s changed while it was remounted",
					mp + rootlen);
			return fail_at(c, err, "ro", mp + rootlen);
		}
		struct mnt m = {.target = hutch_fd_path(fd, t, sizeof(t)),
				.dest = mp + rootlen,
				.flags = MS_BIND | MS_REMOUNT | MS_RDONLY |
					 hutch_mount_locked_flags(&ro, (unsigned long)sfs.f_flags)};
		if (xmount(c, &m, err) < 0)
			return -1;
	}
	return 0;
}

static int apply_after(const struct ctx *c, const struct hutch_mount_plan *p, const char *src,
		       const char *dest, int topfd, struct hutch_error **err)
{
	char t[32];

	for (size_t i = 0; i < p->n_propagation; i++) {
		struct mnt m = {.target = hutch_fd_path(topfd, t, sizeof(t)),
				.dest = dest,
				.flags = p->propagation[i]};
		if (xmount(c, &m, err) < 0)
			return -1;
	}
	if (p->has_rec_attr) {
		struct mount_attr a = {.attr_set = p->rec_set, .attr_clr = p->rec_clr};
		hutch_debug("mount_setattr %s recursive set 0x%llx clear 0x%llx", dest,
			    (unsigned long long)a.attr_set, (unsigned long long)a.attr_clr);
		if (syscall(SYS_mount_setattr, topfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a,
			    sizeof(a)) < 0) {
			if (errno == ENOSYS && p->implicit_rro)
				return remount_tree_ro(c, dest, topfd, err);
			if (errno == ENOSYS)
				hutch_error_set(err, ENOSYS,
						"mount option %s needs mount_setattr (Linux 5.12)",
						p->first_rec_option);
			else
				hutch_error_errno(err, "mount option %s: mount_setattr",
						  p->first_rec_option);
			return fail_at(c, err, src, dest);
		}
	}
	return 0;
}

/* Bind SRC (a host path) onto DSTFD, then remount with the plan's flags
 * plus the source's locked ones.  Returns an O_PATH fd of the new mount. */
static int bind_mount(const struct ctx *c, const char *src, const char *dest, int dstfd,
		      const struct hutch_mount_plan *p, bool rec, struct hutch_error **err)
{
	char t[32];
	struct mnt m = {.src = src,
			.target = hutch_fd_path(dstfd, t, sizeof(t)),
			.dest = dest,
			.flags = MS_BIND | (rec ? MS_REC : 0)};
	_cleanup_close_ int top = -1;
	struct statfs sfs;

	if (xmount(c, &m, err) < 0)
		return -1;
	top = reopen_mounted(c, dest, dstfd, src, err);
	if (top < 0)
		return -1;
	if (!hutch_mount_plan_needs_remount(p))
		return steal_fd(top);
	if (fstatfs(top, &sfs) < 0) {
		hutch_error_errno(err, "statfs %s", src);
		return fail_at(c, err, src, dest);
	}
	m = (struct mnt){.src_name = src,
			 .target = hutch_fd_path(top, t, sizeof(t)),
			 .dest = dest,
			 .flags = MS_BIND | MS_REMOUNT |
				  (p->flags & ~(unsigned long)(MS_BIND | MS_REC | MS_REMOUNT)) |
				  hutch_mount_locked_flags(p, (unsigned long)sfs.f_flags)};
	if (xmount(c, &m, err) < 0)
		return -1;
	return steal_fd(top);
}

/* An idmapped bind (idmap.h): a detached clone of SRC, idmapped, moved onto
 * DSTFD, then remounted with the plan's flags like any bind. */
static int idmap_mount(const struct ctx *c, const struct hutch_mount *hm, const char *src,
		       int dstfd, const struct hutch_mount_plan *p, int prepared,
		       struct hutch_error **err)
{
	const char *dest = hm->destination;
	_cleanup_close_ int userns = -1, tree = -1, top = -1;
	char t[32];

	if (prepared >= 0) {
		if (hutch_idmap_attach(prepared, dstfd, err) < 0)
			return fail_at(c, err, src, dest);
	} else {
		userns = hutch_idmap_userns_fd(hm->uid_mappings, hm->n_uid_mappings,
					       hm->gid_mappings, hm->n_gid_mappings, err);
		if (userns < 0)
			return fail_at(c, err, src, dest);
		tree = hutch_idmap_clone(src, p->is_rbind || p->idmap_recursive, p->idmap_recursive,
					 userns, err);
		if (tree < 0 || hutch_idmap_attach(tree, dstfd, err) < 0)
			return fail_at(c, err, src, dest);
	}
	top = reopen_mounted(c, dest, dstfd, src, err);
	if (top < 0)
		return -1;
	if (hutch_mount_plan_needs_remount(p)) {
		struct mnt m = {.src_name = src,
				.target = hutch_fd_path(top, t, sizeof(t)),
				.dest = dest,
				.flags =
				    MS_BIND | MS_REMOUNT |
				    (p->flags & ~(unsigned long)(MS_BIND | MS_REC | MS_REMOUNT))};
		if (xmount(c, &m, err) < 0)
			return -1;
	}
	return steal_fd(top);
}

static bool is_type(const char *type, const char *want)
{
	return type != NULL && strcmp(type, want) == 0;
}

static bool is_cgroup2_at(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* Without a cgroup namespace a fresh cgroup mount shows the whole
 * hierarchy: stack a bind of the container's own cgroup (OWN, from
 * /proc/self/cgroup, relative to the hierarchy's root) on top of it, so the
 * container sees only its own cgroup, as it would in a cgroup namespace. */
static int bind_own_cgroup(const struct ctx *c, int subfd, const char *name, const char *own,
			   unsigned long flags, struct hutch_error **err)
{
	_cleanup_close_ int top = -1, src = -1;
	char t[32], s[32];

	while (*own == '/')
		own++;
	/* "/": in our own cgroup namespace; "/../..": a joined cgroup
	 * namespace rooted elsewhere, whose root is all it may show */
	if (*own == '\0' || strncmp(own, "..", 2) == 0)
		return 0;
	top = reopen_mounted(c, name, subfd, "cgroup", err);
	if (top < 0)
		return -1;
	src = openat(top, own, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
	if (src < 0) {
		hutch_error_errno(err, "open the container's cgroup %s/%s", name, own);
		return fail_at(c, err, "cgroup", name);
	}
	struct mnt m = {.src = hutch_fd_path(src, s, sizeof(s)),
			.src_name = own,
			.target = hutch_fd_path(top, t, sizeof(t)),
			.dest = name,
			.flags = MS_BIND};
	_cleanup_close_ int bound = -1;

	if (xmount(c, &m, err) < 0)
		return -1;
	bound = reopen_mounted(c, name, top, "cgroup", err);
	if (bound < 0)
		return -1;
	/* the bind does not inherit ro/nosuid/nodev/noexec of the mount */
	m = (struct mnt){.src_name = own,
			 .target = hutch_fd_path(bound, t, sizeof(t)),
			 .dest = name,
			 .flags = MS_BIND | MS_REMOUNT | flags};
	return xmount(c, &m, err);
}

static size_t count_items(const char *list)
{
	size_t n = 0;

	for (const char *p = list; *p != '\0'; n++) {
		p = strchrnul(p, ',');
		if (*p == ',')
			p++;
	}
	return n;
}

/* A and B (comma-separated controller lists) name the same hierarchy: the
 * same set, in any order. */
static bool same_controllers(const char *a, const char *b)
{
	if (count_items(a) != count_items(b))
		return false;
	for (const char *p = a; *p != '\0';) {
		const char *e = strchrnul(p, ',');
		size_t l = (size_t)(e - p);
		bool found = false;
		for (const char *q = b; *q != '\0' && !found;) {
			const char *f = strchrnul(q, ',');
			found = (size_t)(f - q) == l && strncmp(p, q, l) == 0;
			q = *f ? f + 1 : f;
		}
		if (!found)
			return false;
		p = *e ? e + 1 : e;
	}
	return true;
}

static const char *known_cgroup_dir(const struct ctx *c, const char *ctrl)
{
	for (size_t i = 0; i < c->n_cgroups; i++)
		if (same_controllers(ctrl, c->cgroups[i].name))
			return c->cgroups[i].dir;
	return NULL;
}

/* Attach the detached mount TREE onto DST (both fds).  1: no mount API. */
static int move_onto(const struct ctx *c, int tree, int dst, const char *src_name, const char *dest,
		     struct hutch_error **err)
{
	if (syscall(SYS_move_mount, tree, "", dst, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		if (errno == ENOSYS)
			return 1;
		hutch_error_errno(err, "move_mount");
		return fail_at(c, err, src_name, dest);
	}
	return 0;
}

/* A clone of the mount tree at DIRFD/PATH ("": DIRFD itself; its submounts
 * too if RECURSIVE), given ATTR if not NULL, moved onto DST by fd: no path
 * is resolved at the target, nothing can be swapped in between.  1: the
 * kernel lacks the new mount API (nothing was changed), the caller mounts
 * the classic way. */
static int clone_path_onto(const struct ctx *c, int dirfd, const char *path, int dst,
			   bool recursive, const struct mount_attr *attr, const char *src_name,
			   const char *dest, struct hutch_error **err)
{
	_cleanup_close_ int tree =
	    (int)syscall(SYS_open_tree, dirfd, path,
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
			     (*path == '\0' ? AT_EMPTY_PATH : AT_SYMLINK_NOFOLLOW));

	if (tree < 0 && errno == ENOSYS)
		return 1;
	if (tree < 0) {
		hutch_error_errno(err, "open_tree %s", src_name);
		return fail_at(c, err, src_name, dest);
	}
	if (attr != NULL &&
	    syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0),
		    attr, sizeof(*attr)) < 0) {
		if (errno == ENOSYS)
			return 1;
		hutch_error_errno(err, "mount_setattr %s", src_name);
		return fail_at(c, err, src_name, dest);
	}
	hutch_debug("mount %s on %s (clone%s%s)", src_name, dest, recursive ? ", recursive" : "",
		    attr != NULL && (attr->attr_set & MOUNT_ATTR_RDONLY) ? ", read-only" : "");
	return move_onto(c, tree, dst, src_name, dest, err);
}

static int clone_onto(const struct ctx *c, int src, int dst, bool recursive,
		      const struct mount_attr *attr, const char *src_name, const char *dest,
		      struct hutch_error **err)
{
	return clone_path_onto(c, src, "", dst, recursive, attr, src_name, dest, err);
}

/* The container's own cgroup directory DIR (a host path, outside the
 * container's rootfs) onto SUB in one step, with the mount's flags.  1: no
 * mount API, the caller mounts the classic way. */
static int bind_host_cgroup(const struct ctx *c, int sub, const char *dir, const char *name,
			    unsigned long flags, struct hutch_error **err)
{
	struct mount_attr a = {.attr_set =
				   MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};

	if (flags & MS_RDONLY)
		a.attr_set |= MOUNT_ATTR_RDONLY;
	if (flags & (MS_NOATIME | MS_STRICTATIME)) {
		a.attr_clr = MOUNT_ATTR__ATIME;
		a.attr_set |= (flags & MS_NOATIME) ? MOUNT_ATTR_NOATIME : MOUNT_ATTR_STRICTATIME;
	}
	if (flags & MS_NODIRATIME)
		a.attr_set |= MOUNT_ATTR_NODIRATIME;
	return clone_path_onto(c, AT_FDCWD, dir, sub, false, &a, dir, name, err);
}

/* cgroup2 host: in the container's own cgroup namespace a fresh cgroup2
 * mount shows its cgroup as the root; without one it would show the whole
 * hierarchy, so the container's own cgroup is bound there instead (by fd
 * from create's directory, or a fresh mount with a bind on top). */
static int mount_cgroup_v2(const struct ctx *c, const struct hutch_mount *hm,
			   const struct hutch_mount_plan *p, int dstfd, struct hutch_error **err)
{
	const char *dest = hm->destination, *host;
	unsigned long flags = p->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	_cleanup_free_ char *cg = hutch_read_file("/proc/self/cgroup", 0, NULL, err);
	char t[32], *own = NULL;
	struct mnt m = {.src = "cgroup2",
			.target = hutch_fd_path(dstfd, t, sizeof(t)),
			.dest = dest,
			.type = "cgroup2",
			.flags = flags,
			.data = p->data};
	int r;

	if (cg == NULL)
		return fail_at(c, err, "cgroup2", dest);
	for (char *line = cg; line != NULL && *line != '\0';) {
		char *next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, "0::", 3) == 0)
			own = line + 3;
		line = next;
	}
	/* "/": our own cgroup namespace; "/..": a joined one rooted elsewhere */
	if (own == NULL || strcmp(own, "/") == 0 || strncmp(own, "/..", 3) == 0)
		return xmount(c, &m, err) < 0 ? -1 : 0;
	host = known_cgroup_dir(c, "");
	r = host != NULL ? bind_host_cgroup(c, dstfd, host, dest, flags, err) : 1;
	if (r <= 0)
		return r;
	if (xmount(c, &m, err) < 0 || bind_own_cgroup(c, dstfd, dest, own, flags, err) < 0)
		return -1;
	return 0;
}

/* cgroup v1 or hybrid host: a tmpfs with one cgroup v1 mount per hierarchy
 * listed in /proc/self/cgroup (in a cgroup namespace the kernel shows the
 * container's own cgroup as the root), cpu,cpuacct-style symlinks, and
 * cgroup2 at "unified" when the host has it there. */
static int mount_cgroup_v1(const struct ctx *c, const struct hutch_mount *hm,
			   const struct hutch_mount_plan *p, int dstfd, struct hutch_error **err)
{
	const char *dest = hm->destination;
	unsigned long base =
	    (p->flags & ~(unsigned long)MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	char t[32];
	struct mnt m = {.src = "tmpfs",
			.target = hutch_fd_path(dstfd, t, sizeof(t)),
			.dest = dest,
			.type = "tmpfs",
			.flags = base,
			.data = "mode=755"};
	_cleanup_close_ int top = -1;
	_cleanup_free_ char *cg = NULL;
	char *save = NULL;

	if (xmount(c, &m, err) < 0)
		return -1;
	top = reopen_mounted(c, dest, dstfd, "tmpfs", err);
	if (top < 0)
		return -1;
	cg = hutch_read_file("/proc/self/cgroup", 0, NULL, err);
	if (cg == NULL)
		return fail_at(c, err, "cgroup", dest);
	for (char *line = strtok_r(cg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctrl = strchr(line, ':'), *end, *own;
		const char *dir, *type = "cgroup", *host;
		int r;
		_cleanup_free_ char *data = NULL, *name = NULL;
		_cleanup_close_ int sub = -1;
		char t2[32];

		if (ctrl == NULL || (end = strchr(++ctrl, ':')) == NULL)
			continue;
		*end = '\0';
		own = end + 1;
		if (*ctrl == '\0') {
			if (!is_cgroup2_at("/sys/fs/cgroup/unified"))
				continue;
			dir = "unified";
			type = "cgroup2";
		} else if (strncmp(ctrl, "name=", 5) == 0) {
			dir = ctrl + 5;
			if (asprintf(&data, "none,%s", ctrl) < 0)
				return hutch_error_set(err, ENOMEM, "cgroup");
		} else {
			dir = ctrl;
			data = strdup(ctrl);
		}
		if (asprintf(&name, "%s/%s", dest, dir) < 0)
			return hutch_error_set(err, ENOMEM, "cgroup");
		if (mkdirat(top, dir, 0755) < 0 && errno != EEXIST) {
			hutch_error_errno(err, "mkdir %s", name);
			return fail_at(c, err, "cgroup", name);
		}
		sub = openat(top, dir, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0) {
			hutch_error_errno(err, "open %s", name);
			return fail_at(c, err, "cgroup", name);
		}
		m = (struct mnt){.src = type,
				 .target = hutch_fd_path(sub, t2, sizeof(t2)),
				 .dest = name,
				 .type = type,
				 .flags = p->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				 .data = data};
		/* the container's cgroup as create made it: bound directly (not
		 * in a joined cgroup namespace, whose root is all it may show) */
		host = strncmp(own, "/..", 3) != 0 ? known_cgroup_dir(c, ctrl) : NULL;
		r = host != NULL ? bind_host_cgroup(c, sub, host, name, m.flags, err) : 1;
		if (r < 0)
			return -1;
		if (r > 0 && (xmount(c, &m, err) < 0 ||
			      bind_own_cgroup(c, sub, name, own, m.flags, err) < 0))
			return -1;
		if (data != NULL && strchr(ctrl, ',') != NULL && strncmp(ctrl, "name=", 5) != 0) {
			char *s2 = NULL;
			for (char *one = strtok_r(ctrl, ",", &s2); one;
			     one = strtok_r(NULL, ",", &s2))
				if (symlinkat(dir, top, one) < 0 && errno != EEXIST) {
					hutch_error_errno(err, "symlink %s/%s", dest, one);
					return fail_at(c, err, "cgroup", dest);
				}
		}
	}
	if (p->flags & MS_RDONLY) {
		m = (struct mnt){.src_name = "tmpfs",
				 .target = hutch_fd_path(top, t, sizeof(t)),
				 .dest = dest,
				 .flags = MS_BIND | MS_REMOUNT | MS_RDONLY | base};
		if (xmount(c, &m, err) < 0)
			return -1;
	}
	return steal_fd(top);
}

/* Some file systems cannot be mounted in a user namespace that does not own
 * the matching namespace (sysfs without a network namespace, mqueue without
 * an ipc one, cgroup on a v1 host): bind the host's instead, as runc and
 * crun do for rootless containers. */
static const char *userns_fallback(const char *type)
{
	if (is_type(type, "sysfs"))
		return "/sys";
	if (is_type(type, "mqueue"))
		return "/dev/mqueue";
	if (is_type(type, "cgroup") || is_type(type, "cgroup2"))
		return "/sys/fs/cgroup";
	return NULL;
}

static int mount_one(const struct ctx *c, const struct hutch_mount *hm, size_t idx,
		     struct hutch_error **err)
{
	__attribute__((cleanup(hutch_mount_plan_clear))) struct hutch_mount_plan p = {0};
	const char *dest = hm->destination, *type = hm->type;
	_cleanup_free_ char *src = NULL;
	_cleanup_close_ int dstfd = -1, top = -1, lower = -1;
	bool bind, is_dir = true;
	char t[32];

	if (hutch_mount_plan_parse(hm->options, &p, err) < 0)
		return fail_at(c, err, hm->source ? hm->source : type, dest);
	if (c->selinux) {
		/* linux.mountLabel (without SELinux the parent warned and
		 * it is ignored, as crun does) */
		char *labeled = hutch_mount_label_data(type, p.data, c->spec->linux_.mount_label);
		if (labeled != NULL) {
			free(p.data);
			p.data = labeled;
		}
	}
	bind = p.is_bind || is_type(type, "bind");
	if (p.idmap && !bind) {
		hutch_error_set(err, ENOTSUP, "idmap and ridmap apply to bind mounts");
		return fail_at(c, err, hm->source, dest);
	}
	if (p.idmap && c->in_userns && (c->prepared_trees == NULL || c->prepared_trees[idx] < 0)) {
		/* mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the
		 * source's superblock: not ours once in the user namespace */
		hutch_error_set(err, ENOTSUP,
				"idmapped mounts in a container with its own user namespace "
				"are not supported yet");
		return fail_at(c, err, hm->source, dest);
	}
	if (p.idmap && (c->prepared_trees == NULL || c->prepared_trees[idx] < 0) &&
	    (hm->n_uid_mappings == 0 || hm->n_gid_mappings == 0)) {
		hutch_error_set(err, EINVAL, "idmap needs the mount's uidMappings and gidMappings");
		return fail_at(c, err, hm->source, dest);
	}
	if (bind) {
		struct stat st;
		if (hm->source == NULL) {
			hutch_error_set(err, EINVAL, "a bind mount needs a source");
			return fail_at(c, err, NULL, dest);
		}
		if (hm->source[0] == '/' || c->bundle == NULL)
			src = strdup(hm->source);
		else if (asprintf(&src, "%s/%s", c->bundle, hm->source) < 0)
			src = NULL;
		if (src == NULL)
			return hutch_error_set(err, ENOMEM, "mount %s", dest);
		/* a tree the parent prepared: the source may be out of our
		 * reach in the user namespace */
		int tree = c->prepared_trees != NULL ? c->prepared_trees[idx] : -1;
		if ((tree >= 0 ? fstat(tree, &st) : stat(src, &st)) < 0) {
			hutch_error_errno(err, "stat %s", src);
			return fail_at(c, err, src, dest);
		}
		is_dir = S_ISDIR(st.st_mode);
	} else {
		src = strdup(hm->source ? hm->source : (type ? type : "none"));
		if (src == NULL)
			return hutch_error_set(err, ENOMEM, "mount %s", dest);
	}
	if (is_type(type, "proc") || is_type(type, "sysfs")) {
		/* CVE-2019-19921: never mount proc or sysfs through a symlink */
		_cleanup_close_ int l =
		    hutch_path_open_in_root(c->rootfd, dest, O_PATH | O_NOFOLLOW, NULL);
		struct stat st;
		if (l >= 0 && fstat(l, &st) == 0 && S_ISLNK(st.st_mode)) {
			hutch_error_set(err, ELOOP, "%s is a symlink in the rootfs", dest);
			return fail_at(c, err, src, dest);
		}
	}
	dstfd = hutch_path_mkdir_in_root(c->rootfd, dest, 0755, is_dir, err);
	if (dstfd < 0)
		return fail_at(c, err, src, dest);

	if (bind && (p.idmap || (c->prepared_trees != NULL && c->prepared_trees[idx] >= 0))) {
		/* idmapped, or hutch's own bind the parent prepared */
		top = idmap_mount(c, hm, src, dstfd, &p,
				  c->prepared_trees != NULL ? c->prepared_trees[idx] : -1, err);
		if (top < 0)
			return -1;
	} else if (bind) {
		top = bind_mount(c, src, dest, dstfd, &p, p.is_rbind, err);
		if (top < 0)
			return -1;
	} else if (type == NULL && hm->source == NULL && p.flags == 0 && p.data == NULL) {
		/* no type, no source: only propagation or mount_setattr
		 * changes to what is already mounted at DEST */
	} else if (is_type(type, "cgroup") && !is_cgroup2_at("/sys/fs/cgroup") && !c->in_userns) {
		top = mount_cgroup_v1(c, hm, &p, dstfd, err);
		if (top < 0)
			return -1;
	} else if ((is_type(type, "cgroup") || is_type(type, "cgroup2")) && !c->in_userns &&
		   is_cgroup2_at("/sys/fs/cgroup")) {
		if (mount_cgroup_v2(c, hm, &p, dstfd, err) < 0)
			return -1;
		if ((p.n_propagation > 0 || p.has_rec_attr) &&
		    (top = reopen_mounted(c, dest, dstfd, "cgroup2", err)) < 0)
			return -1;
	} else {
		struct mnt m = {.src = src,
				.target = hutch_fd_path(dstfd, t, sizeof(t)),
				.dest = dest,
				.type = is_type(type, "cgroup") ? "cgroup2" : type,
				.flags = p.flags,
				.data = p.data};
		/* cgroup on a v1 host inside a user namespace: bind the host's */
		bool v1_userns = is_type(type, "cgroup") && !is_cgroup2_at("/sys/fs/cgroup");
		int code = EPERM;

		if (p.tmpcopyup && !v1_userns) {
			lower = openat(dstfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (lower < 0) {
				hutch_error_errno(err, "open %s", dest);
				return fail_at(c, err, src, dest);
			}
		}
		if (v1_userns || xmount(c, &m, err) < 0) {
			const char *host = userns_fallback(type);
			if (!v1_userns)
				code = err != NULL && *err != NULL ? (*err)->code : errno;
			if (!(c->in_userns && host != NULL && code == EPERM))
				return -1;
			if (err != NULL)
				hutch_error_freep(err);
			hutch_debug("%s on %s: not permitted in this user namespace, binding %s",
				    type, dest, host);
			top = bind_mount(c, host, dest, dstfd, &p, true, err);
			if (top < 0)
				return -1;
			/* "ro" must cover the host's submounts too (cgroup v1
			 * hierarchies under /sys/fs/cgroup) */
			if ((p.flags & MS_RDONLY) && !p.has_rec_attr) {
				p.rec_set |= MOUNT_ATTR_RDONLY;
				p.has_rec_attr = true;
				p.first_rec_option = "ro";
				p.implicit_rro = true;
			}
		}
		if (top < 0 && (p.n_propagation > 0 || p.has_rec_attr || lower >= 0) &&
		    !(p.flags & MS_REMOUNT)) {
			top = reopen_mounted(c, dest, dstfd, src, err);
			if (top < 0)
				return -1;
		}
	}
	if (lower >= 0 && top >= 0) {
		_cleanup_close_ int upper = openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct stat st;
		if (upper < 0 || fstat(lower, &st) < 0) {
			hutch_error_errno(err, "tmpcopyup: open %s", dest);
			return fail_at(c, err, src, dest);
		}
		if (copy_tree(lower, upper, dest, 0, err) < 0 || copy_meta(upper, &st) < 0) {
			if (err != NULL && *err == NULL)
				hutch_error_errno(err, "tmpcopyup: chown %s", dest);
			return fail_at(c, err, src, dest);
		}
	}
	return apply_after(c, &p, src, dest, top >= 0 ? top : dstfd, err);
}

/* ---- /dev ------------------------------------------------------------------ */

static bool is_dev_path(const char *d)
{
	while (*d == '/')
		d++;
	if (strncmp(d, "dev", 3) != 0)
		return false;
	d += 3;
	while (*d == '/')
		d++;
	return *d == '\0';
}

/* True when the spec bind-mounts /dev from the host: then /dev is the host's
 * and hutch adds nothing to it (runc does the same). */
static bool dev_is_bound(const struct hutch_spec *s)
{
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct hutch_mount *m = &s->mounts[i];
		bool bind = is_type(m->type, "bind");
		for (size_t j = 0; m->options && m->options[j]; j++)
			if (strcmp(m->options[j], "bind") == 0 ||
			    strcmp(m->options[j], "rbind") == 0)
				bind = true;
		if (bind && is_dev_path(m->destination))
			return true;
	}
	return false;
}

/* Create NAME in DIRFD as a device node, or (in a user namespace, where
 * mknod is not permitted) as an empty file with HOST bind-mounted on it.  An
 * existing entry is replaced, never followed: a symlink /dev/null in an
 * image is how CVE-2025-31133 redirected a masked-path mount. */
static int make_node(const struct ctx *c, int dirfd, const char *name, const char *display,
		     mode_t mode, dev_t dev, uid_t uid, gid_t gid, const char *host,
		     struct hutch_error **err)
{
	struct stat st;
	bool exists = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	bool bind = c->in_userns && !S_ISFIFO(mode);

	if (exists && S_ISDIR(st.st_mode))
		return hutch_error_set(err, EISDIR, "create device %s: a directory is in the way",
				       display);
	if (exists && (!bind || S_ISLNK(st.st_mode) ||
		       !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))) {
		if (unlinkat(dirfd, name, 0) < 0)
			return hutch_error_errno(err, "remove %s", display);
		exists = false;
	}
	if (!bind) {
		mode_t old = umask(0);
		int r = mknodat(dirfd, name, mode, dev);
		umask(old);
		hutch_debug("mknod %s mode 0%o %u:%u", display, (unsigned)mode, major(dev),
			    minor(dev));
		if (r < 0)
			return hutch_error_errno(err, "mknod %s", display);
		if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return hutch_error_errno(err, "chown %s", display);
		return 0;
	}
	if (!exists) {
		int fd =
		    openat(dirfd, name,
			   O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
		if (fd < 0)
			return hutch_error_errno(err, "create %s", display);
		close(fd);
	}
	_cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	char t[32];
	if (fd < 0 || fstat(fd, &st) < 0)
		return hutch_error_errno(err, "open %s", display);
	if (S_ISLNK(st.st_mode))
		return hutch_error_set(err, ELOOP, "%s became a symlink", display);
	struct mnt m = {.src = host,
			.target = hutch_fd_path(fd, t, sizeof(t)),
			.dest = display,
			.flags = MS_BIND};
	return xmount(c, &m, err);
}

/* The host node to bind for a device in a user namespace: PATH itself when
 * it is that device on the host (what runc and crun use), else udev's
 * /dev/char/MAJ:MIN or /dev/block/MAJ:MIN. */
static const char *host_device(const char *path, mode_t type, dev_t rdev, char *buf, size_t len)
{
	struct stat st;

	if (type == S_IFIFO ||
	    (stat(path, &st) == 0 && (st.st_mode & S_IFMT) == type && st.st_rdev == rdev))
		return path;
	snprintf(buf, len, "/dev/%s/%u:%u", type == S_IFBLK ? "block" : "char", major(rdev),
		 minor(rdev));
	if (access(buf, F_OK) == 0)
		return buf;
	/* no udev links: any node of the host's /dev with that number */
	_cleanup_closedir_ DIR *d = opendir("/dev");
	struct dirent *de;
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (st.st_mode & S_IFMT) == type && st.st_rdev == rdev &&
		    strlen(de->d_name) + 6 < len) {
			snprintf(buf, len, "/dev/%s", de->d_name);
			return buf;
		}
	}
	return path;
}

/* Open the container's /dev (creating it), refusing a symlink. */
static int open_dev(const struct ctx *c, struct hutch_error **err)
{
	_cleanup_close_ int fd = openat(c->rootfd, "dev", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(c->rootfd, "dev", 0755) < 0 && errno != EEXIST)
			return hutch_error_errno(err, "mkdir /dev");
		fd = openat(c->rootfd, "dev", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0 || fstat(fd, &st) < 0)
		return hutch_error_errno(err, "open /dev");
	if (S_ISLNK(st.st_mode))
		return hutch_error_set(err, ELOOP, "/dev is a symlink in the rootfs; refusing it");
	if (!S_ISDIR(st.st_mode))
		return hutch_error_set(err, ENOTDIR, "/dev is not a directory");
	return steal_fd(fd);
}

static int dev_symlink(int devfd, const char *name, const char *target, struct hutch_error **err)
{
	struct stat st;

	if (fstatat(devfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		char buf[PATH_MAX];
		ssize_t n;
		if (S_ISLNK(st.st_mode) &&
		    (n = readlinkat(devfd, name, buf, sizeof(buf) - 1)) >= 0 &&
		    (buf[n] = '\0', strcmp(buf, target) == 0))
			return 0;
		if (S_ISDIR(st.st_mode))
			return hutch_error_set(err, EEXIST,
					       "symlink /dev/%s: a directory is in the way", name);
		if (unlinkat(devfd, name, 0) < 0)
			return hutch_error_errno(err, "remove /dev/%s", name);
	}
	hutch_debug("symlink /dev/%s -> %s", name, target);
	if (symlinkat(target, devfd, name) < 0)
		return hutch_error_errno(err, "symlink /dev/%s -> %s", name, target);
	return 0;
}

static int setup_dev(const struct ctx *c, struct hutch_error **err)
{
	static const struct {
		const char *name;
		unsigned maj, min;
	} defaults[] = {
	    {"null", 1, 3},   {"zero", 1, 5},	 {"full", 1, 7},
	    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
	};
	static const struct {
		const char *name, *target;
	} links[] = {
	    {"fd", "/proc/self/fd"},	   {"stdin", "/proc/self/fd/0"},
	    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
	    {"ptmx", "pts/ptmx"},
	};
	const struct hutch_linux *l = &c->spec->linux_;
	_cleanup_close_ int devfd = open_dev(c, err);

	if (devfd < 0)
		return -1;
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(defaults); i++) {
		char display[32], host[32];
		snprintf(display, sizeof(display), "/dev/%s", defaults[i].name);
		snprintf(host, sizeof(host), "/dev/%s", defaults[i].name);
		if (make_node(c, devfd, defaults[i].name, display, S_IFCHR | 0666,
			      makedev(defaults[i].maj, defaults[i].min), 0, 0, host, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < l->n_devices; i++) {
		const struct hutch_device *d = &l->devices[i];
		_cleanup_free_ char *dir = strdup(d->path);
		_cleanup_close_ int dfd = -1;
		char *slash, *base;
		mode_t type;

		if (dir == NULL)
			return hutch_error_set(err, ENOMEM, "device %s", d->path);
		slash = strrchr(dir, '/');
		base = slash ? slash + 1 : dir;
		if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
			return hutch_error_set(err, EINVAL, "linux.devices: bad path \"%s\"",
					       d->path);
		if (slash != NULL)
			*slash = '\0';
		dfd = hutch_path_mkdir_in_root(c->rootfd, slash && dir[0] ? dir : "/", 0755, true,
					       err);
		if (dfd < 0)
			return hutch_error_prefix(err, "linux.devices %s", d->path);
		switch (d->type) {
		case 'b':
			type = S_IFBLK;
			break;
		case 'p':
			type = S_IFIFO;
			break;
		default:
			type = S_IFCHR;
			break;
		}
		dev_t rdev = type == S_IFIFO ? 0 : makedev((unsigned)d->major, (unsigned)d->minor);
		char host[64];
		if (make_node(c, dfd, base, d->path,
			      type | (d->has_file_mode ? (d->file_mode & 07777) : 0666), rdev,
			      d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0,
			      host_device(d->path, type, rdev, host, sizeof(host)), err) < 0)
			return hutch_error_prefix(err, "linux.devices");
	}
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(links); i++)
		if (dev_symlink(devfd, links[i].name, links[i].target, err) < 0)
			return -1;
	if (access("/proc/kcore", F_OK) == 0 && dev_symlink(devfd, "core", "/proc/kcore", err) < 0)
		return -1;
	return 0;
}

/* ---- pivot ------------------------------------------------------------------ */

static int do_pivot(const struct ctx *c, bool no_pivot, struct hutch_error **err)
{
	if (fchdir(c->rootfd) < 0)
		return hutch_error_errno(err, "chdir %s", c->rootfs);
	if (no_pivot) {
		struct mnt m = {.src = ".",
				.src_name = c->rootfs,
				.target = "/",
				.dest = "/",
				.flags = MS_MOVE};
		if (xmount(c, &m, err) < 0)
			return -1;
		if (chroot(".") < 0)
			return hutch_error_errno(err, "chroot %s", c->rootfs);
	} else {
		hutch_debug("pivot_root %s", c->rootfs);
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return hutch_error_errno(err, "pivot_root %s", c->rootfs);
		/* The old root is now stacked on "/".  It is already rslave (or
		 * rprivate): hutch_rootfs_setup made the whole tree so before
		 * mounting anything, so the detach cannot propagate to the host.
		 * No MS_SLAVE|MS_REC on "." here: mount(2) resolves "." to the
		 * new root, not the old root stacked on it, and would turn the
		 * container's own "shared" mounts into private ones. */
		if (umount2(".", MNT_DETACH) < 0)
			return hutch_error_errno(err, "unmount the old root");
	}
	if (chdir("/") < 0)
		return hutch_error_errno(err, "chdir /");
	return 0;
}

int hutch_rootfs_setup(const struct hutch_spec *spec, const struct hutch_rootfs_opts *o,
		       struct hutch_error **err)
{
	struct ctx c = {.spec = spec,
			.rootfs = o->rootfs,
			.bundle = o->bundle,
			.in_userns = o->in_userns,
			.selinux = hutch_security_selinux_enabled(NULL),
			.prepared_trees = o->prepared_trees,
			.cgroups = o->cgroups,
			.n_cgroups = o->n_cgroups,
			.rootfd = -1};
	unsigned long rp = hutch_mount_propagation_flags(spec->linux_.rootfs_propagation);
	/* A shared or unbindable "/" would break pivot_root and the rootfs
	 * bind: start rslave (rprivate if asked) and apply the exact value in
	 * hutch_rootfs_finish. */
	struct mnt m = {.target = "/",
			.dest = "/",
			.flags = MS_REC | ((rp & MS_PRIVATE) ? MS_PRIVATE : MS_SLAVE)};
	int r = -1;

	if (xmount(&c, &m, err) < 0)
		return -1;
	m = (struct mnt){
	    .src = o->rootfs, .target = o->rootfs, .dest = "/", .flags = MS_BIND | MS_REC};
	if (xmount(&c, &m, err) < 0)
		return -1;
	c.rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c.rootfd < 0)
		return hutch_error_errno(err, "open rootfs %s", o->rootfs);
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (mount_one(&c, &spec->mounts[i], i, err) < 0)
			goto out;
	if (!dev_is_bound(spec) && setup_dev(&c, err) < 0) {
		hutch_error_prefix(err, "rootfs %s", o->rootfs);
		goto out;
	}
	r = 0;
out:
	close(c.rootfd);
	return r;
}

int hutch_rootfs_pivot(const struct hutch_rootfs_opts *o, struct hutch_error **err)
{
	struct ctx c = {.rootfs = o->rootfs, .bundle = o->bundle, .in_userns = o->in_userns};
	int r;

	c.rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c.rootfd < 0)
		return hutch_error_errno(err, "open rootfs %s", o->rootfs);
	r = do_pivot(&c, o->no_pivot, err);
	close(c.rootfd);
	return r;
}

/* ---- after pivot --------------------------------------------------------- */

static int check_dev_null(int rootfd, struct hutch_error **err)
{
	_cleanup_close_ int fd =
	    hutch_path_open_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW, err);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		return hutch_error_errno(err, "stat /dev/null");
	/* CVE-2025-31133: a /dev/null that is a symlink or a directory would
	 * turn "mask this file" into "expose that file read-write". */
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
		return hutch_error_set(err, EPERM,
				       "/dev/null in the container is not the null device (1:3)");
	return steal_fd(fd);
}

/* One empty read-only tmpfs (mode 555), detached, for every masked
 * directory: the first gets it, the others clones of it (kernels before
 * 6.15 clone only attached mounts): one superblock instead of one per
 * directory.  -1 with errno ENOSYS: no fsopen, mount one per directory. */
static int empty_tmpfs(void)
{
	_cleanup_close_ int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);

	if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "tmpfs", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "555", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -1;
	return (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
			    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				MOUNT_ATTR_NOEXEC);
}

static int mask_paths(const struct ctx *c, char **paths, struct hutch_error **err)
{
	_cleanup_close_ int null = -1, empty = -1;
	bool api = true, attached = false;

	for (size_t i = 0; paths && paths[i]; i++) {
		_cleanup_error_ struct hutch_error *e = NULL;
		_cleanup_close_ int fd = hutch_path_open_in_root(c->rootfd, paths[i], O_PATH, &e);
		struct stat st;
		char t[32], s[32];
		int r = 1;

		if (fd < 0 && e->code == ENOENT)
			continue;
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				hutch_error_errno(&e, "stat %s", paths[i]);
			*err = steal_ptr(e);
			return hutch_error_prefix(err, "masked path");
		}
		if (S_ISDIR(st.st_mode)) {
			if (api && empty < 0 && (empty = empty_tmpfs()) < 0) {
				if (errno != ENOSYS && errno != EPERM)
					return hutch_error_errno(err, "masked path %s: tmpfs",
								 paths[i]);
				api = false;
			}
			if (api && attached)
				r = clone_onto(c, empty, fd, false, NULL, "tmpfs", paths[i], err);
			else if (api)
				r = move_onto(c, empty, fd, "tmpfs", paths[i], err);
			if (r < 0)
				return -1;
			if (r == 0) {
				attached = true;
				continue;
			}
			api = false;
			struct mnt m = {.src = "tmpfs",
					.target = hutch_fd_path(fd, t, sizeof(t)),
					.dest = paths[i],
					.type = "tmpfs",
					.flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
					.data = "mode=555"};
			if (xmount(c, &m, err) < 0)
				return -1;
			continue;
		}
		if (null < 0 && (null = check_dev_null(c->rootfd, err)) < 0)
			return hutch_error_prefix(err, "masked path %s", paths[i]);
		if (api)
			r = clone_onto(c, null, fd, false, NULL, "/dev/null", paths[i], err);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		api = false;
		struct mnt m = {.src = hutch_fd_path(null, s, sizeof(s)),
				.src_name = "/dev/null",
				.target = hutch_fd_path(fd, t, sizeof(t)),
				.dest = paths[i],
				.flags = MS_BIND};
		if (xmount(c, &m, err) < 0)
			return -1;
	}
	return 0;
}

/* PATH and everything mounted below it read-only: a recursive read-only
 * clone moved onto it, or (no mount API) a recursive bind with the top
 * remounted read-only, keeping the flags a user namespace locks. */
static int readonly_paths(const struct ctx *c, char **paths, struct hutch_error **err)
{
	static const struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
	bool api = true;

	for (size_t i = 0; paths && paths[i]; i++) {
		_cleanup_error_ struct hutch_error *e = NULL;
		_cleanup_close_ int fd = hutch_path_open_in_root(c->rootfd, paths[i], O_PATH, &e);
		_cleanup_close_ int top = -1;
		struct hutch_mount_plan p = {.flags = MS_RDONLY};
		struct statfs sfs;
		char t[32];
		int r = 1;

		if (fd < 0 && e->code == ENOENT)
			continue;
		if (fd < 0) {
			*err = steal_ptr(e);
			return hutch_error_prefix(err, "readonly path");
		}
		if (api)
			r = clone_onto(c, fd, fd, true, &ro, paths[i], paths[i], err);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		api = false;
		struct mnt m = {.src = hutch_fd_path(fd, t, sizeof(t)),
				.src_name = paths[i],
				.target = t,
				.dest = paths[i],
				.flags = MS_BIND | MS_REC};
		if (xmount(c, &m, err) < 0)
			return -1;
		top = reopen_mounted(c, paths[i], fd, paths[i], err);
		if (top < 0)
			return -1;
		if (fstatfs(top, &sfs) < 0)
			return hutch_error_errno(err, "statfs %s", paths[i]);
		m = (struct mnt){.src_name = paths[i],
				 .target = hutch_fd_path(top, t, sizeof(t)),
				 .dest = paths[i],
				 .flags = MS_BIND | MS_REMOUNT | MS_RDONLY |
					  hutch_mount_locked_flags(&p, (unsigned long)sfs.f_flags)};
		if (xmount(c, &m, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- sysctl -------------------------------------------------------------- */

static const char *const ipc_sysctls[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

/* Only sysctls that belong to a namespace of the container may be set:
 * the others would change the host. */
static int sysctl_check(const struct hutch_spec *s, const char *key, struct hutch_error **err)
{
	_cleanup_free_ char *k = strdup(key);
	int ns = -1;
	const char *ns_name = NULL;

	if (k == NULL)
		return hutch_error_set(err, ENOMEM, "sysctl");
	for (char *p = k; *p; p++)
		if (*p == '/')
			*p = '.';
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(ipc_sysctls); i++)
		if (strcmp(k, ipc_sysctls[i]) == 0)
			ns = HUTCH_NS_IPC;
	if (strncmp(k, "fs.mqueue.", 10) == 0)
		ns = HUTCH_NS_IPC;
	else if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0)
		ns = HUTCH_NS_UTS;
	else if (strncmp(k, "net.", 4) == 0)
		ns = HUTCH_NS_NETWORK;
	if (ns < 0)
		return hutch_error_set(err, 0, "linux.sysctl: \"%s\" is not namespaced", key);
	ns_name = ns == HUTCH_NS_IPC ? "ipc" : ns == HUTCH_NS_UTS ? "uts" : "network";
	if (!s->linux_.namespaces[ns].present)
		return hutch_error_set(
		    err, 0, "linux.sysctl: \"%s\" needs the container's own %s namespace", key,
		    ns_name);
	return 0;
}

static int check_proc_fd(int fd, uint64_t want_mnt, const char *what, struct hutch_error **err)
{
	struct statfs sfs;
	uint64_t id;

	if (fstatfs(fd, &sfs) < 0)
		return hutch_error_errno(err, "statfs %s", what);
	if (sfs.f_type != PROC_SUPER_MAGIC)
		return hutch_error_set(err, EPERM, "%s is not on procfs", what);
	if (want_mnt != 0 && mount_id(fd, &id) == 0 && id != 0 && id != want_mnt)
		return hutch_error_set(err, EPERM, "%s is over-mounted", what);
	return 0;
}

/* Open /proc/sys/<key> for writing without following any symlink, and make
 * sure every step stays on the same procfs mount: an over-mounted /proc or a
 * bind onto a sysctl file cannot redirect the write (CVE-2019-19921,
 * CVE-2025-52881). */
static int open_sysctl(int rootfd, const char *key, struct hutch_error **err)
{
	_cleanup_close_ int cur =
	    hutch_path_open_in_root(rootfd, "/proc/sys", O_PATH | O_DIRECTORY, err);
	_cleanup_free_ char *rel = strdup(key);
	char *save = NULL, *comp, *next;
	uint64_t mnt = 0;

	if (cur < 0)
		return -1;
	if (rel == NULL)
		return hutch_error_set(err, ENOMEM, "sysctl %s", key);
	if (strchr(rel, '/') == NULL)
		for (char *p = rel; *p; p++)
			if (*p == '.')
				*p = '/';
	if (mount_id(cur, &mnt) < 0)
		mnt = 0;
	if (check_proc_fd(cur, 0, "/proc/sys", err) < 0)
		return -1;
	comp = strtok_r(rel, "/", &save);
	while (comp != NULL) {
		int fd;
		next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
			return hutch_error_set(err, EINVAL, "linux.sysctl: bad key \"%s\"", key);
		fd = openat(cur, comp,
			    (next ? O_PATH | O_DIRECTORY : O_WRONLY | O_NOCTTY) | O_NOFOLLOW |
				O_CLOEXEC);
		if (fd < 0)
			return hutch_error_errno(err, "open /proc/sys/%s", key);
		close(cur);
		cur = fd;
		if (check_proc_fd(cur, mnt, key, err) < 0)
			return -1;
		if (next == NULL)
			return steal_fd(cur);
		comp = next;
	}
	return hutch_error_set(err, EINVAL, "linux.sysctl: bad key \"%s\"", key);
}

static int write_sysctls(const struct ctx *c, struct hutch_error **err)
{
	const struct hutch_linux *l = &c->spec->linux_;

	for (size_t i = 0; i < l->n_sysctl; i++) {
		const struct hutch_kv *kv = &l->sysctl[i];
		_cleanup_close_ int fd = -1;

		if (sysctl_check(c->spec, kv->key, err) < 0)
			return -1;
		fd = open_sysctl(c->rootfd, kv->key, err);
		if (fd < 0)
			return hutch_error_prefix(err, "linux.sysctl \"%s\"", kv->key);
		hutch_debug("sysctl %s = %s", kv->key, kv->value);
		if (hutch_write_all(fd, kv->value, strlen(kv->value)) < 0)
			return hutch_error_errno(err, "linux.sysctl: write \"%s\" to %s", kv->value,
						 kv->key);
	}
	return 0;
}

int hutch_rootfs_finish(const struct hutch_spec *spec, struct hutch_error **err)
{
	_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct ctx c = {.spec = spec, .rootfd = rootfd};
	unsigned long rp = hutch_mount_propagation_flags(spec->linux_.rootfs_propagation);

	if (rootfd < 0)
		return hutch_error_errno(err, "open /");
	/* sysctls first: readonlyPaths usually include /proc/sys */
	if (write_sysctls(&c, err) < 0)
		return -1;
	if (readonly_paths(&c, spec->linux_.readonly_paths, err) < 0)
		return -1;
	if (mask_paths(&c, spec->linux_.masked_paths, err) < 0)
		return -1;
	if (spec->root_readonly) {
		struct hutch_mount_plan p = {.flags = MS_RDONLY};
		struct statfs sfs;
		if (statfs("/", &sfs) < 0)
			return hutch_error_errno(err, "statfs /");
		struct mnt m = {.target = "/",
				.dest = "/",
				.src_name = "root",
				.flags = MS_BIND | MS_REMOUNT | MS_RDONLY |
					 hutch_mount_locked_flags(&p, (unsigned long)sfs.f_flags)};
		if (xmount(&c, &m, err) < 0)
			return hutch_error_prefix(err, "root.readonly");
	}
	if (rp != 0) {
		struct mnt m = {.target = "/", .dest = "/", .flags = rp};
		if (xmount(&c, &m, err) < 0)
			return hutch_error_prefix(err, "rootfsPropagation");
	}
	return 0;
}

int hutch_rootfs_bind_console(const char *slave_path, struct hutch_error **err)
{
	_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int devfd = -1, dst = -1, src = -1;
	struct ctx c = {.rootfd = rootfd};
	struct stat st;
	char t[32], s[32];

	if (rootfd < 0)
		return hutch_error_errno(err, "open /");
	devfd = hutch_path_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, err);
	if (devfd < 0)
		return hutch_error_prefix(err, "console");
	if (fstatat(devfd, "console", &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* CVE-2025-52565: never mount through a /dev/console symlink */
		if (S_ISDIR(st.st_mode))
			return hutch_error_set(err, EISDIR, "console: /dev/console is a directory");
		if (S_ISLNK(st.st_mode) && unlinkat(devfd, "console", 0) < 0)
			return hutch_error_errno(err, "console: remove /dev/console");
	}
	dst = openat(devfd, "console",
		     O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
	if (dst < 0 && errno != EEXIST)
		return hutch_error_errno(err, "console: create /dev/console");
	if (dst >= 0)
		close(dst);
	dst = openat(devfd, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0 || fstat(dst, &st) < 0)
		return hutch_error_errno(err, "console: open /dev/console");
	if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode))
		return hutch_error_set(err, ELOOP, "console: /dev/console changed under us");
	src = hutch_path_open_in_root(rootfd, slave_path, O_PATH, err);
	if (src < 0)
		return hutch_error_prefix(err, "console");
	if (fstat(src, &st) < 0 || !S_ISCHR(st.st_mode))
		return hutch_error_set(err, ENOTTY, "console: %s is not a terminal", slave_path);
	struct mnt m = {.src = hutch_fd_path(src, s, sizeof(s)),
			.src_name = slave_path,
			.target = hutch_fd_path(dst, t, sizeof(t)),
			.dest = "/dev/console",
			.flags = MS_BIND};
	return xmount(&c, &m, err);
}

int hutch_rootfs_chdir(const char *cwd, struct hutch_error **err)
{
	char buf[PATH_MAX];
	long n;

	if (chdir(cwd) < 0)
		return hutch_error_errno(err, "chdir to %s", cwd);
	/* CVE-2024-21626: "/proc/self/fd/N" of an fd hutch inherited (or still
	 * holds) would put the process in a host directory.  The kernel's
	 * getcwd says "(unreachable)/..." for a directory outside our root. */
	n = syscall(SYS_getcwd, buf, sizeof(buf));
	if (n < 0)
		return hutch_error_errno(err, "getcwd after chdir to %s", cwd);
	if (buf[0] != '/')
		return hutch_error_set(err, EPERM, "%s leads outside the container's root", cwd);
	return 0;
}

/* ---- idmapped mounts prepared by the parent -------------------------------- */

static int ensure_trees(const struct hutch_spec *spec, int **out, struct hutch_error **err)
{
	if (*out != NULL)
		return 0;
	*out = malloc(spec->n_mounts * sizeof(int));
	if (*out == NULL)
		return hutch_error_set(err, ENOMEM, "mount trees");
	for (size_t k = 0; k < spec->n_mounts; k++)
		(*out)[k] = -1;
	return 0;
}

int hutch_rootfs_prepare_trees(const struct hutch_spec *spec, const char *bundle, int **trees,
			       struct hutch_error **err)
{
	const struct hutch_linux *l = &spec->linux_;
	int *out = NULL;

	*trees = NULL;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct hutch_mount *hm = &spec->mounts[i];
		__attribute__((cleanup(hutch_mount_plan_clear))) struct hutch_mount_plan p = {0};
		_cleanup_free_ char *src = NULL;
		_cleanup_close_ int userns = -1;
		bool own = hm->n_uid_mappings > 0 && hm->n_gid_mappings > 0;

		if (hutch_mount_plan_parse(hm->options, &p, err) < 0)
			goto fail;
		if (hm->runtime_tree && !p.idmap && hm->source != NULL) {
			/* hutch's own bind: a detached clone the init attaches.
			 * None where the kernel lacks open_tree, or for a
			 * caller without the privilege (rootless: the state is
			 * the caller's own, so the init can bind the path). */
			if (ensure_trees(spec, &out, err) < 0)
				goto fail;
			out[i] = (int)syscall(SYS_open_tree, AT_FDCWD, hm->source,
					      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
			if (out[i] < 0 && errno != ENOSYS && errno != EPERM) {
				hutch_error_errno(err, "mount %s on %s: open_tree", hm->source,
						  hm->destination);
				goto fail;
			}
			continue;
		}
		if (!p.idmap)
			continue;
		if (!(p.is_bind || is_type(hm->type, "bind")) || hm->source == NULL) {
			hutch_error_set(err, ENOTSUP,
					"mount %s: idmap and ridmap apply to bind mounts",
					hm->destination);
			goto fail;
		}
		if (!own && (l->n_uid_mappings == 0 || l->n_gid_mappings == 0)) {
			hutch_error_set(err, EINVAL,
					"mount %s: idmap needs the mount's uidMappings and "
					"gidMappings, or a user namespace with mappings",
					hm->destination);
			goto fail;
		}
		if (ensure_trees(spec, &out, err) < 0)
			goto fail;
		if (hm->source[0] == '/' || bundle == NULL)
			src = strdup(hm->source);
		else if (asprintf(&src, "%s/%s", bundle, hm->source) < 0)
			src = NULL;
		if (src == NULL) {
			hutch_error_set(err, ENOMEM, "idmap");
			goto fail;
		}
		userns = own ? hutch_idmap_userns_fd(hm->uid_mappings, hm->n_uid_mappings,
						     hm->gid_mappings, hm->n_gid_mappings, err)
			     : hutch_idmap_userns_fd(l->uid_mappings, l->n_uid_mappings,
						     l->gid_mappings, l->n_gid_mappings, err);
		if (userns >= 0)
			out[i] = hutch_idmap_clone(src, p.is_rbind || p.idmap_recursive,
						   p.idmap_recursive, userns, err);
		if (userns < 0 || out[i] < 0) {
			hutch_error_prefix(err, "mount %s on %s", src, hm->destination);
			goto fail;
		}
	}
	*trees = out;
	return 0;
fail:
	hutch_rootfs_release_trees(spec, &out);
	return -1;
}

void hutch_rootfs_release_trees(const struct hutch_spec *spec, int **trees)
{
	if (*trees == NULL)
		return;
	for (size_t i = 0; i < spec->n_mounts; i++)
		if ((*trees)[i] >= 0)
			close((*trees)[i]);
	free(*trees);
	*trees = NULL;
}
