/* Mount option decoding: every option features.md lists. */
#include "core/error.h"
#include "linux/mount.h"
#include "spec/model.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

static struct hutch_mount_plan parse(const char *a, const char *b, const char *c)
{
	char *opts[4] = {(char *)a, (char *)b, (char *)c, NULL};
	struct hutch_mount_plan p;
	_cleanup_error_ struct hutch_error *err = NULL;

	if (hutch_mount_plan_parse(opts, &p, &err) < 0) {
		fprintf(stderr, "parse: %s\n", hutch_error_text(err));
		return (struct hutch_mount_plan){.flags = ~0ul};
	}
	return p;
}

/* One flag option and its opposite. */
static void flag_pair(const char *set, const char *clr, unsigned long f)
{
	struct hutch_mount_plan p = parse(set, NULL, NULL);

	if ((p.flags & f) != f || (p.clear & f) != 0)
		fprintf(stderr, "option %s\n", set);
	CHECK_INT(p.flags & f, f);
	CHECK_INT(p.clear & f, 0);
	CHECK(p.data == NULL);
	hutch_mount_plan_clear(&p);
	if (clr == NULL)
		return;
	p = parse(set, clr, NULL);
	if ((p.flags & f) != 0 || (p.clear & f) != f)
		fprintf(stderr, "option %s\n", clr);
	CHECK_INT(p.flags & f, 0);
	CHECK_INT(p.clear & f, f);
	hutch_mount_plan_clear(&p);
	p = parse(clr, set, NULL); /* the last word wins */
	CHECK_INT(p.flags & f, f);
	CHECK_INT(p.clear & f, 0);
	hutch_mount_plan_clear(&p);
}

TEST(flags)
{
	flag_pair("ro", "rw", MS_RDONLY);
	flag_pair("nosuid", "suid", MS_NOSUID);
	flag_pair("nodev", "dev", MS_NODEV);
	flag_pair("noexec", "exec", MS_NOEXEC);
	flag_pair("sync", "async", MS_SYNCHRONOUS);
	flag_pair("dirsync", NULL, MS_DIRSYNC);
	flag_pair("remount", NULL, MS_REMOUNT);
	flag_pair("mand", "nomand", MS_MANDLOCK);
	flag_pair("noatime", "atime", MS_NOATIME);
	flag_pair("nodiratime", "diratime", MS_NODIRATIME);
	flag_pair("relatime", "norelatime", MS_RELATIME);
	flag_pair("strictatime", "nostrictatime", MS_STRICTATIME);
	flag_pair("nosymfollow", "symfollow", MS_NOSYMFOLLOW);
	flag_pair("lazytime", "nolazytime", MS_LAZYTIME);
	flag_pair("silent", "loud", MS_SILENT);
	flag_pair("acl", "noacl", MS_POSIXACL);
	flag_pair("iversion", "noiversion", MS_I_VERSION);
}

TEST(atime_modes_exclusive)
{
	struct hutch_mount_plan p = parse("noatime", "relatime", NULL);

	CHECK_INT(p.flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME), MS_RELATIME);
	CHECK(p.atime_given);
	hutch_mount_plan_clear(&p);
	p = parse("relatime", "strictatime", NULL);
	CHECK_INT(p.flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME), MS_STRICTATIME);
	hutch_mount_plan_clear(&p);
	p = parse("ro", NULL, NULL);
	CHECK(!p.atime_given);
}

TEST(bind)
{
	struct hutch_mount_plan p = parse("bind", NULL, NULL);

	CHECK(p.is_bind);
	CHECK(!p.is_rbind);
	CHECK_INT(p.flags, 0);
	p = parse("rbind", "ro", NULL);
	CHECK(p.is_bind);
	CHECK(p.is_rbind);
	CHECK_INT(p.flags, MS_RDONLY);
	CHECK(hutch_mount_plan_needs_remount(&p));
	p = parse("rbind", NULL, NULL);
	CHECK(!hutch_mount_plan_needs_remount(&p));
	p = parse("defaults", NULL, NULL);
	CHECK_INT(p.flags, 0);
	CHECK(p.data == NULL);
}

TEST(propagation)
{
	static const struct {
		const char *name;
		unsigned long f;
	} t[] = {
	    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
	    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
	    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
	    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct hutch_mount_plan p = parse("bind", t[i].name, NULL);
		CHECK_INT(p.n_propagation, 1);
		CHECK_INT(p.propagation[0], t[i].f);
		CHECK_INT(p.flags, 0);
	}
	struct hutch_mount_plan p = parse("rslave", "shared", NULL);
	CHECK_INT(p.n_propagation, 2);
	CHECK_INT(p.propagation[0], MS_SLAVE | MS_REC);
	CHECK_INT(p.propagation[1], MS_SHARED);
	CHECK_INT(hutch_mount_propagation_flags(HUTCH_PROPAGATION_RSHARED), MS_SHARED | MS_REC);
	CHECK_INT(hutch_mount_propagation_flags(HUTCH_PROPAGATION_SLAVE), MS_SLAVE);
	CHECK_INT(hutch_mount_propagation_flags(HUTCH_PROPAGATION_UNSET), 0);
}

