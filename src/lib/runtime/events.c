/* events: a container's resource usage and OOM kills, as runc's `events`
 * reports them (one JSON object per line: "stats" every interval, "oom" on
 * every OOM kill), until the container's init exits.
 *
 * The loop waits in poll(2) on the init's pidfd (the end of the stream), the
 * cgroup's OOM watch fd and a deadline for the next stats event: no busy
 * loop, and the first stats event comes one interval after the start, as in
 * runc. */
#include "hutch/hutch.h"
#include "cgroup/cgroup.h"
#include "common.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "state/state.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void oom_freep(struct hutch_cgroup_oom **w)
{
	hutch_cgroup_oom_free(*w);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void json_putp(struct json_object **o)
{
	if (*o != NULL)
		json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(json_putp)))

/* The interfaces of the container's network namespace (not lo), from the
 * init's /proc/PID/net/dev, in runc's NetworkInterface shape.  runc reads
 * the host end of the veth it made and swaps rx and tx; read from inside,
 * the numbers are the container's view directly.  NULL (json null, as runc
 * prints without interfaces) when the container shares the caller's netns
 * or has no interface but lo. */
static struct json_object *net_interfaces(pid_t pid)
{
	static const char *const keys[] = {"rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
					   "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"};
	/* /proc/net/dev columns: rx bytes packets errs drop fifo frame
	 * compressed multicast, tx bytes packets errs drop ... */
	static const int cols[] = {0, 1, 2, 3, 8, 9, 10, 11};
	char path[64], own[64], theirs[64];
	_cleanup_free_ char *text = NULL;
	struct json_object *arr;
	ssize_t n1, n2;
	char *save = NULL, *line;
	int no = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	n1 = readlink(path, theirs, sizeof(theirs) - 1);
	n2 = readlink("/proc/self/ns/net", own, sizeof(own) - 1);
	if (n1 <= 0 || (n2 == n1 && memcmp(own, theirs, (size_t)n1) == 0))
		return NULL;
	snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
	text = hutch_read_file(path, 1 << 20, NULL, NULL);
	if (text == NULL)
		return NULL;
	arr = json_object_new_array();
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':'), *p, *name = line;
		unsigned long long v[16] = {0};
		struct json_object *o;
		int k = 0;

		if (no++ < 2 || colon == NULL)
			continue; /* the two header lines */
		*colon = '\0';
		while (*name == ' ')
			name++;
		if (strcmp(name, "lo") == 0)
			continue;
		for (p = colon + 1; k < 16; k++) {
			char *end;
			v[k] = strtoull(p, &end, 10);
			if (end == p)
				break;
			p = end;
		}
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		for (size_t i = 0; i < HUTCH_ARRAY_SIZE(keys); i++)
			json_object_object_add(o, keys[i], json_object_new_uint64(v[cols[i]]));
		json_object_array_add(arr, o);
	}
	if (json_object_array_length(arr) == 0) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

static char *stats_event(struct hutch_cgroup *cg, const char *id, pid_t pid,
			 struct hutch_error **err)
{
	_cleanup_json_ struct json_object *ev = json_object_new_object();
	struct json_object *data = hutch_cgroup_stats(cg, err);
	const char *text;
	char *out;

	if (data == NULL)
		return NULL;
	if (ev == NULL) {
		json_object_put(data);
		return hutch_error_set(err, ENOMEM, "stats of container %s", id), NULL;
	}
	json_object_object_add(data, "network_interfaces", net_interfaces(pid));
	json_object_object_add(ev, "type", json_object_new_string("stats"));
	json_object_object_add(ev, "id", json_object_new_string(id));
	json_object_object_add(ev, "data", data);
	text = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
	out = text != NULL ? strdup(text) : NULL;
	if (out == NULL)
		return hutch_error_set(err, ENOMEM, "stats of container %s", id), NULL;
	return out;
}

/* The state and cgroup of a container that has processes. */
static struct hutch_state *load_running(const struct hutch_context *ctx, const char *id,
					struct hutch_cgroup **cg, struct hutch_error **err)
{
	_cleanup_state_ struct hutch_state *st = hutch_rt_load(ctx, id, cg, err);

