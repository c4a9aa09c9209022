/* The container lifecycle (runtime.md): create, start, kill, delete, state,
 * run, pause, resume, ps.  Each is a short sequence of named steps; the
 * child's side is in init.c, the protocol in sync.h. */
#include "hutch/hutch.h"
#include "cgroup/cgroup.h"
#include "common.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "hooks.h"
#include "init.h"
#include "linux/process.h"
#include "linux/rootfs.h"
#include "linux/security.h"
#include "linux/terminal.h"
#include "net/net.h"
#include "relay.h"
#include "spec/model.h"
#include "state/state.h"
#include "sync.h"

#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONFIG_MAX (16u << 20)

/* ---- small process helpers ------------------------------------------------ */

/* ---- create ----------------------------------------------------------------- */

struct creation {
	const struct hutch_context *ctx;
	const char *id;
	const struct hutch_create_opts *o;
	char bundle[PATH_MAX];
	char rootfs[PATH_MAX];
	char *config_text;
	struct hutch_spec *spec;
	struct hutch_cgroup *cg;
	struct json_object *cg_layout; /* hutch_cgroup_save(cg), for the state file */
	bool state_dir_made;
	bool net_attached;
	pid_t child;
	pid_t init;
	unsigned long long init_start;
	int sync;
};

static int load_bundle(struct creation *c, struct hutch_error **err)
{
	_cleanup_free_ char *cfg = NULL, *root = NULL;
	const char *b = c->o->bundle != NULL ? c->o->bundle : ".";
	struct stat st;

	if (realpath(b, c->bundle) == NULL)
		return hutch_error_errno(err, "bundle %s", b);
	if (asprintf(&cfg, "%s/config.json", c->bundle) < 0)
		return hutch_error_set(err, ENOMEM, "bundle");
	c->config_text = hutch_read_file(cfg, CONFIG_MAX, NULL, err);
	if (c->config_text == NULL)
		return -1;
	c->spec = hutch_spec_parse(c->config_text, strlen(c->config_text), err);
	if (c->spec == NULL)
		return hutch_error_prefix(err, "%s", cfg);
	if (c->spec->root_path == NULL)
		return hutch_error_set(err, EINVAL, "%s: root.path: required", cfg);
	if (c->spec->root_path[0] == '/')
		root = strdup(c->spec->root_path);
	else if (asprintf(&root, "%s/%s", c->bundle, c->spec->root_path) < 0)
		root = NULL;
	if (root == NULL)
		return hutch_error_set(err, ENOMEM, "root.path");
	if (realpath(root, c->rootfs) == NULL || stat(c->rootfs, &st) < 0)
		return hutch_error_errno(err, "root.path %s", root);
	if (!S_ISDIR(st.st_mode))
		return hutch_error_set(err, ENOTDIR, "root.path %s", root);
	return 0;
}

static int validate(struct creation *c, struct hutch_error **err)
{
	const struct hutch_spec *s = c->spec;
	const struct hutch_namespace *ns = s->linux_.namespaces;

	if (s->process.terminal && c->o->console_socket == NULL)
		return hutch_error_set(err, EINVAL,
				       "process.terminal is true: --console-socket is required");
	if (!s->process.terminal && c->o->console_socket != NULL)
		return hutch_error_set(err, EINVAL,
				       "--console-socket given but process.terminal is false");
	/* A joined uts namespace is the container's own too (as runc): the
	 * names are set in it. */
	if (s->hostname != NULL && !ns[HUTCH_NS_UTS].present)
		return hutch_error_set(err, EINVAL, "hostname: needs a uts namespace");
	if (s->domainname != NULL && !ns[HUTCH_NS_UTS].present)
		return hutch_error_set(err, EINVAL, "domainname: needs a uts namespace");
	if (s->linux_.n_sysctl > 0 && !ns[HUTCH_NS_IPC].present && !ns[HUTCH_NS_NETWORK].present)
		hutch_debug("linux.sysctl without ipc/network namespaces");
	if (c->o->preserve_fds < 0 || c->o->preserve_fds > 65536)
		return hutch_error_set(err, EINVAL, "--preserve-fds: %d is out of range",
				       c->o->preserve_fds);
	if (hutch_security_check(s, NULL, err) < 0)
		return -1;
	return hutch_process_check_caps(&s->process, err);
}

