/* cgroups: mode detection, hierarchy discovery, path resolution and the
 * lifecycle (create, enter, freeze, kill, destroy).  Resource writes live in
 * resources.c, version specifics in v1.c and v2.c. */
#include "cgroup/cgroup-internal.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"

#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

/* The v1 hierarchies hutch puts containers in (name=systemd too, as runc). */
static const char *const wanted_v1[] = {
    "cpu",  "cpuacct", "cpuset",  "memory",   "devices", "freezer",	 "blkio",
    "pids", "hugetlb", "net_cls", "net_prio", "rdma",	 "name=systemd",
};

int hutch_cg_timeout_ms = 1000;
static hutch_cgroup_write_hook write_hook;
static hutch_cgroup_mkdir_hook mkdir_hook;
static void *hook_data;

void hutch_cgroup_set_hooks(hutch_cgroup_write_hook w, hutch_cgroup_mkdir_hook m, void *data)
{
	write_hook = w;
	mkdir_hook = m;
	hook_data = data;
}

void hutch_cgroup_set_timeout_ms(int ms)
{
	hutch_cg_timeout_ms = ms;
}

void hutch_cg_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- small helpers -------------------------------------------------------- */

int hutch_cg_write(const char *dir, const char *file, const char *value, struct hutch_error **err)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return hutch_error_set(err, ENOMEM, "cgroup write %s", file);
	hutch_debug("cgroup write %s = %s", path, value);
	if (write_hook != NULL)
		write_hook(path, value, hook_data);
	return hutch_write_file(path, value, strlen(value), err);
}

int hutch_cg_file_open(struct hutch_cg_file *f, const char *dir, const char *file,
		       struct hutch_error **err)
{
	f->fd = -1;
	if (asprintf(&f->path, "%s/%s", dir, file) < 0) {
		f->path = NULL;
		return hutch_error_set(err, ENOMEM, "cgroup write %s", file);
	}
	f->fd = open(f->path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (f->fd < 0)
		return hutch_error_errno(err, "open %s", f->path);
	return 0;
}

int hutch_cg_file_write(struct hutch_cg_file *f, const char *value, struct hutch_error **err)
{
	size_t len = strlen(value);
	ssize_t n;

	hutch_debug("cgroup write %s = %s", f->path, value);
	if (write_hook != NULL)
		write_hook(f->path, value, hook_data);
	do
		n = write(f->fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len)
		return hutch_error_errno(err, "write %s to %s", value, f->path);
	return 0;
}

void hutch_cg_file_close(struct hutch_cg_file *f)
{
	hutch_closep(&f->fd);
	free(f->path);
	f->path = NULL;
}

bool hutch_cg_exists(const char *dir, const char *file)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return false;
	return access(path, F_OK) == 0;
}

char *hutch_cg_read(const char *dir, const char *file, struct hutch_error **err)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return hutch_error_set(err, ENOMEM, "cgroup read %s", file), NULL;
	return hutch_read_file(path, 1 << 20, NULL, err);
}

bool hutch_cg_strv_has(char *const *v, const char *s)
{
	for (; v != NULL && *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));

	if (nv == NULL)
		return -1;
	*v = nv;
	nv[*n] = strdup(s);
	if (nv[*n] == NULL)
		return -1;
	nv[++*n] = NULL;
	return 0;
}

/* Split S on any of SEPS into a NULL-terminated vector (never NULL on success). */
static char **split(const char *s, const char *seps)
{
	_cleanup_free_ char *copy = strdup(s);
	char **v = calloc(1, sizeof(char *));
	size_t n = 0;
	char *save = NULL;

	if (copy == NULL || v == NULL) {
		free(v);
		return NULL;
	}
	for (char *t = strtok_r(copy, seps, &save); t != NULL; t = strtok_r(NULL, seps, &save))
		if (strv_push(&v, &n, t) < 0) {
			hutch_strv_free(v);
			return NULL;
		}
	return v;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r != '\0'; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* ---- detection -------------------------------------------------------------- */

int hutch_cgroup_detect(const char *mountpoint, enum hutch_cgroup_mode *mode,
			struct hutch_error **err)
{
	static char cached_for[PATH_MAX];
	static enum hutch_cgroup_mode cached;
	_cleanup_free_ char *unified = NULL;
	struct statfs sfs;

	if (cached_for[0] != '\0' && strcmp(cached_for, mountpoint) == 0) {
		*mode = cached;
		return 0;
	}
	if (statfs(mountpoint, &sfs) < 0)
		return hutch_error_errno(err, "statfs %s", mountpoint);
	if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
		cached = HUTCH_CGROUP_UNIFIED;
	} else {
		cached = HUTCH_CGROUP_LEGACY;
		if (asprintf(&unified, "%s/unified", mountpoint) < 0)
			return hutch_error_set(err, ENOMEM, "detect cgroups");
		/* systemd's hybrid layout: v1 controllers on a tmpfs plus a
		 * cgroup2 tree at unified/ (here with hugetlb on it). */
		if (sfs.f_type == TMPFS_MAGIC && statfs(unified, &sfs) == 0 &&
		    sfs.f_type == CGROUP2_SUPER_MAGIC)
			cached = HUTCH_CGROUP_HYBRID;
	}
	if (strlen(mountpoint) < sizeof(cached_for))
		strcpy(cached_for, mountpoint);
	*mode = cached;
	return 0;
}

/* ---- paths -------------------------------------------------------------------- */