static void rec(const char *name, uint64_t set, uint64_t clr)
{
	struct hutch_mount_plan p = parse(name, NULL, NULL);

	if (p.rec_set != set || p.rec_clr != clr)
		fprintf(stderr, "option %s\n", name);
	CHECK(p.has_rec_attr);
	CHECK_INT(p.rec_set, set);
	CHECK_INT(p.rec_clr, clr);
	CHECK_STR(p.first_rec_option, name);
	CHECK_INT(p.flags, 0);
}

TEST(recursive)
{
	rec("rro", MOUNT_ATTR_RDONLY, 0);
	rec("rrw", 0, MOUNT_ATTR_RDONLY);
	rec("rnosuid", MOUNT_ATTR_NOSUID, 0);
	rec("rsuid", 0, MOUNT_ATTR_NOSUID);
	rec("rnodev", MOUNT_ATTR_NODEV, 0);
	rec("rdev", 0, MOUNT_ATTR_NODEV);
	rec("rnoexec", MOUNT_ATTR_NOEXEC, 0);
	rec("rexec", 0, MOUNT_ATTR_NOEXEC);
	rec("rnodiratime", MOUNT_ATTR_NODIRATIME, 0);
	rec("rdiratime", 0, MOUNT_ATTR_NODIRATIME);
	rec("rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0);
	rec("rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW);
	rec("ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME);
	rec("rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME);
	rec("rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME);
	rec("rnorelatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME);
	rec("rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME);
	rec("rnostrictatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME);

	struct hutch_mount_plan p = parse("rro", "rrw", "rnoatime");
	CHECK_INT(p.rec_set, MOUNT_ATTR_NOATIME);
	CHECK_INT(p.rec_clr, MOUNT_ATTR_RDONLY | MOUNT_ATTR__ATIME);
	CHECK_STR(p.first_rec_option, "rro");
	p = parse("rnoatime", "rstrictatime", NULL);
	CHECK_INT(p.rec_set, MOUNT_ATTR_STRICTATIME);
	p = parse("ro", NULL, NULL);
	CHECK(!p.has_rec_attr);
}

TEST(data)
{
	struct hutch_mount_plan p = parse("nosuid", "mode=755", "size=65536k");

	CHECK_INT(p.flags, MS_NOSUID);
	CHECK_STR(p.data, "mode=755,size=65536k");
	hutch_mount_plan_clear(&p);
	CHECK(p.data == NULL);
	p = parse("newinstance", "ptmxmode=0666", "gid=5");
	CHECK_STR(p.data, "newinstance,ptmxmode=0666,gid=5");
	hutch_mount_plan_clear(&p);
	p = parse(NULL, NULL, NULL);
	CHECK(p.data == NULL);
	CHECK_INT(p.flags, 0);
}

TEST(misc)
{
	struct hutch_mount_plan p = parse("tmpcopyup", NULL, NULL);
	_cleanup_error_ struct hutch_error *err = NULL;
	char *bad[] = {"ro", "", NULL};

	CHECK(p.tmpcopyup);
	CHECK(p.data == NULL);
	p = parse("idmap", NULL, NULL);
	CHECK(p.idmap && !p.idmap_recursive);
	p = parse("ridmap", NULL, NULL);
	CHECK(p.idmap && p.idmap_recursive);
	CHECK_INT(hutch_mount_plan_parse(bad, &p, &err), -1);
	CHECK(err != NULL && err->code == EINVAL);
}

TEST(locked)
{
	struct hutch_mount_plan p = parse("ro", NULL, NULL);

	CHECK_INT(hutch_mount_locked_flags(&p, ST_NOSUID | ST_NODEV | ST_RELATIME),
		  MS_NOSUID | MS_NODEV | MS_RELATIME);
	p = parse("suid", "noatime", NULL);
	CHECK_INT(hutch_mount_locked_flags(&p, ST_NOSUID | ST_NOEXEC | ST_RELATIME), MS_NOEXEC);
	p = parse("rw", NULL, NULL);
	CHECK_INT(hutch_mount_locked_flags(&p, ST_RDONLY), 0);
	p = parse(NULL, NULL, NULL);
	CHECK_INT(hutch_mount_locked_flags(&p, ST_RDONLY), MS_RDONLY);
}

TEST(mount_label)
{
	char *d = hutch_mount_label_data("tmpfs", "mode=755", "system_u:object_r:x_t:s0:c1,c2");
	CHECK_STR(d, "mode=755,context=\"system_u:object_r:x_t:s0:c1,c2\"");
	free(d);
	d = hutch_mount_label_data("mqueue", NULL, "l");
	CHECK_STR(d, "context=\"l\"");
	free(d);
	CHECK(hutch_mount_label_data("proc", NULL, "l") == NULL);
	CHECK(hutch_mount_label_data("tmpfs", "context=x", "l") == NULL);
	CHECK(hutch_mount_label_data("tmpfs", NULL, NULL) == NULL);
	CHECK(hutch_mount_label_data("tmpfs", NULL, "") == NULL);
}

int main(void)
{
	RUN(mount_label);
	RUN(flags);
	RUN(atime_modes_exclusive);
	RUN(bind);
	RUN(propagation);
	RUN(recursive);
	RUN(data);
	RUN(misc);
	RUN(locked);
	return test_summary();
}