static void fill_state(const struct creation *c, struct hutch_state *st, char *created,
		       enum hutch_status status)
{
	memset(st, 0, sizeof(*st));
	st->id = (char *)c->id;
	st->pid = c->init;
	st->start_time = c->init_start;
	st->bundle = (char *)c->bundle;
	st->rootfs = (char *)c->rootfs;
	st->cgroup_path = c->cg != NULL ? (char *)hutch_cgroup_path(c->cg) : NULL;
	st->cgroup_layout = c->cg_layout;
	st->created = created;
	st->owner = geteuid();
	st->annotations = c->spec->annotations;
	st->n_annotations = c->spec->n_annotations;
	st->config_json = c->config_text;
	st->status = status;
}

static void free_cgroup_views(struct hutch_init_args *a)
{
	for (size_t i = 0; i < a->n_cgroups; i++)
		free((char *)a->cgroups[i].name);
	free(a->cgroups);
	a->cgroups = NULL;
	a->n_cgroups = 0;
}

/* What the container's /sys/fs/cgroup binds (rootfs.h), from the cgroup
 * create made; an empty list only costs the classic mounts. */
static void cgroup_views(const struct hutch_cgroup *cg, struct hutch_init_args *a)
{
	size_t n = hutch_cgroup_count(cg);

	a->cgroups = calloc(n > 0 ? n : 1, sizeof(*a->cgroups));
	for (size_t i = 0; a->cgroups != NULL && i < n; i++) {
		char name[256];
		const char *dir = hutch_cgroup_hierarchy(cg, i, name, sizeof(name));
		char *copy = dir != NULL ? strdup(name) : NULL;
		if (copy == NULL)
			continue;
		a->cgroups[a->n_cgroups].name = copy;
		a->cgroups[a->n_cgroups++].dir = dir;
	}
}

static int spawn(struct creation *c, struct hutch_init_args *a, struct hutch_error **err)
{
	const struct hutch_linux *l = &c->spec->linux_;
	int pair[2];
	struct hutch_cgroup_join join = {.clone_fd = -1};
	struct hutch_sync_msg msg;
	bool into_cgroup;
	long pid;

	if (hutch_sync_pair(pair, err) < 0)
		return -1;
	a->sync = pair[1];
	c->sync = pair[0];
	/* idmapped mounts and hutch's own binds need the host's privileges:
	 * their trees are made here, the init inherits the fds */
	if (hutch_rootfs_prepare_trees(c->spec, c->bundle, &a->prepared_trees, err) < 0) {
		close(pair[1]);
		return -1;
	}
	if (c->cg != NULL) {
		if (hutch_cgroup_join_open(c->cg, &join, err) < 0) {
			close(pair[1]);
			hutch_rootfs_release_trees(c->spec, &a->prepared_trees);
			return -1;
		}
		a->cg_join = &join;
		cgroup_views(c->cg, a);
	}
	c->child = hutch_rt_clone(a->plan.clone_flags, join.clone_fd, &into_cgroup);
	if (c->child < 0) {
		hutch_error_errno(err, "clone the container process (flags 0x%lx)",
				  a->plan.clone_flags);
		close(pair[1]);
		hutch_rootfs_release_trees(c->spec, &a->prepared_trees);
		hutch_cgroup_join_close(&join);
		free_cgroup_views(a);
		return -1;
	}
	if (c->child == 0) {
		close(pair[0]);
		hutch_init_main(a);
	}
	close(pair[1]);
	hutch_rootfs_release_trees(c->spec, &a->prepared_trees);
	a->cg_join = NULL;
	free_cgroup_views(a);
	if (join.clone_fd >= 0 && !into_cgroup &&
	    hutch_cgroup_enter(c->cg, c->child, true, err) < 0) {
		hutch_cgroup_join_close(&join);
		return -1;
	}
	hutch_cgroup_join_close(&join);
	if ((a->plan.clone_flags & CLONE_NEWUSER) &&
	    hutch_ns_write_idmaps(c->child, l, false, err) < 0)
		return -1;
	if (hutch_sync_send(c->sync, HUTCH_SYNC_GO, NULL, 0, -1, err) < 0)
		return -1;
	if (a->plan.unshare_user) {
		if (hutch_sync_recv(c->sync, HUTCH_SYNC_USERNS, &msg, err) < 0)
			return -1;
		hutch_sync_msg_clear(&msg);
		if (hutch_ns_write_idmaps(c->child, l, false, err) < 0 ||
		    hutch_sync_send(c->sync, HUTCH_SYNC_MAPPED, NULL, 0, -1, err) < 0)
			return -1;
	}
	if (hutch_sync_recv(c->sync, HUTCH_SYNC_PID, &msg, err) < 0)
		return -1;
	pid = strtol(msg.payload, NULL, 10);
	hutch_sync_msg_clear(&msg);
	if (pid > 0) {
		/* the intermediate child forked the init and exits */
		waitpid(c->child, NULL, 0);
		c->child = 0;
		c->init = (pid_t)pid;
	} else {
		c->init = c->child;
	}
	c->init_start = hutch_proc_start_time(c->init);
	return 0;
}

