/* exec: a new process in a running container.  It joins every namespace of
 * the container's init (user first), its cgroup, and gets the container's
 * capabilities, rlimits and seccomp filter unless told otherwise.
 *
 * Ladder (P = hutch exec, C = child, G = grandchild when the pid or time
 * namespace is joined, since setns() into those only moves children):
 *   P: clone C [into the cgroup]; [cgroup enter]; GO ->
 *   C: setns all, [fork G]; PID ->
 *   G: [CONSOLE + pty master ->]; process attributes; execve
 *   P: EOF on the socket (close-on-exec) = execve succeeded; ERROR = it did not.
 */
#include "common.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "hutch/hutch.h"
#include "linux/exeguard.h"
#include "linux/ns.h"
#include "linux/process.h"
#include "linux/rootfs.h"
#include "linux/seccomp.h"
#include "linux/security.h"
#include "linux/terminal.h"
#include "relay.h"
#include "spec/model.h"
#include "state/state.h"
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

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct exec_child {
	struct hutch_process *proc;
	const struct hutch_linux *linux_; /* the container's: memoryPolicy */
	int ns_fds[HUTCH_NS__COUNT];
	bool second_fork;
	int sync;
	int preserve_fds;
	struct hutch_seccomp_filter seccomp;
	struct hutch_cgroup_join *cg_join; /* cgroup.h; NULL: no cgroup */
};

static const char *proc_ns_name(int t)
{
	static const char *names[] = {
	    [HUTCH_NS_PID] = "pid",	  [HUTCH_NS_NETWORK] = "net", [HUTCH_NS_MOUNT] = "mnt",
	    [HUTCH_NS_IPC] = "ipc",	  [HUTCH_NS_UTS] = "uts",     [HUTCH_NS_USER] = "user",
	    [HUTCH_NS_CGROUP] = "cgroup", [HUTCH_NS_TIME] = "time"};
	return names[t];
}

/* The container's namespaces, skipping those we already share (a
 * container without a user namespace shares ours, and setns into the
 * namespace one is in fails for user namespaces). */
static int open_container_namespaces(pid_t pid, const struct hutch_linux *l, int fds[],
				     struct hutch_error **err)
{
	for (int t = 0; t < HUTCH_NS__COUNT; t++) {
		char path[64], self[64];
		struct stat a, b;

		fds[t] = -1;
		if (!l->namespaces[t].present)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, proc_ns_name(t));
		snprintf(self, sizeof(self), "/proc/self/ns/%s", proc_ns_name(t));
		if (stat(path, &a) == 0 && stat(self, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			continue;
		fds[t] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[t] < 0)
			return hutch_error_errno(err, "open %s", path);
	}
	return 0;
}

static int join_namespaces(struct exec_child *x, struct hutch_error **err)
{
	/* user first; cgroup last (we are already in the container's cgroup) */
	static const int order[] = {HUTCH_NS_USER, HUTCH_NS_IPC,  HUTCH_NS_UTS,	  HUTCH_NS_NETWORK,
				    HUTCH_NS_PID,  HUTCH_NS_TIME, HUTCH_NS_MOUNT, HUTCH_NS_CGROUP};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int t = order[i];
		if (x->ns_fds[t] < 0)
			continue;
		if (setns(x->ns_fds[t], (int)hutch_ns_clone_flag(t)) < 0)
			return hutch_error_errno(err, "exec: join the container's %s namespace",
						 hutch_ns_name(t));
		hutch_closep(&x->ns_fds[t]);
	}
	return 0;
}

