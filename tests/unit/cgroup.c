/* cgroup unit tests: fake hierarchies in a temp dir (plain directories with
 * empty files named like the kernel's), fake mountinfo and /proc/self/cgroup
 * texts.  No root, nothing on the host is touched. */
#include "test.h"

#include "cgroup/cgroup-internal.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "spec/model.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/bpf.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[256]; /* the temp dir */
static char mp[300];  /* the fake /sys/fs/cgroup */
static char mountinfo[8192];
static char writes[16384]; /* "rel/path=value\n" for every write, in order */

static const char self_cgroup[] = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n"
				  "5:devices:/\n4:memory:/process_api/abc\n3:cpuset:/\n"
				  "2:cpuacct:/\n1:cpu:/\n0::/\n";

static void record(const char *path, const char *value, void *data)
{
	size_t l = strlen(writes), tl = strlen(mp);

	(void)data;
	if (strncmp(path, mp, tl) == 0)
		path += tl + 1;
	snprintf(writes + l, sizeof(writes) - l, "%s=%s\n", path, value);
}

static void sh(const char *fmt, const char *arg)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), fmt, arg);
	if (system(cmd) != 0)
		fprintf(stderr, "command failed: %s\n", cmd);
}

/* mkdir -p MP/REL */
static void mk(const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", mp, rel);
	sh("mkdir -p '%s'", p);
}

/* Create MP/REL with CONTENT (directories made as needed). */
static void put(const char *rel, const char *content)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", mp, rel);
	*strrchr(p, '/') = '\0';
	sh("mkdir -p '%s'", p);
	snprintf(p, sizeof(p), "%s/%s", mp, rel);
	f = fopen(p, "w");
	if (f != NULL) {
		fputs(content, f);
		fclose(f);
	}
}

static char readbuf[4096];
static const char *get(const char *rel)
{
	char p[1024];
	int fd;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/%s", mp, rel);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "(missing)";
	n = read(fd, readbuf, sizeof(readbuf) - 1);
	close(fd);
	readbuf[n < 0 ? 0 : n] = '\0';
	return readbuf;
}

static bool exists(const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", mp, rel);
	return access(p, F_OK) == 0;
}

/* A fresh fake host; v1 hierarchies as on the development machine. */
static void reset(void)
{
	static int n;
	static const char *const v1[][2] = {
	    {"cpu", "cpu"},	  {"cpuacct", "cpuacct"}, {"cpuset", "cpuset"},
	    {"memory", "memory"}, {"devices", "devices"}, {"freezer", "freezer"},
	    {"blkio", "blkio"},	  {"pids", "pids"},	  {"systemd", "name=systemd"},
	};
	size_t l = 0;

	snprintf(mp, sizeof(mp), "%s/cg%d", tmp, n++);
	mk("");
	l += (size_t)snprintf(mountinfo + l, sizeof(mountinfo) - l,
			      "31 23 0:28 / %s rw,relatime - tmpfs tmpfs rw,mode=755\n", mp);
	for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++) {
		mk(v1[i][0]);
		l += (size_t)snprintf(mountinfo + l, sizeof(mountinfo) - l,
				      "%zu 31 0:%zu / %s/%s rw,relatime - cgroup cgroup rw,%s\n",
				      32 + i, 29 + i, mp, v1[i][0], v1[i][1]);
	}
	/* the same memory hierarchy bound elsewhere below: must be ignored */
	l += (size_t)snprintf(mountinfo + l, sizeof(mountinfo) - l,
			      "50 31 0:32 / %s/memory2 rw - cgroup cgroup rw,memory\n", mp);
	l += (size_t)snprintf(mountinfo + l, sizeof(mountinfo) - l,
			      "41 31 0:38 / %s/unified rw,relatime - cgroup2 cgroup2 rw\n", mp);
	/* a cgroup mount outside the mountpoint: ignored */
	snprintf(mountinfo + l, sizeof(mountinfo) - l,
		 "42 31 0:39 / /elsewhere/net_cls rw - cgroup cgroup rw,net_cls\n");
	put("unified/cgroup.controllers", "hugetlb\n");
	writes[0] = '\0';
}

static struct hutch_cgroup *open_cg(enum hutch_cgroup_mode mode, const char *path, const char *id,
				    struct hutch_error **err)
{
	struct hutch_cgroup_layout l = {mode, mountinfo, self_cgroup};

	return hutch_cgroup_new_layout(mp, &l, path, id, false, err);
}

static const char *dir_of(struct hutch_cgroup *cg, const char *ctrl)
{
	struct hutch_cg_hier *h = hutch_cg_find(cg, ctrl);
	static char rel[1024];

	if (h == NULL)
		return "(none)";
	snprintf(rel, sizeof(rel), "%s", h->dir + strlen(mp));
	return rel;
}

/* ---- paths ------------------------------------------------------------------ */

TEST(check_path)
{
	static const char *const bad[] = {"",	 "/",	 "..", "/a/../b", "a/..",
					  "./a", "a//b", "a/", "/a/",	  "a/./b"};
	struct hutch_error *e = NULL;

	CHECK_INT(hutch_cgroup_check_path("/a/b", &e), 0);
	CHECK_INT(hutch_cgroup_check_path("a/b.c", &e), 0);
	CHECK_INT(hutch_cgroup_check_path("a..b/c", &e), 0);
	CHECK(e == NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(hutch_cgroup_check_path(bad[i], &e), -1);
		CHECK(e != NULL);
		hutch_error_free(e);
		e = NULL;
	}
}

TEST(resolve_default)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;

	reset();
	cg = open_cg(HUTCH_CGROUP_HYBRID, NULL, "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	CHECK_STR(hutch_cgroup_path(cg), "/hutch/c1");
	/* never below the caller's own memory cgroup (/process_api/abc) */
	CHECK_STR(dir_of(cg, "memory"), "/memory/hutch/c1");
	CHECK_STR(dir_of(cg, "cpu"), "/cpu/hutch/c1");
	CHECK_STR(dir_of(cg, "cpuacct"), "/cpuacct/hutch/c1");
	CHECK_STR(dir_of(cg, "name=systemd"), "/systemd/hutch/c1");
	/* hugetlb is on the cgroup2 tree of this hybrid host */
	CHECK_STR(dir_of(cg, "hugetlb"), "/unified/hutch/c1");
	CHECK_STR(dir_of(cg, "net_cls"), "(none)");
	CHECK_INT(cg->n, 10); /* 9 v1 + unified; the duplicate and outside mounts skipped */
	CHECK(cg->unified >= 0);
	hutch_cgroup_free(cg);

	CHECK(open_cg(HUTCH_CGROUP_HYBRID, NULL, "../x", &e) == NULL);
	CHECK(e != NULL);
	hutch_error_free(e);
}

TEST(resolve_absolute_relative)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;

	reset();
	cg = open_cg(HUTCH_CGROUP_LEGACY, "/my/cg", "c1", &e);
	CHECK(cg != NULL);
	if (cg != NULL) {
		CHECK_STR(hutch_cgroup_path(cg), "/my/cg");
		CHECK_STR(dir_of(cg, "memory"), "/memory/my/cg");
		CHECK_STR(dir_of(cg, "pids"), "/pids/my/cg");
		CHECK(cg->unified < 0); /* legacy: the cgroup2 mount is not used */
		CHECK_STR(dir_of(cg, "hugetlb"), "(none)");
		hutch_cgroup_free(cg);
	}
	/* relative: below the caller's own cgroup in each hierarchy, as runc */
	cg = open_cg(HUTCH_CGROUP_HYBRID, "foo/bar", "c1", &e);
	CHECK(cg != NULL);
	if (cg != NULL) {
		CHECK_STR(hutch_cgroup_path(cg), "foo/bar");
		CHECK_STR(dir_of(cg, "memory"), "/memory/process_api/abc/foo/bar");
		CHECK_STR(dir_of(cg, "cpu"), "/cpu/foo/bar");
		CHECK_STR(dir_of(cg, "hugetlb"), "/unified/foo/bar");
		hutch_cgroup_free(cg);
	}
	CHECK(open_cg(HUTCH_CGROUP_HYBRID, "foo/../../bar", "c1", &e) == NULL);
	CHECK_CONTAINS(e ? e->msg : NULL, "\"..\"");
	hutch_error_free(e);
	e = NULL;
	CHECK(open_cg(HUTCH_CGROUP_HYBRID, "/a//b", "c1", &e) == NULL);
	CHECK_CONTAINS(e ? e->msg : NULL, "not a clean path");
	hutch_error_free(e);
}

