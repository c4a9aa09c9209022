/* The foreground terminal relay (see relay.h). */
#include "relay.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "spec/model.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* ---- our own console socket ------------------------------------------------ */

int hutch_relay_console_open(struct hutch_relay_console *c, struct hutch_error **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *tmp = getenv("TMPDIR");

	c->listen_fd = -1;
	c->path[0] = '\0';
	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(c->dir, sizeof(c->dir), "%s/hutch-tty-XXXXXX", tmp);
	if (mkdtemp(c->dir) == NULL) {
		c->dir[0] = '\0';
		return hutch_error_errno(err, "terminal: make a temp dir in %s", tmp);
	}
	snprintf(c->path, sizeof(c->path), "%s/console.sock", c->dir);
	/* non-blocking: receive must fail, not hang, if nothing was sent */
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return hutch_error_errno(err, "terminal: socket");
	strcpy(addr.sun_path, c->path);
	if (bind(c->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return hutch_error_errno(err, "terminal: bind %s", c->path);
	/* The sender connects and sends before we accept: the backlog holds it. */
	if (listen(c->listen_fd, 1) < 0)
		return hutch_error_errno(err, "terminal: listen on %s", c->path);
	return 0;
}

int hutch_relay_console_receive(struct hutch_relay_console *c, int *master,
				struct hutch_error **err)
{
	_cleanup_close_ int conn = -1;
	char name[256];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {name, sizeof(name)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *cm;
	ssize_t n;

	conn = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0)
		return hutch_error_errno(err, "terminal: no pty was sent to %s", c->path);
	do
		n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return hutch_error_errno(err, "terminal: receive the pty master");
	cm = CMSG_FIRSTHDR(&mh);
	if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return hutch_error_set(err, EPROTO, "terminal: no pty master in the message");
	memcpy(master, CMSG_DATA(cm), sizeof(int));
	return 0;
}

void hutch_relay_console_close(struct hutch_relay_console *c)
{
	hutch_closep(&c->listen_fd);
	if (c->path[0] != '\0')
		unlink(c->path);
	if (c->dir[0] != '\0')
		rmdir(c->dir);
	c->path[0] = c->dir[0] = '\0';
}

/* ---- window size ------------------------------------------------------------ */

static int our_tty(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (isatty(fd))
			return fd;
	return -1;
}

void hutch_relay_inherit_size(struct hutch_process *p)
{
	struct winsize ws;
	int fd = our_tty();

	if (p->has_console_size || fd < 0 || ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
		return;
	p->has_console_size = true;
	p->console_height = ws.ws_row;
	p->console_width = ws.ws_col;
}

void hutch_relay_copy_size(int master)
{
	struct winsize ws;
	int fd = our_tty();

	if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

/* ---- raw mode ------------------------------------------------------------------ */

/* Saved once; restored by the relay on its way out and by the fatal-signal
 * handler (a crash of hutch must not leave the user's shell in raw mode). */
static struct termios saved_termios;
static volatile sig_atomic_t raw_active;

static void restore_terminal(void)
{
	if (raw_active) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
		raw_active = 0;
	}
}

static void fatal_signal(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void enter_raw_mode(void)
{
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGPIPE};
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return;
	raw = saved_termios;
	cfmakeraw(&raw);
	/* keep output post-processing: \n from the container is already \r\n */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
		return;
	raw_active = 1;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], fatal[i] == SIGPIPE ? SIG_IGN : fatal_signal);
	atexit(restore_terminal);
}

/* ---- the copy loop ------------------------------------------------------------ */

/* Write everything; a full pty (the process does not read) is given up
 * on once the process behind PIDFD (-1: none) has exited. */
static bool write_all(int fd, const char *buf, size_t n, int pidfd)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p[2] = {{fd, POLLOUT, 0}, {pidfd, POLLIN, 0}};
				if (poll(p, 2, 1000) > 0 && (p[1].revents & POLLIN))
					return false;
				continue;
			}
			return false;
		}
		buf += w;
		n -= (size_t)w;
	}
	return true;
}

