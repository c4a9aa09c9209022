/* seccomp: the filter is compiled with libseccomp in the parent (before
 * clone, so a bad profile fails before anything exists) and exported as
 * classic BPF; the child loads it with the raw syscall, as late as it can:
 * right before execve when noNewPrivileges is set, otherwise before the
 * user switch (loading without no_new_privs needs CAP_SYS_ADMIN). */
#ifndef HUTCH_LINUX_SECCOMP_H
#define HUTCH_LINUX_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>

struct hutch_error;
struct hutch_seccomp;

struct hutch_seccomp_filter {
	struct sock_fprog prog; /* prog.filter is malloc'd */
	unsigned int flags;	/* SECCOMP_FILTER_FLAG_* */
};

int hutch_seccomp_compile(const struct hutch_seccomp *s, struct hutch_seccomp_filter *out,
			  struct hutch_error **err);
int hutch_seccomp_load(const struct hutch_seccomp_filter *f, struct hutch_error **err);
void hutch_seccomp_filter_clear(struct hutch_seccomp_filter *f);

#endif
