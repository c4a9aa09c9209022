/* Host-dependent security settings: LSM labels (AppArmor, SELinux) and
 * checks of what the host offers (resctrl for intelRdt), done in the parent
 * before anything is created so that a config the host cannot honour fails
 * with a clear message rather than half-way through the child. */
#ifndef HUTCH_LINUX_SECURITY_H
#define HUTCH_LINUX_SECURITY_H

#include <stdbool.h>

struct hutch_error;
struct hutch_spec;
struct hutch_process;

/* The sysfs paths hutch probes; tests may point them at temp files. */
struct hutch_security_host {
	const char *apparmor_enabled; /* /sys/module/apparmor/parameters/enabled */
	const char *selinux_enforce;  /* /sys/fs/selinux/enforce */
	const char *resctrl;	      /* /sys/fs/resctrl */
};

bool hutch_security_apparmor_enabled(const struct hutch_security_host *h);
bool hutch_security_selinux_enabled(const struct hutch_security_host *h);

/* In the parent: an AppArmor profile on a host without AppArmor and
 * linux.intelRdt without resctrl are errors; an SELinux label on a host
 * with SELinux disabled is dropped with a warning (as crun does); the
 * personality is checked.  H may be NULL (the real paths). */
int hutch_security_check(const struct hutch_spec *s, const struct hutch_security_host *h,
			 struct hutch_error **err);
/* A process (init or exec) about to be checked: only its own fields. */
int hutch_security_check_process(const struct hutch_process *p, const struct hutch_security_host *h,
				 struct hutch_error **err);

/* In the child, right before execve: the AppArmor profile and the SELinux
 * label the kernel switches to at exec. */
int hutch_security_set_exec_labels(const struct hutch_process *p, struct hutch_error **err);

#endif
