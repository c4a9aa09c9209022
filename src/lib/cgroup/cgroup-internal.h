/* cgroup internals shared by cgroup.c, resources.c, v1.c and v2.c, and the
 * hooks unit tests use to fake a host layout in a temp dir. */
#ifndef HUTCH_CGROUP_INTERNAL_H
#define HUTCH_CGROUP_INTERNAL_H

#include "cgroup/cgroup.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hutch_error;
struct hutch_resources;

/* One hierarchy hutch uses: a v1 mount (one or more controllers, or a named
 * hierarchy such as name=systemd) or the cgroup2 tree. */
struct hutch_cg_hier {
	char *mount;  /* mount point, e.g. /sys/fs/cgroup/cpu */
	char **ctrls; /* v1: super options naming controllers; v2: cgroup.controllers of the root */
	bool v2;
	char *dir;	/* the container's cgroup directory in this hierarchy */
	char *root_dir; /* the directory below which create() may make directories */
	int created;	/* trailing components of dir that create() made */
};

struct hutch_cgroup {
	enum hutch_cgroup_mode mode;
	char *mountpoint;
	char *path; /* as recorded: "/hutch/ID", or a relative path as given */
	struct hutch_cg_hier *h;
	size_t n;
	int unified;	 /* index of the cgroup2 hierarchy, -1 if none */
	bool loaded;	 /* from hutch_cgroup_load: created counts unknown */
	bool created_ok; /* create() ran */
};

/* A fake host for unit tests: the mode (no statfs), the text of
 * /proc/self/mountinfo and of /proc/self/cgroup. */
struct hutch_cgroup_layout {
	enum hutch_cgroup_mode mode;
	const char *mountinfo;
	const char *self_cgroup;
};

struct hutch_cgroup *hutch_cgroup_new_layout(const char *mountpoint,
					     const struct hutch_cgroup_layout *layout,
					     const char *cgroups_path, const char *id, bool load,
					     struct hutch_error **err);

/* Check a cgroups path: not empty, no "." or ".." component, no "//", no
 * trailing slash.  Absolute "/" alone is refused. */
int hutch_cgroup_check_path(const char *path, struct hutch_error **err);

/* Test hooks: called before every write (path, value) and after every
 * directory create() makes (so tests can fill in the kernel's files). */
typedef void (*hutch_cgroup_write_hook)(const char *path, const char *value, void *data);
typedef void (*hutch_cgroup_mkdir_hook)(const char *dir, void *data);
void hutch_cgroup_set_hooks(hutch_cgroup_write_hook w, hutch_cgroup_mkdir_hook m, void *data);
/* Poll budget of freeze/destroy in milliseconds (tests shorten it). */
void hutch_cgroup_set_timeout_ms(int ms);

/* Conversions (runc and crun give the same numbers). */
uint64_t hutch_cgroup_shares_to_weight(uint64_t shares);
uint64_t hutch_cgroup_blkio_to_io_weight(uint64_t weight);
/* v2 memory.swap.max from the spec's swap (memory+swap) and limit; writes
 * "max" for -1.  Returns 0 with *skip set when nothing is to be written. */
int hutch_cgroup_swap_v2(int64_t swap, int64_t limit, char *buf, size_t size, bool *skip,
			 struct hutch_error **err);

/* ---- shared helpers (cgroup.c) ---- */
extern int hutch_cg_timeout_ms;
int hutch_cg_write(const char *dir, const char *file, const char *value, struct hutch_error **err);
/* One open cgroup file taking several values, one write() each (devices.allow
 * takes one rule per write): saves an open and a close per value. */
struct hutch_cg_file {
	int fd;
	char *path;
};
int hutch_cg_file_open(struct hutch_cg_file *f, const char *dir, const char *file,
		       struct hutch_error **err);
int hutch_cg_file_write(struct hutch_cg_file *f, const char *value, struct hutch_error **err);
void hutch_cg_file_close(struct hutch_cg_file *f);
bool hutch_cg_exists(const char *dir, const char *file);
char *hutch_cg_read(const char *dir, const char *file, struct hutch_error **err);
bool hutch_cg_strv_has(char *const *v, const char *s);
/* The hierarchy holding controller CTRL: a v1 mount, else the cgroup2
 * tree when the controller is on it (any controller in UNIFIED mode). */
struct hutch_cg_hier *hutch_cg_find(struct hutch_cgroup *cg, const char *ctrl);
void hutch_cg_sleep_ms(int ms);

/* ---- resources.c ---- */
int hutch_cg_set_resources(struct hutch_cgroup *cg, const struct hutch_resources *r, bool update,
			   struct hutch_error **err);

/* ---- v1.c ---- */
int hutch_cg_v1_devices(const char *dir, const struct hutch_resources *r, struct hutch_error **err);
int hutch_cg_v1_freeze(const char *dir, bool freeze, struct hutch_error **err);
int hutch_cg_v1_is_frozen(const char *dir, bool *frozen, struct hutch_error **err);
int hutch_cg_v1_copy_cpuset(const char *parent, const char *child, struct hutch_error **err);

/* ---- v2.c ---- */
int hutch_cg_v2_enable_controllers(const char *root, const char *dir, struct hutch_error **err);
int hutch_cg_v2_devices(const char *dir, const struct hutch_resources *r, struct hutch_error **err);
int hutch_cg_v2_freeze(const char *dir, bool freeze, struct hutch_error **err);
int hutch_cg_v2_is_frozen(const char *dir, bool *frozen, struct hutch_error **err);
/* The device filter program for R's rules (malloc'd; tests run it). */
struct bpf_insn;
int hutch_cg_v2_device_prog(const struct hutch_resources *r, struct bpf_insn **insns, size_t *n,
			    struct hutch_error **err);

/* The devices every container gets (runc's AllowedDevices minus the
 * wildcard mknod rules): null, zero, full, random, urandom, tty, console,
 * ptmx and the pts range. */
struct hutch_cg_default_dev {
	char type;
	int64_t major, minor; /* -1: wildcard */
};
extern const struct hutch_cg_default_dev hutch_cg_default_devices[];
extern const size_t hutch_cg_n_default_devices;

#endif
