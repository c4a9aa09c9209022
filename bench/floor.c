/* floor: the least a container runtime has to ask of the kernel for the
 * benchmark's container, with nothing else around it.  It is the "floor"
 * row of bench/: every runtime's overhead is measured against it.
 *
 * It is NOT a runtime: no config.json, no state, no hooks, no seccomp, no
 * capabilities, masked paths or device cgroup.  It does what the bench
 * config asks of the kernel:
 *
 *   cgroup v1 memory + pids: mkdir, write the limits, the child joins
 *   (writing "0" to the tasks files), rmdir
 *   clone(CLONE_NEWNS|NEWPID|NEWIPC|NEWUTS[|NEWNET])
 *   mounts: rootfs bind (read-only), /proc, /dev tmpfs + 6 device nodes,
 *           /dev/pts, /dev/shm, /dev/mqueue, /sys (sysfs ro, or rbind
 *           without a network namespace)
 *   sethostname, pivot_root, execve, wait
 *
 * Usage:
 *   floor run [--nonet] [--mem BYTES] [--pids N] [--pid-file F]
 *             CGROUP ROOTFS PROG [ARGS...]
 *       run PROG in a new container; CGROUP is the path below
 *       /sys/fs/cgroup/{memory,pids}; exit status is the container's.
 *   floor exec PID CGROUP PROG [ARGS...]
 *       join the namespaces of PID and the cgroup, fork, exec PROG, wait.
 *
 * Build: gcc -O2 -o floor floor.c
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define CG "/sys/fs/cgroup"

static void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;
	fprintf(stderr, "floor: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(e));
	_exit(125);
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", path);
	if (write(fd, val, strlen(val)) < 0)
		die("write %s to %s", val, path);
	close(fd);
}

static void cg_path(char *buf, size_t n, const char *ctrl, const char *cg, const char *file)
{
	snprintf(buf, n, CG "/%s/%s%s%s", ctrl, cg, file ? "/" : "", file ? file : "");
}

/* mkdir -p below the controller's root (the parent may not exist yet). */
static void cg_mkdir(const char *ctrl, const char *cg)
{
	char path[4096];
	cg_path(path, sizeof(path), ctrl, cg, NULL);
	for (char *p = path + strlen(CG) + 1 + strlen(ctrl) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			die("mkdir %s", path);
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("mkdir %s", path);
}

/* The cheapest join the kernel offers: a single-threaded process writes
 * "0" to each hierarchy's tasks file itself (no global threadgroup lock,
 * whose first writer waits an RCU grace period).  The files are opened
 * first, so a child can write them from any namespace. */
static void cg_open_tasks(const char *cg, int fds[2])
{
	char path[4096];
	cg_path(path, sizeof(path), "memory", cg, "tasks");
	if ((fds[0] = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		die("open %s", path);
	cg_path(path, sizeof(path), "pids", cg, "tasks");
	if ((fds[1] = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		die("open %s", path);
}

static void cg_join_self(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (write(fds[i], "0", 1) != 1)
			die("join cgroup");
		close(fds[i]);
	}
}

static void cg_rmdir(const char *cg)
{
	char path[4096];
	cg_path(path, sizeof(path), "memory", cg, NULL);
	rmdir(path);
	cg_path(path, sizeof(path), "pids", cg, NULL);
	rmdir(path);
}

struct child_args {
	const char *rootfs;
	int nonet;
	int sync_fd;  /* read end: parent closes its end once the cgroup is set */
	int sync_wfd; /* write end, closed here at once */
	int cg_fds[2];
	char **argv;
};

static void mnt(const char *src, const char *dst, const char *type, unsigned long flags,
		const char *data)
{
	if (mount(src, dst, type, flags, data) < 0)
		die("mount %s on %s", type ? type : src, dst);
}

static int child_main(void *arg)
{
	struct child_args *a = arg;
	char c;

	/* into the cgroup first, then wait for the parent's go */
	cg_join_self(a->cg_fds);
	close(a->sync_wfd);
	if (read(a->sync_fd, &c, 1) < 0)
		die("sync read");
	close(a->sync_fd);

	mnt(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	mnt(a->rootfs, a->rootfs, NULL, MS_BIND | MS_REC, NULL);
	if (chdir(a->rootfs) < 0)
		die("chdir %s", a->rootfs);

	unsigned long nse = MS_NOSUID | MS_NOEXEC | MS_NODEV;
	mnt("proc", "proc", "proc", nse, NULL);
	mnt("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
	static const struct {
		const char *name;
		unsigned maj, min;
	} devs[] = {{"dev/null", 1, 3},	  {"dev/zero", 1, 5},	 {"dev/full", 1, 7},
		    {"dev/random", 1, 8}, {"dev/urandom", 1, 9}, {"dev/tty", 5, 0}};
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
		if (mknod(devs[i].name, S_IFCHR | 0666, makedev(devs[i].maj, devs[i].min)) < 0)
			die("mknod %s", devs[i].name);
	if (symlink("/proc/self/fd", "dev/fd") < 0 || symlink("/proc/self/fd/0", "dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", "dev/stdout") < 0 ||
	    symlink("/proc/self/fd/2", "dev/stderr") < 0 || symlink("pts/ptmx", "dev/ptmx") < 0)
		die("symlink in /dev");
	if (mkdir("dev/pts", 0755) < 0 || mkdir("dev/shm", 0755) < 0 ||
	    mkdir("dev/mqueue", 0755) < 0)
		die("mkdir in /dev");
	mnt("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	    "newinstance,ptmxmode=0666,mode=0620,gid=5");
	mnt("shm", "dev/shm", "tmpfs", nse, "mode=1777,size=65536k");
	mnt("mqueue", "dev/mqueue", "mqueue", nse, NULL);
	if (a->nonet)
		mnt("/sys", "sys", NULL, MS_BIND | MS_REC, NULL);
	else
		mnt("sysfs", "sys", "sysfs", nse | MS_RDONLY, NULL);

	if (sethostname("floor", 5) < 0)
		die("sethostname");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		die("umount old root");
	if (chdir("/") < 0)
		die("chdir /");
	/* the config's root.readonly */
	mnt(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC, NULL);

	execv(a->argv[0], a->argv);
	die("exec %s", a->argv[0]);
	return 125;
}

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 125;
}

static int cmd_run(int argc, char **argv)
{
	int nonet = 0;
	const char *mem = NULL, *pids = NULL, *pid_file = NULL;
	int i = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--nonet"))
			nonet = 1;
		else if (!strcmp(argv[i], "--mem") && i + 1 < argc)
			mem = argv[++i];
		else if (!strcmp(argv[i], "--pids") && i + 1 < argc)
			pids = argv[++i];
		else if (!strcmp(argv[i], "--pid-file") && i + 1 < argc)
			pid_file = argv[++i];
		else {
			fprintf(stderr, "floor: bad option %s\n", argv[i]);
			return 125;
		}
	}
	if (argc - i < 3) {
		fprintf(stderr, "floor run: need CGROUP ROOTFS PROG\n");
		return 125;
	}
	const char *cg = argv[i], *rootfs = argv[i + 1];
	char path[4096];

	cg_mkdir("memory", cg);
	cg_mkdir("pids", cg);
	if (mem) {
		cg_path(path, sizeof(path), "memory", cg, "memory.limit_in_bytes");
		write_file(path, mem);
	}
	if (pids) {
		cg_path(path, sizeof(path), "pids", cg, "pids.max");
		write_file(path, pids);
	}

	int sync[2];
	if (pipe2(sync, O_CLOEXEC) < 0)
		die("pipe");
	struct child_args a = {.rootfs = rootfs,
			       .nonet = nonet,
			       .sync_fd = sync[0],
			       .sync_wfd = sync[1],
			       .argv = argv + i + 2};
	cg_open_tasks(cg, a.cg_fds);
	static char stack[256 * 1024] __attribute__((aligned(16)));
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
	if (!nonet)
		flags |= CLONE_NEWNET;
	pid_t pid = clone(child_main, stack + sizeof(stack), flags, &a);
	if (pid < 0)
		die("clone");
	close(sync[0]);
	close(a.cg_fds[0]);
	close(a.cg_fds[1]);
	close(sync[1]); /* child's read returns 0: go */
	if (pid_file) {
		FILE *f = fopen(pid_file, "we");
		if (!f)
			die("open %s", pid_file);
		fprintf(f, "%d", (int)pid);
		fclose(f);
	}

	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	cg_rmdir(cg);
	return status_code(st);
}

static int cmd_exec(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "floor exec: need PID CGROUP PROG\n");
		return 125;
	}
	const char *pid = argv[0], *cg = argv[1];
	static const char *const ns[] = {"ipc", "uts", "net", "pid", "mnt"};
	int fds[5];
	char path[4096];
	/* open all first: after joining mnt, /proc is the container's */
	for (int i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/proc/%s/ns/%s", pid, ns[i]);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			die("open %s", path);
	}
	int cg_fds[2];
	cg_open_tasks(cg, cg_fds);
	cg_join_self(cg_fds);
	for (int i = 0; i < 5; i++) {
		if (setns(fds[i], 0) < 0)
			die("setns %s", ns[i]);
		close(fds[i]);
	}
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		if (chdir("/") < 0)
			die("chdir /");
		execv(argv[2], argv + 2);
		die("exec %s", argv[2]);
	}
	int st;
	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	return status_code(st);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "exec"))
		return cmd_exec(argc - 2, argv + 2);
	fprintf(stderr, "usage: floor run|exec ...  (see the comment in bench/floor.c)\n");
	return 125;
}
