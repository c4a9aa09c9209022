#include "seccomp.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "spec/model.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef HUTCH_OCI_VERSION
#define HUTCH_OCI_VERSION "1.3.0"
#endif

/* include/uapi/linux/seccomp.h; glibc/linux-libc-dev may predate them */
#define FLAG_NEW_LISTENER_	 (1U << 3)
#define FLAG_TSYNC_ESRCH_	 (1U << 4)
#define FLAG_WAIT_KILLABLE_RECV_ (1U << 5) /* Linux 6.0 */

static void ctx_release(scmp_filter_ctx *c)
{
	if (*c != NULL)
		seccomp_release(*c);
}

/* The model keeps the action's base value; errno and trace carry data. */
static uint32_t full_action(uint32_t base, bool has_ret, uint32_t ret, uint32_t default_ret)
{
	switch (base & 0xffff0000U) {
	case SCMP_ACT_ERRNO(0):
		return SCMP_ACT_ERRNO(has_ret ? ret : default_ret);
	case SCMP_ACT_TRACE(0):
		return SCMP_ACT_TRACE(has_ret ? ret : default_ret);
	default:
		return base;
	}
}

static int add_arch(scmp_filter_ctx ctx, const char *name, struct hutch_error **err)
{
	char lower[64];
	size_t i;
	uint32_t arch;
	int r;

	if (strncmp(name, "SCMP_ARCH_", 10) == 0)
		name += 10;
	for (i = 0; name[i] != '\0' && i + 1 < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = '\0';
	arch = seccomp_arch_resolve_name(lower);
	if (arch == 0)
		return hutch_error_set(err, EINVAL, "linux.seccomp.architectures: unknown \"%s\"",
				       name);
	r = seccomp_arch_add(ctx, arch);
	if (r < 0 && r != -EEXIST)
		return hutch_error_set(err, -r, "linux.seccomp.architectures: add %s", name);
	return 0;
}

/* Whether the kernel knows a filter flag: with a NULL program a known flag
 * gets EFAULT (the copy of the program), an unknown one EINVAL. */
static bool kernel_knows_flag(unsigned int flag)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

static int set_flags(scmp_filter_ctx ctx, char **flags, bool notify, unsigned int *out,
		     struct hutch_error **err)
{
	for (char **f = flags; f != NULL && *f != NULL; f++) {
		int r = 0;
		if (strcmp(*f, "SECCOMP_FILTER_FLAG_TSYNC") == 0) {
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
			/* with a listener the kernel wants TSYNC_ESRCH too */
			*out |= SECCOMP_FILTER_FLAG_TSYNC | (notify ? FLAG_TSYNC_ESRCH_ : 0);
		} else if (strcmp(*f, "SECCOMP_FILTER_FLAG_LOG") == 0) {
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
			*out |= SECCOMP_FILTER_FLAG_LOG;
		} else if (strcmp(*f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0) {
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
			*out |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
		} else if (strcmp(*f, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0) {
			/* libseccomp 2.5 has no attribute for it: hutch loads the
			 * filter itself, so the flag goes straight to the kernel. */
			if (!notify)
				return hutch_error_set(err, EINVAL,
						       "linux.seccomp.flags: %s needs a "
						       "SCMP_ACT_NOTIFY rule (a listener)",
						       *f);
			if (!kernel_knows_flag(FLAG_NEW_LISTENER_ | FLAG_WAIT_KILLABLE_RECV_))
				return hutch_error_set(err, EOPNOTSUPP,
						       "linux.seccomp.flags: %s is not supported "
						       "by this kernel (needs Linux 6.0)",
						       *f);
			*out |= FLAG_WAIT_KILLABLE_RECV_;
		} else {
			return hutch_error_set(err, EINVAL,
					       "linux.seccomp.flags: \"%s\" is not supported", *f);
		}
		if (r < 0)
			return hutch_error_set(err, -r, "linux.seccomp.flags: %s", *f);
	}
	return 0;
}

bool hutch_seccomp_has_notify(const struct hutch_seccomp *s)
{
	if (s->default_action == SCMP_ACT_NOTIFY)
		return true;
	for (size_t i = 0; i < s->n_syscalls; i++)
		if (s->syscalls[i].action == SCMP_ACT_NOTIFY)
			return true;
	return false;
}

/* After the notify filter is loaded the child still talks to the parent
 * (sendmsg of the listener fd, then READY): a notified sendmsg would wait for
 * a listener that only gets the fd from that very message. */
static int check_notify(const struct hutch_seccomp *s, struct hutch_error **err)
{
	if (s->default_action == SCMP_ACT_NOTIFY)
		return hutch_error_set(err, EINVAL,
				       "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
				       "default action (hutch's own last steps would wait on the "
				       "listener)");
	if (s->listener_path == NULL || s->listener_path[0] == '\0')
		return hutch_error_set(err, EINVAL,
				       "linux.seccomp: SCMP_ACT_NOTIFY is used but listenerPath is "
				       "not set");
	if (strlen(s->listener_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return hutch_error_set(err, ENAMETOOLONG,
				       "linux.seccomp.listenerPath: \"%s\" is too long for a "
				       "unix socket",
				       s->listener_path);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		if (s->syscalls[i].action != SCMP_ACT_NOTIFY)
			continue;
		for (char **n = s->syscalls[i].names; n != NULL && *n != NULL; n++)
			if (strcmp(*n, "sendmsg") == 0)
				return hutch_error_set(
				    err, EINVAL,
				    "linux.seccomp.syscalls[%zu]: SCMP_ACT_NOTIFY "
				    "cannot be used for sendmsg (hutch sends the "
				    "listener fd with it)",
				    i);
	}
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr,
		    const struct hutch_seccomp_syscall *sc, struct hutch_error **err)
{
	struct scmp_arg_cmp cmp[6];
	bool same_index = false;
	int r;

	if (sc->n_args > 6)
		return hutch_error_set(err, EINVAL, "linux.seccomp.syscalls: too many args");
	for (size_t i = 0; i < sc->n_args; i++) {
		cmp[i] = (struct scmp_arg_cmp){sc->args[i].index, (enum scmp_compare)sc->args[i].op,
					       sc->args[i].value, sc->args[i].value_two};
		for (size_t j = 0; j < i; j++)
			if (sc->args[j].index == sc->args[i].index)
				same_index = true;
	}
	/* Several conditions on one argument cannot be ANDed by libseccomp:
	 * like runc, each becomes its own rule (ORed). */
	if (same_index) {
		for (size_t i = 0; i < sc->n_args; i++) {
			r = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[i]);
			if (r < 0)
				return r;
		}
		return 0;
	}
	return seccomp_rule_add_array(ctx, action, nr, (unsigned)sc->n_args, cmp);
}

int hutch_seccomp_compile(const struct hutch_seccomp *s, struct hutch_seccomp_filter *out,
			  struct hutch_error **err)
{
	uint32_t default_ret = s->has_default_errno_ret ? s->default_errno_ret : EPERM;
	uint32_t def =
	    full_action(s->default_action, s->has_default_errno_ret, s->default_errno_ret, EPERM);
	__attribute__((cleanup(ctx_release))) scmp_filter_ctx ctx = NULL;
	_cleanup_close_ int mfd = -1;
	_cleanup_free_ char *bpf = NULL;
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	out->notify = hutch_seccomp_has_notify(s);
	if (out->notify && check_notify(s, err) < 0)
		return -1;
	ctx = seccomp_init(def);
	if (ctx == NULL)
		return hutch_error_set(err, EINVAL, "linux.seccomp.defaultAction: invalid");
	/* hutch sets no_new_privs itself, when the spec asks */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (char **a = s->architectures; a != NULL && *a != NULL; a++)
		if (add_arch(ctx, *a, err) < 0)
			return -1;
	if (set_flags(ctx, s->flags, out->notify, &out->flags, err) < 0)
		return -1;
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct hutch_seccomp_syscall *sc = &s->syscalls[i];
		uint32_t action = full_action(sc->action, sc->has_errno_ret, sc->errno_ret,
					      sc->action == SCMP_ACT_ERRNO(0) ? EPERM : 0);

		(void)default_ret;
		if (action == def)
			continue; /* libseccomp refuses rules equal to the default */
		for (char **n = sc->names; n != NULL && *n != NULL; n++) {
			int nr = seccomp_syscall_resolve_name(*n);
			if (nr == __NR_SCMP_ERROR) {
				/* As runc: a name this libseccomp does not know is
				 * skipped (profiles list syscalls of newer kernels). */
				hutch_debug("seccomp: unknown syscall \"%s\" skipped", *n);
				continue;
			}
			r = add_rule(ctx, action, nr, sc, err);
			if (r < 0 && nr < 0 && (r == -EOPNOTSUPP || r == -EDOM)) {
				/* A pseudo-syscall: the name exists, but not on this
				 * architecture (podman's and docker's profiles list
				 * bdflush, ...).  runc and crun skip these too. */
				hutch_debug("seccomp: \"%s\" does not exist here, skipped", *n);
				continue;
			}
			if (r < 0)
				return hutch_error_set(
				    err, -r, "linux.seccomp.syscalls[%zu]: add rule for %s", i, *n);
		}
	}
	mfd = memfd_create("hutch-seccomp", MFD_CLOEXEC);
	if (mfd < 0)
		return hutch_error_errno(err, "seccomp: memfd_create");
	r = seccomp_export_bpf(ctx, mfd);
	if (r < 0)
		return hutch_error_set(err, -r, "seccomp: export the filter");
	if (lseek(mfd, 0, SEEK_SET) < 0)
		return hutch_error_errno(err, "seccomp: lseek");
	bpf = hutch_read_fd(mfd, 1u << 20, &len, err);
	if (bpf == NULL)
		return hutch_error_prefix(err, "seccomp: read the filter");
	out->prog.len = (unsigned short)(len / sizeof(struct sock_filter));
	out->prog.filter = (struct sock_filter *)steal_ptr(bpf);
	return 0;
}

int hutch_seccomp_load(const struct hutch_seccomp_filter *f, struct hutch_error **err)
{
	/* No listener here (e.g. hutch exec): a notified call fails with
	 * ENOSYS, so the listener-only flags go. */
	unsigned int flags = f->flags & ~(FLAG_WAIT_KILLABLE_RECV_ | FLAG_TSYNC_ESRCH_);

	if (f->prog.filter == NULL)
		return 0;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &f->prog) < 0)
		return hutch_error_errno(err, "linux.seccomp: load the filter");
	return 0;
}