int hutch_cgroup_check_path(const char *path, struct hutch_error **err)
{
	const char *p = path;

	if (path == NULL || *path == '\0')
		return hutch_error_set(err, EINVAL, "cgroupsPath: empty");
	if (strlen(path) >= PATH_MAX / 2)
		return hutch_error_set(err, ENAMETOOLONG, "cgroupsPath %.64s...: too long", path);
	if (*p == '/')
		p++;
	if (*p == '\0')
		return hutch_error_set(err, EINVAL, "cgroupsPath %s: the root cgroup", path);
	for (;;) {
		size_t len = strcspn(p, "/");
		if (len == 0)
			return hutch_error_set(err, EINVAL, "cgroupsPath %s: not a clean path",
					       path);
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return hutch_error_set(
			    err, EINVAL, "cgroupsPath %s: \".\" and \"..\" are not allowed", path);
		if (p[len] == '\0')
			break;
		p += len + 1;
		if (*p == '\0')
			return hutch_error_set(err, EINVAL, "cgroupsPath %s: not a clean path",
					       path);
	}
	return 0;
}

/* The caller's cgroup in hierarchy H from /proc/self/cgroup text. */
static const char *own_cgroup(const char *self, const struct hutch_cg_hier *h, char *buf,
			      size_t size)
{
	const char *line = self;

	while (line != NULL && *line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		_cleanup_free_ char *l = strndup(line, len);
		char *c1, *c2;

		line = end ? end + 1 : NULL;
		if (l == NULL || (c1 = strchr(l, ':')) == NULL ||
		    (c2 = strchr(c1 + 1, ':')) == NULL)
			continue;
		*c2 = '\0';
		if (h->v2 ? (strncmp(l, "0:", 2) == 0 && c1[1] == '\0') : c1[1] != '\0') {
			_cleanup_strv_ char **ctrls = h->v2 ? NULL : split(c1 + 1, ",");
			if (!h->v2 && (ctrls == NULL || h->ctrls == NULL || h->ctrls[0] == NULL ||
				       !hutch_cg_strv_has(ctrls, h->ctrls[0])))
				continue;
			if (strlen(c2 + 1) >= size)
				return NULL;
			strcpy(buf, c2 + 1);
			return buf;
		}
	}
	return NULL;
}

static void hier_clear(struct hutch_cg_hier *h)
{
	free(h->mount);
	hutch_strv_free(h->ctrls);
	free(h->dir);
	free(h->root_dir);
}

void hutch_cgroup_free(struct hutch_cgroup *cg)
{
	if (cg == NULL)
		return;
	for (size_t i = 0; i < cg->n; i++)
		hier_clear(&cg->h[i]);
	free(cg->h);
	free(cg->mountpoint);
	free(cg->path);
	free(cg);
}

static void cgroup_freep(struct hutch_cgroup **cg)
{
	hutch_cgroup_free(*cg);
}

static struct hutch_cg_hier *add_hier(struct hutch_cgroup *cg, const char *mount, bool v2,
				      char **ctrls)
{
	struct hutch_cg_hier *nh = realloc(cg->h, (cg->n + 1) * sizeof(*nh));

	if (nh == NULL)
		return NULL;
	cg->h = nh;
	nh = &cg->h[cg->n];
	memset(nh, 0, sizeof(*nh));
	nh->mount = strdup(mount);
	if (nh->mount == NULL)
		return NULL; /* CTRLS stays the caller's */
	nh->v2 = v2;
	nh->ctrls = ctrls;
	if (v2)
		cg->unified = (int)cg->n;
	cg->n++;
	return nh;
}

static int add_unified(struct hutch_cgroup *cg, const char *mount, struct hutch_error **err)
{
	_cleanup_free_ char *text = hutch_cg_read(mount, "cgroup.controllers", NULL);
	char **ctrls = split(text ? text : "", " \n");

	if (ctrls == NULL || add_hier(cg, mount, true, ctrls) == NULL) {
		hutch_strv_free(ctrls);
		return hutch_error_set(err, ENOMEM, "cgroup2 at %s", mount);
	}
	return 0;
}

/* mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER */
static int parse_mountinfo(struct hutch_cgroup *cg, const char *text, char ***roots,
			   struct hutch_error **err)
{
	size_t mplen = strlen(cg->mountpoint);
	char *save = NULL;
	_cleanup_free_ char *copy = strdup(text);
	_cleanup_strv_ char **devs = calloc(1, sizeof(char *));
	size_t ndevs = 0, nroots = 0;

