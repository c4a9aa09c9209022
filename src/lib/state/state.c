/* Container state under the runtime root.
 *
 * Layout of <root>/<id>/:
 *   state.json  the record below, written to a temp file, fsynced, renamed;
 *   exec.fifo   present from create until start (the created process blocks
 *               opening it), so its presence distinguishes created/running;
 *   lock        flock()ed by mutating commands (see hutch_state_lock).
 *
 * The status is never trusted from disk; it is derived on every read:
 *   - the directory exists but state.json does not yet, or state.json says
 *     "creating" and the recorded process (if any) is alive: CREATING.  A
 *     create that died half-way therefore shows as "creating" with pid 0
 *     until `delete` removes it, as runc shows a half-made container;
 *   - pid 0, or /proc/PID gone, zombie, or with another start time (the pid
 *     was reused): STOPPED;
 *   - exec.fifo present: CREATED;
 *   - otherwise RUNNING.  PAUSED needs the cgroup freezer, which this module
 *     does not know about: the lifecycle code refines RUNNING into PAUSED.
 *
 * state.json holds hutch's own record, not the spec's state: `hutch state`
 * prints hutch_state_to_json(), which engines parse and which must carry
 * only the spec's fields. */
#include "state.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "spec/model.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HUTCH_OCI_VERSION
#define HUTCH_OCI_VERSION "1.3.0"
#endif

#define STATE_FILE "state.json"
#define FIFO_FILE  "exec.fifo"
#define LOCK_FILE  "lock"
#define STATE_MAX  (16u << 20)

static void json_putp(struct json_object **o)
{
	if (*o != NULL)
		json_object_put(*o);
	*o = NULL;
}
#define _cleanup_json_ __attribute__((cleanup(json_putp)))

/* ---- ids ------------------------------------------------------------------ */

static bool id_char(unsigned char c, bool first)
{
	if (isascii(c) && isalnum(c))
		return true;
	if (c == '_' || c == '+' || c == '-')
		return true;
	return !first && c == '.';
}

/* A printable, bounded rendering of a hostile id for messages. */
static void id_escape(char *out, size_t cap, const char *id)
{
	size_t n = 0, i;

	for (i = 0; id[i] != '\0' && n + 8 < cap; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
	}
	if (id[i] != '\0' && n + 4 < cap) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

int hutch_id_check(const char *id, struct hutch_error **err)
{
	char shown[96];
	size_t len;

	if (id == NULL || id[0] == '\0')
		return hutch_error_set(err, 0, "invalid container id \"\": must not be empty");
	len = strnlen(id, HUTCH_ID_MAX + 1);
	id_escape(shown, sizeof(shown), id);
	if (len > HUTCH_ID_MAX)
		return hutch_error_set(err, 0, "invalid container id \"%s\": longer than %d bytes",
				       shown, HUTCH_ID_MAX);
	for (size_t i = 0; i < len; i++) {
		if (!id_char((unsigned char)id[i], i == 0))
			return hutch_error_set(err, 0,
					       "invalid container id \"%s\": must match "
					       "[A-Za-z0-9_+-][A-Za-z0-9_+.-]*",
					       shown);
	}
	return 0;
}

const char *hutch_status_name(enum hutch_status s)
{
	switch (s) {
	case HUTCH_STATUS_CREATING:
		return "creating";
	case HUTCH_STATUS_CREATED:
		return "created";
	case HUTCH_STATUS_RUNNING:
		return "running";
	case HUTCH_STATUS_STOPPED:
		return "stopped";
	case HUTCH_STATUS_PAUSED:
		return "paused";
	}
	return "unknown";
}

/* ---- paths ---------------------------------------------------------------- */

static char *join3(const char *root, const char *id, const char *name)
{
	char *p;

	if (name == NULL) {
		if (asprintf(&p, "%s/%s", root, id) < 0)
			return NULL;
	} else if (asprintf(&p, "%s/%s/%s", root, id, name) < 0) {
		return NULL;
	}
	return p;
}

char *hutch_state_fifo_path(const char *root, const char *id)
{
	return join3(root, id, FIFO_FILE);
}

static int ensure_root(const char *root, struct hutch_error **err)
{
	struct stat st;

	if (root == NULL || root[0] == '\0')
		return hutch_error_set(err, EINVAL, "state root: empty path");
	if (stat(root, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return hutch_error_set(err, ENOTDIR, "state root %s", root);
		return 0;
	}
	if (errno != ENOENT)
		return hutch_error_errno(err, "state root %s", root);
	/* Other users must not see container ids, bundles or annotations. */
	if (hutch_mkdir_p(root, 0700, err) < 0)
		return hutch_error_prefix(err, "create state root");
	return 0;
}

/* ---- /proc ---------------------------------------------------------------- */

/* State letter and start time of PID from /proc/PID/stat; -1 if gone.  The
 * command name (field 2) may contain spaces and ')', so fields are counted
 * from the last ')'. */
static int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
	char path[64], buf[1024];
	_cleanup_close_ int fd = -1;
	ssize_t n;
	char *p;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = hutch_read_all(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ' || p[2] == '\0')
		return -1;
	p += 2; /* field 3: state */
	*state = *p;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return -1;
		p++;
	}
	errno = 0;
	*start = strtoull(p, NULL, 10);
	if (errno != 0)
		return -1;
	return 0;
}

unsigned long long hutch_proc_start_time(pid_t pid)
{
	unsigned long long start;
	char state;

	if (proc_stat(pid, &state, &start) < 0)
		return 0;
	return start;
}

/* ---- create / write ------------------------------------------------------- */

int hutch_state_create_dir(const char *root, const char *id, struct hutch_error **err)
{
	_cleanup_free_ char *dir = NULL;

	if (hutch_id_check(id, err) < 0 || ensure_root(root, err) < 0)
		return -1;
	dir = join3(root, id, NULL);
	if (dir == NULL)
		return hutch_error_set(err, ENOMEM, "container %s", id);
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return hutch_error_set(err, EEXIST, "container %s already exists", id);
		return hutch_error_errno(err, "create %s", dir);
	}
	return 0;
}

