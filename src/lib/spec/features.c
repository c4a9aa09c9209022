/* `hutch features`: the features.md / features-linux.md JSON.
 *
 * It must stay truthful: engines (containerd, CRI-O, Podman) read it to
 * decide what to put into config.json.  intelRdt, which hutch refuses at
 * create (no resctrl support), is reported disabled; AppArmor and SELinux
 * are reported as the host has them (linux/security.h). */
#include "spec/internal.h"
#include "linux/security.h"

#include <ctype.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/error.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

/* The options hutch's mount code understands (besides the filesystem data
 * options, which go to mount(2) as they are). */
static const char *const mount_options[] = {
    "rbind",	  "bind",	  "ro",		 "rw",		 "nosuid",	"suid",
    "nodev",	  "dev",	  "noexec",	 "exec",	 "sync",	"async",
    "dirsync",	  "remount",	  "mand",	 "nomand",	 "atime",	"noatime",
    "diratime",	  "nodiratime",	  "relatime",	 "norelatime",	 "strictatime", "nostrictatime",
    "private",	  "rprivate",	  "shared",	 "rshared",	 "slave",	"rslave",
    "unbindable", "runbindable",  "tmpcopyup",	 "rro",		 "rrw",		"rnosuid",
    "rnodev",	  "rnoexec",	  "ratime",	 "rnoatime",	 "rdiratime",	"rnodiratime",
    "rrelatime",  "rstrictatime", "nosymfollow", "rnosymfollow", "lazytime",	"nolazytime",
    "silent",	  "loud",
};

static void json_putp(struct json_object **o)
{
	if (*o != NULL)
		json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(json_putp)))

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
	if (v == NULL || obj == NULL || json_object_object_add(obj, key, v) < 0) {
		b->oom = true;
		json_object_put(v);
	}
}

static void push_str(struct builder *b, struct json_object *arr, const char *s)
{
	struct json_object *v = chk(b, json_object_new_string(s));

	if (v == NULL || arr == NULL || json_object_array_add(arr, v) < 0) {
		b->oom = true;
		json_object_put(v);
	}
}

static struct json_object *bool_obj(struct builder *b, const char *key, bool value)
{
	struct json_object *o = chk(b, json_object_new_object());

	add(b, o, key, chk(b, json_object_new_boolean(value)));
	return o;
}

/* "SCMP_ARCH_X86_64" -> does this libseccomp know "x86_64"? */
static bool arch_known(const char *name)
{
	char lower[32];
	size_t i;

	name += strlen("SCMP_ARCH_");
	for (i = 0; name[i] != '\0' && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = '\0';
	return seccomp_arch_resolve_name(lower) != 0;
}

/* seccomp(2) checks the flags before it reads the filter: EFAULT for a NULL
 * program means the kernel knows the flag, EINVAL that it does not.  Nothing
 * is installed either way.  (runc probes the same way.) */
static bool kernel_has_flag(unsigned long flag)
{
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL);

	return r < 0 && errno == EFAULT;
}

/* OBJ[KEY] = the names of table T (N entries), in order. */
static void add_names(struct builder *b, struct json_object *obj, const char *key,
		      const struct hutch_name_value *t, size_t n)
{
	struct json_object *a = chk(b, json_object_new_array());

	for (size_t i = 0; i < n; i++)
		push_str(b, a, t[i].name);
	add(b, obj, key, a);
}

static struct json_object *build_seccomp(struct builder *b)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} probe[] = {
	    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
	    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
	    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	    /* only valid with a listener: probe the pair (bit 5 with NEW_LISTENER) */
	    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
	     (1UL << 5) | SECCOMP_FILTER_FLAG_NEW_LISTENER},
	};
	struct json_object *s = chk(b, json_object_new_object());
	struct json_object *archs = chk(b, json_object_new_array());
	struct json_object *known = chk(b, json_object_new_array());
	struct json_object *supported = chk(b, json_object_new_array());

	add(b, s, "enabled", chk(b, json_object_new_boolean(true)));
	add_names(b, s, "actions", hutch_seccomp_actions, hutch_n_seccomp_actions);
	add_names(b, s, "operators", hutch_seccomp_ops, hutch_n_seccomp_ops);
	for (size_t i = 0; i < hutch_n_seccomp_archs; i++)
		if (arch_known(hutch_seccomp_archs[i]))
			push_str(b, archs, hutch_seccomp_archs[i]);
	add(b, s, "archs", archs);
	for (size_t i = 0; i < hutch_n_seccomp_flags; i++)
		push_str(b, known, hutch_seccomp_flags[i]);
	add(b, s, "knownFlags", known);
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(probe); i++)
		if (kernel_has_flag(probe[i].flag))
			push_str(b, supported, probe[i].name);
	add(b, s, "supportedFlags", supported);
	return s;
}