	if (copy == NULL || devs == NULL)
		return hutch_error_set(err, ENOMEM, "mountinfo");
	for (char *line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[6] = {NULL}, *sep, *fstype, *super, *p = line;
		bool v2;

		for (int i = 0; i < 6 && p != NULL; i++)
			f[i] = strsep(&p, " ");
		sep = strstr(p ? p : "", "- ");
		if (f[5] == NULL || sep == NULL)
			continue;
		sep += 2;
		fstype = strsep(&sep, " ");
		strsep(&sep, " ");
		super = sep ? strsep(&sep, " ") : NULL;
		if (fstype == NULL || super == NULL)
			continue;
		v2 = strcmp(fstype, "cgroup2") == 0;
		if (!v2 && strcmp(fstype, "cgroup") != 0)
			continue;
		unescape(f[4]);
		unescape(f[3]);
		if (strncmp(f[4], cg->mountpoint, mplen) != 0 || f[4][mplen] != '/')
			continue;
		if (hutch_cg_strv_has(devs, f[2]))
			continue; /* the same hierarchy mounted twice */
		if (v2) {
			if (cg->mode != HUTCH_CGROUP_HYBRID || cg->unified >= 0)
				continue;
			if (add_unified(cg, f[4], err) < 0)
				return -1;
		} else {
			_cleanup_strv_ char **opts = split(super, ",");
			char **ctrls = calloc(1, sizeof(char *));
			size_t nc = 0;

			if (opts == NULL || ctrls == NULL) {
				free(ctrls);
				return hutch_error_set(err, ENOMEM, "mountinfo");
			}
			for (char **o = opts; *o != NULL; o++) {
				bool want = false;
				for (size_t i = 0; i < HUTCH_ARRAY_SIZE(wanted_v1); i++)
					want = want || strcmp(*o, wanted_v1[i]) == 0;
				if (want && strv_push(&ctrls, &nc, *o) < 0) {
					hutch_strv_free(ctrls);
					return hutch_error_set(err, ENOMEM, "mountinfo");
				}
			}
			if (nc == 0 || add_hier(cg, f[4], false, ctrls) == NULL) {
				hutch_strv_free(ctrls);
				if (nc == 0)
					continue;
				return hutch_error_set(err, ENOMEM, "mountinfo");
			}
		}
		if (strv_push(&devs, &ndevs, f[2]) < 0 || strv_push(roots, &nroots, f[3]) < 0)
			return hutch_error_set(err, ENOMEM, "mountinfo");
	}
	return 0;
}

/* Where the container's cgroup is in each hierarchy. */
static int resolve_dirs(struct hutch_cgroup *cg, char **roots, const char *self,
			struct hutch_error **err)
{
	for (size_t i = 0; i < cg->n; i++) {
		struct hutch_cg_hier *h = &cg->h[i];
		char own[PATH_MAX];
		const char *base = "";

		if (cg->path[0] != '/') {
			const char *root = roots && roots[i] ? roots[i] : "/";
			size_t rl = strlen(root);

			if (self == NULL || own_cgroup(self, h, own, sizeof(own)) == NULL)
				return hutch_error_set(
				    err, ENOENT,
				    "cgroupsPath %s: own cgroup in %s not found in "
				    "/proc/self/cgroup",
				    cg->path, h->mount);
			base = own;
			/* Inside a cgroup namespace or a bind of a sub-tree the
			 * mount shows from ROOT on: strip it. */
			if (strcmp(root, "/") != 0 && strncmp(own, root, rl) == 0 &&
			    (own[rl] == '/' || own[rl] == '\0'))
				base = own + rl;
			if (strcmp(base, "/") == 0)
				base = "";
		}
		if (asprintf(&h->root_dir, "%s%s", h->mount, base) < 0 ||
		    asprintf(&h->dir, "%s%s%s", h->root_dir, cg->path[0] == '/' ? "" : "/",
			     cg->path) < 0) {
			h->root_dir = h->dir = NULL;
			return hutch_error_set(err, ENOMEM, "cgroup path");
		}
	}
	return 0;
}

struct hutch_cgroup *hutch_cgroup_new_layout(const char *mountpoint,
					     const struct hutch_cgroup_layout *layout,
					     const char *cgroups_path, const char *id, bool load,
					     struct hutch_error **err)
{
	__attribute__((cleanup(cgroup_freep))) struct hutch_cgroup *cg = calloc(1, sizeof(*cg));
	_cleanup_strv_ char **roots = calloc(1, sizeof(char *));

	if (cg == NULL || roots == NULL)
		return hutch_error_set(err, ENOMEM, "cgroup"), NULL;
	cg->mode = layout->mode;
	cg->unified = -1;
	cg->loaded = load;
	cg->mountpoint = strdup(mountpoint);
	if (cg->mountpoint == NULL)
		return hutch_error_set(err, ENOMEM, "cgroup"), NULL;
	if (cgroups_path == NULL) {
		if (id == NULL || *id == '\0' || strchr(id, '/') != NULL || strcmp(id, ".") == 0 ||
		    strcmp(id, "..") == 0)
			return hutch_error_set(err, EINVAL, "cgroup for container id \"%s\"",
					       id ? id : ""),
			       NULL;
		if (asprintf(&cg->path, "/hutch/%s", id) < 0)
			return hutch_error_set(err, ENOMEM, "cgroup"), NULL;
	} else {
		if (hutch_cgroup_check_path(cgroups_path, err) < 0)
			return NULL;
		cg->path = strdup(cgroups_path);
		if (cg->path == NULL)
			return hutch_error_set(err, ENOMEM, "cgroup"), NULL;
	}
	if (cg->mode == HUTCH_CGROUP_UNIFIED) {
		if (add_unified(cg, mountpoint, err) < 0 ||
		    strv_push(&roots, &(size_t){0}, "/") < 0)
			return NULL;
	} else {
		if (parse_mountinfo(cg, layout->mountinfo ? layout->mountinfo : "", &roots, err) <
		    0)
			return NULL;
		if (cg->n == 0)
			return hutch_error_set(err, ENOENT, "no cgroup hierarchy mounted below %s",
					       mountpoint),
			       NULL;
	}
	if (resolve_dirs(cg, roots, layout->self_cgroup, err) < 0)
		return NULL;
	return steal_ptr(cg);
}

static struct hutch_cgroup *open_cgroup(const char *mountpoint, const char *cgroups_path,
					const char *id, bool load, struct hutch_error **err)
{
	struct hutch_cgroup_layout l = {0};
	_cleanup_free_ char *mountinfo = NULL, *self = NULL;

	if (hutch_cgroup_detect(mountpoint, &l.mode, err) < 0)
		return NULL;
	if (l.mode != HUTCH_CGROUP_UNIFIED) {
		mountinfo = hutch_read_file("/proc/self/mountinfo", 0, NULL, err);
		if (mountinfo == NULL)
			return NULL;
	}
	self = hutch_read_file("/proc/self/cgroup", 0, NULL, err);
	if (self == NULL)
		return NULL;
	l.mountinfo = mountinfo;
	l.self_cgroup = self;
	return hutch_cgroup_new_layout(mountpoint, &l, cgroups_path, id, load, err);
}

