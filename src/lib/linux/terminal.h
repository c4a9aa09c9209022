/* Terminals: the pty is made inside the container (its own devpts), the
 * master goes to the caller over --console-socket (SCM_RIGHTS), as runc
 * does; engines (conmon, containerd's shim) hold it. */
#ifndef HUTCH_LINUX_TERMINAL_H
#define HUTCH_LINUX_TERMINAL_H

struct hutch_error;
struct hutch_process;

/* Open a new pty from /dev/ptmx of the current root; *slave is an open fd
 * and slave_name receives "/dev/pts/N". */
int hutch_terminal_open(const struct hutch_process *p, int *master, int *slave, char *slave_name,
			unsigned long name_size, struct hutch_error **err);
/* Make SLAVE the controlling terminal and stdio of the calling process. */
int hutch_terminal_attach(int slave, struct hutch_error **err);
/* Connect to SOCKET_PATH and send FD with NAME as the payload. */
int hutch_terminal_send(const char *socket_path, int fd, const char *name,
			struct hutch_error **err);

#endif
