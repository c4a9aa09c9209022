/* CVE-2019-5736: the container must never get a handle on the hutch binary.
 *
 * runc was escaped by a container that made runc execute itself inside the
 * container (entrypoint "/proc/self/exe", or a script whose interpreter is
 * "#!/proc/self/exe"), or that opened /proc/<runc-pid>/exe while runc was
 * still runc; with an O_PATH handle it waits for runc to exit (ETXTBSY ends)
 * and reopens the binary for writing.  runc and crun answer with a copy of
 * the binary (memfd) or an overlay plus a re-exec on every command.  hutch
 * closes both ways in without a re-exec:
 *
 *  - hutch_exeguard_seal(): PR_SET_DUMPABLE 0 as soon as the process runs in
 *    the container's namespaces (after the id maps are written).  A
 *    non-dumpable task's /proc/<pid>/exe, fd/, maps, root, cwd need
 *    CAP_SYS_PTRACE in the user namespace of its mm (the host's), which the
 *    container never has.  execve resets it for the container's program.
 *  - hutch_exeguard_execve(): the program is opened once, compared (device
 *    and inode) with the hutch binary remembered before any namespace was
 *    entered, and run with execveat(fd, "", AT_EMPTY_PATH) so what was
 *    checked is what runs.  A "#!" script is run the way the kernel would
 *    (interpreter, its argument, the script path, the rest of argv), its
 *    interpreter checked the same way, up to 4 levels as in binfmt_script.
 *
 * Cost: one stat of /proc/self/exe, one prctl, one open + pread of the
 * program: microseconds, against a copy + re-exec per command.
 */
#ifndef HUTCH_LINUX_EXEGUARD_H
#define HUTCH_LINUX_EXEGUARD_H

#include <stddef.h>

struct hutch_error;

/* Remember which file is the hutch binary; call before entering any
 * namespace of the container (its /proc may be hostile later). */
int hutch_exeguard_remember(struct hutch_error **err);
/* Make this process non-dumpable until its execve. */
int hutch_exeguard_seal(struct hutch_error **err);
/* The program to run, opened and checked (see hutch_exeguard_prepare). */
struct hutch_exeguard_prog {
	int fd;		 /* the binary (or final interpreter), O_CLOEXEC */
	char **argv;	 /* argv for it (a script's interpreter line prepended) */
	void *owned[10]; /* script headers and argvs argv points into */
	size_t n_owned;
};

/* Open EXE (resolved in the container, before any seccomp filter is
 * loaded), refuse the hutch binary at any interpreter level, and build the
 * argv the kernel would.  The fd is placed at MIN_FD or above so the
 * preserved fds below stay as they are. */
int hutch_exeguard_prepare(const char *exe, char *const argv[], int min_fd,
			   struct hutch_exeguard_prog *prog, struct hutch_error **err);
/* Free what prepare kept (after a failed exec, or in tests). */
void hutch_exeguard_prog_clear(struct hutch_exeguard_prog *prog);
/* execveat the prepared program.  Returns only on failure (-1, *err set). */
int hutch_exeguard_exec(struct hutch_exeguard_prog *prog, const char *name, char *const envp[],
			struct hutch_error **err);

#endif
