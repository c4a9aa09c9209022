/* The config.json `hutch spec` writes.
 *
 * Same content as `runc spec` (runc's specconv.Example()), so a bundle made
 * for one runs with the other, with three deliberate differences: the
 * hostname is "hutch", ociVersion is the spec version hutch implements, and
 * process.terminal is false, so that `hutch run` in a script or a CI job
 * works without a controlling tty (runc writes true and then fails there
 * with "cannot allocate tty if runc will detach without setting
 * console socket").
 *
 * --rootless follows runc's specconv.ToRootless():
 *   - a user namespace is added, mapping container root to the caller's
 *     effective uid and gid (size 1); runc uses geteuid()/getegid() too;
 *   - the network namespace is removed (an unprivileged user cannot
 *     configure one from the host side), the cgroup namespace is kept;
 *   - /sys is an rbind of the host's /sys (nosuid,noexec,nodev,ro): sysfs
 *     cannot be mounted in a user namespace that does not own a network
 *     namespace;
 *   - uid= and gid= options are dropped (gid=5 on devpts: group 5 is not
 *     mapped);
 *   - linux.resources is removed (no cgroup delegation is assumed).
 */
#include "spec/model.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/error.h"

static void json_putp(struct json_object **o)
{
	if (*o != NULL)
		json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(json_putp)))

/* json-c's constructors only fail on ENOMEM; one flag records it so the
 * builder stays readable. */
struct builder {
	bool oom;
};

static struct json_object *chk(struct builder *b, struct json_object *o)
{
	if (o == NULL)
		b->oom = true;
	return o;
}

static void add(struct builder *b, struct json_object *obj, const char *key, struct json_object *v)
{
	if (v == NULL || obj == NULL) {
		b->oom = true;
		json_object_put(v);
		return;
	}
	if (json_object_object_add(obj, key, v) < 0)
		b->oom = true;
}

static void push(struct builder *b, struct json_object *arr, struct json_object *v)
{
	if (v == NULL || arr == NULL) {
		b->oom = true;
		json_object_put(v);
		return;
	}
	if (json_object_array_add(arr, v) < 0) {
		json_object_put(v);
		b->oom = true;
	}
}

static struct json_object *str(struct builder *b, const char *s)
{
	return chk(b, json_object_new_string(s));
}

/* A string array from a NULL-terminated list. */
static struct json_object *strs(struct builder *b, const char *const *list)
{
	struct json_object *a = chk(b, json_object_new_array());

	for (size_t i = 0; a != NULL && list[i] != NULL; i++)
		push(b, a, str(b, list[i]));
	return a;
}

static void add_mount(struct builder *b, struct json_object *mounts, const char *dest,
		      const char *type, const char *source, const char *const *options)
{
	struct json_object *m = chk(b, json_object_new_object());

	add(b, m, "destination", str(b, dest));
	add(b, m, "type", str(b, type));
	add(b, m, "source", str(b, source));
	if (options != NULL)
		add(b, m, "options", strs(b, options));
	push(b, mounts, m);
}

static struct json_object *build_process(struct builder *b)
{
	static const char *const args[] = {"sh", NULL};
	static const char *const env[] = {
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
	    NULL};
	/* runc's default set: enough for a shell, nothing that reaches the
	 * host.  No inheritable and no ambient set: an exec'd binary gets no
	 * capability it was not granted by file capabilities. */
	static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
					   NULL};
	struct json_object *p = chk(b, json_object_new_object());
	struct json_object *user = chk(b, json_object_new_object());
	struct json_object *capabilities = chk(b, json_object_new_object());
	struct json_object *rlimits = chk(b, json_object_new_array());
	struct json_object *nofile = chk(b, json_object_new_object());

	/* false where runc writes true: see the comment at the top. */
	add(b, p, "terminal", chk(b, json_object_new_boolean(false)));
	add(b, user, "uid", chk(b, json_object_new_int(0)));
	add(b, user, "gid", chk(b, json_object_new_int(0)));
	add(b, p, "user", user);
	add(b, p, "args", strs(b, args));
	add(b, p, "env", strs(b, env));
	add(b, p, "cwd", str(b, "/"));
	add(b, capabilities, "bounding", strs(b, caps));
	add(b, capabilities, "effective", strs(b, caps));
	add(b, capabilities, "permitted", strs(b, caps));
	add(b, p, "capabilities", capabilities);
	add(b, nofile, "type", str(b, "RLIMIT_NOFILE"));
	add(b, nofile, "hard", chk(b, json_object_new_int(1024)));
	add(b, nofile, "soft", chk(b, json_object_new_int(1024)));
	push(b, rlimits, nofile);
	add(b, p, "rlimits", rlimits);
	add(b, p, "noNewPrivileges", chk(b, json_object_new_boolean(true)));
	return p;
}

static struct json_object *build_mounts(struct builder *b, bool rootless)
{
	static const char *const dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
	static const char *const pts[] = {"nosuid",    "noexec", "newinstance", "ptmxmode=0666",
					  "mode=0620", "gid=5",	 NULL};
	static const char *const shm[] = {"nosuid",    "noexec",      "nodev",
					  "mode=1777", "size=65536k", NULL};
	static const char *const mqueue[] = {"nosuid", "noexec", "nodev", NULL};
	static const char *const sys[] = {"nosuid", "noexec", "nodev", "ro", NULL};
	static const char *const sys_rbind[] = {"rbind", "nosuid", "noexec", "nodev", "ro", NULL};
	static const char *const cgroup[] = {"nosuid", "noexec", "nodev", "relatime", "ro", NULL};
	struct json_object *m = chk(b, json_object_new_array());
	const char *const *pts_opts = pts;
	static const char *const pts_rootless[] = {"nosuid",	    "noexec",	 "newinstance",
						   "ptmxmode=0666", "mode=0620", NULL};