static struct json_object *build_memory_policy(struct builder *b)
{
	struct json_object *m = chk(b, json_object_new_object());

	add_names(b, m, "modes", hutch_mpol_modes, hutch_n_mpol_modes);
	add_names(b, m, "flags", hutch_mpol_flags, hutch_n_mpol_flags);
	return m;
}

static struct json_object *build_linux(struct builder *b)
{
	struct json_object *l = chk(b, json_object_new_object());
	struct json_object *ns = chk(b, json_object_new_array());
	struct json_object *caps = chk(b, json_object_new_array());
	struct json_object *cgroup = chk(b, json_object_new_object());
	struct json_object *ext = chk(b, json_object_new_object());

	for (int i = 0; i < HUTCH_NS__COUNT; i++)
		push_str(b, ns, hutch_ns_name(i));
	add(b, l, "namespaces", ns);
	for (int i = 0; i <= hutch_cap_last(); i++)
		push_str(b, caps, hutch_cap_name(i));
	add(b, l, "capabilities", caps);
	add(b, cgroup, "v1", chk(b, json_object_new_boolean(true)));
	add(b, cgroup, "v2", chk(b, json_object_new_boolean(true)));
	add(b, cgroup, "systemd", chk(b, json_object_new_boolean(false)));
	add(b, cgroup, "systemdUser", chk(b, json_object_new_boolean(false)));
	add(b, cgroup, "rdma", chk(b, json_object_new_boolean(true)));
	add(b, l, "cgroup", cgroup);
	add(b, l, "seccomp", build_seccomp(b));
	add(b, l, "apparmor", bool_obj(b, "enabled", hutch_security_apparmor_enabled(NULL)));
	add(b, l, "selinux", bool_obj(b, "enabled", hutch_security_selinux_enabled(NULL)));
	add(b, l, "intelRdt", bool_obj(b, "enabled", false));
	add(b, l, "memoryPolicy", build_memory_policy(b));
	add(b, ext, "idmap", bool_obj(b, "enabled", true));
	add(b, l, "mountExtensions", ext);
	add(b, l, "netDevices", bool_obj(b, "enabled", true));
	return l;
}

char *hutch_spec_features_json(struct hutch_error **err)
{
	_cleanup_json_ struct json_object *top = NULL;
	const struct scmp_version *v = seccomp_version();
	struct builder b = {false};
	struct json_object *hooks, *opts, *ann;
	char version[64];
	const char *text;
	char *out;

	top = chk(&b, json_object_new_object());
	add(&b, top, "ociVersionMin", chk(&b, json_object_new_string("1.0.0")));
	add(&b, top, "ociVersionMax", chk(&b, json_object_new_string(HUTCH_OCI_VERSION)));
	hooks = chk(&b, json_object_new_array());
	for (int k = 0; k < HUTCH_HOOK__COUNT; k++)
		push_str(&b, hooks, hutch_hook_name(k));
	add(&b, top, "hooks", hooks);
	opts = chk(&b, json_object_new_array());
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(mount_options); i++)
		push_str(&b, opts, mount_options[i]);
	add(&b, top, "mountOptions", opts);
	add(&b, top, "linux", build_linux(&b));
	ann = chk(&b, json_object_new_object());
	if (v != NULL) {
		snprintf(version, sizeof(version), "%u.%u.%u", v->major, v->minor, v->micro);
		add(&b, ann, "io.github.seccomp.libseccomp.version",
		    chk(&b, json_object_new_string(version)));
	}
	add(&b, top, "annotations", ann);
	if (b.oom) {
		hutch_error_set(err, ENOMEM, "building the features document");
		return NULL;
	}
	text = json_object_to_json_string_ext(
	    top, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB | JSON_C_TO_STRING_SPACED |
		     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL || asprintf(&out, "%s\n", text) < 0) {
		hutch_error_set(err, ENOMEM, "formatting the features document");
		return NULL;
	}
	return out;
}