TEST(resolve_mount_root)
{
	/* a v1 mount of a sub-tree (cgroup namespace): its root is stripped */
	struct hutch_cgroup_layout l = {HUTCH_CGROUP_LEGACY, NULL,
					"4:memory:/process_api/abc/inner\n"};
	char mi[1024];
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;

	reset();
	snprintf(mi, sizeof(mi),
		 "35 31 0:32 /process_api/abc %s/memory rw - cgroup cgroup rw,memory\n", mp);
	l.mountinfo = mi;
	cg = hutch_cgroup_new_layout(mp, &l, "x", NULL, false, &e);
	CHECK(cg != NULL);
	if (cg != NULL) {
		CHECK_STR(dir_of(cg, "memory"), "/memory/inner/x");
		hutch_cgroup_free(cg);
	}
	hutch_error_free(e);
}

/* ---- conversions -------------------------------------------------------------- */

TEST(conversions)
{
	char buf[32];
	bool skip;
	struct hutch_error *e = NULL;

	CHECK_INT(hutch_cgroup_shares_to_weight(2), 1);
	CHECK_INT(hutch_cgroup_shares_to_weight(1024), 39);
	CHECK_INT(hutch_cgroup_shares_to_weight(262144), 10000);
	CHECK_INT(hutch_cgroup_blkio_to_io_weight(10), 1);
	CHECK_INT(hutch_cgroup_blkio_to_io_weight(1000), 10000);
	CHECK_INT(hutch_cgroup_swap_v2(268435456, 134217728, buf, sizeof(buf), &skip, &e), 0);
	CHECK_STR(buf, "134217728");
	CHECK(!skip);
	CHECK_INT(hutch_cgroup_swap_v2(-1, 134217728, buf, sizeof(buf), &skip, &e), 0);
	CHECK_STR(buf, "max");
	CHECK_INT(hutch_cgroup_swap_v2(0, -1, buf, sizeof(buf), &skip, &e), 0);
	CHECK_STR(buf, "max");
	CHECK_INT(hutch_cgroup_swap_v2(0, 100, buf, sizeof(buf), &skip, &e), 0);
	CHECK(skip);
	CHECK(e == NULL);
	CHECK_INT(hutch_cgroup_swap_v2(100, 200, buf, sizeof(buf), &skip, &e), -1);
	hutch_error_free(e);
	e = NULL;
	CHECK_INT(hutch_cgroup_swap_v2(100, 0, buf, sizeof(buf), &skip, &e), -1);
	hutch_error_free(e);
}

/* ---- apply on v1 / hybrid ------------------------------------------------------- */

static void v1_files(const char *leaf)
{
	static const char *const files[] = {
	    "memory/%s/memory.limit_in_bytes",
	    "memory/%s/memory.memsw.limit_in_bytes",
	    "memory/%s/memory.soft_limit_in_bytes",
	    "memory/%s/memory.swappiness",
	    "memory/%s/memory.oom_control",
	    "cpu/%s/cpu.shares",
	    "cpu/%s/cpu.cfs_quota_us",
	    "cpu/%s/cpu.cfs_period_us",
	    "cpu/%s/cpu.cfs_burst_us",
	    "cpuset/%s/cpuset.cpus",
	    "cpuset/%s/cpuset.mems",
	    "pids/%s/pids.max",
	    "blkio/%s/blkio.bfq.weight",
	    "blkio/%s/blkio.bfq.weight_device",
	    "blkio/%s/blkio.throttle.read_bps_device",
	    "blkio/%s/blkio.throttle.write_iops_device",
	    "devices/%s/devices.allow",
	    "devices/%s/devices.deny",
	    "freezer/%s/freezer.state",
	    "unified/%s/hugetlb.2MB.max",
	    "unified/%s/hugetlb.2MB.rsvd.max",
	};
	char rel[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(rel, sizeof(rel), files[i], leaf);
		put(rel, "");
	}
}

TEST(apply_v1_hybrid)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	struct hutch_throttle_device rbps = {8, 0, 1048576}, wiops = {8, 16, 300};
	struct hutch_weight_device wd = {8, 0, true, false, 200, 0};
	struct hutch_hugepage_limit hp = {(char *)"2MB", 4194304};
	struct hutch_device_rule rules[] = {
	    {false, 'a', -1, -1, "rwm"},
	    {true, 'c', 10, 200, "rwm"},
	    {false, 'c', 1, 9, "w"},
	};
	struct hutch_resources r = {0};

	reset();
	v1_files("hutch/c1");
	r.has_memory = true;
	r.memory.has_limit = true;
	r.memory.limit = 134217728;
	r.memory.has_swap = true;
	r.memory.swap = 268435456;
	r.memory.has_reservation = true;
	r.memory.reservation = 67108864;
	r.memory.has_kernel = true; /* file missing: warned and ignored, as runc */
	r.memory.kernel = 1048576;
	r.memory.has_swappiness = true;
	r.memory.swappiness = 10;
	r.memory.has_disable_oom_killer = true;
	r.memory.disable_oom_killer = true;
	r.has_cpu = true;
	r.cpu.has_shares = true;
	r.cpu.shares = 512;
	r.cpu.has_quota = true;
	r.cpu.quota = -1;
	r.cpu.has_period = true;
	r.cpu.period = 50000;
	r.cpu.has_burst = true;
	r.cpu.burst = 1000;
	r.cpu.cpus = (char *)"0-1";
	r.cpu.mems = (char *)"0";
	r.has_pids_limit = true;
	r.pids_limit = -1;
	r.has_blockio = true;
	r.blockio.has_weight = true;
	r.blockio.weight = 300;
	r.blockio.weight_device = &wd;
	r.blockio.n_weight_device = 1;
	r.blockio.throttle[HUTCH_THROTTLE_READ_BPS] = &rbps;
	r.blockio.n_throttle[HUTCH_THROTTLE_READ_BPS] = 1;
	r.blockio.throttle[HUTCH_THROTTLE_WRITE_IOPS] = &wiops;
	r.blockio.n_throttle[HUTCH_THROTTLE_WRITE_IOPS] = 1;
	r.hugepage_limits = &hp;
	r.n_hugepage_limits = 1;
	r.devices = rules;
	r.n_devices = 3;

	cg = open_cg(HUTCH_CGROUP_HYBRID, NULL, "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	hutch_cgroup_set_hooks(record, NULL, NULL);
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), 0);
	if (e != NULL)
		fprintf(stderr, "apply: %s\n", hutch_error_text(e));
	CHECK_STR(get("memory/hutch/c1/memory.limit_in_bytes"), "134217728");
	CHECK_STR(get("memory/hutch/c1/memory.memsw.limit_in_bytes"), "268435456");
	CHECK_STR(get("memory/hutch/c1/memory.soft_limit_in_bytes"), "67108864");
	CHECK_STR(get("memory/hutch/c1/memory.swappiness"), "10");
	CHECK_STR(get("memory/hutch/c1/memory.oom_control"), "1");
	CHECK_STR(get("cpu/hutch/c1/cpu.shares"), "512");
	CHECK_STR(get("cpu/hutch/c1/cpu.cfs_quota_us"), "-1");
	CHECK_STR(get("cpu/hutch/c1/cpu.cfs_period_us"), "50000");
	CHECK_STR(get("cpu/hutch/c1/cpu.cfs_burst_us"), "1000");
	CHECK_STR(get("cpuset/hutch/c1/cpuset.cpus"), "0-1");
	CHECK_STR(get("cpuset/hutch/c1/cpuset.mems"), "0");
	CHECK_STR(get("pids/hutch/c1/pids.max"), "max");
	/* no CFQ blkio.weight: BFQ's file takes the same range */
	CHECK_STR(get("blkio/hutch/c1/blkio.bfq.weight"), "300");
	CHECK_STR(get("blkio/hutch/c1/blkio.bfq.weight_device"), "8:0 200");
	CHECK_STR(get("blkio/hutch/c1/blkio.throttle.read_bps_device"), "8:0 1048576");
	CHECK_STR(get("blkio/hutch/c1/blkio.throttle.write_iops_device"), "8:16 300");
	/* hybrid: hugetlb on the cgroup2 tree, with v2 file names */
	CHECK_STR(get("unified/hutch/c1/hugetlb.2MB.max"), "4194304");
	CHECK_STR(get("unified/hutch/c1/hugetlb.2MB.rsvd.max"), "4194304");
	CHECK(!exists("unified/hutch/c1/memory.max"));
	/* raising from 0: memsw first, then the limit */
	CHECK_CONTAINS(writes, "memory/hutch/c1/memory.memsw.limit_in_bytes=268435456\n"
			       "memory/hutch/c1/memory.limit_in_bytes=134217728\n");
	/* devices: deny all first, the rules in order, then the defaults */
	CHECK_CONTAINS(writes, "devices/hutch/c1/devices.deny=a\n"
			       "devices/hutch/c1/devices.allow=c 10:200 rwm\n"
			       "devices/hutch/c1/devices.deny=c 1:9 w\n"
			       "devices/hutch/c1/devices.allow=c 1:3 rwm\n"
			       "devices/hutch/c1/devices.allow=c 1:5 rwm\n");
	{
		const char *first = strstr(writes, "devices.deny=a\n");
		CHECK(first != NULL && strstr(first + 1, "devices.deny=a\n") == NULL);
	}
	CHECK_CONTAINS(writes, "devices/hutch/c1/devices.allow=c 5:2 rwm\n"
			       "devices/hutch/c1/devices.allow=c 136:* rwm\n");
	hutch_cgroup_set_hooks(NULL, NULL, NULL);
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