static int add_str(struct json_object *o, const char *key, const char *v)
{
	struct json_object *s;

	if (v == NULL)
		return 0;
	s = json_object_new_string(v);
	if (s == NULL)
		return -1;
	return json_object_object_add(o, key, s);
}

static int add_int(struct json_object *o, const char *key, int64_t v)
{
	struct json_object *n = json_object_new_int64(v);

	if (n == NULL)
		return -1;
	return json_object_object_add(o, key, n);
}

static struct json_object *annotations_json(const struct hutch_kv *kv, size_t n)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (add_str(o, kv[i].key, kv[i].value ? kv[i].value : "") < 0) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

static struct json_object *record_json(const struct hutch_state *st)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct json_object *ann;

	if (o == NULL)
		return NULL;
	if (add_str(o, "id", st->id) < 0 || add_int(o, "pid", st->pid) < 0 ||
	    json_object_object_add(o, "start_time", json_object_new_uint64(st->start_time)) < 0 ||
	    add_str(o, "bundle", st->bundle) < 0 || add_str(o, "rootfs", st->rootfs) < 0 ||
	    add_str(o, "cgroup_path", st->cgroup_path) < 0 ||
	    add_str(o, "created", st->created) < 0 || add_int(o, "owner", st->owner) < 0 ||
	    json_object_object_add(o, "has_netns_path",
				   json_object_new_boolean(st->has_netns_path)) < 0 ||
	    add_str(o, "config", st->config_json) < 0)
		return NULL;
	if (st->status == HUTCH_STATUS_CREATING &&
	    json_object_object_add(o, "creating", json_object_new_boolean(true)) < 0)
		return NULL;
	if (st->cgroup_layout != NULL &&
	    json_object_object_add(o, "cgroup_layout", json_object_get(st->cgroup_layout)) < 0)
		return NULL;
	ann = annotations_json(st->annotations, st->n_annotations);
	if (ann == NULL || json_object_object_add(o, "annotations", ann) < 0) {
		json_object_put(ann);
		return NULL;
	}
	return steal_ptr(o);
}

