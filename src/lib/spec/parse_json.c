/* JSON reading helpers for the spec parser: strict parse, typed getters that
 * keep the JSON path of what they read, and arrays/maps of objects.
 *
 * Types follow the Go structs of runtime-spec (specs-go/config.go), because
 * configs are written by Go engines and runc decodes them with encoding/json:
 * an integer field refuses 1.5 and 1e3, an unsigned one refuses -1, a JSON
 * null reads as "absent". */
#include "spec/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/error.h"

/* ---- path ------------------------------------------------------------------ */

static size_t pc_append(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t pc_append(struct pctx *c, const char *fmt, ...)
{
	size_t mark = c->len;
	va_list ap;
	int n;

	if (c->len >= sizeof(c->path) - 1)
		return mark;
	va_start(ap, fmt);
	n = vsnprintf(c->path + c->len, sizeof(c->path) - c->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		c->path[c->len] = '\0';
	else if ((size_t)n >= sizeof(c->path) - c->len)
		c->len = sizeof(c->path) - 1; /* truncated: still names the start */
	else
		c->len += (size_t)n;
	return mark;
}

size_t pc_key(struct pctx *c, const char *key)
{
	return pc_append(c, c->len == 0 ? "%s" : ".%s", key);
}

size_t pc_idx(struct pctx *c, size_t i)
{
	return pc_append(c, "[%zu]", i);
}

size_t pc_mapkey(struct pctx *c, const char *key)
{
	return pc_append(c, "[\"%s\"]", key);
}

void pc_pop(struct pctx *c, size_t mark)
{
	c->len = mark;
	c->path[mark] = '\0';
}

static int pc_vfail(struct pctx *c, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		return hutch_error_set(c->err, ENOMEM, "out of memory");
	if (c->len == 0)
		return hutch_error_set(c->err, 0, "%s", msg);
	return hutch_error_set(c->err, 0, "%s: %s", c->path, msg);
}

int pc_fail(struct pctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pc_vfail(c, fmt, ap);
	va_end(ap);
	return -1;
}

int pc_fail_at(struct pctx *c, const char *key, const char *fmt, ...)
{
	size_t mark = pc_key(c, key);
	va_list ap;

	va_start(ap, fmt);
	pc_vfail(c, fmt, ap);
	va_end(ap);
	pc_pop(c, mark);
	return -1;
}

int pc_missing(struct pctx *c, const char *key)
{
	return pc_fail_at(c, key, "required");
}

/* ---- strict parse ---------------------------------------------------------- */

/* Offset of the first byte that is not well-formed UTF-8 (RFC 3629: no
 * overlong forms, no UTF-16 surrogates, nothing past U+10FFFF), or len.
 * json-c's VALIDATE_UTF8 lets overlong forms through, and an overlong "/"
 * or "." is how path checks get fooled. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* past U+10FFFF */
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
		i += n + 1;
	}
	return len;
}

static void tokener_freep(struct json_tokener **t)
{
	if (*t != NULL)
		json_tokener_free(*t);
}

struct json_object *hutch_json_parse_object(const char *text, size_t len, struct hutch_error **err)
{
	__attribute__((cleanup(tokener_freep))) struct json_tokener *tok = NULL;
	struct json_object *obj;
	enum json_tokener_error e;
	size_t end;

	if (len > HUTCH_SPEC_MAX_SIZE) {
		hutch_error_set(err, EFBIG,
				"JSON text of %zu bytes is larger than the %u byte limit", len,
				HUTCH_SPEC_MAX_SIZE);
		return NULL;
	}
	end = utf8_invalid_at((const unsigned char *)text, len);
	if (end != len) {
		hutch_error_set(err, 0, "invalid JSON at byte %zu: invalid UTF-8", end);
		return NULL;
	}
	tok = json_tokener_new_ex(HUTCH_SPEC_MAX_DEPTH);
	if (tok == NULL) {
		hutch_error_set(err, ENOMEM, "json_tokener_new_ex");
		return NULL;
	}
	/* STRICT refuses comments, single quotes, trailing commas and, without
	 * ALLOW_TRAILING_CHARS, bytes after the value; VALIDATE_UTF8 refuses
	 * malformed UTF-8 anywhere in the text. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL) {
		if (e == json_tokener_continue || e == json_tokener_success)
			hutch_error_set(err, 0, "invalid JSON: unexpected end of input");
		else
			hutch_error_set(err, 0, "invalid JSON at byte %zu: %s", end,
					json_tokener_error_desc(e));
		return NULL;
	}
	/* json-c stops at a NUL byte and reports success: whatever follows is
	 * still garbage after the value. */
	if (end != len) {
		json_object_put(obj);
		hutch_error_set(err, 0, "invalid JSON at byte %zu: unexpected data after the value",
				end);
		return NULL;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		hutch_error_set(err, 0, "invalid JSON: the top-level value must be an object");
		return NULL;
	}
	return obj;
}

/* ---- values ---------------------------------------------------------------- */