TEST(apply_v1_errors)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	struct hutch_resources r = {0};
	struct hutch_kv kv = {(char *)"memory.max", (char *)"100"};
	struct hutch_kv kv2 = {(char *)"hugetlb.2MB.max", (char *)"2097152"};

	reset();
	v1_files("hutch/c1");
	cg = open_cg(HUTCH_CGROUP_HYBRID, NULL, "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	r.has_cpu = true;
	r.cpu.has_realtime_runtime = true;
	r.cpu.realtime_runtime = 1000;
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), -1);
	CHECK_STR(e ? e->msg : NULL, "linux.resources.cpu.realtimeRuntime: not supported by this "
				     "kernel (cpu.rt_runtime_us missing)");
	hutch_error_free(e);
	e = NULL;

	memset(&r, 0, sizeof(r));
	r.has_class_id = true;
	r.class_id = 0x100001;
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "linux.resources.network.classID: the net_cls cgroup "
					  "controller is not mounted");
	hutch_error_free(e);
	e = NULL;

	/* unified on hybrid: only for controllers on the cgroup2 tree */
	memset(&r, 0, sizeof(r));
	r.unified = &kv;
	r.n_unified = 1;
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "linux.resources.unified.memory.max: the memory "
					  "controller is not on the cgroup2 tree");
	hutch_error_free(e);
	e = NULL;
	r.unified = &kv2;
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), 0);
	CHECK_STR(get("unified/hutch/c1/hugetlb.2MB.max"), "2097152");
	hutch_cgroup_free(cg);
	hutch_error_free(e);
	e = NULL;

	/* legacy: unified refused */
	cg = open_cg(HUTCH_CGROUP_LEGACY, NULL, "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	r.unified = &kv2;
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "linux.resources.unified: needs cgroup v2");
	hutch_error_free(e);
	e = NULL;
	/* legacy: hugetlb not mounted */
	memset(&r, 0, sizeof(r));
	struct hutch_hugepage_limit hp = {(char *)"2MB", 1};
	r.hugepage_limits = &hp;
	r.n_hugepage_limits = 1;
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "hugetlb cgroup controller is not mounted");
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

TEST(update_v1_skips_zero)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	struct hutch_resources r = {0};

	reset();
	v1_files("hutch/c1");
	put("memory/hutch/c1/memory.soft_limit_in_bytes", "keep");
	put("memory/hutch/c1/memory.limit_in_bytes", "536870912");
	put("cpu/hutch/c1/cpu.shares", "keep");
	put("cpu/hutch/c1/cpu.cfs_quota_us", "keep");
	put("pids/hutch/c1/pids.max", "keep");
	cg = open_cg(HUTCH_CGROUP_HYBRID, NULL, "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	/* what Docker sends: {"memory":{"limit":134217728,"reservation":0,
	 * "swap":268435456,"kernel":0},"cpu":{"shares":0,"quota":0},"pids":{"limit":0}} */
	r.has_memory = true;
	r.memory.has_limit = r.memory.has_reservation = r.memory.has_swap = true;
	r.memory.has_kernel = true;
	r.memory.limit = 134217728;
	r.memory.swap = 268435456;
	r.has_cpu = true;
	r.cpu.has_shares = r.cpu.has_quota = true;
	r.has_pids_limit = true;
	hutch_cgroup_set_hooks(record, NULL, NULL);
	CHECK_INT(hutch_cgroup_update(cg, &r, &e), 0);
	hutch_cgroup_set_hooks(NULL, NULL, NULL);
	CHECK_STR(get("memory/hutch/c1/memory.soft_limit_in_bytes"), "keep");
	CHECK_STR(get("cpu/hutch/c1/cpu.shares"), "keep");
	CHECK_STR(get("cpu/hutch/c1/cpu.cfs_quota_us"), "keep");
	CHECK_STR(get("pids/hutch/c1/pids.max"), "keep");
	CHECK_STR(get("memory/hutch/c1/memory.memsw.limit_in_bytes"), "268435456");
	/* lowering from 512M: the limit goes first, then memsw */
	CHECK_CONTAINS(writes, "memory/hutch/c1/memory.limit_in_bytes=134217728\n"
			       "memory/hutch/c1/memory.memsw.limit_in_bytes=268435456\n");
	/* apply writes pids 0 as "max" */
	r.has_memory = r.has_cpu = false;
	put("pids/hutch/c1/pids.max", "");
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), 0);
	CHECK_STR(get("pids/hutch/c1/pids.max"), "max");
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

/* ---- apply on v2 -------------------------------------------------------------- */

