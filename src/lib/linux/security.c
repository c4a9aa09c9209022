#include "security.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "linux/process.h"
#include "spec/model.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define RDTGROUP_SUPER_MAGIC_ 0x7655821

static const struct hutch_security_host real_host = {
    .apparmor_enabled = "/sys/module/apparmor/parameters/enabled",
    .selinux_enforce = "/sys/fs/selinux/enforce",
    .resctrl = "/sys/fs/resctrl",
};

bool hutch_security_apparmor_enabled(const struct hutch_security_host *h)
{
	_cleanup_free_ char *v = NULL;

	h = h != NULL ? h : &real_host;
	v = hutch_read_file(h->apparmor_enabled, 64, NULL, NULL);
	return v != NULL && v[0] == 'Y';
}

bool hutch_security_selinux_enabled(const struct hutch_security_host *h)
{
	h = h != NULL ? h : &real_host;
	return access(h->selinux_enforce, F_OK) == 0;
}

static bool resctrl_mounted(const struct hutch_security_host *h)
{
	struct statfs sf;

	if (h == &real_host)
		return statfs(h->resctrl, &sf) == 0 && sf.f_type == RDTGROUP_SUPER_MAGIC_;
	/* a test host: the directory standing for the mount */
	return access(h->resctrl, F_OK) == 0;
}

int hutch_security_check_process(const struct hutch_process *p, const struct hutch_security_host *h,
				 struct hutch_error **err)
{
	h = h != NULL ? h : &real_host;
	if (p->apparmor_profile != NULL && p->apparmor_profile[0] != '\0' &&
	    !hutch_security_apparmor_enabled(h))
		return hutch_error_set(err, EOPNOTSUPP,
				       "process.apparmorProfile \"%s\": AppArmor is not enabled on "
				       "this host (%s)",
				       p->apparmor_profile, h->apparmor_enabled);
	if (p->selinux_label != NULL && p->selinux_label[0] != '\0' &&
	    !hutch_security_selinux_enabled(h))
		hutch_warn("process.selinuxLabel \"%s\" ignored: SELinux is disabled on this host",
			   p->selinux_label);
	return 0;
}

int hutch_security_check(const struct hutch_spec *s, const struct hutch_security_host *h,
			 struct hutch_error **err)
{
	const struct hutch_linux *l = &s->linux_;

	h = h != NULL ? h : &real_host;
	/* Rootless: every namespace but a user one needs CAP_SYS_ADMIN in the
	 * caller's user namespace; clone would only say EPERM. */
	if (geteuid() != 0 && !l->namespaces[HUTCH_NS_USER].present)
		return hutch_error_set(
		    err, EPERM,
		    "running as an unprivileged user (uid %u) needs a user "
		    "namespace: add {\"type\": \"user\"} to linux.namespaces with "
		    "uidMappings and gidMappings (hutch spec --rootless writes "
		    "such a config)",
		    (unsigned)geteuid());
	if (s->has_process && hutch_security_check_process(&s->process, h, err) < 0)
		return -1;
	if (l->mount_label != NULL && l->mount_label[0] != '\0' &&
	    !hutch_security_selinux_enabled(h))
		hutch_warn("linux.mountLabel \"%s\" ignored: SELinux is disabled on this host",
			   l->mount_label);
	if (l->has_intel_rdt) {
		if (!resctrl_mounted(h))
			return hutch_error_set(err, EOPNOTSUPP,
					       "linux.intelRdt: resctrl is not mounted at %s (the "
					       "host has no Intel RDT, or it is not enabled)",
					       h->resctrl);
		return hutch_error_set(err, EOPNOTSUPP,
				       "linux.intelRdt: not supported by hutch yet");
	}
	if (l->has_personality &&
	    hutch_process_personality_value(l->personality_domain, l->personality_flags, err) < 0)
		return -1;
	return 0;
}

/* /proc/self/attr/<lsm>/exec (Linux 5.1, stacked LSMs), else attr/exec. */
static int write_attr(const char *lsm, const char *value, const char *field,
		      struct hutch_error **err)
{
	char path[64];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/thread-self/attr/%s/exec", lsm);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/proc/thread-self/attr/exec");
		fd = open(path, O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return hutch_error_errno(err, "%s: open %s", field, path);
	if (hutch_write_all(fd, value, strlen(value)) < 0)
		return hutch_error_errno(err, "%s: write \"%s\" to %s", field, value, path);
	return 0;
}

int hutch_security_set_exec_labels(const struct hutch_process *p, struct hutch_error **err)
{
	if (p->apparmor_profile != NULL && p->apparmor_profile[0] != '\0') {
		_cleanup_free_ char *v = NULL;
		if (asprintf(&v, "exec %s", p->apparmor_profile) < 0)
			return hutch_error_set(err, ENOMEM, "process.apparmorProfile");
		if (write_attr("apparmor", v, "process.apparmorProfile", err) < 0)
			return -1;
	}
	if (p->selinux_label != NULL && p->selinux_label[0] != '\0' &&
	    hutch_security_selinux_enabled(NULL) &&
	    write_attr("selinux", p->selinux_label, "process.selinuxLabel", err) < 0)
		return -1;
	return 0;
}