static int finish_create(struct creation *c, struct hutch_error **err)
{
	struct hutch_state st;
	char created[64];
	_cleanup_free_ char *state_json = NULL;
	struct hutch_sync_msg msg;

	if (hutch_sync_recv(c->sync, HUTCH_SYNC_MOUNTED, &msg, err) < 0)
		return -1;
	hutch_sync_msg_clear(&msg);
	hutch_rt_now_rfc3339(created, sizeof(created));
	fill_state(c, &st, created, HUTCH_STATUS_CREATING);
	if (hutch_state_write(c->ctx->root, &st, err) < 0)
		return -1;
	/* The hooks of create run after the environment exists (steps 3-5 of
	 * runtime.md's lifecycle), which state.md calls "created"; the
	 * conformance suite checks it. */
	st.status = HUTCH_STATUS_CREATED;
	state_json = hutch_state_to_json(&st, false);
	if (state_json == NULL)
		return hutch_error_set(err, ENOMEM, "state");
	if (hutch_hooks_run(&c->spec->hooks[HUTCH_HOOK_PRESTART], "prestart", state_json, err) <
		0 ||
	    hutch_hooks_run(&c->spec->hooks[HUTCH_HOOK_CREATE_RUNTIME], "createRuntime", state_json,
			    err) < 0)
		return -1;
	if (hutch_sync_send(c->sync, HUTCH_SYNC_HOOKS, state_json, strlen(state_json), -1, err) < 0)
		return -1;
	if (c->spec->process.terminal) {
		if (hutch_sync_recv(c->sync, HUTCH_SYNC_CONSOLE, &msg, err) < 0)
			return -1;
		if (hutch_terminal_send(c->o->console_socket, msg.fd, msg.payload, err) < 0) {
			hutch_sync_msg_clear(&msg);
			return -1;
		}
		hutch_sync_msg_clear(&msg);
	}
	if (c->spec->linux_.has_seccomp && hutch_seccomp_has_notify(&c->spec->linux_.seccomp)) {
		int rc;
		if (hutch_sync_recv(c->sync, HUTCH_SYNC_SECCOMP, &msg, err) < 0)
			return -1;
		rc = hutch_seccomp_send_listener(&c->spec->linux_.seccomp, msg.fd, c->init,
						 state_json, err);
		hutch_sync_msg_clear(&msg);
		if (rc < 0)
			return -1;
	}
	if (hutch_sync_recv(c->sync, HUTCH_SYNC_READY, &msg, err) < 0)
		return -1;
	hutch_sync_msg_clear(&msg);
	fill_state(c, &st, created, HUTCH_STATUS_CREATED);
	if (hutch_state_write(c->ctx->root, &st, err) < 0)
		return -1;
	return hutch_rt_write_pid_file(c->o->pid_file, c->init, err);
}

/* Undo a failed create: nothing stays behind (process, cgroup, state dir;
 * mounts live in the child's mount namespace and die with it). */