static void v2_files(void)
{
	static const char *const files[] = {
	    "hutch/c1/memory.max", "hutch/c1/memory.swap.max", "hutch/c1/memory.low",
	    "hutch/c1/cpu.weight", "hutch/c1/cpu.max",	       "hutch/c1/pids.max",
	    "hutch/c1/io.weight",  "hutch/c1/io.max",	       "hutch/c1/cpuset.cpus",
	    "hutch/c1/cpu.idle",   "hutch/c1/hugetlb.1GB.max", "hutch/c1/memory.high",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put(files[i], "");
	put("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
}

static struct hutch_cgroup *open_v2(struct hutch_error **err)
{
	struct hutch_cgroup_layout l = {HUTCH_CGROUP_UNIFIED, NULL, "0::/user.slice\n"};

	return hutch_cgroup_new_layout(mp, &l, NULL, "c1", false, err);
}

TEST(apply_v2)
{
	static const uint64_t shares[][2] = {{2, 1}, {1024, 39}, {262144, 10000}};
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	struct hutch_resources r = {0};
	struct hutch_throttle_device wbps = {8, 0, 0};
	struct hutch_hugepage_limit hp = {(char *)"1GB", 0};
	struct hutch_kv kv = {(char *)"memory.high", (char *)"1000000"};

	reset();
	v2_files();
	cg = open_v2(&e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	CHECK_STR(dir_of(cg, "memory"), "/hutch/c1");
	for (size_t i = 0; i < 3; i++) {
		memset(&r, 0, sizeof(r));
		r.has_cpu = true;
		r.cpu.has_shares = true;
		r.cpu.shares = shares[i][0];
		put("hutch/c1/cpu.weight", "");
		CHECK_INT(hutch_cgroup_apply(cg, &r, &e), 0);
		CHECK_INT(atoi(get("hutch/c1/cpu.weight")), shares[i][1]);
	}
	memset(&r, 0, sizeof(r));
	r.has_memory = true;
	r.memory.has_limit = r.memory.has_swap = r.memory.has_reservation = true;
	r.memory.limit = 134217728;
	r.memory.swap = 268435456;
	r.memory.reservation = -1;
	r.has_cpu = true;
	r.cpu.has_quota = true;
	r.cpu.quota = -1;
	r.cpu.has_idle = true;
	r.cpu.idle = 1;
	r.cpu.cpus = (char *)"1";
	r.has_pids_limit = true;
	r.pids_limit = 100;
	r.has_blockio = true;
	r.blockio.has_weight = true;
	r.blockio.weight = 1000;
	r.blockio.throttle[HUTCH_THROTTLE_WRITE_BPS] = &wbps;
	r.blockio.n_throttle[HUTCH_THROTTLE_WRITE_BPS] = 1;
	r.hugepage_limits = &hp;
	r.n_hugepage_limits = 1;
	r.unified = &kv;
	r.n_unified = 1;
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), 0);
	if (e != NULL)
		fprintf(stderr, "apply: %s\n", hutch_error_text(e));
	CHECK_STR(get("hutch/c1/memory.max"), "134217728");
	CHECK_STR(get("hutch/c1/memory.swap.max"), "134217728");
	CHECK_STR(get("hutch/c1/memory.low"), "max");
	CHECK_STR(get("hutch/c1/cpu.max"), "max 100000");
	CHECK_STR(get("hutch/c1/cpu.idle"), "1");
	CHECK_STR(get("hutch/c1/cpuset.cpus"), "1");
	CHECK_STR(get("hutch/c1/pids.max"), "100");
	CHECK_STR(get("hutch/c1/io.weight"), "10000");
	CHECK_STR(get("hutch/c1/io.max"), "8:0 wbps=max");
	CHECK_STR(get("hutch/c1/hugetlb.1GB.max"), "0");
	CHECK_STR(get("hutch/c1/memory.high"), "1000000");

	/* -1 -> max; quota with period */
	memset(&r, 0, sizeof(r));
	r.has_memory = true;
	r.memory.has_limit = true;
	r.memory.limit = -1;
	r.has_cpu = true;
	r.cpu.has_quota = r.cpu.has_period = true;
	r.cpu.quota = 50000;
	r.cpu.period = 200000;
	put("hutch/c1/memory.max", "");
	put("hutch/c1/memory.swap.max", "");
	put("hutch/c1/cpu.max", "");
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), 0);
	CHECK_STR(get("hutch/c1/memory.max"), "max");
	CHECK_STR(get("hutch/c1/memory.swap.max"), "max");
	CHECK_STR(get("hutch/c1/cpu.max"), "50000 200000");

	/* update of the period alone keeps the quota in force */
	r.has_memory = false;
	r.cpu.quota = 0;
	r.cpu.period = 100000;
	put("hutch/c1/cpu.max", "50000 200000\n");
	writes[0] = '\0';
	hutch_cgroup_set_hooks(record, NULL, NULL);
	CHECK_INT(hutch_cgroup_update(cg, &r, &e), 0);
	hutch_cgroup_set_hooks(NULL, NULL, NULL);
	CHECK_STR(writes, "hutch/c1/cpu.max=50000 100000\n");

	/* v1-only fields on v2: named errors */
	memset(&r, 0, sizeof(r));
	r.has_memory = true;
	r.memory.has_swappiness = true;
	r.memory.swappiness = 0;
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), -1);
	CHECK_STR(e ? e->msg : NULL,
		  "linux.resources.memory.swappiness: not supported on cgroup v2");
	hutch_error_free(e);
	e = NULL;
	/* a controller file the host lacks: named error */
	memset(&r, 0, sizeof(r));
	r.has_cpu = true;
	r.cpu.has_burst = true;
	r.cpu.burst = 10;
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), -1);
	CHECK_STR(
	    e ? e->msg : NULL,
	    "linux.resources.cpu.burst: not supported by this kernel (cpu.max.burst missing)");
	hutch_error_free(e);
	e = NULL;
	/* swap below the limit */
	memset(&r, 0, sizeof(r));
	r.has_memory = true;
	r.memory.has_limit = r.memory.has_swap = true;
	r.memory.limit = 200;
	r.memory.swap = 100;
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "linux.resources.memory.swap: ");
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

/* ---- create / destroy ---------------------------------------------------------- */

static void fill_cpuset(const char *dir, void *data)
{
	char p[1024];

	(void)data;
	if (strstr(dir, "/cpuset/") == NULL)
		return;
	snprintf(p, sizeof(p), "touch '%s/cpuset.cpus' '%s/cpuset.mems'", dir, dir);
	if (system(p) != 0)
		fprintf(stderr, "touch failed\n");
}

TEST(create_destroy_v1)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;

	reset();
	mk("cpu/hutch"); /* pre-existing parent in one hierarchy: never removed */
	cg = open_cg(HUTCH_CGROUP_HYBRID, NULL, "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	CHECK_INT(hutch_cgroup_create(cg, &e), 0);
	CHECK(exists("cpu/hutch/c1"));
	CHECK(exists("memory/hutch/c1"));
	CHECK(exists("systemd/hutch/c1"));
	CHECK(exists("unified/hutch/c1"));
	CHECK(!exists("memory/process_api"));
	CHECK_INT(hutch_cgroup_destroy(cg, &e), 0);
	if (e != NULL)
		fprintf(stderr, "destroy: %s\n", hutch_error_text(e));
	CHECK(!exists("cpu/hutch/c1"));
	CHECK(exists("cpu/hutch"));
	CHECK(!exists("memory/hutch"));
	CHECK(!exists("unified/hutch"));
	CHECK(exists("memory"));
	hutch_cgroup_free(cg);

	/* a destroy that was never preceded by create removes nothing */
	mk("pids/hutch/c2");
	cg = open_cg(HUTCH_CGROUP_HYBRID, NULL, "c2", &e);
	CHECK(cg != NULL);
	if (cg != NULL) {
		CHECK_INT(hutch_cgroup_destroy(cg, &e), 0);
		CHECK(exists("pids/hutch/c2"));
		hutch_cgroup_free(cg);
	}
	hutch_error_free(e);
}

TEST(create_cpuset_copy)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;

	reset();
	put("cpuset/cpuset.cpus", "0-1\n");
	put("cpuset/cpuset.mems", "0\n");
	cg = open_cg(HUTCH_CGROUP_LEGACY, "/a/b", NULL, &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	hutch_cgroup_set_hooks(NULL, fill_cpuset, NULL);
	CHECK_INT(hutch_cgroup_create(cg, &e), 0);
	hutch_cgroup_set_hooks(NULL, NULL, NULL);
	CHECK_STR(get("cpuset/a/cpuset.cpus"), "0-1");
	CHECK_STR(get("cpuset/a/b/cpuset.cpus"), "0-1");
	CHECK_STR(get("cpuset/a/b/cpuset.mems"), "0");
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

TEST(apply_rdma)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	struct hutch_rdma devs[] = {
	    {.device = (char *)"mlx5_1",
	     .hca_handles = 3,
	     .hca_objects = 1000,
	     .has_hca_handles = true,
	     .has_hca_objects = true},
	    {.device = (char *)"mlx4_0", .hca_handles = 2, .has_hca_handles = true},
	    {.device = (char *)"mlx4_1"}, /* neither: nothing to write */
	};
	struct hutch_resources r = {.rdma = devs, .n_rdma = 3};

	reset();
	v2_files();
	cg = open_v2(&e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	/* the kernel's file: one "DEVICE key=value..." line per write */
	put("hutch/c1/rdma.max", "");
	hutch_cgroup_set_hooks(record, NULL, NULL);
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), 0);
	hutch_cgroup_set_hooks(NULL, NULL, NULL);
	CHECK_CONTAINS(writes, "hutch/c1/rdma.max=mlx5_1 hca_handle=3 hca_object=1000\n"
			       "hutch/c1/rdma.max=mlx4_0 hca_handle=2\n");
	CHECK(strstr(writes, "mlx4_1") == NULL);
	/* a device name that would split the line is refused */
	devs[0].device = (char *)"mlx5 1";
	CHECK_INT(hutch_cgroup_apply(cg, &r, &e), -1);
	CHECK(e != NULL && strstr(hutch_error_text(e), "rdma") != NULL);
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