/* Copy what MASTER has now to stdout; false once the pty has no slave. */
static bool drain_master(int master, bool *out_ok)
{
	char buf[16384];

	for (;;) {
		ssize_t n = read(master, buf, sizeof(buf));
		if (n > 0) {
			if (*out_ok)
				*out_ok = write_all(STDOUT_FILENO, buf, (size_t)n, -1);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

struct relay_loop {
	int master, sfd, pidfd;
	bool in_open, master_open, out_ok;
};

/* stdin -> master; at EOF of a non-terminal stdin send the pty's EOF
 * character, so `echo x | hutch run` behaves like typing x and ^D. */
static void pump_stdin(struct relay_loop *r)
{
	char buf[16384];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		if (!write_all(r->master, buf, (size_t)n, r->pidfd))
			r->in_open = false;
		return;
	}
	r->in_open = false;
	if (!isatty(STDIN_FILENO)) {
		struct termios t;
		char eof = 4;
		if (tcgetattr(r->master, &t) == 0 && t.c_cc[VEOF] != 0)
			eof = (char)t.c_cc[VEOF];
		write_all(r->master, &eof, 1, r->pidfd);
	}
}

static void handle_signal(struct relay_loop *r)
{
	struct signalfd_siginfo si;

	if (read(r->sfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGWINCH)
		hutch_relay_copy_size(r->master);
	else
		syscall(SYS_pidfd_send_signal, r->pidfd, (int)si.ssi_signo, NULL, 0);
}

static void relay_until_exit(struct relay_loop *r)
{
	for (;;) {
		struct pollfd p[4] = {{r->sfd, POLLIN, 0},
				      {r->pidfd, POLLIN, 0},
				      {r->master_open ? r->master : -1, POLLIN, 0},
				      {r->in_open ? STDIN_FILENO : -1, POLLIN, 0}};
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[0].revents & POLLIN)
			handle_signal(r);
		if (p[2].revents != 0 && !drain_master(r->master, &r->out_ok))
			r->master_open = false;
		if (p[3].revents != 0)
			pump_stdin(r);
		if (p[1].revents & POLLIN)
			return;
	}
}

int hutch_relay_wait(pid_t pid, int master, int *status, struct hutch_error **err)
{
	static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	_cleanup_close_ int m = master, sfd = -1, pidfd = -1;
	struct relay_loop r = {
	    .master = master, .in_open = true, .master_open = true, .out_ok = true};
	sigset_t set, old;
	int ws = 0, fl;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (sfd < 0 || pidfd < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return hutch_error_errno(err, "terminal: wait for process %d", (int)pid);
	}
	r.sfd = sfd;
	r.pidfd = pidfd;
	fl = fcntl(m, F_GETFL);
	fcntl(m, F_SETFL, fl | O_NONBLOCK);
	hutch_relay_copy_size(m);
	enter_raw_mode();
	relay_until_exit(&r);
	/* what the process wrote right before it exited is still in the pty */
	if (r.master_open)
		drain_master(m, &r.out_ok);
	restore_terminal();
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (waitpid(pid, &ws, 0) < 0)
		return hutch_error_errno(err, "wait for process %d", (int)pid);
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return 0;
}

/* ---- socket activation ------------------------------------------------------- */

static int push_env(char ***env, const char *kv)
{
	size_t n = 0, klen = strcspn(kv, "=") + 1;
	char **v = *env, *copy;

	while (v != NULL && v[n] != NULL)
		n++;
	copy = strdup(kv);
	if (copy == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i], kv, klen) == 0) {
			free(v[i]);
			v[i] = copy;
			return 0;
		}
	v = realloc(v, (n + 2) * sizeof(*v));
	if (v == NULL) {
		free(copy);
		return -1;
	}
	v[n] = copy;
	v[n + 1] = NULL;
	*env = v;
	return 0;
}

int hutch_relay_listen_fds(struct hutch_process *p, struct hutch_error **err)
{
	const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	char *end, buf[48];
	long n;

	if (fds == NULL || pid == NULL)
		return 0;
	/* sd_listen_fds(3): the fds are for LISTEN_PID only */
	if (strtol(pid, &end, 10) != (long)getpid() || *end != '\0')
		return 0;
	n = strtol(fds, &end, 10);
	if (*end != '\0' || n < 0 || n > 65536)
		return hutch_error_set(err, EINVAL, "LISTEN_FDS=%s: not a count of fds", fds);
	for (long fd = 3; fd < 3 + n; fd++)
		if (fcntl((int)fd, F_GETFD) < 0)
			return hutch_error_errno(err, "LISTEN_FDS=%ld: fd %ld", n, fd);
	snprintf(buf, sizeof(buf), "LISTEN_FDS=%ld", n);
	if (n > 0 && (push_env(&p->env, buf) < 0 || push_env(&p->env, "LISTEN_PID=1") < 0))
		return hutch_error_set(err, ENOMEM, "LISTEN_FDS");
	return (int)n;
}

/* ---- sd_notify ---------------------------------------------------------------- */

#define NOTIFY_DIR_IN_CONTAINER "/run/notify"
#define NOTIFY_SOCKET_NAME	"notify.sock"

static const char *host_notify_socket(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	/* abstract sockets ("@...") cannot be bind-mounted: not proxied */
	return s != NULL && s[0] == '/' && strlen(s) < sizeof(((struct sockaddr_un *)0)->sun_path)
		   ? s
		   : NULL;
}

static char *notify_dir(const char *root, const char *id)
{
	char *d = NULL;

	if (asprintf(&d, "%s/%s/notify", root, id) < 0)
		return NULL;
	return d;
}

int hutch_relay_notify_prepare(struct hutch_spec *spec, const char *root, const char *id,
			       struct hutch_error **err)
{
	_cleanup_free_ char *dir = NULL;
	struct hutch_mount *mounts, *m;
	static const char *opts[] = {"bind", "nosuid", "noexec", "nodev", "ro", NULL};

