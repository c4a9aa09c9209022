/* The namespace plan is a pure function: check what gets cloned, joined,
 * unshared, and when a second fork is needed. */
#include "test.h"

#include "core/error.h"
#include "linux/ns.h"

#include <sched.h>
#include <stdlib.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static struct hutch_idmap one_map = {0, 100000, 65536};

static void add(struct hutch_linux *l, enum hutch_ns_type t, const char *path)
{
	l->namespaces[t].present = true;
	l->namespaces[t].path = (char *)path;
}

TEST(all_new_cloned_directly)
{
	struct hutch_linux l = {0};
	struct hutch_ns_plan p;
	struct hutch_error *err = NULL;

	add(&l, HUTCH_NS_PID, NULL);
	add(&l, HUTCH_NS_MOUNT, NULL);
	add(&l, HUTCH_NS_NETWORK, NULL);
	add(&l, HUTCH_NS_IPC, NULL);
	add(&l, HUTCH_NS_UTS, NULL);
	add(&l, HUTCH_NS_CGROUP, NULL);
	CHECK_INT(hutch_ns_plan(&l, &p, &err), 0);
	CHECK_INT(p.clone_flags,
		  CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS);
	CHECK_INT(p.unshare_flags, 0);
	CHECK(p.unshare_cgroup);
	CHECK(!p.second_fork);
	CHECK(!p.new_user);
	CHECK_INT(p.n_join, 0);
}

TEST(user_ns_new_is_cloned_with_maps)
{
	struct hutch_linux l = {0};
	struct hutch_ns_plan p;
	struct hutch_error *err = NULL;

	add(&l, HUTCH_NS_MOUNT, NULL);
	add(&l, HUTCH_NS_USER, NULL);
	l.uid_mappings = l.gid_mappings = &one_map;
	l.n_uid_mappings = l.n_gid_mappings = 1;
	CHECK_INT(hutch_ns_plan(&l, &p, &err), 0);
	CHECK_INT(p.clone_flags, CLONE_NEWNS | CLONE_NEWUSER);
	CHECK(p.new_user);
	CHECK(!p.unshare_user);
}

TEST(join_puts_user_first_and_unshares_the_rest)
{
	struct hutch_linux l = {0};
	struct hutch_ns_plan p;
	struct hutch_error *err = NULL;

	add(&l, HUTCH_NS_NETWORK, "/proc/1/ns/net");
	add(&l, HUTCH_NS_USER, "/proc/1/ns/user");
	add(&l, HUTCH_NS_MOUNT, NULL);
	add(&l, HUTCH_NS_PID, NULL);
	CHECK_INT(hutch_ns_plan(&l, &p, &err), 0);
	CHECK_INT(p.clone_flags, 0);
	CHECK_INT(p.n_join, 2);
	CHECK_INT(p.join[0], HUTCH_NS_USER);
	CHECK_INT(p.join[1], HUTCH_NS_NETWORK);
	CHECK_INT(p.unshare_flags, CLONE_NEWNS | CLONE_NEWPID);
	/* unshare(CLONE_NEWPID) only moves children: the init is a grandchild */
	CHECK(p.second_fork);
}

TEST(pid_join_needs_second_fork)
{
	struct hutch_linux l = {0};
	struct hutch_ns_plan p;
	struct hutch_error *err = NULL;

	add(&l, HUTCH_NS_PID, "/proc/1/ns/pid");
	add(&l, HUTCH_NS_MOUNT, NULL);
	CHECK_INT(hutch_ns_plan(&l, &p, &err), 0);
	CHECK(p.second_fork);
	CHECK_INT(p.join[0], HUTCH_NS_PID);
}

TEST(time_ns_is_unshared_with_second_fork)
{
	struct hutch_linux l = {0};
	struct hutch_ns_plan p;
	struct hutch_error *err = NULL;

	add(&l, HUTCH_NS_MOUNT, NULL);
	add(&l, HUTCH_NS_PID, NULL);
	add(&l, HUTCH_NS_TIME, NULL);
	l.time_monotonic.present = true;
	l.time_monotonic.secs = 3600;
	CHECK_INT(hutch_ns_plan(&l, &p, &err), 0);
	CHECK(p.unshare_time);
	CHECK(p.second_fork);
	CHECK_INT(p.clone_flags & CLONE_NEWTIME, 0);
	/* the intermediate child exits, so it must not be the pid ns init */
	CHECK_INT(p.clone_flags, CLONE_NEWNS);
	CHECK_INT(p.unshare_flags, CLONE_NEWPID);
	char *o = hutch_ns_format_time_offsets(&l);
	CHECK_STR(o, "monotonic 3600 0\n");
	free(o);
}

TEST(refusals)
{
	struct hutch_linux l = {0};
	struct hutch_ns_plan p;
	struct hutch_error *err = NULL;

	/* no mount namespace */
	add(&l, HUTCH_NS_PID, NULL);
	CHECK_INT(hutch_ns_plan(&l, &p, &err), -1);
	CHECK_CONTAINS(err ? err->msg : NULL, "mount namespace");
	hutch_error_freep(&err);

	/* mappings without a user namespace */
	add(&l, HUTCH_NS_MOUNT, NULL);
	l.uid_mappings = l.gid_mappings = &one_map;
	l.n_uid_mappings = l.n_gid_mappings = 1;
	CHECK_INT(hutch_ns_plan(&l, &p, &err), -1);
	CHECK_CONTAINS(err ? err->msg : NULL, "linux.uidMappings");
	hutch_error_freep(&err);

	/* a user namespace without mappings */
	l.n_uid_mappings = l.n_gid_mappings = 0;
	add(&l, HUTCH_NS_USER, NULL);
	CHECK_INT(hutch_ns_plan(&l, &p, &err), -1);
	CHECK_CONTAINS(err ? err->msg : NULL, "needs uidMappings");
	hutch_error_freep(&err);

	/* time offsets without a time namespace */
	struct hutch_linux t = {0};
	add(&t, HUTCH_NS_MOUNT, NULL);
	t.time_boottime.present = true;
	CHECK_INT(hutch_ns_plan(&t, &p, &err), -1);
	CHECK_CONTAINS(err ? err->msg : NULL, "linux.timeOffsets");
	hutch_error_freep(&err);
}

TEST(idmap_format)
{
	struct hutch_idmap m[2] = {{0, 1000, 1}, {1, 100000, 65535}};
	char *s = hutch_ns_format_idmap(m, 2);

	CHECK_STR(s, "0 1000 1\n1 100000 65535\n");
	free(s);
}

int main(void)
{
	RUN(all_new_cloned_directly);
	RUN(user_ns_new_is_cloned_with_maps);
	RUN(join_puts_user_first_and_unshares_the_rest);
	RUN(pid_join_needs_second_fork);
	RUN(time_ns_is_unshared_with_second_fork);
	RUN(refusals);
	RUN(idmap_format);
	return test_summary();
}