TEST(create_v2_controllers)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;

	reset();
	put("cgroup.controllers", "cpu memory pids\n");
	put("cgroup.subtree_control", "memory\n");
	cg = open_v2(&e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	hutch_cgroup_set_hooks(record, NULL, NULL);
	CHECK_INT(hutch_cgroup_create(cg, &e), 0);
	hutch_cgroup_set_hooks(NULL, NULL, NULL);
	CHECK_CONTAINS(writes, "cgroup.subtree_control=+cpu\n");
	CHECK_CONTAINS(writes, "cgroup.subtree_control=+pids\n");
	CHECK(strstr(writes, "+memory") == NULL); /* already on */
	CHECK(exists("hutch/c1"));
	{
		struct hutch_cgroup_join j;
		CHECK_INT(hutch_cgroup_join_open(cg, &j, &e), 0);
		CHECK(j.clone_fd >= 0); /* cgroup2: CLONE_INTO_CGROUP, no file to write */
		CHECK_INT((int)j.n, 0);
		hutch_cgroup_join_close(&j);
		CHECK_INT(j.clone_fd, -1);
	}
	CHECK_INT(hutch_cgroup_destroy(cg, &e), 0);
	CHECK(!exists("hutch"));
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

/* ---- join ------------------------------------------------------------------------ */

static const char *const v1_dirs[] = {"cpu",	 "cpuacct", "cpuset", "memory", "devices",
				      "freezer", "blkio",   "pids",   "systemd"};

/* The kernel's tasks file in c1's directory of every v1 hierarchy but SKIP. */
static void put_tasks(const char *skip)
{
	char rel[256];

	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(v1_dirs); i++) {
		if (skip != NULL && strcmp(v1_dirs[i], skip) == 0)
			continue;
		snprintf(rel, sizeof(rel), "%s/hutch/c1/tasks", v1_dirs[i]);
		put(rel, "");
	}
}

TEST(join_hybrid)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	struct hutch_cgroup_join j;
	char rel[256];

	reset();
	cg = open_cg(HUTCH_CGROUP_HYBRID, "/hutch/c1", "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	put_tasks(NULL);
	mk("unified/hutch/c1");
	CHECK_INT(hutch_cgroup_join_open(cg, &j, &e), 0);
	/* every v1 hierarchy by its tasks file, the cgroup2 tree by clone3 */
	CHECK_INT((int)j.n, (int)HUTCH_ARRAY_SIZE(v1_dirs));
	CHECK(j.clone_fd >= 0);
	/* memory last, the others in mount order, none twice */
	CHECK(j.n > 0 && strstr(j.dirs[j.n - 1], "/memory/hutch/c1") != NULL);
	for (size_t i = 0; i + 1 < j.n; i++) {
		CHECK(strstr(j.dirs[i], "/memory/") == NULL);
		for (size_t k = i + 1; k < j.n; k++)
			CHECK(strcmp(j.dirs[i], j.dirs[k]) != 0);
	}
	CHECK_INT(hutch_cgroup_join_self(&j, &e), 0);
	CHECK_INT((int)j.n, 0);
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(v1_dirs); i++) {
		snprintf(rel, sizeof(rel), "%s/hutch/c1/tasks", v1_dirs[i]);
		CHECK_STR(get(rel), "0"); /* "0": the writer itself, one thread */
	}
	hutch_cgroup_join_close(&j);
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

/* exec --cgroup */
static const char *descend_err(struct hutch_cgroup *cg, char **subs)
{
	static char text[512];
	struct hutch_error *e = NULL;

	if (hutch_cgroup_descend(cg, subs, &e) == 0)
		return "(ok)";
	snprintf(text, sizeof(text), "%s", hutch_error_text(e));
	hutch_error_free(e);
	return text;
}

