/* State storage: id checks, write/read round trip, status derivation, lock,
 * list, the spec's state JSON, and signal names.  All in a temp root. */
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "hutch/hutch.h"
#include "spec/model.h"
#include "state/state.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp_root[] = "/tmp/hutch-unit-state-XXXXXX";
static char root[sizeof(tmp_root) + 16];

static const char *id_error(const char *id)
{
	static char buf[512];
	struct hutch_error *e = NULL;

	if (hutch_id_check(id, &e) == 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", hutch_error_text(e));
	hutch_error_free(e);
	return buf;
}

TEST(id_check)
{
	char longid[HUTCH_ID_MAX + 2];

	CHECK(id_error("abc") == NULL);
	CHECK(id_error("a.b-c_d+e") == NULL);
	CHECK(id_error("0") == NULL);
	CHECK(id_error("-x") == NULL);
	CHECK_CONTAINS(id_error(""), "must not be empty");
	CHECK_CONTAINS(id_error("."), "invalid container id \".\"");
	CHECK_CONTAINS(id_error(".."), "invalid container id \"..\"");
	CHECK_CONTAINS(id_error(".hidden"), "invalid container id");
	CHECK_CONTAINS(id_error("a/b"), "invalid container id \"a/b\"");
	CHECK_CONTAINS(id_error("../x"), "invalid container id");
	CHECK_CONTAINS(id_error("a b"), "invalid container id");
	CHECK_CONTAINS(id_error("a\nb"), "\"a\\x0ab\"");
	CHECK_CONTAINS(id_error("caf\xc3\xa9"), "caf\\xc3\\xa9");
	memset(longid, 'a', sizeof(longid));
	longid[HUTCH_ID_MAX] = '\0';
	CHECK(id_error(longid) == NULL);
	longid[HUTCH_ID_MAX] = 'a';
	longid[HUTCH_ID_MAX + 1] = '\0';
	CHECK_CONTAINS(id_error(longid), "longer than 1024 bytes");
	/* The message is bounded, whatever the id. */
	CHECK(strlen(id_error(longid)) < 200);
}

TEST(status_names)
{
	CHECK_STR(hutch_status_name(HUTCH_STATUS_CREATING), "creating");
	CHECK_STR(hutch_status_name(HUTCH_STATUS_CREATED), "created");
	CHECK_STR(hutch_status_name(HUTCH_STATUS_RUNNING), "running");
	CHECK_STR(hutch_status_name(HUTCH_STATUS_STOPPED), "stopped");
	CHECK_STR(hutch_status_name(HUTCH_STATUS_PAUSED), "paused");
}

static struct hutch_kv ann[] = {{(char *)"org.example/a", (char *)"1"},
				{(char *)"b", (char *)"x\"y"}};

static struct hutch_state sample(const char *id, pid_t pid)
{
	struct hutch_state st = {
	    .id = (char *)id,
	    .pid = pid,
	    .start_time = hutch_proc_start_time(pid),
	    .bundle = (char *)"/tmp/bundle",
	    .rootfs = (char *)"/tmp/bundle/rootfs",
	    .cgroup_path = (char *)"/hutch/c1",
	    .created = (char *)"2026-01-01T00:00:00.000000000Z",
	    .owner = 1234,
	    .has_netns_path = true,
	    .annotations = ann,
	    .n_annotations = 2,
	    .config_json = (char *)"{\"ociVersion\":\"1.3.0\"}",
	    .status = HUTCH_STATUS_CREATED,
	};
	return st;
}

TEST(create_dir_creates_root)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	char path[256];
	struct stat sb;

	/* root does not exist yet: created 0700. */
	CHECK_INT(hutch_state_create_dir(root, "c1", &e), 0);
	CHECK_INT(stat(root, &sb), 0);
	CHECK_INT(sb.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/c1", root);
	CHECK_INT(stat(path, &sb), 0);
	CHECK(S_ISDIR(sb.st_mode));
	CHECK_INT(hutch_state_create_dir(root, "c1", &e), -1);
	CHECK(e != NULL && e->code == EEXIST);
	CHECK_CONTAINS(hutch_error_text(e), "container c1 already exists");
	hutch_error_freep(&e);
	CHECK_INT(hutch_state_create_dir(root, "../evil", &e), -1);
	CHECK_CONTAINS(hutch_error_text(e), "invalid container id");
}

TEST(creating_without_state_file)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	_cleanup_state_ struct hutch_state *st = NULL;

	CHECK_INT(hutch_state_create_dir(root, "half", &e), 0);
	st = hutch_state_read(root, "half", &e);
	CHECK(st != NULL);
	if (st != NULL) {
		CHECK_INT(st->status, HUTCH_STATUS_CREATING);
		CHECK_INT(st->pid, 0);
		CHECK_STR(st->id, "half");
	}
}