	if (rootless)
		pts_opts = pts_rootless; /* without gid=5: group 5 is not mapped */
	add_mount(b, m, "/proc", "proc", "proc", NULL);
	add_mount(b, m, "/dev", "tmpfs", "tmpfs", dev);
	add_mount(b, m, "/dev/pts", "devpts", "devpts", pts_opts);
	add_mount(b, m, "/dev/shm", "tmpfs", "shm", shm);
	add_mount(b, m, "/dev/mqueue", "mqueue", "mqueue", mqueue);
	if (rootless)
		add_mount(b, m, "/sys", "none", "/sys", sys_rbind);
	else
		add_mount(b, m, "/sys", "sysfs", "sysfs", sys);
	add_mount(b, m, "/sys/fs/cgroup", "cgroup", "cgroup", cgroup);
	return m;
}

static struct json_object *idmap(struct builder *b, unsigned host_id)
{
	struct json_object *a = chk(b, json_object_new_array());
	struct json_object *m = chk(b, json_object_new_object());

	add(b, m, "containerID", chk(b, json_object_new_int64(0)));
	add(b, m, "hostID", chk(b, json_object_new_int64(host_id)));
	add(b, m, "size", chk(b, json_object_new_int64(1)));
	push(b, a, m);
	return a;
}

static struct json_object *build_linux(struct builder *b, bool rootless)
{
	/* runc's lists (libcontainer/specconv/example.go): maskedPaths hide
	 * kernel information (kcore, keys, timer_list...) and the TPM;
	 * /sys/devices/virtual/powercap is added as Docker and Podman do (RAPL
	 * energy counters leak secrets, CVE-2020-8694).  readonlyPaths keep
	 * /proc/sys and friends from being written. */
	static const char *const masked[] = {"/proc/acpi",
					     "/proc/asound",
					     "/proc/kcore",
					     "/proc/keys",
					     "/proc/latency_stats",
					     "/proc/timer_list",
					     "/proc/timer_stats",
					     "/proc/sched_debug",
					     "/sys/firmware",
					     "/proc/scsi",
					     "/sys/devices/virtual/tpm",
					     "/sys/devices/virtual/powercap",
					     NULL};
	static const char *const readonly[] = {
	    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};
	/* runc adds the cgroup namespace only on a cgroup2-only host; hutch
	 * always does, so the container never sees the host's cgroup paths. */
	static const char *const ns_root[] = {"pid",   "network", "ipc", "uts",
					      "mount", "cgroup",  NULL};
	static const char *const ns_rootless[] = {"pid",    "ipc",  "uts", "mount",
						  "cgroup", "user", NULL};
	const char *const *ns = rootless ? ns_rootless : ns_root;
	struct json_object *l = chk(b, json_object_new_object());
	struct json_object *namespaces = chk(b, json_object_new_array());

	if (rootless) {
		add(b, l, "uidMappings", idmap(b, (unsigned)geteuid()));
		add(b, l, "gidMappings", idmap(b, (unsigned)getegid()));
	} else {
		struct json_object *res = chk(b, json_object_new_object());
		struct json_object *devices = chk(b, json_object_new_array());
		struct json_object *deny = chk(b, json_object_new_object());

		/* Deny every device; the runtime adds the default allow list
		 * (null, zero, full, random, urandom, tty, ptmx, pts). */
		add(b, deny, "allow", chk(b, json_object_new_boolean(false)));
		add(b, deny, "access", str(b, "rwm"));
		push(b, devices, deny);
		add(b, res, "devices", devices);
		add(b, l, "resources", res);
	}
	for (size_t i = 0; ns[i] != NULL; i++) {
		struct json_object *n = chk(b, json_object_new_object());

		add(b, n, "type", str(b, ns[i]));
		push(b, namespaces, n);
	}
	add(b, l, "namespaces", namespaces);
	add(b, l, "maskedPaths", strs(b, masked));
	add(b, l, "readonlyPaths", strs(b, readonly));
	return l;
}

char *hutch_spec_default_json(bool rootless, struct hutch_error **err)
{
	_cleanup_json_ struct json_object *top = NULL;
	struct builder b = {false};
	struct json_object *root;
	const char *text;
	char *out;

	top = chk(&b, json_object_new_object());
	root = chk(&b, json_object_new_object());
	add(&b, top, "ociVersion", str(&b, HUTCH_OCI_VERSION));
	add(&b, top, "process", build_process(&b));
	add(&b, root, "path", str(&b, "rootfs"));
	add(&b, root, "readonly", chk(&b, json_object_new_boolean(true)));
	add(&b, top, "root", root);
	add(&b, top, "hostname", str(&b, "hutch"));
	add(&b, top, "mounts", build_mounts(&b, rootless));
	add(&b, top, "linux", build_linux(&b, rootless));
	if (b.oom) {
		hutch_error_set(err, ENOMEM, "building the default config");
		return NULL;
	}
	text = json_object_to_json_string_ext(
	    top, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB | JSON_C_TO_STRING_SPACED |
		     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL || asprintf(&out, "%s\n", text) < 0) {
		hutch_error_set(err, ENOMEM, "formatting the default config");
		return NULL;
	}
	return out;
}
