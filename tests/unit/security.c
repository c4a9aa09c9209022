/* Unit tests for the security helpers: cpu lists, personality values, the
 * seccomp listener state, host checks against fake sysfs files, hostile
 * container ids and seccomp profiles that must be refused in the parent. */
#include "test.h"

#include "core/error.h"
#include "linux/process.h"
#include "linux/seccomp.h"
#include "linux/security.h"
#include "spec/model.h"
#include "state/state.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(cpu_list)
{
	unsigned long m[4];
	struct hutch_error *e = NULL;

	CHECK_INT(hutch_process_parse_cpu_list("0-2,5", m, 256, &e), 0);
	CHECK_INT(m[0], 0x27);
	CHECK_INT(hutch_process_parse_cpu_list("64", m, 256, &e), 0);
	CHECK_INT(m[0], 0);
	CHECK_INT(m[1], 1);
	const char *bad[] = {"",   "-1", "3-1", "1,", "a", "1-", "0-256", "99999999999999999999",
			     "1 2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(hutch_process_parse_cpu_list(bad[i], m, 256, &e), -1);
		CHECK(e != NULL);
		hutch_error_freep(&e);
	}
}

TEST(personality)
{
	struct hutch_error *e = NULL;
	char *flags[] = {"ADDR_NO_RANDOMIZE", "READ_IMPLIES_EXEC", NULL};
	char *bad[] = {"ADDR_NO_RANDOMIZE", "EVIL", NULL};

	CHECK_INT(hutch_process_personality_value("LINUX", NULL, &e), 0);
	CHECK_INT(hutch_process_personality_value("LINUX32", NULL, &e), 8);
	CHECK_INT(hutch_process_personality_value("LINUX", flags, &e), 0x0440000);
	CHECK_INT(hutch_process_personality_value("LINUX", bad, &e), -1);
	CHECK_CONTAINS(hutch_error_text(e), "flags[1]");
	CHECK_CONTAINS(hutch_error_text(e), "EVIL");
	hutch_error_freep(&e);
	CHECK_INT(hutch_process_personality_value("WIN32", NULL, &e), -1);
	hutch_error_freep(&e);
}

TEST(listener_state)
{
	struct hutch_seccomp s = {.listener_path = "/x.sock", .listener_metadata = "a=b"};
	struct hutch_error *e = NULL;
	char *out =
	    hutch_seccomp_listener_state(&s, 42, "{\"id\":\"c1\",\"status\":\"creating\"}", &e);
	struct json_object *o, *v;

	CHECK(out != NULL);
	o = json_tokener_parse(out);
	CHECK(o != NULL);
	CHECK(json_object_object_get_ex(o, "pid", &v) && json_object_get_int(v) == 42);
	CHECK(json_object_object_get_ex(o, "metadata", &v) &&
	      strcmp(json_object_get_string(v), "a=b") == 0);
	CHECK(json_object_object_get_ex(o, "fds", &v) && json_object_array_length(v) == 1 &&
	      strcmp(json_object_get_string(json_object_array_get_idx(v, 0)), "seccompFd") == 0);
	CHECK(json_object_object_get_ex(o, "state", &v) && json_object_object_get_ex(v, "id", &v) &&
	      strcmp(json_object_get_string(v), "c1") == 0);
	json_object_put(o);
	free(out);
}

static struct hutch_spec *parse(const char *json)
{
	struct hutch_error *e = NULL;
	struct hutch_spec *s = hutch_spec_parse(json, strlen(json), &e);

	if (s == NULL)
		fprintf(stderr, "parse: %s\n", hutch_error_text(e));
	hutch_error_freep(&e);
	return s;
}

#define BASE "{\"ociVersion\":\"1.3.0\",\"root\":{\"path\":\"r\"},"

