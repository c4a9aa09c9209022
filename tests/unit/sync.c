/* The parent/child protocol over an in-process socketpair. */
#include "test.h"

#include "core/cleanup.h"
#include "core/error.h"
#include "runtime/sync.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

TEST(message_roundtrip_with_fd)
{
	int sv[2], pfd[2];
	struct hutch_error *err = NULL;
	struct hutch_sync_msg m;

	CHECK_INT(hutch_sync_pair(sv, &err), 0);
	CHECK_INT(pipe2(pfd, O_CLOEXEC), 0);
	CHECK_INT(hutch_sync_send(sv[0], HUTCH_SYNC_CONSOLE, "/dev/pts/3", 10, pfd[1], &err), 0);
	CHECK_INT(hutch_sync_recv(sv[1], HUTCH_SYNC_CONSOLE, &m, &err), 0);
	CHECK_STR(m.payload, "/dev/pts/3");
	CHECK(m.fd >= 0);
	/* the fd we got is the pipe's write end */
	CHECK_INT(write(m.fd, "x", 1), 1);
	char c = 0;
	CHECK_INT(read(pfd[0], &c, 1), 1);
	CHECK_INT(c, 'x');
	CHECK(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
	hutch_sync_msg_clear(&m);
	close(pfd[0]);
	close(pfd[1]);
	close(sv[0]);
	close(sv[1]);
}

TEST(error_crosses_with_errno)
{
	int sv[2];
	struct hutch_error *err = NULL, *child = NULL;
	struct hutch_sync_msg m;

	CHECK_INT(hutch_sync_pair(sv, &err), 0);
	hutch_error_set(&child, ENODEV, "mount proc on /proc");
	hutch_sync_send_error(sv[0], child);
	CHECK_INT(hutch_sync_recv(sv[1], HUTCH_SYNC_READY, &m, &err), -1);
	CHECK(err != NULL);
	CHECK_INT(err ? err->code : 0, ENODEV);
	CHECK_STR(hutch_error_text(err), "mount proc on /proc: No such device");
	hutch_error_freep(&err);
	hutch_error_freep(&child);
	close(sv[0]);
	close(sv[1]);
}

TEST(unexpected_type_and_eof)
{
	int sv[2];
	struct hutch_error *err = NULL;
	struct hutch_sync_msg m;

	CHECK_INT(hutch_sync_pair(sv, &err), 0);
	CHECK_INT(hutch_sync_send(sv[0], HUTCH_SYNC_PID, "42", 2, -1, &err), 0);
	CHECK_INT(hutch_sync_recv(sv[1], HUTCH_SYNC_READY, &m, &err), -1);
	CHECK_CONTAINS(err ? err->msg : NULL, "got PID while waiting for READY");
	hutch_error_freep(&err);
	close(sv[0]);
	CHECK_INT(hutch_sync_recv(sv[1], HUTCH_SYNC_READY, &m, &err), -1);
	CHECK_CONTAINS(err ? err->msg : NULL, "exited before READY");
	hutch_error_freep(&err);
	close(sv[1]);
}

int main(void)
{
	RUN(message_roundtrip_with_fd);
	RUN(error_crosses_with_errno);
	RUN(unexpected_type_and_eof);
	return test_summary();
}
