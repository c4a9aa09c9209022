/* hutch error contract.
 *
 * A fallible function takes `struct hutch_error **err` as its last argument and
 * returns -1 (or NULL) with *err set; on success *err is untouched.  The error
 * keeps the errno apart from the text so it can cross the parent/child socket
 * and be printed as "what: strerror(errno)".  Callers add context with
 * hutch_error_prefix() and never log an error they also return.
 */
#ifndef HUTCH_CORE_ERROR_H
#define HUTCH_CORE_ERROR_H

#include <stdarg.h>

struct hutch_error {
	int code;  /* errno, or 0 when the message says it all */
	char *msg; /* what failed, naming the path or value */
};

/* Set *err (if err is not NULL) and return -1. */
int hutch_error_set(struct hutch_error **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int hutch_error_setv(struct hutch_error **err, int code, const char *fmt, va_list ap);
/* Shorthand for hutch_error_set(err, errno, ...). */
int hutch_error_errno(struct hutch_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prepend "PREFIX: " to an existing error; returns -1. */
int hutch_error_prefix(struct hutch_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The full text: "msg: strerror(code)" (or "msg"); owned by the error. */
const char *hutch_error_text(struct hutch_error *e);
void hutch_error_free(struct hutch_error *e);
void hutch_error_freep(struct hutch_error **e);

#define _cleanup_error_ __attribute__((cleanup(hutch_error_freep)))

#endif