struct hutch_cgroup *hutch_cgroup_new(const char *mountpoint, const char *cgroups_path,
				      const char *id, struct hutch_error **err)
{
	return open_cgroup(mountpoint, cgroups_path, id, false, err);
}

struct hutch_cgroup *hutch_cgroup_load(const char *mountpoint, const char *path,
				       struct hutch_error **err)
{
	if (path == NULL)
		return hutch_error_set(err, EINVAL, "cgroup: no recorded path"), NULL;
	return open_cgroup(mountpoint, path, NULL, true, err);
}

/* ---- save, restore ------------------------------------------------------------- */

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *hutch_cgroup_save(const struct hutch_cgroup *cg)
{
	struct json_object *o = json_object_new_object(), *hs = json_object_new_array();

	if (o == NULL || hs == NULL) {
		json_object_put(o);
		json_object_put(hs);
		return NULL;
	}
	json_object_object_add(o, "mode", json_object_new_int((int)cg->mode));
	json_object_object_add(o, "hierarchies", hs);
	for (size_t i = 0; i < cg->n; i++) {
		const struct hutch_cg_hier *h = &cg->h[i];
		struct json_object *j = json_object_new_object(), *c = json_object_new_array();
		if (j == NULL || c == NULL) {
			json_object_put(j);
			json_object_put(c);
			json_object_put(o);
			return NULL;
		}
		json_object_object_add(j, "mount", json_object_new_string(h->mount));
		json_object_object_add(j, "v2", json_object_new_boolean(h->v2));
		json_object_object_add(j, "dir", json_object_new_string(h->dir));
		json_object_object_add(j, "root", json_object_new_string(h->root_dir));
		for (size_t k = 0; h->ctrls != NULL && h->ctrls[k] != NULL; k++)
			json_object_array_add(c, json_object_new_string(h->ctrls[k]));
		json_object_object_add(j, "controllers", c);
		json_object_array_add(hs, j);
	}
	return o;
}

/* PATH is absolute, clean (no "", "." or ".." component) and DIR itself
 * (unless STRICT) or below it. */
