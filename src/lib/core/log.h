/* Logging: levels, text or JSON lines ({"level","msg","time"}) as runc writes
 * them, because containerd's shim and conmon read the last "error" line of
 * the --log file to tell the engine's user why the runtime failed. */
#ifndef HUTCH_CORE_LOG_H
#define HUTCH_CORE_LOG_H

#include <stdbool.h>

enum hutch_log_level {
	HUTCH_LOG_ERROR,
	HUTCH_LOG_WARNING,
	HUTCH_LOG_INFO,
	HUTCH_LOG_DEBUG,
};

struct hutch_error;

/* path NULL: stderr.  Returns -1 with *err set if the file cannot be opened. */
int hutch_log_init(const char *path, bool json, bool debug, struct hutch_error **err);
void hutch_log(enum hutch_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool hutch_log_debug_enabled(void);
/* The fd logs go to (-1 for stderr); children keep it across fork. */
int hutch_log_fd(void);
/* Print an error for the user: to stderr, and to the log file if it is not stderr. */
void hutch_log_error(struct hutch_error *e);

#define hutch_debug(...)                                                                           \
	do {                                                                                       \
		if (hutch_log_debug_enabled())                                                     \
			hutch_log(HUTCH_LOG_DEBUG, __VA_ARGS__);                                   \
	} while (0)
#define hutch_warn(...) hutch_log(HUTCH_LOG_WARNING, __VA_ARGS__)

#endif