int hutch_state_write(const char *root, const struct hutch_state *st, struct hutch_error **err)
{
	_cleanup_json_ struct json_object *o = NULL;
	_cleanup_free_ char *path = NULL;
	const char *text;

	if (hutch_id_check(st->id, err) < 0)
		return -1;
	o = record_json(st);
	path = join3(root, st->id, STATE_FILE);
	if (o == NULL || path == NULL)
		return hutch_error_set(err, ENOMEM, "state of container %s", st->id);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL)
		return hutch_error_set(err, ENOMEM, "state of container %s", st->id);
	/* Written to a temp file and renamed, so a reader never sees half a
	 * file; not fsynced: the state describes processes, which do not
	 * survive the crash or power loss an fsync would guard against, and
	 * it usually lives on tmpfs (/run).  On a disk it cost 1-2 ms per
	 * write, twice per create (measured with strace -r). */
	return hutch_write_file_atomic(path, text, strlen(text), 0600, false, err);
}

/* ---- read ----------------------------------------------------------------- */

void hutch_state_free(struct hutch_state *st)
{
	if (st == NULL)
		return;
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->cgroup_path);
	free(st->created);
	for (size_t i = 0; i < st->n_annotations; i++) {
		free(st->annotations[i].key);
		free(st->annotations[i].value);
	}
	free(st->annotations);
	free(st->config_json);
	json_object_put(st->cgroup_layout);
	free(st);
}

void hutch_state_freep(struct hutch_state **st)
{
	hutch_state_free(*st);
	*st = NULL;
}

/* Copy an optional string member; a wrong type is an error. */
static int get_str(struct json_object *o, const char *key, char **out, const char *file,
		   struct hutch_error **err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return hutch_error_set(err, 0, "%s: \"%s\" is not a string", file, key);
	*out = strdup(json_object_get_string(v));
	if (*out == NULL)
		return hutch_error_set(err, ENOMEM, "%s", file);
	return 0;
}

static int get_int(struct json_object *o, const char *key, int64_t min, int64_t max, int64_t *out,
		   const char *file, struct hutch_error **err)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return hutch_error_set(err, 0, "%s: \"%s\" is not an integer", file, key);
	n = json_object_get_int64(v);
	if (n < min || n > max)
		return hutch_error_set(err, ERANGE, "%s: \"%s\" out of range", file, key);
	*out = n;
	return 0;
}

static bool get_bool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

static int get_annotations(struct json_object *o, struct hutch_state *st, const char *file,
			   struct hutch_error **err)
{
	struct json_object *ann;
	size_t n, i = 0;

	if (!json_object_object_get_ex(o, "annotations", &ann) ||
	    json_object_is_type(ann, json_type_null))
		return 0;
	if (!json_object_is_type(ann, json_type_object))
		return hutch_error_set(err, 0, "%s: \"annotations\" is not an object", file);
	n = (size_t)json_object_object_length(ann);
	if (n == 0)
		return 0;
	st->annotations = calloc(n, sizeof(*st->annotations));
	if (st->annotations == NULL)
		return hutch_error_set(err, ENOMEM, "%s", file);
	json_object_object_foreach(ann, key, val)
	{
		if (!json_object_is_type(val, json_type_string))
			return hutch_error_set(err, 0, "%s: annotation \"%s\" is not a string",
					       file, key);
		st->annotations[i].key = strdup(key);
		st->annotations[i].value = strdup(json_object_get_string(val));
		st->n_annotations = ++i;
		if (st->annotations[i - 1].key == NULL || st->annotations[i - 1].value == NULL)
			return hutch_error_set(err, ENOMEM, "%s", file);
	}
	return 0;
}

static int parse_record(const char *text, size_t len, struct hutch_state *st, const char *file,
			struct hutch_error **err)
{
	_cleanup_json_ struct json_object *o = NULL;
	struct json_tokener *tok = json_tokener_new();
	enum json_tokener_error jerr;
	int64_t pid = 0, owner = 0, start = 0;
	_cleanup_free_ char *id = NULL;