static bool path_below(const char *path, const char *dir, bool strict)
{
	size_t l = strlen(dir);

	if (path[0] != '/' || strncmp(path, dir, l) != 0)
		return false;
	if (strcmp(dir, "/") != 0 && path[l] != '/' && (strict || path[l] != '\0'))
		return false;
	if (strict && path[l] == '\0')
		return false;
	for (const char *p = path; *p != '\0';) {
		const char *c = p + 1, *e = strchrnul(c, '/');
		size_t cl = (size_t)(e - c);
		if ((cl == 0 && *e != '\0') || (cl == 0 && p != path) || (cl == 1 && c[0] == '.') ||
		    (cl == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		p = e;
	}
	return true;
}

struct hutch_cgroup *hutch_cgroup_restore(const char *mountpoint, const char *path,
					  struct json_object *saved, struct hutch_error **err)
{
	__attribute__((cleanup(cgroup_freep))) struct hutch_cgroup *cg = calloc(1, sizeof(*cg));
	struct json_object *hs, *mode;
	size_t n;

	if (cg == NULL)
		return hutch_error_set(err, ENOMEM, "cgroup"), NULL;
	cg->unified = -1;
	cg->loaded = true;
	cg->mountpoint = strdup(mountpoint);
	cg->path = path != NULL ? strdup(path) : NULL;
	if (cg->mountpoint == NULL || cg->path == NULL)
		return hutch_error_set(err, path ? ENOMEM : EINVAL, "cgroup: saved layout"), NULL;
	if (!json_object_is_type(saved, json_type_object) ||
	    !json_object_object_get_ex(saved, "mode", &mode) ||
	    !json_object_is_type(mode, json_type_int) ||
	    !json_object_object_get_ex(saved, "hierarchies", &hs) ||
	    !json_object_is_type(hs, json_type_array) || (n = json_object_array_length(hs)) == 0 ||
	    n > 64)
		return hutch_error_set(err, EINVAL, "cgroup: malformed saved layout"), NULL;
	cg->mode = (enum hutch_cgroup_mode)json_object_get_int(mode);
	if (cg->mode != HUTCH_CGROUP_UNIFIED && cg->mode != HUTCH_CGROUP_HYBRID &&
	    cg->mode != HUTCH_CGROUP_LEGACY)
		return hutch_error_set(err, EINVAL, "cgroup: malformed saved layout"), NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *j = json_object_array_get_idx(hs, i), *v2, *c;
		const char *mount = jstr(j, "mount"), *dir = jstr(j, "dir"),
			   *root = jstr(j, "root");
		_cleanup_strv_ char **ctrls = NULL;
		struct hutch_cg_hier *h;
		size_t nc;

		if (mount == NULL || dir == NULL || root == NULL ||
		    !json_object_object_get_ex(j, "v2", &v2) ||
		    !json_object_is_type(v2, json_type_boolean) ||
		    !json_object_object_get_ex(j, "controllers", &c) ||
		    !json_object_is_type(c, json_type_array) ||
		    !path_below(mount, mountpoint, false) || !path_below(root, mount, false) ||
		    !path_below(dir, root, true) ||
		    (json_object_get_boolean(v2) && cg->unified >= 0))
			return hutch_error_set(err, EINVAL, "cgroup: malformed saved layout"), NULL;
		nc = json_object_array_length(c);
		ctrls = calloc(nc + 1, sizeof(char *));
		if (ctrls == NULL)
			return hutch_error_set(err, ENOMEM, "cgroup"), NULL;
		for (size_t k = 0; k < nc; k++) {
			struct json_object *e = json_object_array_get_idx(c, k);
			if (!json_object_is_type(e, json_type_string))
				return hutch_error_set(err, EINVAL,
						       "cgroup: malformed saved layout"),
				       NULL;
			ctrls[k] = strdup(json_object_get_string(e));
			if (ctrls[k] == NULL)
				return hutch_error_set(err, ENOMEM, "cgroup"), NULL;
		}
		h = add_hier(cg, mount, json_object_get_boolean(v2), ctrls);
		if (h == NULL)
			return hutch_error_set(err, ENOMEM, "cgroup"), NULL;
		ctrls = NULL;
		h->dir = strdup(dir);
		h->root_dir = strdup(root);
		if (h->dir == NULL || h->root_dir == NULL)
			return hutch_error_set(err, ENOMEM, "cgroup"), NULL;
	}
	return steal_ptr(cg);
}

size_t hutch_cgroup_count(const struct hutch_cgroup *cg)
{
	return cg->n;
}

const char *hutch_cgroup_hierarchy(const struct hutch_cgroup *cg, size_t i, char *name, size_t size)
{
	const struct hutch_cg_hier *h = &cg->h[i];
	size_t l = 0;

	if (size == 0)
		return NULL;
	name[0] = '\0';
	for (size_t k = 0; !h->v2 && h->ctrls != NULL && h->ctrls[k] != NULL; k++) {
		int w = snprintf(name + l, size - l, "%s%s", k ? "," : "", h->ctrls[k]);
		if (w < 0 || (size_t)w >= size - l)
			return NULL;
		l += (size_t)w;
	}
	return h->dir;
}

const char *hutch_cgroup_path(const struct hutch_cgroup *cg)
{
	return cg->path;
}

enum hutch_cgroup_mode hutch_cgroup_get_mode(const struct hutch_cgroup *cg)
{
	return cg->mode;
}

struct hutch_cg_hier *hutch_cg_find(struct hutch_cgroup *cg, const char *ctrl)
{
	for (size_t i = 0; i < cg->n; i++)
		if (!cg->h[i].v2 && hutch_cg_strv_has(cg->h[i].ctrls, ctrl))
			return &cg->h[i];
	if (cg->unified >= 0 &&
	    (cg->mode == HUTCH_CGROUP_UNIFIED || hutch_cg_strv_has(cg->h[cg->unified].ctrls, ctrl)))
		return &cg->h[cg->unified];
	return NULL;
}

/* ---- create ------------------------------------------------------------------ */

static int create_one(struct hutch_cgroup *cg, struct hutch_cg_hier *h, struct hutch_error **err)
{
	size_t rl = strlen(h->root_dir);
	_cleanup_free_ char *buf = strdup(h->dir);
	bool cpuset = !h->v2 && hutch_cg_strv_has(h->ctrls, "cpuset");
	char *p;

	if (buf == NULL)
		return hutch_error_set(err, ENOMEM, "cgroup create");
	h->created = 0;
	/* Walk down from the root so each new level can be set up (cpuset
	 * values copied) before the next one is made. */
	for (p = buf + rl + 1;; p++) {
		bool last = *p == '\0';
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == 0) {
			h->created++;
			if (mkdir_hook != NULL)
				mkdir_hook(buf, hook_data);
			if (cpuset) {
				char *slash = strrchr(buf, '/');
				int r;
				*slash = '\0';
				_cleanup_free_ char *parent = strdup(buf);
				*slash = '/';
				if (parent == NULL)
					return hutch_error_set(err, ENOMEM, "cgroup create");
				r = hutch_cg_v1_copy_cpuset(parent, buf, err);
				if (r < 0)
					return -1;
			}
		} else if (errno != EEXIST) {
			return hutch_error_errno(err, "mkdir %s", buf);
		} else if (h->created > 0) {
			/* Someone else made it between our mkdirs: not ours. */
			h->created = 0;
		}
		if (last)
			break;
		*p = '/';
	}
	if (h->v2) {
		/* Enable controllers top-down in every ancestor of the leaf (only
		 * the leaf gets processes: "no internal processes" rule). */
		_cleanup_free_ char *anc = strdup(h->dir);
		size_t ml = strlen(h->mount);
		if (anc == NULL)
			return hutch_error_set(err, ENOMEM, "cgroup create");
		for (char *q = anc + ml;; q++) {
			if (*q != '/' && *q != '\0')
				continue;
			if (*q == '\0')
				break; /* the leaf itself: no subtree */
			*q = '\0';
			if (hutch_cg_v2_enable_controllers(h->mount, anc, err) < 0)
				return -1;
			*q = '/';
		}
	}
	(void)cg;
	return 0;
}

int hutch_cgroup_create(struct hutch_cgroup *cg, struct hutch_error **err)
{
	for (size_t i = 0; i < cg->n; i++)
		if (create_one(cg, &cg->h[i], err) < 0)
			return hutch_error_prefix(err, "create cgroup %s", cg->path);
	cg->created_ok = true;
	return 0;
}

