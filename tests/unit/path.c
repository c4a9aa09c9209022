/* Resolution inside a root: hostile symlinks must stay inside, with openat2
 * and with the userspace fallback. */
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/path.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static char outside[64];
static int rootfd = -1;

static void mk_file(const char *dir, const char *name, const char *content)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, content, strlen(content)) < 0)
			perror("write");
		close(fd);
	}
}

static void mk_link(const char *target, const char *name)
{
	if (symlinkat(target, rootfd, name) < 0)
		perror(name);
}

static void setup(void)
{
	strcpy(root, "/tmp/hutch-path-XXXXXX");
	strcpy(outside, "/tmp/hutch-out-XXXXXX");
	if (mkdtemp(root) == NULL || mkdtemp(outside) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	mkdirat(rootfd, "etc", 0755);
	mkdirat(rootfd, "a", 0755);
	mkdirat(rootfd, "a/b", 0755);
	{
		char etc[128];
		snprintf(etc, sizeof(etc), "%s/etc", root);
		mk_file(etc, "passwd", "inside\n");
	}
	mk_file(root, "top", "top\n");
	mk_file(outside, "secret", "outside\n");
	/* hostile links */
	mk_link("/etc", "abs_etc");
	mk_link("../../../../../../..", "dotdot");
	{
		char t[128];
		snprintf(t, sizeof(t), "../../../../../../..%s", outside);
		mk_link(t, "a/b/escape");
		mk_link(outside, "abs_out");
	}
	mk_link("loop2", "loop1");
	mk_link("loop1", "loop2");
	mk_link("self", "self");
	mk_link("/proc/self/root", "magic");
	mk_link("a/b/../../top", "rel_top");
	mk_link("/missing/dir", "dangling");
	mk_link("/newfile", "dangling_file");
}

static char *read_in_root(const char *path, int *err_out)
{
	_cleanup_error_ struct hutch_error *err = NULL;
	_cleanup_close_ int fd = hutch_path_open_in_root(rootfd, path, O_RDONLY, &err);

	*err_out = 0;
	if (fd < 0) {
		*err_out = err->code;
		return NULL;
	}
	return hutch_read_fd(fd, 0, NULL, NULL);
}

static void check_all(void)
{
	int e;
	char *s;

	s = read_in_root("/abs_etc/passwd", &e);
	CHECK_STR(s, "inside\n");
	free(s);
	s = read_in_root("dotdot/etc/passwd", &e);
	CHECK_STR(s, "inside\n");
	free(s);
	s = read_in_root("/../../etc/passwd", &e);
	CHECK_STR(s, "inside\n");
	free(s);
	s = read_in_root("a/b/escape/secret", &e);
	CHECK(s == NULL);
	CHECK_INT(e, ENOENT);
	free(s);
	s = read_in_root("abs_out/secret", &e);
	CHECK(s == NULL);
	CHECK_INT(e, ENOENT);
	free(s);
	s = read_in_root("loop1", &e);
	CHECK(s == NULL);
	CHECK_INT(e, ELOOP);
	free(s);
	s = read_in_root("self/x", &e);
	CHECK(s == NULL);
	CHECK_INT(e, ELOOP);
	free(s);
	s = read_in_root("rel_top", &e);
	CHECK_STR(s, "top\n");
	free(s);
	s = read_in_root("a/b/../../../top", &e);
	CHECK_STR(s, "top\n");
	free(s);
	s = read_in_root("top/", &e);
	CHECK(s == NULL);
	CHECK_INT(e, ENOTDIR);
	free(s);
	s = read_in_root("top/x", &e);
	CHECK(s == NULL);
	CHECK_INT(e, ENOTDIR);
	free(s);

	/* a magic link inside the root goes through procfs: refused (it would
	 * name the host root) */
	{
		_cleanup_error_ struct hutch_error *err = NULL;
		int fd = hutch_path_open_in_root(rootfd, "magic/etc", O_PATH, &err);
		CHECK(fd < 0);
		if (fd >= 0)
			close(fd);
	}
	/* the root itself */
	{
		_cleanup_error_ struct hutch_error *err = NULL;
		_cleanup_close_ int fd = hutch_path_open_in_root(rootfd, "/", O_PATH, &err);
		struct stat a, b;
		CHECK(fd >= 0);
		CHECK(fstat(fd, &a) == 0 && fstat(rootfd, &b) == 0 && a.st_ino == b.st_ino);
	}
	/* O_NOFOLLOW on the last component gives the link itself */
	{
		_cleanup_error_ struct hutch_error *err = NULL;
		_cleanup_close_ int fd =
		    hutch_path_open_in_root(rootfd, "abs_etc", O_PATH | O_NOFOLLOW, &err);
		struct stat st;
		CHECK(fd >= 0);
		CHECK(fstat(fd, &st) == 0 && S_ISLNK(st.st_mode));
	}
	/* errors name the path */
	{
		_cleanup_error_ struct hutch_error *err = NULL;
		int fd = hutch_path_open_in_root(rootfd, "/nope/x", O_PATH, &err);
		CHECK(fd < 0);
		CHECK(err != NULL && err->code == ENOENT);
		CHECK_CONTAINS(err ? hutch_error_text(err) : NULL, "/nope/x");
	}
}

static bool exists_outside(const char *rel)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", outside, rel);
	return lstat(p, &st) == 0;
}