static void abort_create(struct creation *c)
{
	_cleanup_error_ struct hutch_error *e = NULL;

	if (c->init > 0)
		hutch_rt_kill_and_wait(c->init, c->init_start);
	if (c->child > 0) {
		kill(c->child, SIGKILL);
		waitpid(c->child, NULL, 0);
	}
	if (c->net_attached && hutch_net_detach(c->ctx->root, c->id, &e) < 0) {
		hutch_warn("cleanup: %s", hutch_error_text(e));
		hutch_error_freep(&e);
	}
	if (c->cg != NULL && hutch_cgroup_destroy(c->cg, &e) < 0) {
		hutch_warn("cleanup: %s", hutch_error_text(e));
		hutch_error_freep(&e);
	}
	if (c->state_dir_made && hutch_state_remove(c->ctx->root, c->id, &e) < 0)
		hutch_warn("cleanup: %s", hutch_error_text(e));
}

/* linux.resources, with an allow rule for every linux.devices entry appended
 * to the device rules (as runc does): the spec's devices must be usable
 * even under a deny-all rule, and mknod of them needs the rule first. */
static int apply_resources(struct creation *c, struct hutch_error **err)
{
	struct hutch_resources *r = &c->spec->linux_.resources;
	const struct hutch_linux *l = &c->spec->linux_;
	struct hutch_device_rule *saved = r->devices, *all;
	size_t n = r->n_devices;
	int rc;

	if (l->n_devices == 0 || n == 0)
		return hutch_cgroup_apply(c->cg, r, err);
	all = calloc(n + l->n_devices, sizeof(*all));
	if (all == NULL)
		return hutch_error_set(err, ENOMEM, "device rules");
	memcpy(all, saved, n * sizeof(*all));
	for (size_t i = 0; i < l->n_devices; i++) {
		const struct hutch_device *d = &l->devices[i];
		all[n + i] = (struct hutch_device_rule){.allow = true,
							.type = d->type == 'b' ? 'b' : 'c',
							.major = d->major,
							.minor = d->minor,
							.access = "rwm"};
	}
	r->devices = all;
	r->n_devices = n + l->n_devices;
	rc = hutch_cgroup_apply(c->cg, r, err);
	r->devices = saved;
	r->n_devices = n;
	free(all);
	return rc;
}

/* Host id that container id 0 maps to (the id itself without a mapping). */
static unsigned host_root(const struct hutch_idmap *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].container_id == 0 && m[i].size > 0)
			return m[i].host_id;
	return 0;
}

/* The init reopens the fifo after it became root of its user namespace:
 * hand the fifo to that root when the mapping is ours to know, and let
 * anyone write it otherwise (a joined namespace).  Only the state dir's
 * owner can reach it (the root dir is 0700); the init reopens it through
 * its O_PATH fd, which needs no search permission on the way. */
static int chown_fifo(const char *fifo, const struct hutch_linux *l, struct hutch_error **err)
{
	if (!l->namespaces[HUTCH_NS_USER].present)
		return 0;
	/* rootless: we may only give it away to ourselves; 0622 below suffices */
	if (l->n_uid_mappings > 0 && geteuid() == 0 &&
	    chown(fifo, host_root(l->uid_mappings, l->n_uid_mappings),
		  host_root(l->gid_mappings, l->n_gid_mappings)) < 0)
		return hutch_error_errno(err, "chown the exec fifo %s", fifo);
	if (chmod(fifo, 0622) < 0)
		return hutch_error_errno(err, "chmod the exec fifo %s", fifo);
	return 0;
}

/* Rootless: a cgroup hierarchy the caller may not write (not delegated) is
 * skipped with a warning, and the state records no cgroup; as root any
 * failure stays an error. */
static int rootless_cgroup_create(struct creation *c, struct hutch_error **err)
{
	_cleanup_error_ struct hutch_error *e = NULL, *e2 = NULL;

	if (hutch_cgroup_create(c->cg, &e) == 0)
		return 0;
	if (geteuid() == 0 || (e->code != EACCES && e->code != EROFS && e->code != EPERM)) {
		*err = steal_ptr(e);
		return -1;
	}
	hutch_warn("rootless: no cgroup for container %s (%s)%s", c->id, hutch_error_text(e),
		   c->spec->linux_.has_resources ? "; linux.resources are not applied" : "");
	if (hutch_cgroup_destroy(c->cg, &e2) < 0)
		hutch_debug("rootless cgroup cleanup: %s", hutch_error_text(e2));
	hutch_cgroup_free(c->cg);
	c->cg = NULL;
	return 0;
}

/* What `run` keeps of its create: the relay console when it is the
 * terminal's holder, the parsed config (for start's and delete's hooks). */