int hutch_cgroup_apply(struct hutch_cgroup *cg, const struct hutch_resources *r,
		       struct hutch_error **err)
{
	return hutch_cg_set_resources(cg, r, false, err);
}

int hutch_cgroup_update(struct hutch_cgroup *cg, const struct hutch_resources *r,
			struct hutch_error **err)
{
	return hutch_cg_set_resources(cg, r, true, err);
}

/* ---- enter, join -------------------------------------------------------------- */

int hutch_cgroup_enter(struct hutch_cgroup *cg, pid_t pid, bool v2_only, struct hutch_error **err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < cg->n; i++)
		if ((!v2_only || cg->h[i].v2) &&
		    hutch_cg_write(cg->h[i].dir, "cgroup.procs", buf, err) < 0)
			return hutch_error_prefix(err, "join cgroup %s", cg->path);
	return 0;
}

/* ---- exec --cgroup --------------------------------------------------------------- */

/* One entry: "PATH" (*ctrls NULL) or "CTRL[,CTRL...]:PATH". */
static int sub_entry(const char *spec, char **ctrls, const char **path, struct hutch_error **err)
{
	const char *colon = strchr(spec, ':');

	*path = colon != NULL ? colon + 1 : spec;
	*ctrls = NULL;
	if (colon != NULL) {
		if (colon == spec)
			return hutch_error_set(err, EINVAL,
					       "--cgroup %s: no controller before \":\"", spec);
		*ctrls = strndup(spec, (size_t)(colon - spec));
		if (*ctrls == NULL)
			return hutch_error_set(err, ENOMEM, "--cgroup %s", spec);
	}
	if (**path == '/' || hutch_cgroup_check_path(*path, NULL) < 0)
		return hutch_error_set(
		    err, EINVAL,
		    "--cgroup %s: the sub-cgroup must be a relative path without "
		    "\".\" or \"..\" components",
		    spec);
	return 0;
}

/* The hierarchy holding controller CTRL (named ones too: "name=systemd"). */
static ssize_t hier_of(const struct hutch_cgroup *cg, const char *ctrl)
{
	for (size_t i = 0; i < cg->n; i++)
		if (hutch_cg_strv_has(cg->h[i].ctrls, ctrl))
			return (ssize_t)i;
	return -1;
}

int hutch_cgroup_descend(struct hutch_cgroup *cg, char *const *subs, struct hutch_error **err)
{
	_cleanup_free_ const char **to = calloc(cg->n + 1, sizeof(char *));
	_cleanup_free_ const char **from = calloc(cg->n + 1, sizeof(char *));
	_cleanup_free_ bool *named = calloc(cg->n + 1, sizeof(bool));

	if (to == NULL || from == NULL || named == NULL)
		return hutch_error_set(err, ENOMEM, "--cgroup");
	for (char *const *s = subs; s != NULL && *s != NULL; s++) {
		_cleanup_free_ char *ctrls = NULL;
		const char *path;
		if (sub_entry(*s, &ctrls, &path, err) < 0)
			return -1;
		for (size_t i = 0; ctrls == NULL && i < cg->n; i++) {
			if (named[i])
				continue; /* a controller's own entry wins */
			if (to[i] != NULL && strcmp(to[i], path) != 0)
				return hutch_error_set(err, EINVAL,
						       "--cgroup %s: conflicts with --cgroup %s",
						       *s, from[i]);
			to[i] = path;
			from[i] = *s;
		}
		for (char *save = NULL, *c = ctrls != NULL ? strtok_r(ctrls, ",", &save) : NULL;
		     c != NULL; c = strtok_r(NULL, ",", &save)) {
			ssize_t i = hier_of(cg, c);
			if (i < 0)
				return hutch_error_set(err, ENOENT,
						       "--cgroup %s: no cgroup hierarchy of the "
						       "container has the \"%s\" controller",
						       *s, c);
			if (named[i] && strcmp(to[i], path) != 0)
				return hutch_error_set(err, EINVAL,
						       "--cgroup %s: conflicts with --cgroup %s",
						       *s, from[i]);
			named[i] = true;
			to[i] = path;
			from[i] = *s;
		}
	}
	/* check every directory first, then change CG */
	for (size_t i = 0; i < cg->n; i++) {
		_cleanup_free_ char *d = NULL;
		struct stat st;
		if (to[i] == NULL)
			continue;
		if (asprintf(&d, "%s/%s", cg->h[i].dir, to[i]) < 0)
			return hutch_error_set(err, ENOMEM, "--cgroup");
		if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode))
			return hutch_error_set(err, ENOENT,
					       "--cgroup %s: no sub-cgroup %s (it must exist)",
					       from[i], d);
	}
	for (size_t i = 0; i < cg->n; i++) {
		char *d;
		if (to[i] == NULL)
			continue;
		if (asprintf(&d, "%s/%s", cg->h[i].dir, to[i]) < 0)
			return hutch_error_set(err, ENOMEM, "--cgroup");
		free(cg->h[i].dir);
		cg->h[i].dir = d;
	}
	return 0;
}

int hutch_cgroup_join_open(struct hutch_cgroup *cg, struct hutch_cgroup_join *j,
			   struct hutch_error **err)
{
	size_t i;

