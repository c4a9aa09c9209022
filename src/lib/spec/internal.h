/* Private to src/lib/spec: the JSON reading helpers shared by parse.c and
 * parse_linux.c, and the name tables shared by the parser and features.c.
 *
 * Every reader keeps the JSON path of the value it looks at ("linux.
 * resources.memory.limit", "mounts[3].destination") in a struct pctx, so an
 * error names exactly the value that is wrong. */
#ifndef HUTCH_SPEC_INTERNAL_H
#define HUTCH_SPEC_INTERNAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/model.h"

struct hutch_error;

/* Largest config.json (and --process / --resources file) hutch reads. */
#define HUTCH_SPEC_MAX_SIZE (16u * 1024 * 1024)
/* json-c nesting limit: a real config nests about 8 levels deep. */
#define HUTCH_SPEC_MAX_DEPTH 64

struct pctx {
	char path[1024];
	size_t len;
	struct hutch_error **err;
};

/* Push a path component; return a mark for pc_pop(). */
size_t pc_key(struct pctx *c, const char *key);
size_t pc_idx(struct pctx *c, size_t i);
size_t pc_mapkey(struct pctx *c, const char *key); /* ["key"] */
void pc_pop(struct pctx *c, size_t mark);
/* Set "PATH: message" and return -1. */
int pc_fail(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, with KEY pushed for the message. */
int pc_fail_at(struct pctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "KEY: required"; returns -1. */
int pc_missing(struct pctx *c, const char *key);
/* Turn a getter result into 0/-1 for a required field. */
static inline int pc_need(struct pctx *c, int r, const char *key)
{
	if (r < 0)
		return -1;
	return r == 0 ? pc_missing(c, key) : 0;
}

/* Strict parse of a whole text into an object (UTF-8, depth, size, no
 * trailing bytes).  NULL with *err set on failure. */
struct json_object *hutch_json_parse_object(const char *text, size_t len, struct hutch_error **err);

/* Value converters at the current path: 0 or -1. */
int jv_object(struct pctx *c, struct json_object *v);
int jv_string(struct pctx *c, struct json_object *v, char **out);
int jv_bool(struct pctx *c, struct json_object *v, bool *out);
int jv_i64(struct pctx *c, struct json_object *v, int64_t min, int64_t max, int64_t *out);
int jv_u64(struct pctx *c, struct json_object *v, uint64_t max, uint64_t *out);
int jv_strv(struct pctx *c, struct json_object *v, char ***out);

/* Field getters: 1 present, 0 absent (or null), -1 error.  On absence the
 * output is left untouched. */
int jf_get(struct json_object *obj, const char *key, struct json_object **out);
int jf_object(struct pctx *c, struct json_object *obj, const char *key, struct json_object **out);
int jf_string(struct pctx *c, struct json_object *obj, const char *key, char **out);
int jf_bool(struct pctx *c, struct json_object *obj, const char *key, bool *out);
int jf_i64(struct pctx *c, struct json_object *obj, const char *key, int64_t min, int64_t max,
	   int64_t *out);
int jf_u64(struct pctx *c, struct json_object *obj, const char *key, uint64_t max, uint64_t *out);
int jf_u32(struct pctx *c, struct json_object *obj, const char *key, uint32_t *out);
int jf_u16(struct pctx *c, struct json_object *obj, const char *key, uint16_t *out);
int jf_int(struct pctx *c, struct json_object *obj, const char *key, int min, int max, int *out);
int jf_strv(struct pctx *c, struct json_object *obj, const char *key, char ***out);
/* A string that must be an absolute path. */
int jf_abspath(struct pctx *c, struct json_object *obj, const char *key, char **out);

/* An array of objects: *out gets a zeroed array of n elements (set before
 * the elements are filled, so the caller's free handles a partial result);
 * fn fills one element with the path at "[i]". */
typedef int (*jelem_fn)(struct pctx *c, struct json_object *v, void *elem);
int jf_objarray(struct pctx *c, struct json_object *obj, const char *key, size_t elem_size,
		jelem_fn fn, void **out, size_t *n);
/* An object used as a map: fn gets each key and value with the path at
 * KEY["k"]. */
typedef int (*jentry_fn)(struct pctx *c, const char *key, struct json_object *v, void *elem);
int jf_objmap(struct pctx *c, struct json_object *obj, const char *key, size_t elem_size,
	      jentry_fn fn, void **out, size_t *n);
/* A map of strings to strings. */
int jf_kvmap(struct pctx *c, struct json_object *obj, const char *key, struct hutch_kv **out,
	     size_t *n);
/* An array of {containerID, hostID, size}. */
int jf_idmaps(struct pctx *c, struct json_object *obj, const char *key, struct hutch_idmap **out,
	      size_t *n);

void hutch_kv_free(struct hutch_kv *kv, size_t n);

/* Parsing of the linux object and of linux.resources (parse_linux.c). */
int hutch_parse_linux(struct pctx *c, struct json_object *o, struct hutch_linux *l);
int hutch_parse_resources(struct pctx *c, struct json_object *o, struct hutch_resources *r);
void hutch_linux_clear(struct hutch_linux *l);

/* Name tables (names.c) used by the parser and by features.c. */
struct hutch_name_value {
	const char *name;
	uint32_t value;
};
extern const struct hutch_name_value hutch_seccomp_actions[];
extern const size_t hutch_n_seccomp_actions;
extern const struct hutch_name_value hutch_seccomp_ops[];
extern const size_t hutch_n_seccomp_ops;
extern const char *const hutch_seccomp_archs[];
extern const size_t hutch_n_seccomp_archs;
extern const char *const hutch_seccomp_flags[];
extern const size_t hutch_n_seccomp_flags;
extern const struct hutch_name_value hutch_mpol_modes[];
extern const size_t hutch_n_mpol_modes;
extern const struct hutch_name_value hutch_mpol_flags[];
extern const size_t hutch_n_mpol_flags;
/* Lookup in a name/value table; -1 when unknown. */
int64_t hutch_name_lookup(const struct hutch_name_value *t, size_t n, const char *name);

#endif
