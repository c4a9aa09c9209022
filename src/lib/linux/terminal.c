#include "terminal.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "spec/model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int hutch_terminal_open(const struct hutch_process *p, int *master, int *slave, char *slave_name,
			unsigned long name_size, struct hutch_error **err)
{
	_cleanup_close_ int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	_cleanup_close_ int s = -1;
	int unlock = 0, n = 0;

	if (m < 0)
		return hutch_error_errno(err, "terminal: open /dev/ptmx");
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		return hutch_error_errno(err, "terminal: unlock pty");
	if (ioctl(m, TIOCGPTN, &n) < 0)
		return hutch_error_errno(err, "terminal: pty number");
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return hutch_error_errno(err, "terminal: open pty peer");
	snprintf(slave_name, name_size, "/dev/pts/%d", n);
	if (p->has_console_size) {
		struct winsize ws = {.ws_row = (unsigned short)p->console_height,
				     .ws_col = (unsigned short)p->console_width};
		if (ioctl(s, TIOCSWINSZ, &ws) < 0)
			return hutch_error_errno(err, "process.consoleSize: set window size");
	}
	*master = steal_fd(m);
	*slave = steal_fd(s);
	return 0;
}

int hutch_terminal_attach(int slave, struct hutch_error **err)
{
	if (setsid() < 0)
		return hutch_error_errno(err, "terminal: setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return hutch_error_errno(err, "terminal: make controlling tty");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return hutch_error_errno(err, "terminal: dup2 to fd %d", fd);
	return 0;
}

int hutch_terminal_send(const char *socket_path, int fd, const char *name, struct hutch_error **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {(void *)name, strlen(name)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *c;

	if (s < 0)
		return hutch_error_errno(err, "console socket");
	if (strlen(socket_path) >= sizeof(addr.sun_path))
		return hutch_error_set(err, ENAMETOOLONG, "--console-socket %s", socket_path);
	strcpy(addr.sun_path, socket_path);
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return hutch_error_errno(err, "--console-socket: connect to %s", socket_path);
	memset(&control, 0, sizeof(control));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
		return hutch_error_errno(err, "--console-socket: send the pty to %s", socket_path);
	return 0;
}