int jv_object(struct pctx *c, struct json_object *v)
{
	if (!json_object_is_type(v, json_type_object))
		return pc_fail(c, "expected an object");
	return 0;
}

int jv_string(struct pctx *c, struct json_object *v, char **out)
{
	const char *s;
	char *dup;
	int len;

	if (!json_object_is_type(v, json_type_string))
		return pc_fail(c, "expected a string");
	s = json_object_get_string(v);
	len = json_object_get_string_len(v);
	/* "\u0000" is valid JSON but cannot be a path, a name or an argv word. */
	if (s == NULL || (size_t)len != strlen(s))
		return pc_fail(c, "must not contain a NUL character");
	dup = strdup(s);
	if (dup == NULL)
		return hutch_error_set(c->err, ENOMEM, "out of memory");
	free(*out);
	*out = dup;
	return 0;
}

int jv_bool(struct pctx *c, struct json_object *v, bool *out)
{
	if (!json_object_is_type(v, json_type_boolean))
		return pc_fail(c, "expected a boolean");
	*out = json_object_get_boolean(v);
	return 0;
}

/* json-c saturates integers beyond 64 bits at INT64_MIN/UINT64_MAX; such a
 * value passes as the bound (UINT64_MAX is a real value: RLIM_INFINITY). */
int jv_i64(struct pctx *c, struct json_object *v, int64_t min, int64_t max, int64_t *out)
{
	int64_t i;

	if (!json_object_is_type(v, json_type_int))
		return pc_fail(c, "expected an integer");
	i = json_object_get_int64(v);
	if (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
		return pc_fail(c, "%" PRIu64 " is out of range (%" PRId64 " to %" PRId64 ")",
			       json_object_get_uint64(v), min, max);
	if (i < min || i > max)
		return pc_fail(c, "%" PRId64 " is out of range (%" PRId64 " to %" PRId64 ")", i,
			       min, max);
	*out = i;
	return 0;
}

int jv_u64(struct pctx *c, struct json_object *v, uint64_t max, uint64_t *out)
{
	uint64_t u;

	if (!json_object_is_type(v, json_type_int))
		return pc_fail(c, "expected an integer");
	if (json_object_get_int64(v) < 0)
		return pc_fail(c, "expected a non-negative integer, got %" PRId64,
			       json_object_get_int64(v));
	u = json_object_get_uint64(v);
	if (u > max)
		return pc_fail(c, "%" PRIu64 " is out of range (0 to %" PRIu64 ")", u, max);
	*out = u;
	return 0;
}

int jv_strv(struct pctx *c, struct json_object *v, char ***out)
{
	_cleanup_strv_ char **strv = NULL;
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return pc_fail(c, "expected an array");
	n = json_object_array_length(v);
	strv = calloc(n + 1, sizeof(char *));
	if (strv == NULL)
		return hutch_error_set(c->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		size_t mark = pc_idx(c, i);
		int r = jv_string(c, json_object_array_get_idx(v, i), &strv[i]);

		pc_pop(c, mark);
		if (r < 0)
			return -1;
	}
	hutch_strv_free(*out);
	*out = steal_ptr(strv);
	return 0;
}

/* ---- fields ---------------------------------------------------------------- */

int jf_get(struct json_object *obj, const char *key, struct json_object **out)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	*out = v;
	return 1;
}

#define FIELD(call)                                                                                \
	do {                                                                                       \
		struct json_object *v_;                                                            \
		size_t mark_;                                                                      \
		int r_;                                                                            \
		if (jf_get(obj, key, &v_) == 0)                                                    \
			return 0;                                                                  \
		mark_ = pc_key(c, key);                                                            \
		r_ = (call);                                                                       \
		pc_pop(c, mark_);                                                                  \
		return r_ < 0 ? -1 : 1;                                                            \
	} while (0)

int jf_object(struct pctx *c, struct json_object *obj, const char *key, struct json_object **out)
{
	FIELD((*out = v_, jv_object(c, v_)));
}

int jf_string(struct pctx *c, struct json_object *obj, const char *key, char **out)
{
	FIELD(jv_string(c, v_, out));
}

int jf_bool(struct pctx *c, struct json_object *obj, const char *key, bool *out)
{
	FIELD(jv_bool(c, v_, out));
}

int jf_i64(struct pctx *c, struct json_object *obj, const char *key, int64_t min, int64_t max,
	   int64_t *out)
{
	FIELD(jv_i64(c, v_, min, max, out));
}

int jf_u64(struct pctx *c, struct json_object *obj, const char *key, uint64_t max, uint64_t *out)
{
	FIELD(jv_u64(c, v_, max, out));
}

int jf_u32(struct pctx *c, struct json_object *obj, const char *key, uint32_t *out)
{
	uint64_t u = 0;
	int r = jf_u64(c, obj, key, UINT32_MAX, &u);

	if (r > 0)
		*out = (uint32_t)u;
	return r;
}

