/* seccomp: the filter is compiled with libseccomp in the parent (before
 * clone, so a bad profile fails before anything exists) and exported as
 * classic BPF; the child loads it with the raw syscall, as late as it can:
 * right before execve when noNewPrivileges is set, otherwise before the
 * user switch (loading without no_new_privs needs CAP_SYS_ADMIN).
 *
 * SCMP_ACT_NOTIFY (config-linux.md, "The Container Process State"): the
 * child loads the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER before READY
 * (the parent must still be there to take the fd), sends the notify fd to
 * the parent over the sync socket (HUTCH_SYNC_SECCOMP), and the parent
 * connects to listenerPath and sends the fd (SCM_RIGHTS) with the state
 * JSON {ociVersion, fds: ["seccompFd"], pid, metadata, state}. */
#ifndef HUTCH_LINUX_SECCOMP_H
#define HUTCH_LINUX_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>

struct hutch_error;
struct hutch_seccomp;

struct hutch_seccomp_filter {
	struct sock_fprog prog; /* prog.filter is malloc'd */
	unsigned int flags;	/* SECCOMP_FILTER_FLAG_* */
	bool notify;		/* has SCMP_ACT_NOTIFY rules: load with a listener */
};

int hutch_seccomp_compile(const struct hutch_seccomp *s, struct hutch_seccomp_filter *out,
			  struct hutch_error **err);
/* Load F into the calling thread.  Without a listener returns 0; with
 * WITH_LISTENER (and F->notify) returns the notify fd (O_CLOEXEC). */
int hutch_seccomp_load(const struct hutch_seccomp_filter *f, struct hutch_error **err);
int hutch_seccomp_load_listener(const struct hutch_seccomp_filter *f, struct hutch_error **err);
/* Whether a profile uses SCMP_ACT_NOTIFY anywhere. */
bool hutch_seccomp_has_notify(const struct hutch_seccomp *s);
/* The Container Process State for the listener (exposed for unit tests). */
char *hutch_seccomp_listener_state(const struct hutch_seccomp *s, int pid, const char *state_json,
				   struct hutch_error **err);
/* In the parent: connect to s->listener_path and send FD with the state. */
int hutch_seccomp_send_listener(const struct hutch_seccomp *s, int fd, int pid,
				const char *state_json, struct hutch_error **err);
void hutch_seccomp_filter_clear(struct hutch_seccomp_filter *f);

#endif