TEST(read_missing)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	struct hutch_state *st = hutch_state_read(root, "nope", &e);

	CHECK(st == NULL);
	CHECK(e != NULL && e->code == ENOENT);
	CHECK_CONTAINS(hutch_error_text(e), "container nope does not exist");
	hutch_error_freep(&e);
	CHECK(hutch_state_read(root, "..", &e) == NULL);
	CHECK_CONTAINS(hutch_error_text(e), "invalid container id");
}

TEST(round_trip_and_status)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	struct hutch_state in = sample("c1", getpid());
	_cleanup_free_ char *fifo = hutch_state_fifo_path(root, "c1");
	char path[256];
	struct stat sb;
	struct hutch_state *st;

	CHECK(in.start_time != 0);
	CHECK_INT(hutch_state_write(root, &in, &e), 0);
	snprintf(path, sizeof(path), "%s/c1/state.json", root);
	CHECK_INT(stat(path, &sb), 0);
	CHECK_INT(sb.st_mode & 0777, 0600);

	/* Alive, fifo absent: running. */
	st = hutch_state_read(root, "c1", &e);
	CHECK(st != NULL);
	if (st != NULL) {
		CHECK_INT(st->status, HUTCH_STATUS_RUNNING);
		CHECK_INT(st->pid, getpid());
		CHECK_INT(st->start_time, in.start_time);
		CHECK_STR(st->bundle, "/tmp/bundle");
		CHECK_STR(st->rootfs, "/tmp/bundle/rootfs");
		CHECK_STR(st->cgroup_path, "/hutch/c1");
		CHECK_STR(st->created, "2026-01-01T00:00:00.000000000Z");
		CHECK_INT(st->owner, 1234);
		CHECK(st->has_netns_path);
		CHECK_STR(st->config_json, "{\"ociVersion\":\"1.3.0\"}");
		CHECK_INT(st->n_annotations, 2);
		if (st->n_annotations == 2) {
			CHECK_STR(st->annotations[0].key, "org.example/a");
			CHECK_STR(st->annotations[1].value, "x\"y");
		}
	}
	hutch_state_free(st);

	/* fifo present: created. */
	CHECK_CONTAINS(fifo, "/c1/exec.fifo");
	CHECK_INT(mkfifo(fifo, 0600), 0);
	st = hutch_state_read(root, "c1", &e);
	CHECK(st != NULL && st->status == HUTCH_STATUS_CREATED);
	hutch_state_free(st);
	unlink(fifo);

	/* Same pid, other start time (pid reused): stopped. */
	in.start_time += 1;
	CHECK_INT(hutch_state_write(root, &in, &e), 0);
	st = hutch_state_read(root, "c1", &e);
	CHECK(st != NULL && st->status == HUTCH_STATUS_STOPPED);
	hutch_state_free(st);

	/* pid 0: stopped. */
	in.pid = 0;
	CHECK_INT(hutch_state_write(root, &in, &e), 0);
	st = hutch_state_read(root, "c1", &e);
	CHECK(st != NULL && st->status == HUTCH_STATUS_STOPPED);
	hutch_state_free(st);

	/* "creating" recorded with no pid yet: creating. */
	in.status = HUTCH_STATUS_CREATING;
	CHECK_INT(hutch_state_write(root, &in, &e), 0);
	st = hutch_state_read(root, "c1", &e);
	CHECK(st != NULL && st->status == HUTCH_STATUS_CREATING);
	hutch_state_free(st);
}

TEST(dead_and_zombie_are_stopped)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	struct hutch_state in;
	struct hutch_state *st;
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(0);
	CHECK(pid > 0);
	/* A zombie keeps its /proc entry and start time. */
	for (int i = 0; i < 200; i++) {
		char path[64], buf[512];
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (f == NULL)
			break;
		buf[0] = '\0';
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
		if (strstr(buf, ") Z ") != NULL)
			break;
		usleep(5000);
	}
	in = sample("zombie", pid);
	in.status = HUTCH_STATUS_RUNNING;
	CHECK(in.start_time != 0);
	CHECK_INT(hutch_state_create_dir(root, "zombie", &e), 0);
	CHECK_INT(hutch_state_write(root, &in, &e), 0);
	st = hutch_state_read(root, "zombie", &e);
	CHECK(st != NULL && st->status == HUTCH_STATUS_STOPPED);
	hutch_state_free(st);
	waitpid(pid, &status, 0);
	CHECK_INT(hutch_proc_start_time(pid), 0);
	st = hutch_state_read(root, "zombie", &e);
	CHECK(st != NULL && st->status == HUTCH_STATUS_STOPPED);
	hutch_state_free(st);
}