	j->clone_fd = -1;
	j->n = 0;
	j->tasks = calloc(cg->n > 0 ? cg->n : 1, sizeof(int));
	j->dirs = calloc(cg->n > 0 ? cg->n : 1, sizeof(char *));
	if (j->tasks == NULL || j->dirs == NULL) {
		hutch_cgroup_join_close(j);
		return hutch_error_set(err, ENOMEM, "join cgroup %s", cg->path);
	}
	/* The memory hierarchy last: each v1 join before it makes the kernel
	 * build a css_set for the new combination, and those built after it
	 * would be charged to the container's memory (about 1 KiB each,
	 * freed only after an RCU grace period), as they are not when the
	 * runtime's parent process moves a pid, as runc and crun do. */
	size_t mem = cg->n;
	for (i = 0; i < cg->n; i++)
		if (!cg->h[i].v2 && hutch_cg_strv_has(cg->h[i].ctrls, "memory"))
			mem = i;
	for (size_t k = 0; k < cg->n; k++) {
		_cleanup_free_ char *path = NULL;
		int fd;
		/* k walks 0..n-1 with the memory hierarchy moved to the end */
		i = mem == cg->n ? k : k < mem ? k : k + 1 < cg->n ? k + 1 : mem;
		if (cg->h[i].v2) {
			j->clone_fd = open(cg->h[i].dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (j->clone_fd < 0)
				goto fail;
			continue;
		}
		if (asprintf(&path, "%s/tasks", cg->h[i].dir) < 0) {
			errno = ENOMEM;
			goto fail;
		}
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			goto fail;
		j->dirs[j->n] = cg->h[i].dir;
		j->tasks[j->n++] = fd;
	}
	return 0;
fail:
	hutch_error_errno(err, "join cgroup %s", cg->h[i].dir);
	hutch_cgroup_join_close(j);
	return -1;
}

int hutch_cgroup_join_self(struct hutch_cgroup_join *j, struct hutch_error **err)
{
	int rc = 0;

	for (size_t i = 0; i < j->n && rc == 0; i++)
		if (write(j->tasks[i], "0", 1) != 1)
			rc = hutch_error_errno(err, "join cgroup %s%s", j->dirs[i],
					       errno == ENOSPC
						   ? " (a v1 cpuset cgroup takes no task "
						     "until cpuset.cpus and cpuset.mems "
						     "are set)"
						   : "");
	hutch_cgroup_join_close(j);
	return rc;
}

void hutch_cgroup_join_close(struct hutch_cgroup_join *j)
{
	for (size_t i = 0; i < j->n; i++)
		close(j->tasks[i]);
	free(j->tasks);
	free(j->dirs);
	j->tasks = NULL;
	j->dirs = NULL;
	j->n = 0;
	hutch_closep(&j->clone_fd);
}

/* ---- pids ------------------------------------------------------------------- */

static int read_pids(const char *dir, int depth, pid_t **pids, size_t *n, size_t *cap,
		     struct hutch_error **err)
{
	_cleanup_free_ char *text = hutch_cg_read(dir, "cgroup.procs", err);
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (text == NULL)
		return -1;
	for (char *p = text; *p != '\0';) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (*n == *cap) {
			pid_t *np = realloc(*pids, (*cap ? *cap * 2 : 16) * sizeof(pid_t));
			if (np == NULL)
				return hutch_error_set(err, ENOMEM, "cgroup pids");
			*pids = np;
			*cap = *cap ? *cap * 2 : 16;
		}
		(*pids)[(*n)++] = (pid_t)v;
		p = end;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	/* The container may have made sub-cgroups (cgroupns, rw cgroupfs). */
	if (depth > 32 || (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		_cleanup_free_ char *sub = NULL;
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
			return hutch_error_set(err, ENOMEM, "cgroup pids");
		if (read_pids(sub, depth + 1, pids, n, cap, err) < 0)
			return -1;
	}
	return 0;
}

static struct hutch_cg_hier *procs_hier(struct hutch_cgroup *cg)
{
	static const char *const pref[] = {"pids", "memory", "freezer", "cpu", "devices"};

