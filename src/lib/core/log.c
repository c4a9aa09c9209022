#include "log.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1; /* -1: stderr */
static bool log_json;
static bool log_debug;

static const char *level_names[] = {"error", "warning", "info", "debug"};

int hutch_log_init(const char *path, bool json, bool debug, struct hutch_error **err)
{
	log_json = json;
	log_debug = debug;
	if (path != NULL && path[0] != '\0') {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			return hutch_error_errno(err, "open log file %s", path);
		log_fd = fd;
	}
	return 0;
}

bool hutch_log_debug_enabled(void)
{
	return log_debug;
}

int hutch_log_fd(void)
{
	return log_fd;
}

/* JSON string escaping for the log line; msg is arbitrary bytes. */
static size_t json_escape(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s != '\0' && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return n;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

/* Three shapes: JSON lines; runc's text form (time="..." level=... msg="...")
 * for a --log file; "hutch: ..." for a terminal. */
static void emit(int fd, bool json, bool file, enum hutch_log_level level, const char *msg)
{
	char line[8192];
	int n;

	if (json || file) {
		char esc[6144], ts[64];
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		json_escape(esc, sizeof(esc), msg);
		if (json)
			n = snprintf(line, sizeof(line),
				     "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s.%09ldZ\"}\n",
				     level_names[level], esc, ts, now.tv_nsec);
		else
			n = snprintf(line, sizeof(line), "time=\"%s.%09ldZ\" level=%s msg=\"%s\"\n",
				     ts, now.tv_nsec, level_names[level], esc);
	} else if (level == HUTCH_LOG_ERROR) {
		n = snprintf(line, sizeof(line), "hutch: %s\n", msg);
	} else {
		n = snprintf(line, sizeof(line), "hutch: %s: %s\n", level_names[level], msg);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	write_all(fd, line, (size_t)n);
}

void hutch_log(enum hutch_log_level level, const char *fmt, ...)
{
	char msg[4096];
	int saved = errno;
	va_list ap;

	if (level == HUTCH_LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_fd >= 0)
		emit(log_fd, log_json, true, level, msg);
	else
		emit(STDERR_FILENO, log_json, false, level, msg);
	errno = saved;
}

void hutch_log_error(struct hutch_error *e)
{
	const char *text = hutch_error_text(e);

	/* The user always sees the error on stderr; engines read it from the log. */
	if (log_fd >= 0)
		emit(log_fd, log_json, true, HUTCH_LOG_ERROR, text);
	emit(STDERR_FILENO, false, false, HUTCH_LOG_ERROR, text);
}