struct run_keep {
	struct hutch_relay_console *con; /* in: relay a terminal if the config has one */
	struct hutch_spec *spec;	 /* out */
};

static int create_container(const struct hutch_context *ctx, const char *id,
			    const struct hutch_create_opts *o, pid_t *init_pid,
			    struct run_keep *keep, struct hutch_error **err)
{
	struct creation c = {.ctx = ctx, .id = id, .o = o, .sync = -1};
	struct hutch_init_args a = {.id = id, .fifo_fd = -1, .sync = -1};
	struct hutch_create_opts own;
	_cleanup_free_ char *fifo = NULL;
	int rc = -1, listen_fds;

	for (int t = 0; t < HUTCH_NS__COUNT; t++)
		a.ns_fds[t] = -1;
	if (hutch_id_check(id, err) < 0 || load_bundle(&c, err) < 0)
		goto out;
	/* Foreground `run` with a terminal and no engine to hold it: we are
	 * the console socket and relay the pty (relay.h). */
	if (keep != NULL && keep->con != NULL && c.spec->has_process && c.spec->process.terminal &&
	    o->console_socket == NULL) {
		if (hutch_relay_console_open(keep->con, err) < 0)
			goto out;
		own = *o;
		own.console_socket = keep->con->path;
		c.o = o = &own;
	}
	if (validate(&c, err) < 0 || hutch_ns_plan(&c.spec->linux_, &a.plan, err) < 0 ||
	    hutch_ns_open_paths(&c.spec->linux_, a.ns_fds, err) < 0)
		goto out;
	if (c.spec->linux_.has_seccomp &&
	    hutch_seccomp_compile(&c.spec->linux_.seccomp, &a.seccomp, err) < 0)
		goto out;
	if (hutch_state_create_dir(ctx->root, id, err) < 0)
		goto out;
	c.state_dir_made = true;
	if (hutch_relay_notify_prepare(c.spec, ctx->root, id, err) < 0)
		goto fail;
	c.cg = hutch_cgroup_new(CGROUP_MOUNT, c.spec->linux_.cgroups_path, id, err);
	if (c.cg == NULL || rootless_cgroup_create(&c, err) < 0)
		goto fail;
	if (c.cg != NULL && c.spec->linux_.has_resources && apply_resources(&c, err) < 0)
		goto fail;
	if (c.cg != NULL && (c.cg_layout = hutch_cgroup_save(c.cg)) == NULL) {
		hutch_error_set(err, ENOMEM, "cgroup");
		goto fail;
	}
	fifo = hutch_state_fifo_path(ctx->root, id);
	if (fifo == NULL || mkfifo(fifo, 0600) < 0) {
		hutch_error_errno(err, "create the exec fifo %s", fifo);
		goto fail;
	}
	if (chown_fifo(fifo, &c.spec->linux_, err) < 0)
		goto fail;
	a.fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
	if (a.fifo_fd < 0) {
		hutch_error_errno(err, "open %s", fifo);
		goto fail;
	}
	a.spec = c.spec;
	a.rootfs = c.rootfs;
	a.bundle = c.bundle;
	a.no_pivot = o->no_pivot;
	a.no_new_keyring = o->no_new_keyring;
	/* socket activation (relay.h): LISTEN_FDS fds first, then --preserve-fds */
	listen_fds = hutch_relay_listen_fds(&c.spec->process, err);
	if (listen_fds < 0)
		goto fail;
	a.preserve_fds = listen_fds + o->preserve_fds;
	if (spawn(&c, &a, err) < 0)
		goto fail;
	/* The network namespace exists; the user process waits for start. */
	c.net_attached = true;
	if (hutch_net_move_devices(c.init, &c.spec->linux_, err) < 0 ||
	    hutch_net_attach(ctx->root, id, c.init, c.spec, o->networks, err) < 0 ||
	    hutch_net_write_hosts(ctx->root, id, c.rootfs, c.spec, err) < 0 ||
	    finish_create(&c, err) < 0)
		goto fail;
	if (init_pid != NULL)
		*init_pid = c.init;
	if (keep != NULL)
		keep->spec = steal_ptr(c.spec);
	rc = 0;
	goto out;
fail:
	abort_create(&c);
out:
	for (int t = 0; t < HUTCH_NS__COUNT; t++)
		hutch_closep(&a.ns_fds[t]);
	hutch_closep(&a.fifo_fd);
	hutch_closep(&c.sync);
	hutch_seccomp_filter_clear(&a.seccomp);
	hutch_cgroup_free(c.cg);
	json_object_put(c.cg_layout);
	hutch_spec_free(c.spec);
	free(c.config_text);
	return rc;
}

