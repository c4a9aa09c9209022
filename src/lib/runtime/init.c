#include "init.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "hooks.h"
#include "linux/exeguard.h"
#include "linux/process.h"
#include "linux/rootfs.h"
#include "linux/security.h"
#include "linux/terminal.h"
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

__attribute__((noreturn)) static void fail(int sock, struct hutch_error *e)
{
	hutch_sync_send_error(sock, e);
	_exit(1);
}

/* Become root of a new user namespace once the parent wrote the maps. */
static int become_ns_root(struct hutch_error **err)
{
	if (setresgid(0, 0, 0) < 0)
		return hutch_error_errno(err, "setresgid(0) in the user namespace");
	if (setresuid(0, 0, 0) < 0)
		return hutch_error_errno(err, "setresuid(0) in the user namespace");
	return 0;
}

static int enter_namespaces(struct hutch_init_args *a, struct hutch_error **err)
{
	const struct hutch_ns_plan *p = &a->plan;
	struct hutch_sync_msg msg;

	if ((p->clone_flags & CLONE_NEWUSER) && become_ns_root(err) < 0)
		return -1;
	if (hutch_ns_join(p, a->ns_fds, err) < 0)
		return -1;
	/* Joined a user namespace: our host uid means nothing there until we
	 * switch to its root (files we create would be EOVERFLOW). */
	if (a->ns_fds[HUTCH_NS_USER] >= 0 && become_ns_root(err) < 0)
		return -1;
	for (int t = 0; t < HUTCH_NS__COUNT; t++)
		hutch_closep(&a->ns_fds[t]);
	if (p->unshare_user) {
		if (unshare(CLONE_NEWUSER) < 0)
			return hutch_error_errno(err, "unshare the user namespace");
		if (hutch_sync_send(a->sync, HUTCH_SYNC_USERNS, NULL, 0, -1, err) < 0 ||
		    hutch_sync_recv(a->sync, HUTCH_SYNC_MAPPED, &msg, err) < 0)
			return -1;
		hutch_sync_msg_clear(&msg);
		if (become_ns_root(err) < 0)
			return -1;
	}
	if (p->unshare_flags != 0 && unshare((int)p->unshare_flags) < 0)
		return hutch_error_errno(err, "unshare namespaces (flags 0x%lx)", p->unshare_flags);
	if (p->unshare_cgroup && unshare(CLONE_NEWCGROUP) < 0)
		return hutch_error_errno(err, "unshare the cgroup namespace");
	if (p->unshare_time) {
		_cleanup_free_ char *offsets = hutch_ns_format_time_offsets(&a->spec->linux_);
		if (unshare(CLONE_NEWTIME) < 0)
			return hutch_error_errno(err, "unshare the time namespace");
		if (offsets != NULL && offsets[0] != '\0' &&
		    hutch_write_file("/proc/self/timens_offsets", offsets, strlen(offsets), err) <
			0)
			return hutch_error_prefix(err, "linux.timeOffsets");
	}
	return 0;
}