	if (tok == NULL)
		return hutch_error_set(err, ENOMEM, "%s", file);
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (o == NULL || jerr != json_tokener_success)
		return hutch_error_set(err, 0, "%s: invalid JSON: %s", file,
				       json_tokener_error_desc(jerr));
	if (!json_object_is_type(o, json_type_object))
		return hutch_error_set(err, 0, "%s: not a JSON object", file);
	if (get_str(o, "id", &id, file, err) < 0 ||
	    get_int(o, "pid", 0, INT32_MAX, &pid, file, err) < 0 ||
	    get_int(o, "start_time", 0, INT64_MAX, &start, file, err) < 0 ||
	    get_int(o, "owner", 0, UINT32_MAX, &owner, file, err) < 0 ||
	    get_str(o, "bundle", &st->bundle, file, err) < 0 ||
	    get_str(o, "rootfs", &st->rootfs, file, err) < 0 ||
	    get_str(o, "cgroup_path", &st->cgroup_path, file, err) < 0 ||
	    get_str(o, "created", &st->created, file, err) < 0 ||
	    get_str(o, "config", &st->config_json, file, err) < 0 ||
	    get_annotations(o, st, file, err) < 0)
		return -1;
	/* A state file copied or renamed under another id is not this container. */
	if (id != NULL && strcmp(id, st->id) != 0)
		return hutch_error_set(err, 0, "%s: records id \"%s\"", file, id);
	st->pid = (pid_t)pid;
	st->start_time = (unsigned long long)start;
	st->owner = (uid_t)owner;
	st->has_netns_path = get_bool(o, "has_netns_path");
	{
		struct json_object *cl;
		if (json_object_object_get_ex(o, "cgroup_layout", &cl) &&
		    json_object_is_type(cl, json_type_object))
			st->cgroup_layout = json_object_get(cl);
	}
	st->status = get_bool(o, "creating") ? HUTCH_STATUS_CREATING : HUTCH_STATUS_RUNNING;
	return 0;
}

static enum hutch_status derive_status(const char *root, const struct hutch_state *st)
{
	_cleanup_free_ char *fifo = NULL;
	unsigned long long start;
	char pstate;
	struct stat sb;

	if (st->pid <= 0)
		return st->status == HUTCH_STATUS_CREATING ? HUTCH_STATUS_CREATING
							   : HUTCH_STATUS_STOPPED;
	if (proc_stat(st->pid, &pstate, &start) < 0 || start != st->start_time || pstate == 'Z' ||
	    pstate == 'X' || pstate == 'x')
		return HUTCH_STATUS_STOPPED;
	if (st->status == HUTCH_STATUS_CREATING)
		return HUTCH_STATUS_CREATING;
	fifo = hutch_state_fifo_path(root, st->id);
	if (fifo != NULL && lstat(fifo, &sb) == 0)
		return HUTCH_STATUS_CREATED;
	return HUTCH_STATUS_RUNNING;
}

struct hutch_state *hutch_state_read(const char *root, const char *id, struct hutch_error **err)
{
	_cleanup_state_ struct hutch_state *st = calloc(1, sizeof(*st));
	_cleanup_free_ char *dir = NULL, *file = NULL, *text = NULL;
	_cleanup_close_ int fd = -1;
	struct stat sb;
	size_t len;

	if (hutch_id_check(id, err) < 0)
		return NULL;
	dir = join3(root, id, NULL);
	file = join3(root, id, STATE_FILE);
	if (dir == NULL || file == NULL || st == NULL || (st->id = strdup(id)) == NULL)
		return hutch_error_set(err, ENOMEM, "container %s", id), NULL;
	if (lstat(dir, &sb) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return hutch_error_errno(err, "container %s: stat %s", id, dir), NULL;
		return hutch_error_set(err, ENOENT, "container %s does not exist", id), NULL;
	}
	if (!S_ISDIR(sb.st_mode))
		return hutch_error_set(err, ENOENT, "container %s does not exist", id), NULL;
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		if (errno != ENOENT)
			return hutch_error_errno(err, "open %s", file), NULL;
		/* The directory exists but create has not written the record. */
		st->status = HUTCH_STATUS_CREATING;
		st->owner = sb.st_uid;
		return steal_ptr(st);
	}
	text = hutch_read_fd(fd, STATE_MAX, &len, err);
	if (text == NULL)
		return hutch_error_prefix(err, "%s", file), NULL;
	if (parse_record(text, len, st, file, err) < 0)
		return NULL;
	st->status = derive_status(root, st);
	return steal_ptr(st);
}

