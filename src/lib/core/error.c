#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct hutch_error oom_error = {ENOMEM, (char *)"out of memory"};

int hutch_error_setv(struct hutch_error **err, int code, const char *fmt, va_list ap)
{
	struct hutch_error *e;

	if (err == NULL)
		return -1;
	e = calloc(1, sizeof(*e));
	if (e == NULL || vasprintf(&e->msg, fmt, ap) < 0) {
		free(e);
		*err = &oom_error;
		return -1;
	}
	e->code = code;
	/* A second error replaces the first: the caller already lost it. */
	if (*err != NULL)
		hutch_error_free(*err);
	*err = e;
	return -1;
}

int hutch_error_set(struct hutch_error **err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hutch_error_setv(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int hutch_error_errno(struct hutch_error **err, const char *fmt, ...)
{
	int code = errno;
	va_list ap;

	va_start(ap, fmt);
	hutch_error_setv(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int hutch_error_prefix(struct hutch_error **err, const char *fmt, ...)
{
	char *prefix = NULL, *joined = NULL;
	va_list ap;

	if (err == NULL || *err == NULL || *err == &oom_error)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		prefix = NULL;
	va_end(ap);
	if (prefix != NULL && asprintf(&joined, "%s: %s", prefix, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = joined;
	}
	free(prefix);
	return -1;
}

const char *hutch_error_text(struct hutch_error *e)
{
	char *full;

	if (e == NULL)
		return "unknown error";
	if (e->code == 0 || e == &oom_error)
		return e->msg;
	if (asprintf(&full, "%s: %s", e->msg, strerror(e->code)) < 0)
		return e->msg;
	free(e->msg);
	e->msg = full;
	e->code = 0; /* now part of the text */
	return e->msg;
}

void hutch_error_free(struct hutch_error *e)
{
	if (e == NULL || e == &oom_error)
		return;
	free(e->msg);
	free(e);
}

void hutch_error_freep(struct hutch_error **e)
{
	hutch_error_free(*e);
	*e = NULL;
}