	if (host_notify_socket() == NULL || !spec->has_process)
		return 0;
	dir = notify_dir(root, id);
	if (dir == NULL)
		return hutch_error_set(err, ENOMEM, "NOTIFY_SOCKET");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return hutch_error_errno(err, "NOTIFY_SOCKET: mkdir %s", dir);
	mounts = realloc(spec->mounts, (spec->n_mounts + 1) * sizeof(*mounts));
	if (mounts == NULL)
		return hutch_error_set(err, ENOMEM, "NOTIFY_SOCKET");
	spec->mounts = mounts;
	m = &mounts[spec->n_mounts];
	memset(m, 0, sizeof(*m));
	m->destination = strdup(NOTIFY_DIR_IN_CONTAINER);
	m->type = strdup("bind");
	m->source = strdup(dir);
	m->options = calloc(sizeof(opts) / sizeof(opts[0]), sizeof(char *));
	/* under the state directory (root's, 0700): the parent prepares it */
	m->runtime_tree = true;
	spec->n_mounts++; /* from here on the spec owns (and frees) it */
	if (m->destination == NULL || m->type == NULL || m->source == NULL || m->options == NULL)
		return hutch_error_set(err, ENOMEM, "NOTIFY_SOCKET");
	for (size_t i = 0; opts[i] != NULL; i++)
		if ((m->options[i] = strdup(opts[i])) == NULL)
			return hutch_error_set(err, ENOMEM, "NOTIFY_SOCKET");
	if (push_env(&spec->process.env,
		     "NOTIFY_SOCKET=" NOTIFY_DIR_IN_CONTAINER "/" NOTIFY_SOCKET_NAME) < 0)
		return hutch_error_set(err, ENOMEM, "NOTIFY_SOCKET");
	return 0;
}

int hutch_relay_notify_listen(const char *root, const char *id, int *fd, struct hutch_error **err)
{
	_cleanup_free_ char *dir = NULL;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	_cleanup_close_ int s = -1;
	struct stat st;

	*fd = -1;
	if (host_notify_socket() == NULL)
		return 0;
	dir = notify_dir(root, id);
	if (dir == NULL)
		return hutch_error_set(err, ENOMEM, "NOTIFY_SOCKET");
	if (stat(dir, &st) < 0) /* created without NOTIFY_SOCKET: nothing to relay */
		return 0;
	if (snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", dir, NOTIFY_SOCKET_NAME) >=
	    (int)sizeof(addr.sun_path))
		return hutch_error_set(err, ENAMETOOLONG, "NOTIFY_SOCKET: %s/%s", dir,
				       NOTIFY_SOCKET_NAME);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return hutch_error_errno(err, "NOTIFY_SOCKET: socket");
	unlink(addr.sun_path);
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return hutch_error_errno(err, "NOTIFY_SOCKET: bind %s", addr.sun_path);
	/* the container's process may run as any user */
	if (chmod(addr.sun_path, 0777) < 0)
		return hutch_error_errno(err, "NOTIFY_SOCKET: chmod %s", addr.sun_path);
	*fd = steal_fd(s);
	return 0;
}

static int send_host(const char *msg, size_t len, struct hutch_error **err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	_cleanup_close_ int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	const char *host = host_notify_socket();

	if (s < 0)
		return hutch_error_errno(err, "NOTIFY_SOCKET: socket");
	strcpy(addr.sun_path, host);
	if (sendto(s, msg, len, MSG_NOSIGNAL, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return hutch_error_errno(err, "NOTIFY_SOCKET: send to %s", host);
	return 0;
}

int hutch_relay_notify_forward(int fd, pid_t pid, struct hutch_error **err)
{
	_cleanup_close_ int s = fd, pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	char buf[4096], out[4200];

	if (pidfd < 0)
		return 0; /* already gone: nothing will be ready */
	for (;;) {
		struct pollfd p[2] = {{s, POLLIN, 0}, {pidfd, POLLIN, 0}};
		size_t used = 0;
		bool ready = false;
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return hutch_error_errno(err, "NOTIFY_SOCKET: poll");
		}
		if (!(p[0].revents & POLLIN)) {
			if (p[1].revents & POLLIN)
				return 0; /* the container exited without READY=1 */
			continue;
		}
		n = recv(s, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* pass READY= and STATUS= on; a MAINPID= from inside names a
		 * pid of the container's namespace: replaced by the host pid */
		for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l != NULL;
		     l = strtok_r(NULL, "\n", &save)) {
			if (strncmp(l, "READY=", 6) != 0 && strncmp(l, "STATUS=", 7) != 0)
				continue;
			ready = ready || strcmp(l, "READY=1") == 0;
			used += (size_t)snprintf(out + used, sizeof(out) - used, "%s\n", l);
			if (used >= sizeof(out) - 64)
				break;
		}
		if (ready)
			used += (size_t)snprintf(out + used, sizeof(out) - used, "MAINPID=%d\n",
						 (int)pid);
		if (used > 0 && send_host(out, used, err) < 0)
			return -1;
		if (ready)
			return 0;
	}
}
