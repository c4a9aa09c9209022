/* The foreground-terminal console socket, socket activation and the
 * sd_notify preparation (runtime/relay.h); no root, temp dirs only. */
#include "test.h"

#include "core/cleanup.h"
#include "core/error.h"
#include "linux/terminal.h"
#include "runtime/relay.h"
#include "spec/model.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* create/exec send to the path before we accept: the backlog must hold it,
 * and what arrives is the very fd that was sent. */
TEST(console_socket_roundtrip)
{
	struct hutch_relay_console c = {.listen_fd = -1};
	struct hutch_error *err = NULL;
	int p[2], master = -1;
	char buf[8] = {0};
	struct stat st;

	setenv("TMPDIR", "/tmp", 1);
	CHECK_INT(hutch_relay_console_open(&c, &err), 0);
	CHECK(strncmp(c.path, "/tmp/hutch-tty-", 15) == 0);
	CHECK(stat(c.dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK_INT(pipe2(p, O_CLOEXEC), 0);
	CHECK_INT(hutch_terminal_send(c.path, p[1], "/dev/pts/9", &err), 0);
	CHECK_INT(hutch_relay_console_receive(&c, &master, &err), 0);
	CHECK(master >= 0 && master != p[1]);
	CHECK_INT(write(master, "ok", 2), 2);
	CHECK_INT(read(p[0], buf, sizeof(buf)), 2);
	CHECK_STR(buf, "ok");
	CHECK(fcntl(master, F_GETFD) & FD_CLOEXEC);
	hutch_relay_console_close(&c);
	CHECK(stat(c.dir[0] ? c.dir : "/nonexistent-hutch", &st) < 0);
	close(p[0]);
	close(p[1]);
	close(master);
	hutch_error_free(err);
}

TEST(console_receive_without_sender_fails)
{
	struct hutch_relay_console c = {.listen_fd = -1};
	struct hutch_error *err = NULL;
	int master = -1;
	char dir[64];

	CHECK_INT(hutch_relay_console_open(&c, &err), 0);
	snprintf(dir, sizeof(dir), "%s", c.dir);
	CHECK_INT(hutch_relay_console_receive(&c, &master, &err), -1);
	CHECK(err != NULL && strstr(err->msg, "no pty was sent") != NULL);
	hutch_relay_console_close(&c);
	CHECK(access(dir, F_OK) < 0);
	hutch_error_free(err);
}

static char *find_env(char **env, const char *key)
{
	size_t k = strlen(key);

	for (; env != NULL && *env != NULL; env++)
		if (strncmp(*env, key, k) == 0 && (*env)[k] == '=')
			return *env + k + 1;
	return NULL;
}

TEST(listen_fds_for_us)
{
	struct hutch_process p = {0};
	struct hutch_error *err = NULL;
	char pid[32];

	p.env = calloc(3, sizeof(char *));
	p.env[0] = strdup("PATH=/bin");
	p.env[1] = strdup("LISTEN_PID=77");
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	/* fd 3 must exist */
	int fd = open("/dev/null", O_RDONLY);
	if (fd != 3) {
		dup2(fd, 3);
		close(fd);
	}
	CHECK_INT(hutch_relay_listen_fds(&p, &err), 1);
	CHECK_STR(find_env(p.env, "LISTEN_FDS"), "1");
	CHECK_STR(find_env(p.env, "LISTEN_PID"), "1"); /* replaced, not duplicated */
	CHECK_STR(find_env(p.env, "PATH"), "/bin");
	CHECK(p.env[3] == NULL);
	/* meant for another process: ignored */
	setenv("LISTEN_PID", "1", 1);
	CHECK_INT(hutch_relay_listen_fds(&p, &err), 0);
	/* garbage count */
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "x", 1);
	CHECK_INT(hutch_relay_listen_fds(&p, &err), -1);
	CHECK(err != NULL && strstr(err->msg, "LISTEN_FDS=x") != NULL);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	hutch_strv_free(p.env);
	hutch_error_free(err);
}

TEST(notify_prepare_adds_mount_and_env)
{
	struct hutch_spec *s = calloc(1, sizeof(*s));
	struct hutch_error *err = NULL;
	char root[] = "/tmp/hutch-unit-relay-XXXXXX", path[128];
	struct stat st;

	CHECK(mkdtemp(root) != NULL);
	snprintf(path, sizeof(path), "%s/c1", root);
	CHECK_INT(mkdir(path, 0700), 0);
	s->has_process = true;
	unsetenv("NOTIFY_SOCKET");
	CHECK_INT(hutch_relay_notify_prepare(s, root, "c1", &err), 0);
	CHECK_INT(s->n_mounts, 0); /* nothing without NOTIFY_SOCKET */
	setenv("NOTIFY_SOCKET", "@abstract", 1);
	CHECK_INT(hutch_relay_notify_prepare(s, root, "c1", &err), 0);
	CHECK_INT(s->n_mounts, 0); /* abstract sockets are not proxied */
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	CHECK_INT(hutch_relay_notify_prepare(s, root, "c1", &err), 0);
	CHECK_INT(s->n_mounts, 1);
	if (s->n_mounts == 1) {
		CHECK_STR(s->mounts[0].destination, "/run/notify");
		snprintf(path, sizeof(path), "%s/c1/notify", root);
		CHECK_STR(s->mounts[0].source, path);
		CHECK_STR(s->mounts[0].options[0], "bind");
		CHECK_STR(s->mounts[0].options[4], "ro");
		CHECK(s->mounts[0].options[5] == NULL);
	}
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK_STR(find_env(s->process.env, "NOTIFY_SOCKET"), "/run/notify/notify.sock");
	unsetenv("NOTIFY_SOCKET");
	rmdir(path);
	snprintf(path, sizeof(path), "%s/c1", root);
	rmdir(path);
	rmdir(root);
	hutch_spec_free(s);
	hutch_error_free(err);
}

int main(void)
{
	RUN(console_socket_roundtrip);
	RUN(console_receive_without_sender_fails);
	RUN(listen_fds_for_us);
	RUN(notify_prepare_adds_mount_and_env);
	return test_summary();
}
