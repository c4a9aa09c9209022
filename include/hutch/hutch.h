/* hutch: the public lifecycle API.  The CLI (src/cli) is a thin layer over
 * these calls, so hutch can be embedded as a library. */
#ifndef HUTCH_HUTCH_H
#define HUTCH_HUTCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct hutch_error;
struct hutch_state;

struct hutch_context {
	const char *root; /* state root, default /run/hutch */
	bool debug;
};

struct hutch_create_opts {
	const char *bundle;	    /* default: cwd */
	const char *pid_file;	    /* may be NULL */
	const char *console_socket; /* may be NULL */
	int preserve_fds;	    /* fds 3 .. 3+N-1 are passed to the container */
	bool no_pivot;
	bool no_new_keyring;
	bool detach;	 /* run only */
	bool keep;	 /* run only: do not delete after exit */
	char **networks; /* --network NAME[:ip=A] (NULL-terminated; may be NULL) */
};

int hutch_container_create(const struct hutch_context *ctx, const char *id,
			   const struct hutch_create_opts *o, struct hutch_error **err);
int hutch_container_start(const struct hutch_context *ctx, const char *id,
			  struct hutch_error **err);
/* create + start + wait; *status gets the container's exit status as a shell
 * reports it (128+signal when killed). */
int hutch_container_run(const struct hutch_context *ctx, const char *id,
			const struct hutch_create_opts *o, int *status, struct hutch_error **err);
int hutch_container_kill(const struct hutch_context *ctx, const char *id, int sig, bool all,
			 struct hutch_error **err);
int hutch_container_delete(const struct hutch_context *ctx, const char *id, bool force,
			   struct hutch_error **err);
/* The spec's state JSON (malloc'd). */
char *hutch_container_state(const struct hutch_context *ctx, const char *id,
			    struct hutch_error **err);
int hutch_container_pause(const struct hutch_context *ctx, const char *id,
			  struct hutch_error **err);
int hutch_container_resume(const struct hutch_context *ctx, const char *id,
			   struct hutch_error **err);
struct hutch_resources;
/* Change the limits of a created, running or paused container; fields left
 * zero mean "unchanged" (Docker sends them so). */
int hutch_container_update(const struct hutch_context *ctx, const char *id,
			   const struct hutch_resources *r, struct hutch_error **err);
/* Host pids of the container's processes (malloc'd). */
int hutch_container_ps(const struct hutch_context *ctx, const char *id, pid_t **pids, size_t *n,
		       struct hutch_error **err);

/* events: one JSON object per event, in runc's shape: {"type":"stats",
 * "id":ID,"data":{cpu, cpuset, memory, pids, blkio, hugetlb, ...}} and
 * {"type":"oom","id":ID}.  The callback gets the text without a newline and
 * stops the stream by returning non-zero. */
typedef int (*hutch_event_fn)(const char *json, void *data);
/* The one stats event of a created, running or paused container (malloc'd). */
char *hutch_container_stats(const struct hutch_context *ctx, const char *id,
			    struct hutch_error **err);
/* A stats event every interval_ms and an oom event for every OOM kill, until
 * the container's init exits (returns 0) or FN returns non-zero. */
int hutch_container_events(const struct hutch_context *ctx, const char *id, unsigned interval_ms,
			   hutch_event_fn fn, void *data, struct hutch_error **err);

struct hutch_exec_opts {
	/* The process: from a runtime-spec process JSON file, or else the
	 * container's own process with the overrides below (as runc exec). */
	const char *process_file;
	char **args;	 /* required without process_file */
	char **env;	 /* "K=V" added to (or replacing in) the container's env */
	const char *cwd; /* NULL: the container's */
	bool has_user;	 /* -u uid[:gid] */
	unsigned uid, gid;
	unsigned *additional_gids;
	size_t n_additional_gids;
	char **add_caps; /* --cap NAME: added to every set but ambient */
	bool no_new_privs;
	bool tty;
	bool detach;
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
	/* --cgroup: existing sub-cgroups of the container's to join, each
	 * "PATH" or "CTRL[,CTRL...]:PATH" (NULL-terminated; NULL: none) */
	char **cgroups;
	bool ignore_paused;
	const char *apparmor;
	const char *process_label;
};

/* Run a new process in a running container; without detach, *status gets
 * its exit status (128+signal when killed). */
int hutch_container_exec(const struct hutch_context *ctx, const char *id,
			 const struct hutch_exec_opts *o, int *status, struct hutch_error **err);

/* Parse a signal: "KILL", "SIGKILL", "9"; 1..SIGRTMAX. */
int hutch_signal_parse(const char *s, int *sig, struct hutch_error **err);

#endif