int hutch_container_create(const struct hutch_context *ctx, const char *id,
			   const struct hutch_create_opts *o, struct hutch_error **err)
{
	return create_container(ctx, id, o, NULL, NULL, err);
}

/* ---- reading a container ------------------------------------------------------ */

char *hutch_container_state(const struct hutch_context *ctx, const char *id,
			    struct hutch_error **err)
{
	_cleanup_state_ struct hutch_state *st = hutch_rt_load(ctx, id, NULL, err);
	char *json;

	if (st == NULL)
		return NULL;
	json = hutch_state_to_json(st, true);
	if (json == NULL)
		hutch_error_set(err, ENOMEM, "state");
	return json;
}

/* ---- start ---------------------------------------------------------------------- */

/* The config saved at create (hooks, process), parsed once per command;
 * NULL when there is none or it no longer parses. */
static struct hutch_spec *saved_spec(const struct hutch_state *st)
{
	if (st->config_json == NULL)
		return NULL;
	return hutch_spec_parse(st->config_json, strlen(st->config_json), NULL);
}

static void run_saved_hooks(const struct hutch_spec *spec, const struct hutch_state *st,
			    enum hutch_hook_kind kind, enum hutch_status status)
{
	_cleanup_free_ char *json = NULL;
	struct hutch_state copy = *st;

	if (spec == NULL || spec->hooks[kind].n == 0)
		return;
	copy.status = status;
	json = hutch_state_to_json(&copy, false);
	if (json != NULL)
		hutch_hooks_run_warn(&spec->hooks[kind], hutch_hook_name(kind), json);
}

/* SPEC: the container's config if the caller has it parsed (run), else
 * NULL and the saved one is parsed. */