/* ---- remove / lock / list ------------------------------------------------- */

int hutch_state_remove(const char *root, const char *id, struct hutch_error **err)
{
	_cleanup_free_ char *dir = NULL;

	if (hutch_id_check(id, err) < 0)
		return -1;
	dir = join3(root, id, NULL);
	if (dir == NULL)
		return hutch_error_set(err, ENOMEM, "container %s", id);
	if (hutch_rm_rf(dir, err) < 0)
		return hutch_error_prefix(err, "delete container %s", id);
	return 0;
}

/* The lock file lives inside the container directory, which `delete`
 * removes.  Delete takes the lock, removes the directory (the lock file with
 * it) and only then closes the fd.  A command that was waiting for the lock
 * then holds a lock on an unlinked inode: it notices (st_nlink == 0) and
 * reports that the container does not exist, instead of operating on a
 * container that is gone or, worse, on a new one created under the same id
 * (which has a new lock file, hence a new inode). */
int hutch_state_lock(const char *root, const char *id, struct hutch_error **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	struct stat sb;

	if (hutch_id_check(id, err) < 0)
		return -1;
	path = join3(root, id, LOCK_FILE);
	if (path == NULL)
		return hutch_error_set(err, ENOMEM, "container %s", id);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		if (errno == ENOENT)
			return hutch_error_set(err, ENOENT, "container %s does not exist", id);
		return hutch_error_errno(err, "open lock %s", path);
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return hutch_error_errno(err, "lock %s", path);
	}
	if (fstat(fd, &sb) < 0)
		return hutch_error_errno(err, "stat lock %s", path);
	if (sb.st_nlink == 0)
		return hutch_error_set(err, ENOENT, "container %s does not exist", id);
	return steal_fd(fd);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **hutch_state_list(const char *root, struct hutch_error **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_ char **ids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	d = opendir(root);
	if (d == NULL && errno != ENOENT)
		return hutch_error_errno(err, "open state root %s", root), NULL;
	ids = calloc(1, sizeof(*ids));
	if (ids == NULL)
		return hutch_error_set(err, ENOMEM, "list %s", root), NULL;
	cap = 1;
	while (d != NULL && (errno = 0, de = readdir(d)) != NULL) {
		struct stat sb;

		if (de->d_name[0] == '.' || hutch_id_check(de->d_name, NULL) < 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		if (n + 1 >= cap) {
			char **nv = realloc(ids, 2 * cap * sizeof(*ids));
			if (nv == NULL)
				return hutch_error_set(err, ENOMEM, "list %s", root), NULL;
			ids = nv;
			cap *= 2;
		}
		ids[n] = strdup(de->d_name);
		if (ids[n] == NULL)
			return hutch_error_set(err, ENOMEM, "list %s", root), NULL;
		ids[++n] = NULL;
	}
	if (d != NULL && errno != 0)
		return hutch_error_errno(err, "read state root %s", root), NULL;
	qsort(ids, n, sizeof(*ids), cmp_str);
	return steal_ptr(ids);
}

/* ---- the spec's state ----------------------------------------------------- */

char *hutch_state_to_json(const struct hutch_state *st, bool pretty)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *text;

	if (o == NULL)
		return NULL;
	if (add_str(o, "ociVersion", HUTCH_OCI_VERSION) < 0 || add_str(o, "id", st->id) < 0 ||
	    add_str(o, "status", hutch_status_name(st->status)) < 0)
		return NULL;
	/* The spec: pid is REQUIRED when created or running, absent when stopped. */
	if (st->status != HUTCH_STATUS_STOPPED && st->pid > 0 && add_int(o, "pid", st->pid) < 0)
		return NULL;
	if (add_str(o, "bundle", st->bundle ? st->bundle : "") < 0)
		return NULL;
	if (st->n_annotations > 0) {
		struct json_object *ann = annotations_json(st->annotations, st->n_annotations);
		if (ann == NULL || json_object_object_add(o, "annotations", ann) < 0) {
			json_object_put(ann);
			return NULL;
		}
	}
	flags |=
	    pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
	text = json_object_to_json_string_ext(o, flags);
	return text != NULL ? strdup(text) : NULL;
}
