/* cgroups: one interface, a v1 backend and a v2 backend, one mode detection.
 *
 * Modes: UNIFIED (only cgroup2 at /sys/fs/cgroup), HYBRID (v1 controllers
 * under /sys/fs/cgroup/<ctrl> plus cgroup2 at /sys/fs/cgroup/unified, maybe
 * with controllers such as hugetlb on it, as on the development machine),
 * LEGACY (v1 only).  A container's cgroup is one relative path (e.g.
 * "hutch/ID") created in every hierarchy that has a controller hutch uses.
 *
 * Planning (which file gets which value) is kept apart from applying so it
 * can be unit-tested against a temp dir: the hierarchy root is a parameter.
 */
#ifndef HUTCH_CGROUP_H
#define HUTCH_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct hutch_error;
struct hutch_resources;

enum hutch_cgroup_mode {
	HUTCH_CGROUP_UNIFIED,
	HUTCH_CGROUP_HYBRID,
	HUTCH_CGROUP_LEGACY,
};

struct hutch_cgroup;

/* Detect the host layout below MOUNTPOINT ("/sys/fs/cgroup" normally). */
int hutch_cgroup_detect(const char *mountpoint, enum hutch_cgroup_mode *mode,
			struct hutch_error **err);

/* Resolve where a container's cgroup goes.  cgroups_path may be NULL (a
 * default under "/hutch/ID" is used, never inside the caller's own cgroup,
 * which may belong to another manager); absolute paths are taken from the
 * hierarchy roots, relative ones below the caller's own cgroup (as runc).
 * No change to the host. */
struct hutch_cgroup *hutch_cgroup_new(const char *mountpoint, const char *cgroups_path,
				      const char *id, struct hutch_error **err);
/* Re-open a container's cgroup from its recorded path (state file).  Its
 * destroy() removes the leaf in every hierarchy and keeps the parents,
 * which later containers share (as runc and crun); only a failed create
 * removes the parents it made itself. */
struct hutch_cgroup *hutch_cgroup_load(const char *mountpoint, const char *path,
				       struct hutch_error **err);
/* The resolved hierarchies (mount points, controllers, directories) for
 * the state file, and a cgroup made from them again: the commands after
 * create skip the discovery through /proc/self/mountinfo and
 * /proc/self/cgroup (runc keeps its cgroup_paths the same way), and a
 * relative cgroupsPath stays where create resolved it.  restore() checks
 * the shape (every directory below its hierarchy's mount, below
 * MOUNTPOINT) and refuses anything else. */
struct json_object;
struct json_object *hutch_cgroup_save(const struct hutch_cgroup *cg);
struct hutch_cgroup *hutch_cgroup_restore(const char *mountpoint, const char *path,
					  struct json_object *saved, struct hutch_error **err);
/* For the container's /sys/fs/cgroup: the number of hierarchies, and
 * hierarchy I's controllers as /proc/self/cgroup spells them ("cpu,cpuacct",
 * "name=systemd"; "" for cgroup2) written into NAME, returning the
 * container's directory in it (NULL if NAME is too small). */
size_t hutch_cgroup_count(const struct hutch_cgroup *cg);
const char *hutch_cgroup_hierarchy(const struct hutch_cgroup *cg, size_t i, char *name,
				   size_t size);
/* The path to record in the state file: the absolute path ("/hutch/ID" or
 * the given one), or a relative cgroupsPath as given; hutch_cgroup_load()
 * resolves a relative one below the caller's own cgroups again, so `hutch
 * delete` must run in the same cgroups as `hutch create` for those. */
const char *hutch_cgroup_path(const struct hutch_cgroup *cg);
enum hutch_cgroup_mode hutch_cgroup_get_mode(const struct hutch_cgroup *cg);

/* mkdir in every hierarchy (enabling v2 controllers down the path). */
int hutch_cgroup_create(struct hutch_cgroup *cg, struct hutch_error **err);
/* Write every limit of R; a field the host cannot honour is an error naming it. */
int hutch_cgroup_apply(struct hutch_cgroup *cg, const struct hutch_resources *r,
		       struct hutch_error **err);
/* Like apply, but fields that are zero mean "unchanged" (update). */
int hutch_cgroup_update(struct hutch_cgroup *cg, const struct hutch_resources *r,
			struct hutch_error **err);