	if (cg->mode == HUTCH_CGROUP_UNIFIED && cg->unified >= 0)
		return &cg->h[cg->unified];
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(pref); i++)
		for (size_t j = 0; j < cg->n; j++)
			if (!cg->h[j].v2 && hutch_cg_strv_has(cg->h[j].ctrls, pref[i]))
				return &cg->h[j];
	return cg->n > 0 ? &cg->h[0] : NULL;
}

int hutch_cgroup_pids(struct hutch_cgroup *cg, pid_t **pids, size_t *n, struct hutch_error **err)
{
	struct hutch_cg_hier *h = procs_hier(cg);
	_cleanup_free_ pid_t *v = NULL;
	size_t cap = 0, count = 0;

	if (h == NULL)
		return hutch_error_set(err, ENOENT, "cgroup %s: no hierarchy", cg->path);
	if (read_pids(h->dir, 0, &v, &count, &cap, err) < 0)
		return hutch_error_prefix(err, "list processes of cgroup %s", cg->path);
	*pids = steal_ptr(v);
	*n = count;
	return 0;
}

/* ---- freeze, kill ------------------------------------------------------------ */

/* v1 freezer when mounted (processes are frozen there on hybrid hosts), else
 * the cgroup2 tree's cgroup.freeze (core file, no controller needed). */
static struct hutch_cg_hier *freezer_hier(struct hutch_cgroup *cg, bool *v2)
{
	for (size_t i = 0; i < cg->n; i++)
		if (!cg->h[i].v2 && hutch_cg_strv_has(cg->h[i].ctrls, "freezer")) {
			*v2 = false;
			return &cg->h[i];
		}
	*v2 = true;
	return cg->unified >= 0 ? &cg->h[cg->unified] : NULL;
}

int hutch_cgroup_freeze(struct hutch_cgroup *cg, bool freeze, struct hutch_error **err)
{
	bool v2;
	struct hutch_cg_hier *h = freezer_hier(cg, &v2);
	int r;

	if (h == NULL)
		return hutch_error_set(err, ENOTSUP, "%s cgroup %s: no freezer available",
				       freeze ? "freeze" : "thaw", cg->path);
	r = v2 ? hutch_cg_v2_freeze(h->dir, freeze, err) : hutch_cg_v1_freeze(h->dir, freeze, err);
	if (r < 0)
		return hutch_error_prefix(err, "%s cgroup %s", freeze ? "freeze" : "thaw",
					  cg->path);
	return 0;
}

int hutch_cgroup_is_frozen(struct hutch_cgroup *cg, bool *frozen, struct hutch_error **err)
{
	bool v2;
	struct hutch_cg_hier *h = freezer_hier(cg, &v2);

	*frozen = false;
	if (h == NULL)
		return 0;
	return v2 ? hutch_cg_v2_is_frozen(h->dir, frozen, err)
		  : hutch_cg_v1_is_frozen(h->dir, frozen, err);
}

int hutch_cgroup_kill(struct hutch_cgroup *cg, int sig, struct hutch_error **err)
{
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_error_ struct hutch_error *ferr = NULL;
	size_t n = 0;
	bool frozen;

	/* cgroup.kill (Linux 5.14) kills the whole subtree atomically, also
	 * processes forking right now.  On a hybrid host every container
	 * process is in the cgroup2 tree too, since enter() joins it. */
	if (sig == SIGKILL && cg->unified >= 0 &&
	    hutch_cg_exists(cg->h[cg->unified].dir, "cgroup.kill")) {
		if (hutch_cg_write(cg->h[cg->unified].dir, "cgroup.kill", "1", err) < 0)
			return hutch_error_prefix(err, "kill cgroup %s", cg->path);
		return 0;
	}
	/* Freeze so nothing forks between listing and signalling. */
	frozen = hutch_cgroup_freeze(cg, true, &ferr) == 0;
	if (!frozen)
		hutch_debug("cgroup kill without freezing: %s", hutch_error_text(ferr));
	if (hutch_cgroup_pids(cg, &pids, &n, err) < 0) {
		if (frozen)
			hutch_cgroup_freeze(cg, false, NULL);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (kill(pids[i], sig) < 0 && errno != ESRCH) {
			hutch_error_errno(err, "kill %d with signal %d", (int)pids[i], sig);
			if (frozen)
				hutch_cgroup_freeze(cg, false, NULL);
			return -1;
		}
	}
	if (frozen && hutch_cgroup_freeze(cg, false, err) < 0)
		return -1;
	return 0;
}

/* ---- destroy ------------------------------------------------------------------ */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* rmdir DIR after its sub-cgroups, retrying on EBUSY until DEADLINE while the
 * last processes exit.  A missing directory is fine. */
static int rmdir_tree(const char *dir, long deadline, int depth, struct hutch_error **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int delay = 1;

	/* A container's cgroup rarely has sub-cgroups: list the directory
	 * only once the kernel said it is busy. */
	hutch_debug("cgroup rmdir %s", dir);
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY && errno != ENOTEMPTY)
		return hutch_error_errno(err, "rmdir %s", dir);
	d = depth < 32 ? opendir(dir) : NULL;
	while (d != NULL && (de = readdir(d)) != NULL) {
		_cleanup_free_ char *sub = NULL;
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
			return hutch_error_set(err, ENOMEM, "rmdir %s", dir);
		if (rmdir_tree(sub, deadline, depth + 1, err) < 0)
			return -1;
	}
	for (;;) {
		hutch_debug("cgroup rmdir %s", dir);
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || now_ms() >= deadline)
			return hutch_error_errno(err, "rmdir %s", dir);
		hutch_cg_sleep_ms(delay);
		delay = delay * 2 > 100 ? 100 : delay * 2;
	}
}

int hutch_cgroup_destroy(struct hutch_cgroup *cg, struct hutch_error **err)
{
	long deadline = now_ms() + hutch_cg_timeout_ms;
	int ret = 0;

	/* Leaves first in every hierarchy, then the parents create() made. */
	for (size_t i = 0; i < cg->n; i++) {
		struct hutch_cg_hier *h = &cg->h[i];
		if (!cg->loaded && h->created == 0)
			continue; /* pre-existing (or never created): not ours */
		if (rmdir_tree(h->dir, deadline, 0, ret < 0 ? NULL : err) < 0)
			ret = -1;
	}
	if (ret < 0)
		return hutch_error_prefix(err, "delete cgroup %s", cg->path);
	/* A delete keeps the parents (as runc and crun do): they are shared by
	 * the next containers, whose create would otherwise make them again in
	 * every hierarchy (measured: ~8 ms per create on v1).  Only a failed
	 * create, which must leave nothing behind, removes what it made. */
	if (cg->loaded)
		return 0;
	for (size_t i = 0; i < cg->n; i++) {
		struct hutch_cg_hier *h = &cg->h[i];
		_cleanup_free_ char *p = strdup(h->dir);
		size_t rl = strlen(h->root_dir);
		int up = h->created - 1;
		char *slash;

		if (p == NULL)
			return hutch_error_set(err, ENOMEM, "delete cgroup %s", cg->path);
		while (up-- > 0 && (slash = strrchr(p, '/')) != NULL && (size_t)(slash - p) > rl) {
			*slash = '\0';
			hutch_debug("cgroup rmdir %s", p);
			if (rmdir(p) < 0)
				break; /* shared with another container: keep it */
		}
		h->created = 0;
	}
	return 0;
}