TEST(descend)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	struct hutch_cgroup_join j;

	reset();
	cg = open_cg(HUTCH_CGROUP_HYBRID, "/hutch/c1", "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	mk("pids/hutch/c1/sub");
	mk("memory/hutch/c1/m");
	CHECK_CONTAINS(descend_err(cg, (char *[]){"../x", NULL}), "relative path");
	CHECK_CONTAINS(descend_err(cg, (char *[]){"/sub", NULL}), "relative path");
	CHECK_CONTAINS(descend_err(cg, (char *[]){"pids:a//b", NULL}), "relative path");
	CHECK_CONTAINS(descend_err(cg, (char *[]){":sub", NULL}), "no controller before");
	CHECK_CONTAINS(descend_err(cg, (char *[]){"gpu:sub", NULL}), "\"gpu\" controller");
	CHECK_CONTAINS(descend_err(cg, (char *[]){"pids:sub", "pids:m", NULL}),
		       "conflicts with --cgroup pids:sub");
	/* every hierarchy: the others have no "sub" */
	CHECK_CONTAINS(descend_err(cg, (char *[]){"sub", NULL}), "it must exist");
	/* refused: nothing changed, the join still goes to c1 itself */
	put_tasks(NULL);
	mk("unified/hutch/c1");
	put("pids/hutch/c1/sub/tasks", "");
	put("memory/hutch/c1/m/tasks", "");
	CHECK_STR(descend_err(cg, (char *[]){"pids:sub", "memory:m", NULL}), "(ok)");
	CHECK_INT(hutch_cgroup_join_open(cg, &j, &e), 0);
	for (size_t i = 0; i < j.n; i++) {
		bool pids = strstr(j.dirs[i], "/pids/") != NULL;
		bool mem = strstr(j.dirs[i], "/memory/") != NULL;
		CHECK(pids == (strstr(j.dirs[i], "/hutch/c1/sub") != NULL));
		CHECK(mem == (strstr(j.dirs[i], "/hutch/c1/m") != NULL));
		CHECK(pids || mem ||
		      strstr(j.dirs[i], "/hutch/c1") + strlen("/hutch/c1") ==
			  j.dirs[i] + strlen(j.dirs[i]));
	}
	hutch_cgroup_join_close(&j);
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

TEST(join_missing_hierarchy)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	struct hutch_cgroup_join j;
	int before, after;

	reset();
	cg = open_cg(HUTCH_CGROUP_LEGACY, "/hutch/c1", "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	put_tasks("memory");
	before = dup(0);
	close(before);
	CHECK_INT(hutch_cgroup_join_open(cg, &j, &e), -1);
	CHECK(e != NULL && strstr(hutch_error_text(e), "memory/hutch/c1") != NULL);
	CHECK_INT(j.clone_fd, -1);
	CHECK_INT((int)j.n, 0);
	after = dup(0); /* the lowest free fd: nothing opened stays open */
	close(after);
	CHECK_INT(after, before);
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

/* ---- save, restore --------------------------------------------------------------- */

TEST(save_restore)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg, *back;
	struct json_object *saved, *bad;
	static const char *const broken[] = {
	    "{\"mode\":1,\"hierarchies\":[]}",
	    "{\"mode\":7,\"hierarchies\":[{\"mount\":\"%s/cpu\",\"v2\":false,\"dir\":\"%s/cpu/"
	    "a\",\"root\":\"%s/cpu\",\"controllers\":[]}]}",
	    /* a directory outside its hierarchy */
	    "{\"mode\":1,\"hierarchies\":[{\"mount\":\"%s/cpu\",\"v2\":false,\"dir\":\"/etc/"
	    "a\",\"root\":\"%s/cpu\",\"controllers\":[]}]}",
	    /* climbing out with ".." */
	    "{\"mode\":1,\"hierarchies\":[{\"mount\":\"%s/cpu\",\"v2\":false,\"dir\":\"%s/cpu/"
	    "../../x\",\"root\":\"%s/cpu\",\"controllers\":[]}]}",
	    /* the hierarchy's root itself as the container's directory */
	    "{\"mode\":1,\"hierarchies\":[{\"mount\":\"%s/cpu\",\"v2\":false,\"dir\":\"%s/"
	    "cpu\",\"root\":\"%s/cpu\",\"controllers\":[]}]}",
	    /* a mount outside the cgroup mountpoint */
	    "{\"mode\":1,\"hierarchies\":[{\"mount\":\"/tmp\",\"v2\":false,\"dir\":\"/tmp/"
	    "a\",\"root\":\"/tmp\",\"controllers\":[]}]}",
	};

	reset();
	cg = open_cg(HUTCH_CGROUP_HYBRID, "/hutch/c1", "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	saved = hutch_cgroup_save(cg);
	CHECK(saved != NULL);
	back = hutch_cgroup_restore(mp, "/hutch/c1", saved, &e);
	CHECK(back != NULL);
	if (back != NULL) {
		CHECK_INT((int)back->n, (int)cg->n);
		CHECK_INT((int)back->mode, (int)cg->mode);
		CHECK_INT(back->unified, cg->unified);
		CHECK(back->loaded);
		for (size_t i = 0; i < cg->n && i < back->n; i++) {
			CHECK_STR(back->h[i].dir, cg->h[i].dir);
			CHECK_STR(back->h[i].root_dir, cg->h[i].root_dir);
			CHECK_STR(back->h[i].mount, cg->h[i].mount);
			CHECK_INT(back->h[i].v2, cg->h[i].v2);
		}
		CHECK_STR(dir_of(back, "memory"), "/memory/hutch/c1");
		CHECK_STR(dir_of(back, "hugetlb"), "/unified/hutch/c1");
		hutch_cgroup_free(back);
	}
	json_object_put(saved);
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(broken); i++) {
		char text[2048];
		snprintf(text, sizeof(text), broken[i], mp, mp, mp);
		bad = json_tokener_parse(text);
		CHECK(bad != NULL);
		back = hutch_cgroup_restore(mp, "/hutch/c1", bad, &e);
		CHECK(back == NULL);
		CHECK_CONTAINS(e ? hutch_error_text(e) : NULL, "saved layout");
		hutch_error_freep(&e);
		hutch_cgroup_free(back);
		json_object_put(bad);
	}
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

/* ---- pids, freeze -------------------------------------------------------------- */

TEST(pids_and_freeze_v1)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	pid_t *pids = NULL;
	size_t n = 0;
	bool frozen = true;

	reset();
	put("pids/hutch/c1/cgroup.procs", "12\n34\n");
	put("pids/hutch/c1/sub/cgroup.procs", "56\n");
	put("freezer/hutch/c1/freezer.state", "THAWED\n");
	cg = open_cg(HUTCH_CGROUP_HYBRID, NULL, "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	CHECK_INT(hutch_cgroup_pids(cg, &pids, &n, &e), 0);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(pids[0] + pids[1] + pids[2], 12 + 34 + 56);
	}
	free(pids);
	CHECK_INT(hutch_cgroup_is_frozen(cg, &frozen, &e), 0);
	CHECK(!frozen);
	CHECK_INT(hutch_cgroup_freeze(cg, true, &e), 0);
	CHECK_INT(hutch_cgroup_is_frozen(cg, &frozen, &e), 0);
	CHECK(frozen);
	CHECK_INT(hutch_cgroup_freeze(cg, false, &e), 0);
	CHECK_INT(hutch_cgroup_is_frozen(cg, &frozen, &e), 0);
	CHECK(!frozen);
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

TEST(freeze_v2_timeout)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	bool frozen = true;

	reset();
	put("hutch/c1/cgroup.freeze", "0");
	put("hutch/c1/cgroup.events", "populated 1\nfrozen 0\n");
	cg = open_v2(&e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	CHECK_INT(hutch_cgroup_is_frozen(cg, &frozen, &e), 0);
	CHECK(!frozen);
	/* the fake never reports "frozen 1": a bounded wait, then EBUSY */
	hutch_cgroup_set_timeout_ms(20);
	CHECK_INT(hutch_cgroup_freeze(cg, true, &e), -1);
	CHECK_INT(e ? e->code : 0, EBUSY);
	hutch_cgroup_set_timeout_ms(1000);
	hutch_error_free(e);
	e = NULL;
	put("hutch/c1/cgroup.events", "populated 1\nfrozen 1\n");
	CHECK_INT(hutch_cgroup_freeze(cg, true, &e), 0);
	CHECK_STR(get("hutch/c1/cgroup.freeze"), "1");
	CHECK_INT(hutch_cgroup_is_frozen(cg, &frozen, &e), 0);
	CHECK(frozen);
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

/* ---- eBPF device filter -------------------------------------------------------- */

/* Run the subset of eBPF the generator emits on one request. */
static int run_prog(const struct bpf_insn *p, size_t n, int type, int major, int minor, int access)
{
	uint64_t reg[11] = {0};
	uint32_t ctx[3] = {(uint32_t)(access << 16 | type), (uint32_t)major, (uint32_t)minor};

	for (size_t pc = 0; pc < n; pc++) {
		const struct bpf_insn *i = &p[pc];
		uint64_t k = (uint64_t)(int64_t)i->imm;
		switch (i->code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			if (i->src_reg != 1 || i->off % 4 != 0 || i->off > 8)
				return -1;
			reg[i->dst_reg] = ctx[i->off / 4];
			break;
		case BPF_ALU64 | BPF_MOV | BPF_X:
			reg[i->dst_reg] = reg[i->src_reg];
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			reg[i->dst_reg] = k;
			break;
		case BPF_ALU64 | BPF_AND | BPF_K:
			reg[i->dst_reg] &= k;
			break;
		case BPF_ALU64 | BPF_RSH | BPF_K:
			reg[i->dst_reg] >>= k;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			if (reg[i->dst_reg] != k)
				pc += (size_t)i->off;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			if (reg[i->dst_reg] == k)
				pc += (size_t)i->off;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)reg[0];
		default:
			return -1;
		}
	}
	return -1;
}

/* The verifier refuses unreachable instructions: every one must be reachable. */
static bool all_reachable(const struct bpf_insn *p, size_t n)
{
	bool seen[4096] = {false};
	size_t stack[4096], sp = 0;

	if (n == 0 || n > 4096)
		return false;
	stack[sp++] = 0;
	while (sp > 0) {
		size_t pc = stack[--sp];
		if (pc >= n || seen[pc])
			continue;
		seen[pc] = true;
		if (p[pc].code == (BPF_JMP | BPF_EXIT))
			continue;
		if (BPF_CLASS(p[pc].code) == BPF_JMP && sp + 2 < 4096)
			stack[sp++] = pc + 1 + (size_t)p[pc].off;
		if (sp + 1 < 4096)
			stack[sp++] = pc + 1;
	}
	for (size_t i = 0; i < n; i++)
		if (!seen[i])
			return false;
	return true;
}

TEST(device_filter)
{
	enum { C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK };
	enum { R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD };
	struct hutch_device_rule rules[] = {
	    {false, 'a', -1, -1, "rwm"}, {true, 'c', 10, 200, "rwm"}, {true, 'b', 8, -1, "r"},
	    {false, 'b', 8, 3, "r"},	 {true, 'c', 4, 1, "rw"},
	};
	struct hutch_resources r = {0};
	struct bpf_insn *p = NULL;
	size_t n = 0;
	struct hutch_error *e = NULL;

	r.devices = rules;
	r.n_devices = 5;
	CHECK_INT(hutch_cg_v2_device_prog(&r, &p, &n, &e), 0);
	if (p == NULL)
		return;
	CHECK(all_reachable(p, n));
	CHECK_INT(run_prog(p, n, C, 1, 3, R | W), 1);	     /* /dev/null: default */
	CHECK_INT(run_prog(p, n, C, 136, 7, R | W), 1);	     /* pts wildcard */
	CHECK_INT(run_prog(p, n, C, 10, 200, R | W | M), 1); /* tun */
	CHECK_INT(run_prog(p, n, C, 10, 201, R), 0);	     /* deny all */
	CHECK_INT(run_prog(p, n, B, 8, 0, R), 1);	     /* b 8:* r */
	CHECK_INT(run_prog(p, n, B, 8, 0, R | W), 0);	     /* write not granted */
	CHECK_INT(run_prog(p, n, B, 8, 3, R), 0);	     /* later deny wins */
	CHECK_INT(run_prog(p, n, C, 8, 0, R), 0);	     /* type matters */
	CHECK_INT(run_prog(p, n, C, 4, 1, W), 1);
	CHECK_INT(run_prog(p, n, C, 4, 1, M), 0);
	free(p);
	p = NULL;

	/* no rules: everything allowed, as without a filter */
	r.n_devices = 0;
	CHECK_INT(hutch_cg_v2_device_prog(&r, &p, &n, &e), 0);
	if (p != NULL) {
		CHECK_INT(run_prog(p, n, B, 8, 0, R | W | M), 1);
		CHECK(all_reachable(p, n));
	}
	free(p);
	p = NULL;

	/* a later allow-all overrides an earlier deny-all */
	struct hutch_device_rule r2[] = {{false, 'a', -1, -1, ""}, {true, 'a', -1, -1, "rwm"}};
	r.devices = r2;
	r.n_devices = 2;
	CHECK_INT(hutch_cg_v2_device_prog(&r, &p, &n, &e), 0);
	if (p != NULL) {
		CHECK_INT(run_prog(p, n, B, 8, 0, R), 1);
		CHECK(all_reachable(p, n));
	}
	free(p);
	p = NULL;

	struct hutch_device_rule bad = {true, 'x', 1, 1, "r"};
	r.devices = &bad;
	r.n_devices = 1;
	CHECK_INT(hutch_cg_v2_device_prog(&r, &p, &n, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "linux.resources.devices[0]: bad type");
	hutch_error_free(e);
}

/* ---- stats and the OOM watch ------------------------------------------------ */

/* The number at PATH ("memory.usage.limit") in the JSON text, or -1. */
static long long jnum(const char *text, const char *path)
{
	struct json_object *root = json_tokener_parse(text), *o = root;
	char buf[256], *save = NULL;
	long long v = -1;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); o != NULL && k != NULL;
	     k = strtok_r(NULL, ".", &save)) {
		struct json_object *next = NULL;
		if (json_object_is_type(o, json_type_array))
			next = json_object_array_get_idx(o, (size_t)atoi(k));
		else if (!json_object_object_get_ex(o, k, &next))
			next = NULL;
		o = next;
	}
	if (o != NULL && json_object_is_type(o, json_type_int))
		v = (long long)json_object_get_int64(o);
	json_object_put(root);
	return v;
}

/* The key PATH exists in the JSON text. */
static bool jhas(const char *text, const char *path)
{
	struct json_object *root = json_tokener_parse(text), *o = root;
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); o != NULL && k != NULL;
	     k = strtok_r(NULL, ".", &save)) {
		struct json_object *next = NULL;
		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, k, &next))
			o = NULL;
		else
			o = next;
	}
	json_object_put(root);
	return o != NULL || (root != NULL && path[0] == '\0');
}