int hutch_seccomp_load_listener(const struct hutch_seccomp_filter *f, struct hutch_error **err)
{
	long fd;

	if (f->prog.filter == NULL || !f->notify)
		return hutch_error_set(err, EINVAL, "linux.seccomp: no notify rules to listen to");
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags | FLAG_NEW_LISTENER_, &f->prog);
	if (fd < 0)
		return hutch_error_errno(err,
					 "linux.seccomp: load the filter with a listener "
					 "(flags 0x%x)",
					 f->flags | FLAG_NEW_LISTENER_);
	return (int)fd;
}

static void json_put(struct json_object **o)
{
	if (*o != NULL)
		json_object_put(*o);
}

char *hutch_seccomp_listener_state(const struct hutch_seccomp *s, int pid, const char *state_json,
				   struct hutch_error **err)
{
	__attribute__((cleanup(json_put))) struct json_object *o = json_object_new_object();
	struct json_object *state = json_tokener_parse(state_json != NULL ? state_json : "{}");
	struct json_object *fds = json_object_new_array();
	char *out;

	if (o == NULL || state == NULL || fds == NULL) {
		json_object_put(state);
		json_object_put(fds);
		return hutch_error_set(err, ENOMEM, "seccomp listener state"), NULL;
	}
	json_object_array_add(fds, json_object_new_string("seccompFd"));
	json_object_object_add(o, "ociVersion", json_object_new_string(HUTCH_OCI_VERSION));
	json_object_object_add(o, "fds", fds);
	json_object_object_add(o, "pid", json_object_new_int(pid));
	json_object_object_add(
	    o, "metadata",
	    json_object_new_string(s->listener_metadata != NULL ? s->listener_metadata : ""));
	json_object_object_add(o, "state", state);
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	if (out == NULL)
		hutch_error_set(err, ENOMEM, "seccomp listener state");
	return out;
}

int hutch_seccomp_send_listener(const struct hutch_seccomp *s, int fd, int pid,
				const char *state_json, struct hutch_error **err)
{
	_cleanup_free_ char *payload = hutch_seccomp_listener_state(s, pid, state_json, err);
	_cleanup_close_ int sock = -1;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh = {0};
	struct cmsghdr *cm;

	if (payload == NULL)
		return -1;
	if (s->listener_path == NULL || strlen(s->listener_path) >= sizeof(addr.sun_path))
		return hutch_error_set(err, EINVAL, "linux.seccomp.listenerPath: invalid");
	strcpy(addr.sun_path, s->listener_path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return hutch_error_errno(err, "linux.seccomp.listenerPath: socket");
	hutch_debug("seccomp: send the notify fd to %s", s->listener_path);
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return hutch_error_errno(err, "linux.seccomp.listenerPath: connect to %s",
					 s->listener_path);
	iov.iov_base = payload;
	iov.iov_len = strlen(payload);
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		return hutch_error_errno(err, "linux.seccomp.listenerPath: send to %s",
					 s->listener_path);
	return 0;
}

void hutch_seccomp_filter_clear(struct hutch_seccomp_filter *f)
{
	free(f->prog.filter);
	f->prog.filter = NULL;
}
