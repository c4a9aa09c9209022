#include "sync.h"
#include "core/cleanup.h"
#include "core/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct wire_header {
	uint32_t type;
	int32_t err;
	uint32_t len;
};

static const char *type_name(uint32_t t)
{
	static const char *names[] = {"?",	"ERROR",   "GO",    "PID",     "USERNS",
				      "MAPPED", "MOUNTED", "HOOKS", "CONSOLE", "READY"};
	return t < HUTCH_ARRAY_SIZE(names) ? names[t] : "?";
}

int hutch_sync_pair(int fds[2], struct hutch_error **err)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return hutch_error_errno(err, "socketpair");
	return 0;
}

static int send_raw(int sock, uint32_t type, int32_t e, const void *payload, size_t len, int fd)
{
	struct wire_header h = {type, e, (uint32_t)len};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)payload, len}};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len > 0 ? 2 : 1};
	ssize_t r;

	if (len > HUTCH_SYNC_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (fd >= 0) {
		struct cmsghdr *c;
		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

int hutch_sync_send(int sock, enum hutch_sync_type type, const void *payload, size_t len, int fd,
		    struct hutch_error **err)
{
	if (send_raw(sock, type, 0, payload, len, fd) < 0)
		return hutch_error_errno(err, "sync: send %s", type_name(type));
	return 0;
}

void hutch_sync_send_error(int sock, struct hutch_error *e)
{
	const char *msg = e != NULL && e->msg != NULL ? e->msg : "unknown error";
	size_t len = strlen(msg);

	if (len > HUTCH_SYNC_MAX_PAYLOAD)
		len = HUTCH_SYNC_MAX_PAYLOAD;
	send_raw(sock, HUTCH_SYNC_ERROR, e != NULL ? e->code : 0, msg, len, -1);
}

void hutch_sync_msg_clear(struct hutch_sync_msg *msg)
{
	free(msg->payload);
	msg->payload = NULL;
	if (msg->fd >= 0)
		close(msg->fd);
	msg->fd = -1;
}

int hutch_sync_recv(int sock, enum hutch_sync_type expect, struct hutch_sync_msg *msg,
		    struct hutch_error **err)
{
	struct wire_header h;
	_cleanup_free_ char *buf = malloc(HUTCH_SYNC_MAX_PAYLOAD + 1);
	struct iovec iov[2] = {{&h, sizeof(h)}, {buf, HUTCH_SYNC_MAX_PAYLOAD}};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr mh = {.msg_iov = iov,
			    .msg_iovlen = 2,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	ssize_t r;

	memset(msg, 0, sizeof(*msg));
	msg->fd = -1;
	if (buf == NULL)
		return hutch_error_set(err, ENOMEM, "sync");
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return hutch_error_errno(err, "sync: waiting for %s", type_name(expect));
	if (r == 0)
		return hutch_error_set(err, EPIPE, "sync: the other side exited before %s",
				       type_name(expect));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&msg->fd, CMSG_DATA(c), sizeof(int));
	}
	if ((size_t)r < sizeof(h) || h.len != (size_t)r - sizeof(h)) {
		hutch_sync_msg_clear(msg);
		return hutch_error_set(err, EPROTO, "sync: malformed message while waiting for %s",
				       type_name(expect));
	}
	buf[h.len] = '\0';
	if (h.type == HUTCH_SYNC_ERROR) {
		hutch_sync_msg_clear(msg);
		return hutch_error_set(err, h.err, "%s", buf);
	}
	if (h.type != (uint32_t)expect) {
		hutch_sync_msg_clear(msg);
		return hutch_error_set(err, EPROTO, "sync: got %s while waiting for %s",
				       type_name(h.type), type_name(expect));
	}
	msg->type = h.type;
	msg->err = h.err;
	msg->len = h.len;
	msg->payload = steal_ptr(buf);
	return 0;
}