TEST(stats_v1_hybrid)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	char *s;
	long tck = sysconf(_SC_CLK_TCK);

	reset();
	put("cpuacct/hutch/c1/cpuacct.usage", "123456789\n");
	put("cpuacct/hutch/c1/cpuacct.usage_percpu", "100000000 23456789 \n");
	put("cpuacct/hutch/c1/cpuacct.usage_percpu_sys", "7 8\n");
	put("cpuacct/hutch/c1/cpuacct.stat", "user 10\nsystem 5\n");
	put("cpu/hutch/c1/cpu.stat", "nr_periods 7\nnr_throttled 3\nthrottled_time 999\n");
	put("memory/hutch/c1/memory.usage_in_bytes", "4096\n");
	put("memory/hutch/c1/memory.limit_in_bytes", "33554432\n");
	put("memory/hutch/c1/memory.max_usage_in_bytes", "8192\n");
	put("memory/hutch/c1/memory.failcnt", "2\n");
	put("memory/hutch/c1/memory.memsw.limit_in_bytes", "9223372036854771712\n");
	put("memory/hutch/c1/memory.memsw.usage_in_bytes", "4096\n");
	put("memory/hutch/c1/memory.stat", "cache 1234\nrss 5678\ntotal_cache 1234\n");
	put("pids/hutch/c1/pids.current", "4\n");
	put("pids/hutch/c1/pids.max", "max\n");
	put("blkio/hutch/c1/blkio.throttle.io_service_bytes_recursive",
	    "7:0 Read 0\n7:0 Write 4096\n8:16 Write 512\nTotal 4608\n");
	put("blkio/hutch/c1/blkio.throttle.io_serviced_recursive", "7:0 Write 1\nTotal 1\n");
	put("blkio/hutch/c1/blkio.bfq.io_service_bytes_recursive", "Total 0\n");
	put("cpuset/hutch/c1/cpuset.cpus", "0-2,5\n");
	put("cpuset/hutch/c1/cpuset.mems", "0\n");
	/* hugetlb on the cgroup2 tree of this hybrid host: v2 names */
	put("unified/hutch/c1/hugetlb.2MB.current", "2097152\n");
	put("unified/hutch/c1/hugetlb.2MB.max", "4194304\n");
	put("unified/hutch/c1/hugetlb.2MB.rsvd.current", "0\n");
	put("unified/hutch/c1/hugetlb.2MB.events", "max 3\n");
	cg = open_cg(HUTCH_CGROUP_HYBRID, NULL, "c1", &e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	s = hutch_cgroup_stats_json(cg, &e);
	CHECK(s != NULL);
	if (s == NULL) {
		hutch_cgroup_free(cg);
		return;
	}
	CHECK_INT(jnum(s, "cpu.usage.total"), 123456789);
	CHECK_INT(jnum(s, "cpu.usage.percpu.1"), 23456789);
	CHECK_INT(jnum(s, "cpu.usage.percpu_kernel.0"), 7);
	CHECK(!jhas(s, "cpu.usage.percpu_user")); /* no file: omitted */
	/* ticks to nanoseconds */
	CHECK_INT(jnum(s, "cpu.usage.user"), 10LL * (1000000000LL / tck));
	CHECK_INT(jnum(s, "cpu.usage.kernel"), 5LL * (1000000000LL / tck));
	CHECK_INT(jnum(s, "cpu.throttling.periods"), 7);
	CHECK_INT(jnum(s, "cpu.throttling.throttledPeriods"), 3);
	CHECK_INT(jnum(s, "cpu.throttling.throttledTime"), 999);
	CHECK_INT(jnum(s, "cpuset.cpus.3"), 5);
	CHECK_INT(jnum(s, "cpuset.mems.0"), 0);
	CHECK_INT(jnum(s, "memory.usage.usage"), 4096);
	CHECK_INT(jnum(s, "memory.usage.limit"), 33554432);
	CHECK_INT(jnum(s, "memory.usage.max"), 8192);
	CHECK_INT(jnum(s, "memory.usage.failcnt"), 2);
	CHECK_INT(jnum(s, "memory.swap.limit"), 9223372036854771712LL);
	CHECK_INT(jnum(s, "memory.cache"), 1234);
	CHECK_INT(jnum(s, "memory.raw.rss"), 5678);
	/* kernel files missing: limit and failcnt still there as 0, usage omitted */
	CHECK_INT(jnum(s, "memory.kernel.limit"), 0);
	CHECK(!jhas(s, "memory.kernel.usage"));
	CHECK_INT(jnum(s, "pids.current"), 4);
	CHECK(!jhas(s, "pids.limit")); /* "max" is 0, omitted */
	/* throttle file first (BFQ's has no device lines); Total skipped */
	CHECK_INT(jnum(s, "blkio.ioServiceBytesRecursive.1.value"), 4096);
	CHECK_INT(jnum(s, "blkio.ioServiceBytesRecursive.1.major"), 7);
	CHECK_INT(jnum(s, "blkio.ioServiceBytesRecursive.2.minor"), 16);
	CHECK(!jhas(s, "blkio.ioServiceBytesRecursive.0.value"));
	CHECK_CONTAINS(s, "\"op\":\"Write\"");
	CHECK(strstr(s, "Total") == NULL);
	CHECK_INT(jnum(s, "blkio.ioServicedRecursive.0.value"), 1);
	CHECK_INT(jnum(s, "hugetlb.2MB.usage"), 2097152);
	CHECK_INT(jnum(s, "hugetlb.2MB.failcnt"), 3);
	CHECK(!jhas(s, "hugetlb.2MB.rsvd"));
	CHECK(jhas(s, "intel_rdt"));
	free(s);
	hutch_cgroup_free(cg);
}

