/* cgroup v1 specifics: the devices controller's allow/deny lists, the
 * freezer state machine, and cpuset values new cgroups must inherit. */
#include "cgroup/cgroup-internal.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "spec/model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const struct hutch_cg_default_dev hutch_cg_default_devices[] = {
    {'c', 1, 3},    /* /dev/null */
    {'c', 1, 5},    /* /dev/zero */
    {'c', 1, 7},    /* /dev/full */
    {'c', 1, 8},    /* /dev/random */
    {'c', 1, 9},    /* /dev/urandom */
    {'c', 5, 0},    /* /dev/tty */
    {'c', 5, 1},    /* /dev/console */
    {'c', 5, 2},    /* /dev/ptmx */
    {'c', 136, -1}, /* /dev/pts/N */
};
const size_t hutch_cg_n_default_devices = HUTCH_ARRAY_SIZE(hutch_cg_default_devices);

static void fmt_num(int64_t v, char *buf, size_t n)
{
	if (v < 0)
		snprintf(buf, n, "*");
	else
		snprintf(buf, n, "%" PRId64, v);
}

/* "c 1:3 rwm"; the kernel reads "a" as every device whatever follows. */
static int fmt_rule(size_t i, char type, int64_t major, int64_t minor, const char *access,
		    char *buf, size_t n, struct hutch_error **err)
{
	char ma[24], mi[24];

	if (type != 'a' && type != 'c' && type != 'b')
		return hutch_error_set(err, EINVAL, "linux.resources.devices[%zu]: bad type '%c'",
				       i, type);
	if (access == NULL || *access == '\0')
		access = "rwm";
	if (strspn(access, "rwm") != strlen(access))
		return hutch_error_set(
		    err, EINVAL, "linux.resources.devices[%zu]: bad access \"%s\"", i, access);
	if (type == 'a') {
		snprintf(buf, n, "a");
		return 0;
	}
	fmt_num(major, ma, sizeof(ma));
	fmt_num(minor, mi, sizeof(mi));
	snprintf(buf, n, "%c %s:%s %s", type, ma, mi, access);
	return 0;
}

static bool is_deny_all(const struct hutch_device_rule *d)
{
	return !d->allow && (d->type == 'a' || d->type == '\0') && d->major < 0 && d->minor < 0;
}

static void cg_files_close(struct hutch_cg_file (*f)[2])
{
	hutch_cg_file_close(&(*f)[0]);
	hutch_cg_file_close(&(*f)[1]);
}

int hutch_cg_v1_devices(const char *dir, const struct hutch_resources *r, struct hutch_error **err)
{
	/* [0] devices.deny, [1] devices.allow: each opened once, a rule per write */
	__attribute__((cleanup(cg_files_close))) struct hutch_cg_file f[2] = {{-1, NULL},
									      {-1, NULL}};
	char buf[96];
	size_t start = 0;

	if (hutch_cg_file_open(&f[0], dir, "devices.deny", err) < 0 ||
	    hutch_cg_file_open(&f[1], dir, "devices.allow", err) < 0)
		return hutch_error_prefix(err, "linux.resources.devices");
	/* "a" in devices.deny drops every inherited exception and switches the
	 * cgroup to default-deny; the rules after it only open holes. */
	if (r->n_devices > 0 && is_deny_all(&r->devices[0])) {
		if (hutch_cg_file_write(&f[0], "a", err) < 0)
			return hutch_error_prefix(err, "linux.resources.devices[0]");
		start = 1;
	}
	for (size_t i = start; i < r->n_devices; i++) {
		const struct hutch_device_rule *d = &r->devices[i];
		char type = d->type == '\0' ? 'a' : d->type;

		if (fmt_rule(i, type, d->major, d->minor, d->access, buf, sizeof(buf), err) < 0)
			return -1;
		if (hutch_cg_file_write(&f[d->allow ? 1 : 0], buf, err) < 0)
			return hutch_error_prefix(err, "linux.resources.devices[%zu]", i);
	}
	for (size_t i = 0; i < hutch_cg_n_default_devices; i++) {
		const struct hutch_cg_default_dev *d = &hutch_cg_default_devices[i];
		fmt_rule(i, d->type, d->major, d->minor, "rwm", buf, sizeof(buf), NULL);
		if (hutch_cg_file_write(&f[1], buf, err) < 0)
			return hutch_error_prefix(err, "default device %s", buf);
	}
	return 0;
}

/* ---- freezer ---------------------------------------------------------------- */

static int read_state(const char *dir, char *buf, size_t n, struct hutch_error **err)
{
	_cleanup_free_ char *s = hutch_cg_read(dir, "freezer.state", err);

	if (s == NULL)
		return -1;
	s[strcspn(s, "\n")] = '\0';
	snprintf(buf, n, "%s", s);
	return 0;
}

int hutch_cg_v1_freeze(const char *dir, bool freeze, struct hutch_error **err)
{
	const char *want = freeze ? "FROZEN" : "THAWED";
	char state[32];
	int waited = 0, delay = 1;

	if (hutch_cg_write(dir, "freezer.state", want, err) < 0)
		return -1;
	/* Freezing is asynchronous (FREEZING until every task stopped); a task
	 * in an uninterruptible sleep can hold it, so the wait is bounded. */
	for (int round = 1;; round++) {
		if (read_state(dir, state, sizeof(state), err) < 0)
			return -1;
		if (strcmp(state, want) == 0)
			return 0;
		if (waited >= 2 * hutch_cg_timeout_ms)
			break;
		hutch_cg_sleep_ms(delay);
		waited += delay;
		delay = delay * 2 > 20 ? 20 : delay * 2;
		/* writing FROZEN again retries tasks that raced with the freeze */
		if (freeze && round % 10 == 0 &&
		    hutch_cg_write(dir, "freezer.state", want, err) < 0)
			return -1;
	}
	if (freeze)
		hutch_cg_write(dir, "freezer.state", "THAWED", NULL);
	return hutch_error_set(err, EBUSY, "%s/freezer.state still %s after %d ms", dir, state,
			       waited);
}

int hutch_cg_v1_is_frozen(const char *dir, bool *frozen, struct hutch_error **err)
{
	char state[32];

	if (read_state(dir, state, sizeof(state), err) < 0)
		return -1;
	*frozen = strcmp(state, "FROZEN") == 0;
	return 0;
}

/* ---- cpuset ------------------------------------------------------------------- */

/* A new v1 cpuset cgroup starts with empty cpus and mems, and nothing can
 * join it until they are set: copy the parent's down. */
int hutch_cg_v1_copy_cpuset(const char *parent, const char *child, struct hutch_error **err)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *mine = NULL, *theirs = NULL;

		if (!hutch_cg_exists(child, files[i]) || !hutch_cg_exists(parent, files[i]))
			continue;
		mine = hutch_cg_read(child, files[i], err);
		if (mine == NULL)
			return -1;
		if (mine[strspn(mine, " \n")] != '\0')
			continue;
		theirs = hutch_cg_read(parent, files[i], err);
		if (theirs == NULL)
			return -1;
		theirs[strcspn(theirs, "\n")] = '\0';
		if (*theirs == '\0')
			continue;
		if (hutch_cg_write(child, files[i], theirs, err) < 0)
			return -1;
	}
	return 0;
}