static int start_locked(const struct hutch_context *ctx, struct hutch_state *st,
			const struct hutch_spec *have, struct hutch_error **err)
{
	_cleanup_free_ char *fifo = hutch_state_fifo_path(ctx->root, st->id);
	_cleanup_close_ int fd = -1, pidfd = -1;
	_cleanup_spec_ struct hutch_spec *parsed = have == NULL ? saved_spec(st) : NULL;
	const struct hutch_spec *spec = have != NULL ? have : parsed;
	char buf[4096];
	ssize_t n;

	if (st->status != HUTCH_STATUS_CREATED)
		return hutch_error_set(err, EINVAL, "cannot start container %s: it is %s", st->id,
				       hutch_status_name(st->status));
	if (spec != NULL && !spec->has_process)
		return hutch_error_set(
		    err, EINVAL, "cannot start container %s: its config has no process", st->id);
	/* The pidfd first: opening the fifo lets the init execve, and a short
	 * process can be gone (and reaped by an engine's shim) right after. */
	pidfd = hutch_rt_pidfd_open(st->pid, st->start_time);
	if (pidfd < 0)
		return hutch_error_set(err, ESRCH, "start %s: the container process is gone",
				       st->id);
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return hutch_error_errno(err, "start %s: open the exec fifo", st->id);
	/* POLLIN/POLLHUP once the init wrote an error or closed the fifo at
	 * execve; the pidfd in case it died before opening it. */
	for (;;) {
		struct pollfd p[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return hutch_error_errno(err, "start %s: poll", st->id);
		}
		if (p[0].revents != 0 || p[1].revents != 0)
			break;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	unlink(fifo);
	if (n > 0) {
		buf[n] = '\0';
		return hutch_error_set(err, 0, "start %s: %s", st->id, buf);
	}
	run_saved_hooks(spec, st, HUTCH_HOOK_POSTSTART, HUTCH_STATUS_RUNNING);
	return 0;
}

int hutch_container_start(const struct hutch_context *ctx, const char *id, struct hutch_error **err)
{
	_cleanup_close_ int lock = -1;
	int notify = -1;
	_cleanup_state_ struct hutch_state *st = NULL;

	st = hutch_rt_load_locked(ctx, id, &lock, NULL, err);
	if (st == NULL || hutch_relay_notify_listen(ctx->root, id, &notify, err) < 0)
		return -1;
	if (start_locked(ctx, st, NULL, err) < 0) {
		hutch_closep(&notify);
		return -1;
	}
	/* sd_notify: wait for READY=1 without holding the lock (relay.h) */
	hutch_closep(&lock);
	return notify >= 0 ? hutch_relay_notify_forward(notify, st->pid, err) : 0;
}

/* ---- kill, delete --------------------------------------------------------------- */

static int signal_init(const struct hutch_state *st, int sig, struct hutch_error **err)
{
	_cleanup_close_ int pidfd = hutch_rt_pidfd_open(st->pid, st->start_time);

	if (pidfd < 0)
		return hutch_error_set(err, ESRCH, "container %s is not running", st->id);
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return hutch_error_errno(err, "kill container %s with signal %d", st->id, sig);
	return 0;
}

int hutch_container_kill(const struct hutch_context *ctx, const char *id, int sig, bool all,
			 struct hutch_error **err)
{
	_cleanup_cgroup_ struct hutch_cgroup *cg = NULL;
	_cleanup_state_ struct hutch_state *st = hutch_rt_load(ctx, id, &cg, err);

	if (st == NULL)
		return -1;
	if (st->status == HUTCH_STATUS_STOPPED)
		return hutch_error_set(err, EINVAL, "container %s is not running", id);
	if (all && cg != NULL)
		return hutch_cgroup_kill(cg, sig, err);
	return signal_init(st, sig, err);
}

static int stop_everything(struct hutch_state *st, struct hutch_cgroup *cg,
			   struct hutch_error **err)
{
	_cleanup_close_ int pidfd = hutch_rt_pidfd_open(st->pid, st->start_time);

	if (cg != NULL && hutch_cgroup_kill(cg, SIGKILL, err) < 0)
		return -1;
	if (pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		if (!hutch_rt_wait_pidfd(pidfd, 10000))
			return hutch_error_set(err, ETIMEDOUT,
					       "container %s: init %d did not die after SIGKILL",
					       st->id, (int)st->pid);
	}
	return 0;
}

static int delete_container(const struct hutch_context *ctx, const char *id, bool force,
			    const struct hutch_spec *have, struct hutch_error **err);

int hutch_container_delete(const struct hutch_context *ctx, const char *id, bool force,
			   struct hutch_error **err)
{
	return delete_container(ctx, id, force, NULL, err);
}

/* HAVE: the container's config if the caller has it parsed (run). */
static int delete_container(const struct hutch_context *ctx, const char *id, bool force,
			    const struct hutch_spec *have, struct hutch_error **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_cgroup_ struct hutch_cgroup *cg = NULL;
	_cleanup_state_ struct hutch_state *st = NULL;

	st = hutch_rt_load_locked(ctx, id, &lock, &cg, err);
	if (st == NULL)
		return -1;
	if (st->status != HUTCH_STATUS_STOPPED) {
		if (!force)
			return hutch_error_set(
			    err, EBUSY, "cannot delete container %s that is %s (use --force)", id,
			    hutch_status_name(st->status));
		if (stop_everything(st, cg, err) < 0)
			return -1;
	}
	/* Reap the init if it was our child (run). */
	waitpid(st->pid, NULL, WNOHANG);
	if (hutch_net_detach(ctx->root, id, err) < 0)
		return -1;
	if (cg != NULL && hutch_cgroup_destroy(cg, err) < 0)
		return -1;
	{
		_cleanup_spec_ struct hutch_spec *parsed = have == NULL ? saved_spec(st) : NULL;
		run_saved_hooks(have != NULL ? have : parsed, st, HUTCH_HOOK_POSTSTOP,
				HUTCH_STATUS_STOPPED);
	}
	return hutch_state_remove(ctx->root, id, err);
}

/* ---- pause, resume, ps ------------------------------------------------------------ */

static int freeze(const struct hutch_context *ctx, const char *id, bool on,
		  struct hutch_error **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_cgroup_ struct hutch_cgroup *cg = NULL;
	_cleanup_state_ struct hutch_state *st = NULL;
	enum hutch_status want = on ? HUTCH_STATUS_RUNNING : HUTCH_STATUS_PAUSED;

	st = hutch_rt_load_locked(ctx, id, &lock, &cg, err);
	if (st == NULL)
		return -1;
	if (st->status != want && !(on && st->status == HUTCH_STATUS_CREATED))
		return hutch_error_set(err, EINVAL, "cannot %s container %s: it is %s",
				       on ? "pause" : "resume", id, hutch_status_name(st->status));
	if (cg == NULL)
		return hutch_error_set(err, EINVAL, "container %s has no cgroup", id);
	return hutch_cgroup_freeze(cg, on, err);
}

int hutch_container_pause(const struct hutch_context *ctx, const char *id, struct hutch_error **err)
{
	return freeze(ctx, id, true, err);
}

int hutch_container_resume(const struct hutch_context *ctx, const char *id,
			   struct hutch_error **err)
{
	return freeze(ctx, id, false, err);
}

int hutch_container_update(const struct hutch_context *ctx, const char *id,
			   const struct hutch_resources *r, struct hutch_error **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_cgroup_ struct hutch_cgroup *cg = NULL;
	_cleanup_state_ struct hutch_state *st = NULL;

	st = hutch_rt_load_locked(ctx, id, &lock, &cg, err);
	if (st == NULL)
		return -1;
	if (st->status == HUTCH_STATUS_STOPPED)
		return hutch_error_set(err, EINVAL, "cannot update container %s: it is stopped",
				       id);
	if (cg == NULL)
		return hutch_error_set(err, EINVAL, "container %s has no cgroup", id);
	return hutch_cgroup_update(cg, r, err);
}

int hutch_container_ps(const struct hutch_context *ctx, const char *id, pid_t **pids, size_t *n,
		       struct hutch_error **err)
{
	_cleanup_cgroup_ struct hutch_cgroup *cg = NULL;
	_cleanup_state_ struct hutch_state *st = hutch_rt_load(ctx, id, &cg, err);

	if (st == NULL)
		return -1;
	if (cg == NULL) {
		*pids = NULL;
		*n = 0;
		return 0;
	}
	return hutch_cgroup_pids(cg, pids, n, err);
}

/* ---- run -------------------------------------------------------------------------- */

int hutch_container_run(const struct hutch_context *ctx, const char *id,
			const struct hutch_create_opts *o, int *status, struct hutch_error **err)
{
	_cleanup_state_ struct hutch_state *st = NULL;
	struct hutch_relay_console con = {.listen_fd = -1};
	struct run_keep keep = {.con = o->detach ? NULL : &con};
	_cleanup_spec_ struct hutch_spec *spec = NULL;
	_cleanup_close_ int master = -1;
	int notify = -1;
	pid_t pid = 0;
	int rc;

	*status = 0;
	/* The init may be a grandchild (second fork): become its reaper. */
	if (!o->detach)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	rc = create_container(ctx, id, o, &pid, &keep, err);
	spec = keep.spec;
	if (rc == 0 && con.listen_fd >= 0 &&
	    (rc = hutch_relay_console_receive(&con, &master, err)) < 0) {
		_cleanup_error_ struct hutch_error *e = NULL;
		delete_container(ctx, id, true, spec, &e);
	}
	hutch_relay_console_close(&con);
	if (rc < 0)
		return -1;
	if (master >= 0)
		hutch_relay_copy_size(master);
	st = hutch_rt_load(ctx, id, NULL, err);
	if (st == NULL || hutch_relay_notify_listen(ctx->root, id, &notify, err) < 0 ||
	    start_locked(ctx, st, spec, err) < 0 ||
	    (notify >= 0 && hutch_relay_notify_forward(steal_fd(notify), pid, err) < 0)) {
		_cleanup_error_ struct hutch_error *e = NULL;
		hutch_closep(&notify);
		delete_container(ctx, id, true, spec, &e);
		return -1;
	}
	if (o->detach)
		return 0;
	if (master >= 0)
		rc = hutch_relay_wait(pid, steal_fd(master), status, err);
	else
		rc = hutch_rt_wait_forwarding(pid, status, err);
	if (!o->keep) {
		_cleanup_error_ struct hutch_error *e = NULL;
		if (delete_container(ctx, id, true, spec, &e) < 0)
			hutch_warn("delete after run: %s", hutch_error_text(e));
	}
	return rc;
}