/* Move PID into the cgroup in every hierarchy (or only the cgroup2 one). */
int hutch_cgroup_enter(struct hutch_cgroup *cg, pid_t pid, bool v2_only, struct hutch_error **err);

/* How a new process joins the container's cgroup without the kernel's
 * global threadgroup lock: a write of a pid to cgroup.procs takes it, and
 * its first writer waits for an RCU grace period (8-15 ms on this kind of
 * host, most of a container's start).  Instead, the cgroup2 part is joined
 * by clone3(CLONE_INTO_CGROUP), and each v1 hierarchy by the new process
 * itself, still single-threaded, writing "0" to the hierarchy's tasks file:
 * a thread moving itself takes no global lock.  The parent opens the files
 * (the kernel checks the opener's credentials), so the child can join from
 * inside its new user namespace.
 *
 *   parent: join_open; clone(clone_fd); [enter(pid, v2_only) if
 *           CLONE_INTO_CGROUP did not take]; join_close
 *   child:  join_self (before any thread, fork or namespace change) */
struct hutch_cgroup_join {
	int clone_fd;	   /* the cgroup2 directory, or -1 */
	int *tasks;	   /* one O_WRONLY fd per v1 hierarchy */
	const char **dirs; /* their directories, for errors (not owned) */
	size_t n;
};
int hutch_cgroup_join_open(struct hutch_cgroup *cg, struct hutch_cgroup_join *j,
			   struct hutch_error **err);
int hutch_cgroup_join_self(struct hutch_cgroup_join *j, struct hutch_error **err);
void hutch_cgroup_join_close(struct hutch_cgroup_join *j);
/* exec --cgroup: point CG at existing sub-cgroups of the container's before
 * a join.  Each of SUBS (NULL-terminated) is "PATH", for every hierarchy
 * not named otherwise, or "CTRL[,CTRL...]:PATH", for the hierarchies that
 * hold those controllers.  PATH is relative, without "." or ".."
 * components; every directory must exist. */
int hutch_cgroup_descend(struct hutch_cgroup *cg, char *const *subs, struct hutch_error **err);
/* The pids in the container's cgroup (malloc'd array). */
int hutch_cgroup_pids(struct hutch_cgroup *cg, pid_t **pids, size_t *n, struct hutch_error **err);
/* Send SIG to every process in the cgroup (v2 cgroup.kill for SIGKILL;
 * otherwise freeze, signal, thaw). */
int hutch_cgroup_kill(struct hutch_cgroup *cg, int sig, struct hutch_error **err);
int hutch_cgroup_freeze(struct hutch_cgroup *cg, bool freeze, struct hutch_error **err);
int hutch_cgroup_is_frozen(struct hutch_cgroup *cg, bool *frozen, struct hutch_error **err);
/* rmdir everything create() made (retrying briefly while the last processes
 * exit); a cgroup that still has processes is an error. */
int hutch_cgroup_destroy(struct hutch_cgroup *cg, struct hutch_error **err);
void hutch_cgroup_free(struct hutch_cgroup *cg);

/* Resource usage as the "data" object of runc's `events --stats` (runc's
 * field names; malloc'd JSON text).  Files the kernel lacks read as zero; a
 * cgroup that no longer exists is an error. */
char *hutch_cgroup_stats_json(struct hutch_cgroup *cg, struct hutch_error **err);
/* The same as a json-c object (the caller puts it). */
struct json_object *hutch_cgroup_stats(struct hutch_cgroup *cg, struct hutch_error **err);

/* OOM notifications: v1 memory.oom_control through cgroup.event_control and
 * an eventfd; v2 inotify on memory.events (its oom_kill counter).  The fd
 * becomes readable when something may have happened; check() drains it and
 * returns the number of new OOM kills (0: none, e.g. the cgroup went away). */
struct hutch_cgroup_oom;
struct hutch_cgroup_oom *hutch_cgroup_oom_watch(struct hutch_cgroup *cg, struct hutch_error **err);
int hutch_cgroup_oom_fd(const struct hutch_cgroup_oom *w);
int hutch_cgroup_oom_check(struct hutch_cgroup_oom *w, struct hutch_error **err);
void hutch_cgroup_oom_free(struct hutch_cgroup_oom *w);

#endif