TEST(stats_v2)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	char *s;

	reset();
	put("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
	put("hutch/c1/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
				 "nr_periods 10\nnr_throttled 4\nthrottled_usec 20\n");
	put("hutch/c1/memory.current", "65536\n");
	put("hutch/c1/memory.max", "134217728\n");
	put("hutch/c1/memory.peak", "131072\n");
	put("hutch/c1/memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n");
	put("hutch/c1/memory.swap.current", "4096\n");
	put("hutch/c1/memory.swap.max", "max\n");
	put("hutch/c1/memory.stat", "anon 100\nfile 200\n");
	put("hutch/c1/pids.current", "3\n");
	put("hutch/c1/pids.max", "64\n");
	put("hutch/c1/io.stat", "7:0 rbytes=0 wbytes=8192 rios=0 wios=2 dbytes=0 dios=0\n"
				"8:0 use_delay=0\n");
	put("hutch/c1/hugetlb.1GB.current", "0\n");
	cg = open_v2(&e);
	CHECK(cg != NULL);
	if (cg == NULL)
		return;
	s = hutch_cgroup_stats_json(cg, &e);
	CHECK(s != NULL);
	if (s == NULL) {
		hutch_cgroup_free(cg);
		return;
	}
	CHECK_INT(jnum(s, "cpu.usage.total"), 1500000);
	CHECK_INT(jnum(s, "cpu.usage.user"), 1000000);
	CHECK_INT(jnum(s, "cpu.usage.kernel"), 500000);
	CHECK(!jhas(s, "cpu.usage.percpu"));
	CHECK_INT(jnum(s, "cpu.throttling.throttledPeriods"), 4);
	CHECK_INT(jnum(s, "cpu.throttling.throttledTime"), 20000);
	CHECK_INT(jnum(s, "memory.usage.usage"), 65536);
	CHECK_INT(jnum(s, "memory.usage.limit"), 134217728);
	CHECK_INT(jnum(s, "memory.usage.max"), 131072);
	CHECK_INT(jnum(s, "memory.usage.failcnt"), 5);
	/* v1-compatible swap: memory+swap, unlimited stays unlimited */
	CHECK_INT(jnum(s, "memory.swap.usage"), 65536 + 4096);
	CHECK_CONTAINS(s, "\"swap\":{\"limit\":18446744073709551615");
	CHECK_INT(jnum(s, "memory.cache"), 200);
	CHECK_INT(jnum(s, "memory.raw.anon"), 100);
	CHECK_INT(jnum(s, "pids.current"), 3);
	CHECK_INT(jnum(s, "pids.limit"), 64);
	CHECK_INT(jnum(s, "blkio.ioServiceBytesRecursive.1.value"), 8192);
	CHECK_INT(jnum(s, "blkio.ioServicedRecursive.1.value"), 2);
	CHECK(jhas(s, "hugetlb.1GB"));
	free(s);
	/* the cgroup is gone: an error naming it */
	sh("rm -rf '%s/hutch'", mp);
	CHECK(hutch_cgroup_stats_json(cg, &e) == NULL);
	CHECK_CONTAINS(e ? e->msg : NULL, "/hutch/c1");
	hutch_error_free(e);
	hutch_cgroup_free(cg);
}

TEST(oom_watch)
{
	struct hutch_error *e = NULL;
	struct hutch_cgroup *cg;
	struct hutch_cgroup_oom *w;
	uint64_t one = 1;
	char p[1024];

	/* v2: the oom_kill counter of memory.events, woken by inotify */
	reset();
	put("cgroup.controllers", "memory\n");
	put("hutch/c1/memory.events", "max 0\noom 0\noom_kill 2\n");
	cg = open_v2(&e);
	CHECK(cg != NULL);
	w = cg ? hutch_cgroup_oom_watch(cg, &e) : NULL;
	CHECK(w != NULL);
	if (w != NULL) {
		struct pollfd pfd = {hutch_cgroup_oom_fd(w), POLLIN, 0};
		CHECK_INT(hutch_cgroup_oom_check(w, &e), 0); /* counted before the watch */
		CHECK_INT(poll(&pfd, 1, 0), 0);
		put("hutch/c1/memory.events", "max 1\noom 1\noom_kill 5\n");
		CHECK_INT(poll(&pfd, 1, 1000), 1);
		CHECK_INT(hutch_cgroup_oom_check(w, &e), 3);
		CHECK_INT(poll(&pfd, 1, 0), 0); /* drained */
		CHECK_INT(hutch_cgroup_oom_check(w, &e), 0);
		hutch_cgroup_oom_free(w);
	}
	hutch_cgroup_free(cg);

	/* v1: registration through cgroup.event_control, one count per OOM */
	reset();
	put("memory/hutch/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
	put("memory/hutch/c1/cgroup.event_control", "");
	cg = open_cg(HUTCH_CGROUP_HYBRID, NULL, "c1", &e);
	CHECK(cg != NULL);
	hutch_cgroup_set_hooks(record, NULL, NULL);
	w = cg ? hutch_cgroup_oom_watch(cg, &e) : NULL;
	hutch_cgroup_set_hooks(NULL, NULL, NULL);
	CHECK(w != NULL);
	if (w != NULL) {
		char want[64];
		snprintf(want, sizeof(want), "%d ", hutch_cgroup_oom_fd(w));
		CHECK_CONTAINS(writes, "memory/hutch/c1/cgroup.event_control=");
		CHECK_CONTAINS(writes, want);
		CHECK_INT(hutch_cgroup_oom_check(w, &e), 0);
		/* what the kernel does on an OOM */
		CHECK(write(hutch_cgroup_oom_fd(w), &one, sizeof(one)) == sizeof(one));
		CHECK(write(hutch_cgroup_oom_fd(w), &one, sizeof(one)) == sizeof(one));
		CHECK_INT(hutch_cgroup_oom_check(w, &e), 2);
		/* ... and on the removal of the cgroup: not an OOM */
		snprintf(p, sizeof(p), "%s/memory/hutch/c1/memory.oom_control", mp);
		CHECK_INT(unlink(p), 0);
		CHECK(write(hutch_cgroup_oom_fd(w), &one, sizeof(one)) == sizeof(one));
		CHECK_INT(hutch_cgroup_oom_check(w, &e), 0);
		hutch_cgroup_oom_free(w);
	}
	hutch_cgroup_free(cg);
}

int main(void)
{
	char t[] = "/tmp/hutch-cgroup-test.XXXXXX";

	if (mkdtemp(t) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s", t);
	RUN(check_path);
	RUN(resolve_default);
	RUN(resolve_absolute_relative);
	RUN(resolve_mount_root);
	RUN(conversions);
	RUN(apply_v1_hybrid);
	RUN(apply_v1_errors);
	RUN(update_v1_skips_zero);
	RUN(apply_v2);
	RUN(create_destroy_v1);
	RUN(create_cpuset_copy);
	RUN(create_v2_controllers);
	RUN(join_hybrid);
	RUN(join_missing_hierarchy);
	RUN(descend);
	RUN(apply_rdma);
	RUN(save_restore);
	RUN(pids_and_freeze_v1);
	RUN(freeze_v2_timeout);
	RUN(device_filter);
	RUN(stats_v1_hybrid);
	RUN(stats_v2);
	RUN(oom_watch);
	sh("rm -rf '%s'", tmp);
	return test_summary();
}
