/* Container state under the runtime root: <root>/<id>/state.json, written to
 * a temp file, fsynced, renamed.  The status is derived on every read
 * (process alive with the same start time, exec fifo still present, cgroup
 * frozen), never trusted from disk. */
#ifndef HUTCH_STATE_H
#define HUTCH_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct hutch_error;
struct hutch_kv;
struct json_object;

#define HUTCH_ID_MAX 1024

enum hutch_status {
	HUTCH_STATUS_CREATING,
	HUTCH_STATUS_CREATED,
	HUTCH_STATUS_RUNNING,
	HUTCH_STATUS_STOPPED,
	HUTCH_STATUS_PAUSED,
};

struct hutch_state {
	char *id;
	pid_t pid;		       /* container init, as seen from the host */
	unsigned long long start_time; /* /proc/PID/stat field 22, against pid reuse */
	char *bundle;		       /* absolute */
	char *rootfs;		       /* absolute */
	char *cgroup_path;	       /* as hutch_cgroup_path(); may be NULL */
	char *created;		       /* RFC 3339 */
	uid_t owner;
	bool has_netns_path;
	struct hutch_kv *annotations;
	size_t n_annotations;
	char *config_json; /* copy of config.json taken at create (hooks, delete) */
	/* hutch_cgroup_save() of the container's cgroup (json-c object, owned;
	 * NULL when the state predates it): no rediscovery after create */
	struct json_object *cgroup_layout;
	/* derived, not stored */
	enum hutch_status status;
};

/* [A-Za-z0-9_+-][A-Za-z0-9_+.-]*, at most HUTCH_ID_MAX bytes. */
int hutch_id_check(const char *id, struct hutch_error **err);
const char *hutch_status_name(enum hutch_status s);

/* Create <root>/<id> exclusively (EEXIST: "container ID already exists"). */
int hutch_state_create_dir(const char *root, const char *id, struct hutch_error **err);
int hutch_state_write(const char *root, const struct hutch_state *st, struct hutch_error **err);
/* Read and derive .status.  ENOENT: "container ID does not exist". */
struct hutch_state *hutch_state_read(const char *root, const char *id, struct hutch_error **err);
int hutch_state_remove(const char *root, const char *id, struct hutch_error **err);
/* Exclusive flock on <root>/<id>/lock for mutating commands; returns the fd. */
int hutch_state_lock(const char *root, const char *id, struct hutch_error **err);
/* The ids under root, sorted (NULL-terminated, malloc'd). */
char **hutch_state_list(const char *root, struct hutch_error **err);
/* The spec's state JSON ({"ociVersion","id","status","pid","bundle","annotations"}). */
char *hutch_state_to_json(const struct hutch_state *st, bool pretty);
void hutch_state_free(struct hutch_state *st);
void hutch_state_freep(struct hutch_state **st);
#define _cleanup_state_ __attribute__((cleanup(hutch_state_freep)))

/* Path of the exec fifo the created process blocks on until `start`. */
char *hutch_state_fifo_path(const char *root, const char *id);
/* /proc/PID/stat starttime, 0 if the process is gone. */
unsigned long long hutch_proc_start_time(pid_t pid);

#endif