TEST(corrupt_state)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	char path[256];

	CHECK_INT(hutch_state_create_dir(root, "bad", &e), 0);
	snprintf(path, sizeof(path), "%s/bad/state.json", root);
	CHECK_INT(hutch_write_file_atomic(path, "{\"pid\":", 7, 0600, false, &e), 0);
	CHECK(hutch_state_read(root, "bad", &e) == NULL);
	CHECK_CONTAINS(hutch_error_text(e), "bad/state.json: invalid JSON");
	hutch_error_freep(&e);
	CHECK_INT(hutch_write_file_atomic(path, "{\"pid\":\"1\"}", 11, 0600, false, &e), 0);
	CHECK(hutch_state_read(root, "bad", &e) == NULL);
	CHECK_CONTAINS(hutch_error_text(e), "\"pid\" is not an integer");
	hutch_error_freep(&e);
	CHECK_INT(hutch_write_file_atomic(path, "{\"id\":\"other\"}", 14, 0600, false, &e), 0);
	CHECK(hutch_state_read(root, "bad", &e) == NULL);
	CHECK_CONTAINS(hutch_error_text(e), "records id \"other\"");
}

static const char *get(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

TEST(spec_state_json)
{
	struct hutch_state st = sample("c1", 4242);
	_cleanup_free_ char *text = NULL;
	struct json_object *o, *a;

	st.status = HUTCH_STATUS_RUNNING;
	text = hutch_state_to_json(&st, false);
	CHECK(text != NULL);
	o = json_tokener_parse(text);
	CHECK(o != NULL);
	if (o != NULL) {
		CHECK_STR(get(o, "ociVersion"), "1.3.0");
		CHECK_STR(get(o, "id"), "c1");
		CHECK_STR(get(o, "status"), "running");
		CHECK_STR(get(o, "pid"), "4242");
		CHECK_STR(get(o, "bundle"), "/tmp/bundle");
		CHECK(json_object_object_get_ex(o, "annotations", &a));
		CHECK_STR(get(a, "b"), "x\"y");
		/* hutch's own fields stay out of the spec's state. */
		CHECK(get(o, "rootfs") == NULL);
		CHECK(get(o, "config") == NULL);
		CHECK(get(o, "cgroup_path") == NULL);
		CHECK_INT(json_object_object_length(o), 6);
		json_object_put(o);
	}
	CHECK(strchr(text, '\n') == NULL);
	free(text);

	st.status = HUTCH_STATUS_STOPPED;
	st.n_annotations = 0;
	text = hutch_state_to_json(&st, true);
	CHECK(text != NULL);
	CHECK(strchr(text, '\n') != NULL);
	o = json_tokener_parse(text);
	CHECK(o != NULL);
	if (o != NULL) {
		CHECK(get(o, "pid") == NULL);
		CHECK_STR(get(o, "status"), "stopped");
		CHECK(get(o, "annotations") == NULL);
		json_object_put(o);
	}
}

TEST(list_sorted)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	_cleanup_strv_ char **ids = NULL;
	char path[256];
	size_t n = 0;

	/* Noise that must not be listed. */
	snprintf(path, sizeof(path), "%s/.tmp", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/file", root);
	CHECK_INT(hutch_write_file_atomic(path, "x", 1, 0600, false, &e), 0);
	CHECK_INT(hutch_state_create_dir(root, "Zeta", &e), 0);
	CHECK_INT(hutch_state_create_dir(root, "alpha", &e), 0);
	ids = hutch_state_list(root, &e);
	CHECK(ids != NULL);
	if (ids == NULL)
		return;
	for (n = 0; ids[n] != NULL; n++)
		;
	CHECK_INT(n, 6);
	if (n == 6) {
		CHECK_STR(ids[0], "Zeta");
		CHECK_STR(ids[1], "alpha");
		CHECK_STR(ids[2], "bad");
		CHECK_STR(ids[3], "c1");
		CHECK_STR(ids[4], "half");
		CHECK_STR(ids[5], "zombie");
	}
	hutch_strv_freep(&ids);
	/* A root that does not exist lists nothing. */
	snprintf(path, sizeof(path), "%s/none", root);
	ids = hutch_state_list(path, &e);
	CHECK(ids != NULL && ids[0] == NULL);
}

TEST(lock_and_remove)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	int fd, other, pipefd[2];
	pid_t pid;
	char c = 0;
	int status = 0;

	fd = hutch_state_lock(root, "alpha", &e);
	CHECK(fd >= 0);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* Held: another open file description cannot take it. */
	{
		char path[256];
		snprintf(path, sizeof(path), "%s/alpha/lock", root);
		other = open(path, O_RDWR | O_CLOEXEC);
		CHECK(other >= 0);
		CHECK_INT(flock(other, LOCK_EX | LOCK_NB), -1);
		close(other);
	}
	/* A waiter blocked on the lock sees the container deleted under it. */
	CHECK_INT(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		struct hutch_error *ce = NULL;
		/* flock belongs to the open file description: drop our copy. */
		close(fd);
		close(pipefd[0]);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(3);
		int r = hutch_state_lock(root, "alpha", &ce);
		_exit(r < 0 && ce->code == ENOENT &&
			      strstr(hutch_error_text(ce), "alpha does not exist") != NULL
			  ? 0
			  : 1);
	}
	close(pipefd[1]);
	CHECK_INT(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	usleep(100000);
	CHECK_INT(hutch_state_remove(root, "alpha", &e), 0);
	close(fd);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(hutch_state_read(root, "alpha", &e) == NULL);
	hutch_error_freep(&e);
	CHECK_INT(hutch_state_lock(root, "alpha", &e), -1);
	CHECK(e != NULL && e->code == ENOENT);
	hutch_error_freep(&e);
	/* Removing what is gone is not an error. */
	CHECK_INT(hutch_state_remove(root, "alpha", &e), 0);
}

static const char *sig_error(const char *s, int *sig)
{
	static char buf[256];
	struct hutch_error *e = NULL;

	if (hutch_signal_parse(s, sig, &e) == 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", hutch_error_text(e));
	hutch_error_free(e);
	return buf;
}

TEST(signals)
{
	int sig = -1;

	CHECK(sig_error("KILL", &sig) == NULL && sig == SIGKILL);
	CHECK(sig_error("SIGKILL", &sig) == NULL && sig == SIGKILL);
	CHECK(sig_error("kill", &sig) == NULL && sig == SIGKILL);
	CHECK(sig_error("sigterm", &sig) == NULL && sig == SIGTERM);
	CHECK(sig_error("9", &sig) == NULL && sig == 9);
	CHECK(sig_error("HUP", &sig) == NULL && sig == SIGHUP);
	CHECK(sig_error("SIGWINCH", &sig) == NULL && sig == SIGWINCH);
	CHECK(sig_error("RTMIN", &sig) == NULL && sig == SIGRTMIN);
	CHECK(sig_error("SIGRTMIN+2", &sig) == NULL && sig == SIGRTMIN + 2);
	CHECK(sig_error("RTMAX-1", &sig) == NULL && sig == SIGRTMAX - 1);
	CHECK(sig_error("RTMAX", &sig) == NULL && sig == SIGRTMAX);
	{
		char buf[16];
		snprintf(buf, sizeof(buf), "%d", SIGRTMAX);
		CHECK(sig_error(buf, &sig) == NULL && sig == SIGRTMAX);
		snprintf(buf, sizeof(buf), "%d", SIGRTMAX + 1);
		CHECK_CONTAINS(sig_error(buf, &sig), "invalid signal");
	}
	CHECK_CONTAINS(sig_error("0", &sig), "invalid signal \"0\"");
	CHECK_CONTAINS(sig_error("-9", &sig), "invalid signal \"-9\"");
	CHECK_CONTAINS(sig_error("+9", &sig), "invalid signal");
	CHECK_CONTAINS(sig_error(" 9", &sig), "invalid signal");
	CHECK_CONTAINS(sig_error("SIG", &sig), "invalid signal \"SIG\"");
	CHECK_CONTAINS(sig_error("FOO", &sig), "invalid signal \"FOO\"");
	CHECK_CONTAINS(sig_error("", &sig), "invalid signal");
	CHECK_CONTAINS(sig_error("RTMIN-1", &sig), "invalid signal");
	CHECK_CONTAINS(sig_error("RTMIN+99", &sig), "invalid signal");
	CHECK_CONTAINS(sig_error("99999999999", &sig), "invalid signal");
}

int main(void)
{
	_cleanup_error_ struct hutch_error *e = NULL;

	if (mkdtemp(tmp_root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(root, sizeof(root), "%s/root", tmp_root);
	RUN(id_check);
	RUN(status_names);
	RUN(create_dir_creates_root);
	RUN(creating_without_state_file);
	RUN(read_missing);
	RUN(round_trip_and_status);
	RUN(dead_and_zombie_are_stopped);
	RUN(corrupt_state);
	RUN(spec_state_json);
	RUN(list_sorted);
	RUN(lock_and_remove);
	RUN(signals);
	hutch_rm_rf(tmp_root, &e);
	return test_summary();
}
