#include "seccomp.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "spec/model.h"

#include <ctype.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

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

static int set_flags(scmp_filter_ctx ctx, char **flags, struct hutch_error **err)
{
	for (char **f = flags; f != NULL && *f != NULL; f++) {
		int r;
		if (strcmp(*f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
		else if (strcmp(*f, "SECCOMP_FILTER_FLAG_LOG") == 0)
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
		else if (strcmp(*f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
		else
			return hutch_error_set(err, EINVAL,
					       "linux.seccomp.flags: \"%s\" is not supported", *f);
		if (r < 0)
			return hutch_error_set(err, -r, "linux.seccomp.flags: %s", *f);
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
			r = seccomp_rule_add_exact_array(ctx, action, nr, 1, &cmp[i]);
			if (r < 0)
				return r;
		}
		return 0;
	}
	return seccomp_rule_add_exact_array(ctx, action, nr, (unsigned)sc->n_args, cmp);
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
	ctx = seccomp_init(def);
	if (ctx == NULL)
		return hutch_error_set(err, EINVAL, "linux.seccomp.defaultAction: invalid");
	/* hutch sets no_new_privs itself, when the spec asks */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (char **a = s->architectures; a != NULL && *a != NULL; a++)
		if (add_arch(ctx, *a, err) < 0)
			return -1;
	if (set_flags(ctx, s->flags, err) < 0)
		return -1;
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct hutch_seccomp_syscall *sc = &s->syscalls[i];
		uint32_t action = full_action(sc->action, sc->has_errno_ret, sc->errno_ret,
					      sc->action == SCMP_ACT_ERRNO(0) ? EPERM : 0);

		(void)default_ret;
		if ((action & 0xffff0000U) == SCMP_ACT_NOTIFY)
			return hutch_error_set(err, EINVAL,
					       "linux.seccomp.syscalls[%zu].action: "
					       "SCMP_ACT_NOTIFY is not supported by hutch yet",
					       i);
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
	for (char **f = s->flags; f != NULL && *f != NULL; f++) {
		if (strcmp(*f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			out->flags |= SECCOMP_FILTER_FLAG_TSYNC;
		else if (strcmp(*f, "SECCOMP_FILTER_FLAG_LOG") == 0)
			out->flags |= SECCOMP_FILTER_FLAG_LOG;
		else if (strcmp(*f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			out->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	}
	return 0;
}

int hutch_seccomp_load(const struct hutch_seccomp_filter *f, struct hutch_error **err)
{
	if (f->prog.filter == NULL)
		return 0;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &f->prog) < 0)
		return hutch_error_errno(err, "linux.seccomp: load the filter");
	return 0;
}

void hutch_seccomp_filter_clear(struct hutch_seccomp_filter *f)
{
	free(f->prog.filter);
	f->prog.filter = NULL;
}