static bool exists_inside(const char *rel)
{
	struct stat st;

	return fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void check_mkdir(const char *tag)
{
	_cleanup_error_ struct hutch_error *err = NULL;
	char p[128];
	int fd;
	struct stat st;

	/* a plain nested directory */
	snprintf(p, sizeof(p), "/new-%s/x/y", tag);
	fd = hutch_path_mkdir_in_root(rootfd, p, 0700, true, &err);
	CHECK(fd >= 0);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	if (fd >= 0)
		close(fd);

	/* through an absolute link that points outside on the host */
	snprintf(p, sizeof(p), "abs_out/made-%s", tag);
	fd = hutch_path_mkdir_in_root(rootfd, p, 0755, true, &err);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof(p), "made-%s", tag);
	CHECK(!exists_outside(p));
	{
		char in[256];
		snprintf(in, sizeof(in), "%s/made-%s", outside + 1, tag);
		CHECK(exists_inside(in));
	}

	/* through a relative ../../.. link */
	snprintf(p, sizeof(p), "a/b/escape/rel-%s", tag);
	fd = hutch_path_mkdir_in_root(rootfd, p, 0644, false, &err);
	CHECK(fd >= 0);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode));
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof(p), "rel-%s", tag);
	CHECK(!exists_outside(p));

	/* a dangling absolute link: the target is created inside */
	fd = hutch_path_mkdir_in_root(rootfd, "dangling", 0755, true, &err);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(exists_inside("missing/dir"));
	fd = hutch_path_mkdir_in_root(rootfd, "dangling_file", 0600, false, &err);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(exists_inside("newfile"));

	/* an existing file where a directory is wanted */
	hutch_error_free(err);
	err = NULL;
	fd = hutch_path_mkdir_in_root(rootfd, "top", 0755, true, &err);
	CHECK(fd < 0);
	CHECK(err != NULL && err->code == ENOTDIR);
	hutch_error_free(err);
	err = NULL;
	fd = hutch_path_mkdir_in_root(rootfd, "loop1/x", 0755, true, &err);
	CHECK(fd < 0);
	CHECK(err != NULL && err->code == ELOOP);
	unlinkat(rootfd, "newfile", 0);
	unlinkat(rootfd, "missing/dir", AT_REMOVEDIR);
}

TEST(openat2)
{
	hutch_path_force_fallback(false);
	check_all();
	check_mkdir("o2");
}

TEST(fallback)
{
	hutch_path_force_fallback(true);
	check_all();
	check_mkdir("fb");
	hutch_path_force_fallback(false);
}

TEST(fd_path)
{
	char buf[32];

	CHECK_STR(hutch_fd_path(7, buf, sizeof(buf)), "/proc/self/fd/7");
}

int main(void)
{
	setup();
	RUN(openat2);
	RUN(fallback);
	RUN(fd_path);
	hutch_rm_rf(root, NULL);
	hutch_rm_rf(outside, NULL);
	return test_summary();
}