int jf_u16(struct pctx *c, struct json_object *obj, const char *key, uint16_t *out)
{
	uint64_t u = 0;
	int r = jf_u64(c, obj, key, UINT16_MAX, &u);

	if (r > 0)
		*out = (uint16_t)u;
	return r;
}

int jf_int(struct pctx *c, struct json_object *obj, const char *key, int min, int max, int *out)
{
	int64_t i = 0;
	int r = jf_i64(c, obj, key, min, max, &i);

	if (r > 0)
		*out = (int)i;
	return r;
}

int jf_strv(struct pctx *c, struct json_object *obj, const char *key, char ***out)
{
	FIELD(jv_strv(c, v_, out));
}

static int abspath(struct pctx *c, struct json_object *v, char **out)
{
	if (jv_string(c, v, out) < 0)
		return -1;
	if ((*out)[0] != '/')
		return pc_fail(c, "must be an absolute path");
	return 0;
}

int jf_abspath(struct pctx *c, struct json_object *obj, const char *key, char **out)
{
	FIELD(abspath(c, v_, out));
}

static int objarray(struct pctx *c, struct json_object *v, size_t elem_size, jelem_fn fn,
		    void **out, size_t *n)
{
	size_t len;
	char *elems;

	if (!json_object_is_type(v, json_type_array))
		return pc_fail(c, "expected an array");
	len = json_object_array_length(v);
	if (len == 0)
		return 0;
	elems = calloc(len, elem_size);
	if (elems == NULL)
		return hutch_error_set(c->err, ENOMEM, "out of memory");
	*out = elems;
	*n = len;
	for (size_t i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		size_t mark = pc_idx(c, i);
		int r = jv_object(c, e);

		if (r == 0)
			r = fn(c, e, elems + i * elem_size);
		pc_pop(c, mark);
		if (r < 0)
			return -1;
	}
	return 0;
}

int jf_objarray(struct pctx *c, struct json_object *obj, const char *key, size_t elem_size,
		jelem_fn fn, void **out, size_t *n)
{
	FIELD(objarray(c, v_, elem_size, fn, out, n));
}

static int objmap(struct pctx *c, struct json_object *v, size_t elem_size, jentry_fn fn, void **out,
		  size_t *n)
{
	size_t len, i = 0;
	char *elems;

	if (jv_object(c, v) < 0)
		return -1;
	len = (size_t)json_object_object_length(v);
	if (len == 0)
		return 0;
	elems = calloc(len, elem_size);
	if (elems == NULL)
		return hutch_error_set(c->err, ENOMEM, "out of memory");
	*out = elems;
	*n = len;
	json_object_object_foreach(v, k, val)
	{
		size_t mark = pc_mapkey(c, k);
		int r = fn(c, k, val, elems + i * elem_size);

		pc_pop(c, mark);
		if (r < 0)
			return -1;
		i++;
	}
	return 0;
}

int jf_objmap(struct pctx *c, struct json_object *obj, const char *key, size_t elem_size,
	      jentry_fn fn, void **out, size_t *n)
{
	FIELD(objmap(c, v_, elem_size, fn, out, n));
}

static int kv_entry(struct pctx *c, const char *key, struct json_object *v, void *elem)
{
	struct hutch_kv *kv = elem;

	if (key[0] == '\0')
		return pc_fail(c, "empty key");
	kv->key = strdup(key);
	if (kv->key == NULL)
		return hutch_error_set(c->err, ENOMEM, "out of memory");
	return jv_string(c, v, &kv->value);
}

int jf_kvmap(struct pctx *c, struct json_object *obj, const char *key, struct hutch_kv **out,
	     size_t *n)
{
	return jf_objmap(c, obj, key, sizeof(struct hutch_kv), kv_entry, (void **)out, n);
}

static int idmap_entry(struct pctx *c, struct json_object *v, void *elem)
{
	struct hutch_idmap *m = elem;

	if (pc_need(c, jf_u32(c, v, "containerID", &m->container_id), "containerID") < 0 ||
	    pc_need(c, jf_u32(c, v, "hostID", &m->host_id), "hostID") < 0 ||
	    pc_need(c, jf_u32(c, v, "size", &m->size), "size") < 0)
		return -1;
	if (m->size == 0)
		return pc_fail_at(c, "size", "must be greater than 0");
	/* The kernel refuses a range that wraps past 2^32 - 1. */
	if ((uint64_t)m->container_id + m->size > (uint64_t)UINT32_MAX + 1 ||
	    (uint64_t)m->host_id + m->size > (uint64_t)UINT32_MAX + 1)
		return pc_fail_at(c, "size", "range past 4294967295");
	return 0;
}

int jf_idmaps(struct pctx *c, struct json_object *obj, const char *key, struct hutch_idmap **out,
	      size_t *n)
{
	return jf_objarray(c, obj, key, sizeof(struct hutch_idmap), idmap_entry, (void **)out, n);
}

void hutch_kv_free(struct hutch_kv *kv, size_t n)
{
	if (kv == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}