static int set_names(const struct hutch_spec *s, struct hutch_error **err)
{
	if (s->hostname != NULL && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return hutch_error_errno(err, "hostname: sethostname(\"%s\")", s->hostname);
	if (s->domainname != NULL && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return hutch_error_errno(err, "domainname: setdomainname(\"%s\")", s->domainname);
	return 0;
}

/* A filter with SCMP_ACT_NOTIFY is loaded now, while the parent is still
 * there to pass the listener fd on (see seccomp.h); no_new_privs first when
 * asked, as the kernel would otherwise want CAP_SYS_ADMIN later. */
static int load_notify_filter(struct hutch_init_args *a, struct hutch_error **err)
{
	_cleanup_close_ int fd = -1;

	if (!a->seccomp.notify)
		return 0;
	if (hutch_process_no_new_privs(&a->spec->process, err) < 0)
		return -1;
	fd = hutch_seccomp_load_listener(&a->seccomp, err);
	if (fd < 0)
		return -1;
	return hutch_sync_send(a->sync, HUTCH_SYNC_SECCOMP, NULL, 0, fd, err);
}

/* The container's program, opened and checked by the exe guard. */
static struct hutch_exeguard_prog program = {.fd = -1};
/* early_bounding_drop() did it: not again before the user switch. */
static bool bounding_dropped;

/* Before pivot_root: mounts, then the runtime's hooks (run by the parent),
 * then createContainer hooks here.  After: the rest of the environment. */
static int setup_container(struct hutch_init_args *a, int *console_slave, char **exe,
			   struct hutch_error **err)
{
	const struct hutch_spec *s = a->spec;
	struct hutch_rootfs_opts ro = {
	    .rootfs = a->rootfs,
	    .bundle = a->bundle,
	    .no_pivot = a->no_pivot,
	    .in_userns = a->plan.new_user || s->linux_.namespaces[HUTCH_NS_USER].path != NULL,
	    .prepared_trees = a->prepared_trees,
	    .cgroups = a->cgroups,
	    .n_cgroups = a->n_cgroups};
	struct hutch_sync_msg msg;

	if (hutch_rootfs_setup(s, &ro, err) < 0)
		return -1;
	if (hutch_sync_send(a->sync, HUTCH_SYNC_MOUNTED, NULL, 0, -1, err) < 0 ||
	    hutch_sync_recv(a->sync, HUTCH_SYNC_HOOKS, &msg, err) < 0)
		return -1;
	a->state_json = steal_ptr(msg.payload);
	hutch_sync_msg_clear(&msg);
	if (hutch_hooks_run(&s->hooks[HUTCH_HOOK_CREATE_CONTAINER], "createContainer",
			    a->state_json, err) < 0)
		return -1;
	if (hutch_rootfs_pivot(&ro, err) < 0)
		return -1;
	/* The console before hutch_rootfs_finish: an runbindable rootfs
	 * propagation would refuse the bind of the pty afterwards. */
	if (s->process.terminal) {
		char name[64];
		_cleanup_close_ int master = -1;
		if (hutch_terminal_open(&s->process, &master, console_slave, name, sizeof(name),
					err) < 0 ||
		    hutch_rootfs_bind_console(name, err) < 0)
			return -1;
		if (hutch_sync_send(a->sync, HUTCH_SYNC_CONSOLE, name, strlen(name), master, err) <
		    0)
			return -1;
	}
	if (hutch_rootfs_finish(s, err) < 0 || set_names(s, err) < 0)
		return -1;
	if (s->linux_.namespaces[HUTCH_NS_NETWORK].present &&
	    s->linux_.namespaces[HUTCH_NS_NETWORK].path == NULL && hutch_ns_loopback_up(err) < 0)
		return -1;
	if (hutch_rootfs_chdir(s->process.cwd != NULL ? s->process.cwd : "/", err) < 0)
		return hutch_error_prefix(err, "process.cwd");
	/* No process: the container can be created (and hooked, inspected,
	 * deleted) but `start` refuses it, as runtime.md says. */
	if (s->has_process && (*exe = hutch_process_find_exe(&s->process, err)) == NULL)
		return -1;
	/* CVE-2019-5736: open and check the program now, before any filter */
	if (s->has_process &&
	    hutch_exeguard_prepare(*exe, s->process.args, 3 + a->preserve_fds, &program, err) < 0)
		return -1;
	if (hutch_process_set_rlimits(&s->process, err) < 0 ||
	    hutch_process_set_oom_score_adj(&s->process, err) < 0 ||
	    hutch_process_set_memory_policy(&s->linux_, err) < 0)
		return -1;
	if (!a->no_new_keyring)
		hutch_process_new_keyring(a->id);
	if (s->process.user.has_umask)
		umask((mode_t)s->process.user.umask);
	else
		umask(022);
	return load_notify_filter(a, err);
}

/* Block until `hutch start` opens the fifo for reading.  The write end stays
 * open (close-on-exec) so start sees EOF exactly when execve succeeded, or
 * reads our error text when it did not. */
static int wait_for_start(struct hutch_init_args *a, struct hutch_error **err)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", a->fifo_fd);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return hutch_error_errno(err, "open the exec fifo (is /proc mounted?)");
	hutch_closep(&a->fifo_fd);
	return fd;
}

__attribute__((noreturn)) static void start_process(struct hutch_init_args *a, int fifo,
						    int console_slave, const char *exe)
{
	const struct hutch_spec *s = a->spec;
	_cleanup_error_ struct hutch_error *err = NULL;
	_cleanup_free_ char *text = NULL;

	if (hutch_hooks_run(&s->hooks[HUTCH_HOOK_START_CONTAINER], "startContainer",
			    a->state_json != NULL ? a->state_json : "{}", &err) < 0)
		goto fail;
	if (console_slave >= 0) {
		if (hutch_terminal_attach(console_slave, &err) < 0)
			goto fail;
		if (console_slave > 2)
			close(console_slave);
	}
	/* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
	 * while we still have it.  With no_new_privs, load it last, so the
	 * filter never sees hutch's own setup syscalls. */
	if (!s->process.no_new_privileges && !a->seccomp.notify &&
	    hutch_seccomp_load(&a->seccomp, &err) < 0)
		goto fail;
	/* Real-time policies and personality need the privileges the user
	 * switch drops. */
	if (hutch_process_set_scheduler(&s->process, &err) < 0 ||
	    hutch_process_set_io_priority(&s->process, &err) < 0 ||
	    hutch_process_set_personality(&s->linux_, &err) < 0)
		goto fail;
	if ((!bounding_dropped && hutch_process_drop_bounding(&s->process, &err) < 0) ||
	    hutch_process_switch_user(&s->process, &err) < 0 ||
	    hutch_process_no_new_privs(&s->process, &err) < 0)
		goto fail;
	/* Nothing of hutch's may reach the container process (CVE-2024-21626):
	 * every fd past stdio and the preserved ones closes at execve. */
	if (syscall(SYS_close_range, 3 + a->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = 3 + a->preserve_fds; fd < 65536; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	for (int fd = 3; fd < 3 + a->preserve_fds; fd++)
		fcntl(fd, F_SETFD, 0);
	if (hutch_process_set_cpu_affinity(s->process.exec_cpu_affinity_final,
					   "process.execCPUAffinity.final", &err) < 0 ||
	    hutch_security_set_exec_labels(&s->process, &err) < 0)
		goto fail;
	if (s->process.no_new_privileges && !a->seccomp.notify &&
	    hutch_seccomp_load(&a->seccomp, &err) < 0)
		goto fail;
	hutch_exeguard_exec(&program, exe,
			    s->process.env != NULL ? s->process.env : (char *[]){NULL}, &err);
fail:
	text = strdup(hutch_error_text(err));
	if (text != NULL)
		hutch_write_all(fifo, text, strlen(text));
	_exit(127);
}

/* The bounding set can shrink before the cgroup join: it changes no
 * capability we use (those are the effective set), only what a later
 * execve may gain, and every drop leaves a copy of the credentials for RCU
 * to free, which would otherwise count against the container's memory
 * limit as it starts.  Not with a user namespace (a new one starts with a
 * full bounding set again), nor when hooks run from here: they keep the
 * runtime's capabilities until the container's are applied. */
static int early_bounding_drop(struct hutch_init_args *a, struct hutch_error **err)
{
	const struct hutch_spec *s = a->spec;

	if (a->plan.new_user || s->linux_.namespaces[HUTCH_NS_USER].path != NULL ||
	    s->hooks[HUTCH_HOOK_CREATE_CONTAINER].n > 0 ||
	    s->hooks[HUTCH_HOOK_START_CONTAINER].n > 0)
		return 0;
	if (hutch_process_drop_bounding(&s->process, err) < 0)
		return -1;
	bounding_dropped = true;
	return 0;
}

void hutch_init_main(struct hutch_init_args *a)
{
	_cleanup_error_ struct hutch_error *err = NULL;
	struct hutch_sync_msg msg;
	_cleanup_free_ char *exe = NULL;
	int console_slave = -1, fifo;

	/* No PDEATHSIG: if the parent dies, every receive below sees EOF and
	 * we exit; after READY the container must outlive `hutch create`. */
	if (hutch_sync_recv(a->sync, HUTCH_SYNC_GO, &msg, &err) < 0)
		_exit(1);
	hutch_sync_msg_clear(&msg);
	if (early_bounding_drop(a, &err) < 0)
		fail(a->sync, err);
	/* Into the container's cgroup first: its limits cover all that follows. */
	if (a->cg_join != NULL && hutch_cgroup_join_self(a->cg_join, &err) < 0)
		fail(a->sync, err);
	if (hutch_process_set_cpu_affinity(a->spec->process.exec_cpu_affinity_initial,
					   "process.execCPUAffinity.initial", &err) < 0)
		fail(a->sync, err);
	/* CVE-2019-5736 (exeguard.h): know our binary before any namespace;
	 * non-dumpable once in the container's (after the id maps). */
	if (hutch_exeguard_remember(&err) < 0 || enter_namespaces(a, &err) < 0 ||
	    hutch_exeguard_seal(&err) < 0)
		fail(a->sync, err);
	if (a->plan.second_fork) {
		/* The init waits (EOF on GATE) until PID is sent: its own
		 * messages (MOUNTED, ERROR) must not overtake it. */
		int gate[2];
		char c;
		pid_t pid = -1;
		if (pipe2(gate, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
			hutch_error_errno(&err, "fork the container init");
			fail(a->sync, err);
		}
		if (pid > 0) {
			char buf[32];
			int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
			close(gate[0]);
			hutch_sync_send(a->sync, HUTCH_SYNC_PID, buf, (size_t)n, -1, NULL);
			_exit(0);
		}
		close(gate[1]);
		while (read(gate[0], &c, 1) < 0 && errno == EINTR)
			;
		close(gate[0]);
	} else {
		if (hutch_sync_send(a->sync, HUTCH_SYNC_PID, "0", 1, -1, &err) < 0)
			_exit(1);
	}
	if (setup_container(a, &console_slave, &exe, &err) < 0)
		fail(a->sync, err);
	/* The pty becomes our stdio now, before the wait for `start`, as in
	 * runc: containerd's shim reads `create`'s stdout until EOF, and with
	 * a terminal it only gets it once we let go of the caller's stdio. */
	if (console_slave >= 0) {
		if (hutch_terminal_attach(console_slave, &err) < 0)
			fail(a->sync, err);
		if (console_slave > 2)
			close(console_slave);
		console_slave = -1;
	}
	if (hutch_sync_send(a->sync, HUTCH_SYNC_READY, NULL, 0, -1, &err) < 0)
		_exit(1);
	hutch_closep(&a->sync);
	fifo = wait_for_start(a, &err);
	if (fifo < 0) {
		hutch_log_error(err);
		_exit(127);
	}
	start_process(a, fifo, console_slave, exe);
}