TEST(host_checks)
{
	char dir[] = "/tmp/hutch-unit-sec-XXXXXX";
	char aa[128], se[128], rdt[128];
	struct hutch_security_host h = {aa, se, rdt};
	struct hutch_error *e = NULL;
	struct hutch_spec *s;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(aa, sizeof(aa), "%s/aa", dir);
	snprintf(se, sizeof(se), "%s/enforce", dir);
	snprintf(rdt, sizeof(rdt), "%s/resctrl", dir);

	s = parse(BASE "\"process\":{\"cwd\":\"/\",\"args\":[\"x\"],\"apparmorProfile\":\"p\"},"
		       "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}]}}");
	CHECK(s != NULL);
	CHECK_INT(hutch_security_check(s, &h, &e), -1);
	CHECK_CONTAINS(hutch_error_text(e), "AppArmor is not enabled");
	hutch_error_freep(&e);
	f = fopen(aa, "w");
	fputs("Y\n", f);
	fclose(f);
	CHECK_INT(hutch_security_check(s, &h, &e), 0);
	f = fopen(aa, "w");
	fputs("N\n", f);
	fclose(f);
	CHECK_INT(hutch_security_check(s, &h, &e), -1);
	hutch_error_freep(&e);
	hutch_spec_free(s);

	s = parse(
	    BASE
	    "\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"intelRdt\":{\"closID\":\"c\"}}}");
	CHECK(s != NULL);
	CHECK_INT(hutch_security_check(s, &h, &e), -1);
	CHECK_CONTAINS(hutch_error_text(e), "resctrl is not mounted");
	hutch_error_freep(&e);
	mkdir(rdt, 0700);
	CHECK_INT(hutch_security_check(s, &h, &e), -1);
	CHECK_CONTAINS(hutch_error_text(e), "not supported");
	hutch_error_freep(&e);
	hutch_spec_free(s);

	/* an SELinux label on a host without SELinux: only a warning */
	s = parse(BASE "\"process\":{\"cwd\":\"/\",\"args\":[\"x\"],\"selinuxLabel\":\"l\"},"
		       "\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}}");
	CHECK(s != NULL);
	CHECK(!hutch_security_selinux_enabled(&h));
	CHECK_INT(hutch_security_check(s, &h, &e), 0);
	hutch_spec_free(s);

	unlink(aa);
	rmdir(rdt);
	rmdir(dir);
}

static int compile(const char *json, struct hutch_error **e)
{
	struct hutch_spec *s = parse(json);
	struct hutch_seccomp_filter f;
	int r;

	if (s == NULL)
		return -2;
	r = hutch_seccomp_compile(&s->linux_.seccomp, &f, e);
	if (r == 0)
		hutch_seccomp_filter_clear(&f);
	hutch_spec_free(s);
	return r;
}

TEST(seccomp_refusals)
{
	struct hutch_error *e = NULL;

	CHECK_INT(
	    compile(BASE "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
			 "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}}}",
		    &e),
	    -1);
	CHECK_CONTAINS(hutch_error_text(e), "listenerPath");
	hutch_error_freep(&e);
	CHECK_INT(compile(BASE "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
			       "\"listenerPath\":\"/x\",\"syscalls\":[{\"names\":[\"sendmsg\"],"
			       "\"action\":\"SCMP_ACT_NOTIFY\"}]}}}",
			  &e),
		  -1);
	CHECK_CONTAINS(hutch_error_text(e), "sendmsg");
	hutch_error_freep(&e);
	CHECK_INT(compile(BASE
			  "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
			  "\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
			  "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}}}",
			  &e),
		  -1);
	CHECK_CONTAINS(hutch_error_text(e), "WAIT_KILLABLE_RECV");
	hutch_error_freep(&e);
	CHECK_INT(
	    compile(
		BASE
		"\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		"\"listenerPath\":\"/x\",\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
		"\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}}}",
		&e),
	    0);
	hutch_error_freep(&e);
}

TEST(hostile_ids)
{
	const char *bad[] = {"",    "/",    "a/b", "..",      ".",    "../x",
			     "a\n", "\x01", "a b", ".hidden", "a\\b", "\xc3\xa9"};
	struct hutch_error *e = NULL;
	char *huge = malloc(HUTCH_ID_MAX + 2);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(hutch_id_check(bad[i], &e), -1);
		CHECK_CONTAINS(hutch_error_text(e), "invalid container id");
		hutch_error_freep(&e);
	}
	/* a NUL cuts the id short in C: "a\0/../x" is the valid id "a" and
	 * nothing after the NUL can reach a path */
	CHECK_INT(hutch_id_check("a\0/../x", &e), 0);
	memset(huge, 'a', HUTCH_ID_MAX + 1);
	huge[HUTCH_ID_MAX + 1] = '\0';
	CHECK_INT(hutch_id_check(huge, &e), -1);
	CHECK_CONTAINS(hutch_error_text(e), "longer than");
	hutch_error_freep(&e);
	free(huge);
	CHECK_INT(hutch_id_check("ok-id_1.2+3", &e), 0);
}

int main(void)
{
	RUN(cpu_list);
	RUN(personality);
	RUN(listener_state);
	RUN(host_checks);
	RUN(seccomp_refusals);
	RUN(hostile_ids);
	return test_summary();
}