	if (st == NULL)
		return NULL;
	if (st->status == HUTCH_STATUS_STOPPED)
		return hutch_error_set(err, EINVAL, "container %s is not running", id), NULL;
	if (*cg == NULL)
		return hutch_error_set(err, ENOENT, "container %s has no cgroup", id), NULL;
	return steal_ptr(st);
}

char *hutch_container_stats(const struct hutch_context *ctx, const char *id,
			    struct hutch_error **err)
{
	_cleanup_cgroup_ struct hutch_cgroup *cg = NULL;
	_cleanup_state_ struct hutch_state *st = load_running(ctx, id, &cg, err);

	if (st == NULL)
		return NULL;
	return stats_event(cg, id, st->pid, err);
}

static int emit_ooms(struct hutch_cgroup_oom *w, const char *id, hutch_event_fn fn, void *data,
		     bool *stop, struct hutch_error **err)
{
	_cleanup_free_ char *ev = NULL;
	int n = hutch_cgroup_oom_check(w, err);

	if (n < 0)
		return -1;
	if (n > 0 && asprintf(&ev, "{\"type\":\"oom\",\"id\":\"%s\"}", id) < 0)
		return hutch_error_set(err, ENOMEM, "events of container %s", id);
	for (int i = 0; i < n && !*stop; i++)
		*stop = fn(ev, data) != 0;
	return 0;
}

int hutch_container_events(const struct hutch_context *ctx, const char *id, unsigned interval_ms,
			   hutch_event_fn fn, void *data, struct hutch_error **err)
{
	_cleanup_cgroup_ struct hutch_cgroup *cg = NULL;
	_cleanup_state_ struct hutch_state *st = load_running(ctx, id, &cg, err);
	__attribute__((cleanup(oom_freep))) struct hutch_cgroup_oom *oom = NULL;
	_cleanup_error_ struct hutch_error *werr = NULL;
	_cleanup_close_ int pidfd = -1;
	long long next;
	bool stop = false;

	if (st == NULL)
		return -1;
	if (interval_ms == 0)
		return hutch_error_set(err, EINVAL, "events: the interval must be positive");
	pidfd = hutch_rt_pidfd_open(st->pid, st->start_time);
	if (pidfd < 0)
		return hutch_error_set(err, ESRCH, "container %s is not running", id);
	oom = hutch_cgroup_oom_watch(cg, &werr);
	if (oom == NULL)
		hutch_warn("events of container %s: no OOM notifications: %s", id,
			   hutch_error_text(werr));
	next = now_ms() + interval_ms;
	while (!stop) {
		struct pollfd p[2] = {{pidfd, POLLIN, 0},
				      {oom ? hutch_cgroup_oom_fd(oom) : -1, POLLIN, 0}};
		long long wait = next - now_ms();
		int r;

		r = poll(p, 2, wait < 0 ? 0 : wait > 60000 ? 60000 : (int)wait);
		if (r < 0 && errno != EINTR)
			return hutch_error_errno(err, "events of container %s: poll", id);
		if (r > 0 && (p[1].revents & POLLIN) &&
		    emit_ooms(oom, id, fn, data, &stop, err) < 0)
			return -1;
		if (r > 0 && !(p[1].revents & POLLIN) && (p[1].revents & (POLLERR | POLLHUP))) {
			/* a broken watch would wake us for ever: drop it */
			hutch_cgroup_oom_free(oom);
			oom = NULL;
		}
		if (r > 0 && (p[0].revents & (POLLIN | POLLHUP))) {
			/* init exited: an OOM kill of it may be what ended it */
			if (oom != NULL && !stop && emit_ooms(oom, id, fn, data, &stop, err) < 0)
				return -1;
			return 0;
		}
		if (!stop && now_ms() >= next) {
			_cleanup_error_ struct hutch_error *serr = NULL;
			_cleanup_free_ char *ev = stats_event(cg, id, st->pid, &serr);
			if (ev == NULL) {
				/* The cgroup goes away as the container stops. */
				if (hutch_rt_wait_pidfd(pidfd, 1000))
					return 0;
				*err = steal_ptr(serr);
				return -1;
			}
			stop = fn(ev, data) != 0;
			next += interval_ms;
			if (next < now_ms())
				next = now_ms() + interval_ms; /* a slow consumer: no burst */
		}
	}
	return 0;
}
