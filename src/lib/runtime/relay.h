/* The foreground terminal: `hutch run` and `hutch exec -t` without
 * --console-socket.  hutch becomes its own console socket (a listening
 * unix socket in a private 0700 temp dir; create/exec connect to it and
 * send the pty master as they would to an engine), then copies bytes
 * between its own stdin/stdout and the master, with its terminal in raw
 * mode (restored on every way out) and SIGWINCH passed on as TIOCSWINSZ.
 *
 * runc does the same thing with an internal socketpair; a path is used here
 * so create and exec keep a single way of handing out the master. */
#ifndef HUTCH_RUNTIME_RELAY_H
#define HUTCH_RUNTIME_RELAY_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct hutch_error;
struct hutch_process;

struct hutch_relay_console {
	int listen_fd;
	char dir[64];
	char path[128];
};

/* Make the listening socket; c->path is what to pass as --console-socket. */
int hutch_relay_console_open(struct hutch_relay_console *c, struct hutch_error **err);
/* Take the master that create/exec sent (already queued on the socket). */
int hutch_relay_console_receive(struct hutch_relay_console *c, int *master,
				struct hutch_error **err);
/* Close the socket, remove it and its directory (idempotent). */
void hutch_relay_console_close(struct hutch_relay_console *c);

/* Fill the process's consoleSize from our own terminal when it has none
 * (so an exec'd shell starts with the right size). */
void hutch_relay_inherit_size(struct hutch_process *p);
/* Give MASTER the window size of our stdin's terminal (no-op if none). */
void hutch_relay_copy_size(int master);

/* Relay stdin -> MASTER -> stdout until PID (our child or reparented to us)
 * exits, forwarding SIGINT/TERM/HUP/QUIT/USR1/USR2 and SIGWINCH; *status
 * as a shell reports it.  Our terminal is in raw mode meanwhile.  MASTER
 * is closed. */
int hutch_relay_wait(pid_t pid, int master, int *status, struct hutch_error **err);

/* Socket activation, as runc: when LISTEN_FDS is set for us (LISTEN_PID is
 * our pid), fds 3 .. 3+LISTEN_FDS-1 go to the container ahead of the
 * --preserve-fds ones, and its env gets LISTEN_FDS=N and LISTEN_PID=1.
 * Returns N (0: not activated). */
int hutch_relay_listen_fds(struct hutch_process *p, struct hutch_error **err);

/* sd_notify (NOTIFY_SOCKET in hutch's environment), as runc does it:
 * create makes <root>/<id>/notify, bind-mounts it read-only at /run/notify
 * in the container and sets NOTIFY_SOCKET=/run/notify/notify.sock for the
 * process; start (and run) bind a datagram socket there before the process
 * starts, wait for READY=1 (or the init's exit), and send READY=1 (STATUS=
 * lines too) plus MAINPID=<host pid of the init> to the host's socket.
 * Abstract host sockets ("@name") are not proxied. */
struct hutch_spec;
int hutch_relay_notify_prepare(struct hutch_spec *spec, const char *root, const char *id,
			       struct hutch_error **err);
/* *fd = -1 when there is nothing to relay. */
int hutch_relay_notify_listen(const char *root, const char *id, int *fd, struct hutch_error **err);
/* Takes FD; blocks until READY=1 or PID exits. */
int hutch_relay_notify_forward(int fd, pid_t pid, struct hutch_error **err);

#endif
