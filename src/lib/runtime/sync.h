/* The parent/child protocol: one SOCK_SEQPACKET socketpair, typed messages
 * {type, errno, len, payload}, an optional fd over SCM_RIGHTS.  A receive
 * fails on an unexpected type, and an ERROR message from the other side
 * becomes the receiver's hutch_error (errno and text intact), so the user
 * sees "mount proc on /proc: No such device", not "child exited 1".
 *
 * The create ladder (P = hutch create, I = container init; when the plan
 * needs a second fork, an intermediate child C sits between them and only
 * sends PID):
 *
 *   P                                     I (or C, then I)
 *   clone(namespaces) ------------------>
 *   [write uid/gid maps]
 *   cgroup enter (unless CLONE_INTO_CGROUP)
 *   GO ---------------------------------> join/unshare the rest, [fork I]
 *                    <------------------- PID (pid of I as seen by P)
 *                                         mounts (before pivot_root)
 *                    <------------------- MOUNTED
 *   state file; prestart, createRuntime
 *   HOOKS (state JSON) -----------------> createContainer hooks, pivot_root,
 *                                         masked/readonly, hostname, lo,
 *                                         console, check the executable
 *                    <------------------- [CONSOLE + pty master fd]
 *                                         [load a notify seccomp filter]
 *   send fd + state to listenerPath <---- [SECCOMP + notify fd]
 *                    <------------------- READY
 *   state file, pid file; exit            block on the exec fifo until start
 *
 * Any step on either side may send ERROR instead; the other side stops.
 */
#ifndef HUTCH_RUNTIME_SYNC_H
#define HUTCH_RUNTIME_SYNC_H

#include <stddef.h>
#include <stdint.h>

struct hutch_error;

enum hutch_sync_type {
	HUTCH_SYNC_ERROR = 1,
	HUTCH_SYNC_GO,
	HUTCH_SYNC_PID,
	HUTCH_SYNC_USERNS, /* child unshared a user namespace: parent writes maps */
	HUTCH_SYNC_MAPPED,
	HUTCH_SYNC_MOUNTED,
	HUTCH_SYNC_HOOKS,
	HUTCH_SYNC_CONSOLE,
	HUTCH_SYNC_READY,
	HUTCH_SYNC_SECCOMP, /* child -> parent: the seccomp notify fd (before READY) */
};

#define HUTCH_SYNC_MAX_PAYLOAD 65536

struct hutch_sync_msg {
	uint32_t type;
	int32_t err; /* errno for ERROR */
	uint32_t len;
	char *payload; /* malloc'd, NUL-terminated (len excludes the NUL) */
	int fd;	       /* -1 if none */
};

/* socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC) */
int hutch_sync_pair(int fds[2], struct hutch_error **err);
int hutch_sync_send(int sock, enum hutch_sync_type type, const void *payload, size_t len, int fd,
		    struct hutch_error **err);
/* Send an error (the text of E, and its errno). Never fails loudly. */
void hutch_sync_send_error(int sock, struct hutch_error *e);
/* Receive one message of type EXPECT (or ERROR, returned as *err). */
int hutch_sync_recv(int sock, enum hutch_sync_type expect, struct hutch_sync_msg *msg,
		    struct hutch_error **err);
void hutch_sync_msg_clear(struct hutch_sync_msg *msg);

#endif
