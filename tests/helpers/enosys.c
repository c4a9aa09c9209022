/*
 * enosys: run a command with openat2(2), clone3(2), execveat(2) and the new
 * mount API (open_tree, move_mount, mount_setattr) failing with ENOSYS, so
 * the runtime's fallbacks (O_PATH walk, clone, execve of the checked fd's
 * /proc/self/fd link) are exercised as on older kernels or under container
 * managers whose seccomp profile predates them.  Features without a
 * fallback (recursive mount attributes, idmapped mounts) must then fail
 * with a clear error; the blocked names are exported in HUTCH_TEST_ENOSYS
 * so tests know which answer to expect.
 *
 * Usage: enosys COMMAND [ARG...]
 *
 * The filter is inherited by every descendant.  It is loaded without
 * no_new_privs (needs CAP_SYS_ADMIN) so that the tests of noNewPrivileges
 * still see the runtime's own choice.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const char *const names[] = {"openat2",	 "clone3",     "execveat",
					    "open_tree", "move_mount", "mount_setattr"};
	scmp_filter_ctx ctx;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: enosys COMMAND [ARG...]\n");
		return 2;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL) {
		fprintf(stderr, "enosys: seccomp_init failed\n");
		return 1;
	}
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (size_t i = 0; rc == 0 && i < sizeof(names) / sizeof(names[0]); i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to this libseccomp: nothing to block */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	}
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		fprintf(stderr, "enosys: loading the filter failed: %s\n", strerror(-rc));
		return 1;
	}
	setenv("HUTCH_TEST_ENOSYS", "openat2,clone3,execveat,open_tree,move_mount,mount_setattr",
	       1);
	execvp(argv[1], argv + 1);
	fprintf(stderr, "enosys: exec %s: %s\n", argv[1], strerror(errno));
	return 127;
}