__attribute__((noreturn)) static void exec_child_main(struct exec_child *x)
{
	_cleanup_error_ struct hutch_error *err = NULL;
	struct hutch_sync_msg msg;
	_cleanup_free_ char *exe = NULL;
	struct hutch_exeguard_prog program = {.fd = -1};
	int slave = -1;

	if (hutch_sync_recv(x->sync, HUTCH_SYNC_GO, &msg, &err) < 0)
		_exit(1);
	hutch_sync_msg_clear(&msg);
	/* The bounding set before the cgroup join, as in init.c, unless we
	 * enter a user namespace (whose root starts with a full one). */
	bool bounding_dropped = x->ns_fds[HUTCH_NS_USER] < 0;
	if (bounding_dropped && hutch_process_drop_bounding(x->proc, &err) < 0)
		goto fail;
	if (x->cg_join != NULL && hutch_cgroup_join_self(x->cg_join, &err) < 0)
		goto fail;
	if (hutch_process_set_cpu_affinity(x->proc->exec_cpu_affinity_initial,
					   "process.execCPUAffinity.initial", &err) < 0)
		goto fail;
	/* CVE-2019-5736 (exeguard.h): know our binary before joining, and be
	 * non-dumpable while we are hutch in the container's namespaces. */
	if (hutch_exeguard_remember(&err) < 0 || hutch_exeguard_seal(&err) < 0 ||
	    join_namespaces(x, &err) < 0)
		goto fail;
	if (x->second_fork) {
		/* The grandchild waits (EOF on GATE) until PID is sent: its own
		 * messages (CONSOLE, ERROR) must not overtake it. */
		int gate[2];
		pid_t pid;
		char buf[32];
		if (pipe2(gate, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
			hutch_error_errno(&err, "exec: fork");
			goto fail;
		}
		if (pid > 0) {
			int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
			close(gate[0]);
			hutch_sync_send(x->sync, HUTCH_SYNC_PID, buf, (size_t)n, -1, NULL);
			_exit(0);
		}
		close(gate[1]);
		while (read(gate[0], buf, 1) < 0 && errno == EINTR)
			;
		close(gate[0]);
	} else if (hutch_sync_send(x->sync, HUTCH_SYNC_PID, "0", 1, -1, &err) < 0) {
		_exit(1);
	}
	if (x->proc->terminal) {
		char name[64];
		_cleanup_close_ int master = -1;
		if (hutch_terminal_open(x->proc, &master, &slave, name, sizeof(name), &err) < 0 ||
		    hutch_sync_send(x->sync, HUTCH_SYNC_CONSOLE, name, strlen(name), master, &err) <
			0 ||
		    hutch_terminal_attach(slave, &err) < 0)
			goto fail;
		if (slave > 2)
			close(slave);
	}
	if (hutch_rootfs_chdir(x->proc->cwd != NULL ? x->proc->cwd : "/", &err) < 0) {
		hutch_error_prefix(&err, "exec: cwd");
		goto fail;
	}
	exe = hutch_process_find_exe(x->proc, &err);
	if (exe == NULL ||
	    hutch_exeguard_prepare(exe, x->proc->args, 3 + x->preserve_fds, &program, &err) < 0 ||
	    hutch_process_set_rlimits(x->proc, &err) < 0 ||
	    hutch_process_set_oom_score_adj(x->proc, &err) < 0 ||
	    hutch_process_set_memory_policy(x->linux_, &err) < 0 ||
	    hutch_process_set_scheduler(x->proc, &err) < 0 ||
	    hutch_process_set_io_priority(x->proc, &err) < 0)
		goto fail;
	if (x->proc->user.has_umask)
		umask((mode_t)x->proc->user.umask);
	if (!x->proc->no_new_privileges && hutch_seccomp_load(&x->seccomp, &err) < 0)
		goto fail;
	if ((!bounding_dropped && hutch_process_drop_bounding(x->proc, &err) < 0) ||
	    hutch_process_switch_user(x->proc, &err) < 0 ||
	    hutch_process_no_new_privs(x->proc, &err) < 0)
		goto fail;
	if (x->proc->no_new_privileges && hutch_seccomp_load(&x->seccomp, &err) < 0)
		goto fail;
	/* CVE-2024-21626: nothing of hutch's reaches the process. */
	if (syscall(SYS_close_range, 3 + x->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		for (int fd = 3 + x->preserve_fds; fd < 65536; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	for (int fd = 3; fd < 3 + x->preserve_fds; fd++)
		fcntl(fd, F_SETFD, 0);
	if (hutch_process_set_cpu_affinity(x->proc->exec_cpu_affinity_final,
					   "process.execCPUAffinity.final", &err) < 0 ||
	    hutch_security_set_exec_labels(x->proc, &err) < 0)
		goto fail;
	hutch_exeguard_exec(&program, exe, x->proc->env != NULL ? x->proc->env : (char *[]){NULL},
			    &err);
fail:
	hutch_sync_send_error(x->sync, err);
	_exit(127);
}

/* ---- the process to run ---------------------------------------------------------- */

struct built_process {
	struct hutch_process proc;
	bool owned; /* parsed from a file: free with hutch_process_clear */
	char **env; /* merged env (owned) */
};

static char **merge_env(char **base, char **add)
{
	size_t nb = 0, na = 0, n = 0;
	char **out;

	while (base != NULL && base[nb] != NULL)
		nb++;
	while (add != NULL && add[na] != NULL)
		na++;
	out = calloc(nb + na + 1, sizeof(char *));
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < nb; i++) {
		const char *eq = strchr(base[i], '=');
		size_t klen = eq != NULL ? (size_t)(eq - base[i]) : strlen(base[i]);
		bool replaced = false;
		for (size_t j = 0; j < na; j++)
			if (strncmp(add[j], base[i], klen) == 0 && add[j][klen] == '=')
				replaced = true;
		if (!replaced)
			out[n++] = base[i];
	}
	for (size_t j = 0; j < na; j++)
		out[n++] = add[j];
	return out;
}

static int build_process(const struct hutch_spec *spec, const struct hutch_exec_opts *o,
			 struct built_process *b, struct hutch_error **err)
{
	memset(b, 0, sizeof(*b));
	if (o->process_file != NULL) {
		size_t len;
		_cleanup_free_ char *text = hutch_read_file(o->process_file, 1u << 20, &len, err);
		if (text == NULL)
			return hutch_error_prefix(err, "--process");
		if (hutch_spec_parse_process(text, len, &b->proc, err) < 0)
			return hutch_error_prefix(err, "--process %s", o->process_file);
		b->owned = true;
		return 0;
	}
	if (o->args == NULL || o->args[0] == NULL)
		return hutch_error_set(err, EINVAL, "exec: a command is required");
	b->proc = spec->process; /* borrowed fields, overridden below */
	b->proc.args = o->args;
	b->env = merge_env(spec->process.env, o->env);
	if (b->env == NULL)
		return hutch_error_set(err, ENOMEM, "exec");
	b->proc.env = b->env;
	if (o->cwd != NULL)
		b->proc.cwd = (char *)o->cwd;
	if (o->has_user) {
		b->proc.user.uid = o->uid;
		b->proc.user.gid = o->gid;
		b->proc.user.additional_gids = NULL;
		b->proc.user.n_additional_gids = 0;
	}
	if (o->n_additional_gids > 0) {
		b->proc.user.additional_gids = (gid_t *)o->additional_gids;
		b->proc.user.n_additional_gids = o->n_additional_gids;
	}
	for (char **c = o->add_caps; c != NULL && *c != NULL; c++) {
		int cap = hutch_cap_from_name(*c);
		if (cap < 0)
			return hutch_error_set(err, EINVAL, "--cap: unknown capability \"%s\"", *c);
		b->proc.has_capabilities = true;
		b->proc.capabilities.has_bounding = b->proc.capabilities.has_effective = true;
		b->proc.capabilities.has_permitted = b->proc.capabilities.has_inheritable = true;
		b->proc.capabilities.bounding |= 1ULL << cap;
		b->proc.capabilities.effective |= 1ULL << cap;
		b->proc.capabilities.permitted |= 1ULL << cap;
		b->proc.capabilities.inheritable |= 1ULL << cap;
	}
	if (o->no_new_privs)
		b->proc.no_new_privileges = true;
	b->proc.terminal = o->tty;
	if (o->apparmor != NULL)
		b->proc.apparmor_profile = (char *)o->apparmor;
	if (o->process_label != NULL)
		b->proc.selinux_label = (char *)o->process_label;
	return 0;
}

static void built_process_clear(struct built_process *b)
{
	if (b->owned)
		hutch_process_clear(&b->proc);
	free(b->env);
}

/* ---- the parent ---------------------------------------------------------------- */

static int refuse_unsupported(const struct hutch_exec_opts *o, const struct hutch_process *p,
			      struct hutch_error **err)
{
	/* AppArmor, SELinux label, scheduler...: the same checks as create */
	if (hutch_security_check_process(p, NULL, err) < 0)
		return -1;
	if (p->terminal && o->console_socket == NULL && o->detach)
		return hutch_error_set(err, EINVAL,
				       "exec --detach with a terminal needs --console-socket");
	if (!p->terminal && o->console_socket != NULL)
		return hutch_error_set(err, EINVAL, "--console-socket needs --tty");
	return 0;
}

/* EOF on the sync socket means the process reached execve. */
static int wait_exec(int sock, const struct hutch_exec_opts *o, bool tty, struct hutch_error **err)
{
	struct hutch_sync_msg msg;
	_cleanup_error_ struct hutch_error *e = NULL;

	if (tty) {
		if (hutch_sync_recv(sock, HUTCH_SYNC_CONSOLE, &msg, err) < 0)
			return -1;
		if (hutch_terminal_send(o->console_socket, msg.fd, msg.payload, err) < 0) {
			hutch_sync_msg_clear(&msg);
			return -1;
		}
		hutch_sync_msg_clear(&msg);
	}
	if (hutch_sync_recv(sock, HUTCH_SYNC_READY, &msg, &e) == 0) {
		hutch_sync_msg_clear(&msg);
		return hutch_error_set(err, EPROTO, "exec: unexpected message");
	}
	if (e->code == EPIPE)
		return 0;
	*err = steal_ptr(e);
	return -1;
}

int hutch_container_exec(const struct hutch_context *ctx, const char *id,
			 const struct hutch_exec_opts *o, int *status, struct hutch_error **err)
{
	_cleanup_cgroup_ struct hutch_cgroup *cg = NULL;
	_cleanup_state_ struct hutch_state *st = hutch_rt_load(ctx, id, &cg, err);
	_cleanup_spec_ struct hutch_spec *spec = NULL;
	struct built_process b = {0};
	struct exec_child x = {.sync = -1, .preserve_fds = o->preserve_fds};
	struct hutch_sync_msg msg;
	struct hutch_relay_console con = {.listen_fd = -1};
	struct hutch_exec_opts own;
	int pair[2] = {-1, -1}, rc = -1, master = -1;
	struct hutch_cgroup_join join = {.clone_fd = -1};
	bool into_cgroup = false;
	pid_t child = -1, target = -1;
	long pid;

	*status = 0;
	for (int t = 0; t < HUTCH_NS__COUNT; t++)
		x.ns_fds[t] = -1;
	if (st == NULL)
		return -1;
	if (st->status == HUTCH_STATUS_PAUSED && !o->ignore_paused)
		return hutch_error_set(err, EINVAL,
				       "cannot exec in container %s: it is paused "
				       "(--ignore-paused to do it anyway)",
				       id);
	if (st->status != HUTCH_STATUS_RUNNING && st->status != HUTCH_STATUS_PAUSED &&
	    st->status != HUTCH_STATUS_CREATED)
		return hutch_error_set(err, EINVAL, "cannot exec in container %s: it is %s", id,
				       hutch_status_name(st->status));
	spec = hutch_spec_parse(st->config_json != NULL ? st->config_json : "{}",
				st->config_json != NULL ? strlen(st->config_json) : 2, err);
	if (spec == NULL)
		return hutch_error_prefix(err, "container %s: saved config", id);
	if (build_process(spec, o, &b, err) < 0 || refuse_unsupported(o, &b.proc, err) < 0 ||
	    hutch_process_check_caps(&b.proc, err) < 0)
		goto out;
	/* exec -t in the foreground without an engine: relay the pty (relay.h) */
	if (b.proc.terminal && o->console_socket == NULL) {
		if (hutch_relay_console_open(&con, err) < 0)
			goto out;
		own = *o;
		own.console_socket = con.path;
		o = &own;
		hutch_relay_inherit_size(&b.proc);
	}
	x.proc = &b.proc;
	x.linux_ = &spec->linux_;
	if (spec->linux_.has_seccomp &&
	    hutch_seccomp_compile(&spec->linux_.seccomp, &x.seccomp, err) < 0)
		goto out;
	if (open_container_namespaces(st->pid, &spec->linux_, x.ns_fds, err) < 0)
		goto out;
	/* setns(CLONE_NEWPID) only places the caller's future children: joined
	 * here, in the parent, the child is born in the container's pid
	 * namespace and needs no second fork (a whole copy of the process and
	 * its page faults).  Without the privilege for it (rootless), the
	 * child joins and forks as before. */
	if (x.ns_fds[HUTCH_NS_PID] >= 0 && setns(x.ns_fds[HUTCH_NS_PID], CLONE_NEWPID) == 0)
		hutch_closep(&x.ns_fds[HUTCH_NS_PID]);
	x.second_fork = x.ns_fds[HUTCH_NS_PID] >= 0 || x.ns_fds[HUTCH_NS_TIME] >= 0;
	if (hutch_sync_pair(pair, err) < 0)
		goto out;
	if (!o->detach)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	x.sync = pair[1];
	if (o->cgroups != NULL && o->cgroups[0] != NULL && cg == NULL) {
		hutch_error_set(err, ENOENT, "--cgroup: the container has no cgroup");
		goto out;
	}
	if (cg != NULL) {
		if ((o->cgroups != NULL && hutch_cgroup_descend(cg, o->cgroups, err) < 0) ||
		    hutch_cgroup_join_open(cg, &join, err) < 0)
			goto out;
		x.cg_join = &join;
	}
	child = hutch_rt_clone(0, join.clone_fd, &into_cgroup);
	if (child < 0) {
		hutch_error_errno(err, "exec: clone");
		goto out;
	}
	if (child == 0) {
		close(pair[0]);
		exec_child_main(&x);
	}
	hutch_closep(&pair[1]);
	if (join.clone_fd >= 0 && !into_cgroup && hutch_cgroup_enter(cg, child, true, err) < 0)
		goto kill;
	hutch_cgroup_join_close(&join);
	if (hutch_sync_send(pair[0], HUTCH_SYNC_GO, NULL, 0, -1, err) < 0 ||
	    hutch_sync_recv(pair[0], HUTCH_SYNC_PID, &msg, err) < 0)
		goto kill;
	pid = strtol(msg.payload, NULL, 10);
	hutch_sync_msg_clear(&msg);
	if (pid > 0) {
		waitpid(child, NULL, 0);
		child = -1;
		target = (pid_t)pid;
	} else {
		target = child;
	}
	if (wait_exec(pair[0], o, b.proc.terminal, err) < 0)
		goto kill;
	if (con.listen_fd >= 0 && hutch_relay_console_receive(&con, &master, err) < 0)
		goto kill;
	hutch_relay_console_close(&con);
	if (hutch_rt_write_pid_file(o->pid_file, target, err) < 0)
		goto kill;
	if (master >= 0)
		rc = hutch_relay_wait(target, steal_fd(master), status, err);
	else
		rc = o->detach ? 0 : hutch_rt_wait_forwarding(target, status, err);
	goto out;
kill:
	if (target > 0)
		hutch_rt_kill_and_wait(target, 0);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
out:
	hutch_cgroup_join_close(&join);
	hutch_relay_console_close(&con);
	hutch_closep(&master);
	for (int t = 0; t < HUTCH_NS__COUNT; t++)
		hutch_closep(&x.ns_fds[t]);
	hutch_closep(&pair[0]);
	hutch_closep(&pair[1]);
	hutch_seccomp_filter_clear(&x.seccomp);
	built_process_clear(&b);
	return rc;
}
