#include "linux/mount.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "spec/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

enum kind {
	K_SET,	  /* flags |= v */
	K_CLR,	  /* flags &= ~v */
	K_PROP,	  /* propagation change */
	K_RSET,	  /* mount_setattr attr_set */
	K_RCLR,	  /* mount_setattr attr_clr */
	K_RATIME, /* recursive atime mode (an enum in MOUNT_ATTR__ATIME) */
	K_BIND,
	K_RBIND,
	K_TMPCOPYUP,
	K_IDMAP,
	K_RIDMAP,
	K_NOP,
};

struct opt {
	const char *name;
	enum kind kind;
	unsigned long value;
	bool atime; /* a non-recursive atime option */
};

/* The list features.md advertises (mountOptions), plus "defaults". */
static const struct opt opts[] = {
    {"defaults", K_NOP, 0, false},
    {"bind", K_BIND, 0, false},
    {"rbind", K_RBIND, 0, false},
    {"ro", K_SET, MS_RDONLY, false},
    {"rw", K_CLR, MS_RDONLY, false},
    {"nosuid", K_SET, MS_NOSUID, false},
    {"suid", K_CLR, MS_NOSUID, false},
    {"nodev", K_SET, MS_NODEV, false},
    {"dev", K_CLR, MS_NODEV, false},
    {"noexec", K_SET, MS_NOEXEC, false},
    {"exec", K_CLR, MS_NOEXEC, false},
    {"sync", K_SET, MS_SYNCHRONOUS, false},
    {"async", K_CLR, MS_SYNCHRONOUS, false},
    {"dirsync", K_SET, MS_DIRSYNC, false},
    {"remount", K_SET, MS_REMOUNT, false},
    {"mand", K_SET, MS_MANDLOCK, false},
    {"nomand", K_CLR, MS_MANDLOCK, false},
    {"atime", K_CLR, MS_NOATIME, true},
    {"noatime", K_SET, MS_NOATIME, true},
    {"diratime", K_CLR, MS_NODIRATIME, true},
    {"nodiratime", K_SET, MS_NODIRATIME, true},
    {"relatime", K_SET, MS_RELATIME, true},
    {"norelatime", K_CLR, MS_RELATIME, true},
    {"strictatime", K_SET, MS_STRICTATIME, true},
    {"nostrictatime", K_CLR, MS_STRICTATIME, true},
    {"nosymfollow", K_SET, MS_NOSYMFOLLOW, false},
    {"symfollow", K_CLR, MS_NOSYMFOLLOW, false},
    {"lazytime", K_SET, MS_LAZYTIME, false},
    {"nolazytime", K_CLR, MS_LAZYTIME, false},
    {"silent", K_SET, MS_SILENT, false},
    {"loud", K_CLR, MS_SILENT, false},
    {"acl", K_SET, MS_POSIXACL, false},
    {"noacl", K_CLR, MS_POSIXACL, false},
    {"iversion", K_SET, MS_I_VERSION, false},
    {"noiversion", K_CLR, MS_I_VERSION, false},
    {"private", K_PROP, MS_PRIVATE, false},
    {"rprivate", K_PROP, MS_PRIVATE | MS_REC, false},
    {"shared", K_PROP, MS_SHARED, false},
    {"rshared", K_PROP, MS_SHARED | MS_REC, false},
    {"slave", K_PROP, MS_SLAVE, false},
    {"rslave", K_PROP, MS_SLAVE | MS_REC, false},
    {"unbindable", K_PROP, MS_UNBINDABLE, false},
    {"runbindable", K_PROP, MS_UNBINDABLE | MS_REC, false},
    {"tmpcopyup", K_TMPCOPYUP, 0, false},
    {"idmap", K_IDMAP, 0, false},
    {"ridmap", K_RIDMAP, 0, false},
    {"rro", K_RSET, MOUNT_ATTR_RDONLY, false},
    {"rrw", K_RCLR, MOUNT_ATTR_RDONLY, false},
    {"rnosuid", K_RSET, MOUNT_ATTR_NOSUID, false},
    {"rsuid", K_RCLR, MOUNT_ATTR_NOSUID, false},
    {"rnodev", K_RSET, MOUNT_ATTR_NODEV, false},
    {"rdev", K_RCLR, MOUNT_ATTR_NODEV, false},
    {"rnoexec", K_RSET, MOUNT_ATTR_NOEXEC, false},
    {"rexec", K_RCLR, MOUNT_ATTR_NOEXEC, false},
    {"rnodiratime", K_RSET, MOUNT_ATTR_NODIRATIME, false},
    {"rdiratime", K_RCLR, MOUNT_ATTR_NODIRATIME, false},
    {"rnosymfollow", K_RSET, MOUNT_ATTR_NOSYMFOLLOW, false},
    {"rsymfollow", K_RCLR, MOUNT_ATTR_NOSYMFOLLOW, false},
    /* The atime mode is an enum inside MOUNT_ATTR__ATIME: the kernel wants
     * the whole mask in attr_clr and the new mode in attr_set.  "ratime"
     * and "rnostrictatime" mean "not noatime/strictatime": the default,
     * relatime; "rnorelatime" means strictatime (mount(8)). */
    {"ratime", K_RATIME, MOUNT_ATTR_RELATIME, false},
    {"rnoatime", K_RATIME, MOUNT_ATTR_NOATIME, false},
    {"rrelatime", K_RATIME, MOUNT_ATTR_RELATIME, false},
    {"rnorelatime", K_RATIME, MOUNT_ATTR_STRICTATIME, false},
    {"rstrictatime", K_RATIME, MOUNT_ATTR_STRICTATIME, false},
    {"rnostrictatime", K_RATIME, MOUNT_ATTR_RELATIME, false},
};

static const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(opts); i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static int append_data(struct hutch_mount_plan *p, const char *word, struct hutch_error **err)
{
	size_t old = p->data ? strlen(p->data) : 0, n = strlen(word);
	char *d = realloc(p->data, old + n + 2);

	if (d == NULL)
		return hutch_error_set(err, ENOMEM, "mount option %s", word);
	if (old > 0)
		d[old++] = ',';
	memcpy(d + old, word, n + 1);
	p->data = d;
	return 0;
}

int hutch_mount_plan_parse(char *const *options, struct hutch_mount_plan *out,
			   struct hutch_error **err)
{
	struct hutch_mount_plan p = {0};

	for (size_t i = 0; options != NULL && options[i] != NULL; i++) {
		const char *w = options[i];
		const struct opt *o;

		if (w[0] == '\0') {
			hutch_mount_plan_clear(&p);
			return hutch_error_set(err, EINVAL, "mount options: empty option");
		}
		o = find_opt(w);
		if (o == NULL) {
			if (append_data(&p, w, err) < 0) {
				hutch_mount_plan_clear(&p);
				return -1;
			}
			continue;
		}
		if (o->atime)
			p.atime_given = true;
		switch (o->kind) {
		case K_SET:
			p.flags |= o->value;
			p.clear &= ~o->value;
			/* relatime/strictatime/noatime exclude each other */
			if (o->value == MS_NOATIME || o->value == MS_RELATIME ||
			    o->value == MS_STRICTATIME) {
				unsigned long others =
				    (MS_NOATIME | MS_RELATIME | MS_STRICTATIME) & ~o->value;
				p.flags &= ~others;
			}
			break;
		case K_CLR:
			p.flags &= ~o->value;
			p.clear |= o->value;
			break;
		case K_PROP:
			if (p.n_propagation >= HUTCH_MOUNT_MAX_PROPAGATION) {
				hutch_mount_plan_clear(&p);
				return hutch_error_set(
				    err, E2BIG, "mount options: too many propagation options");
			}
			p.propagation[p.n_propagation++] = o->value;
			break;
		case K_RSET:
			p.rec_set |= o->value;
			p.rec_clr &= ~o->value;
			goto rec;
		case K_RCLR:
			p.rec_clr |= o->value;
			p.rec_set &= ~o->value;
			goto rec;
		case K_RATIME:
			p.rec_clr |= MOUNT_ATTR__ATIME;
			p.rec_set = (p.rec_set & ~(uint64_t)MOUNT_ATTR__ATIME) | o->value;
		rec:
			if (!p.has_rec_attr)
				p.first_rec_option = o->name;
			p.has_rec_attr = true;
			break;
		case K_BIND:
			p.is_bind = true;
			break;
		case K_RBIND:
			p.is_bind = true;
			p.is_rbind = true;
			break;
		case K_TMPCOPYUP:
			p.tmpcopyup = true;
			break;
		case K_IDMAP:
			p.idmap = true;
			break;
		case K_RIDMAP:
			p.idmap = true;
			p.idmap_recursive = true;
			break;
		case K_NOP:
			break;
		}
	}
	*out = p;
	return 0;
}

void hutch_mount_plan_clear(struct hutch_mount_plan *p)
{
	free(p->data);
	*p = (struct hutch_mount_plan){0};
}

unsigned long hutch_mount_locked_flags(const struct hutch_mount_plan *p, unsigned long st_flags)
{
	static const struct {
		unsigned long st, ms;
	} lockable[] = {
	    {ST_NOSUID, MS_NOSUID},
	    {ST_NODEV, MS_NODEV},
	    {ST_NOEXEC, MS_NOEXEC},
	    {ST_RDONLY, MS_RDONLY},
	};
	unsigned long r = 0;

	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(lockable); i++)
		if ((st_flags & lockable[i].st) && !(p->clear & lockable[i].ms))
			r |= lockable[i].ms;
	/* The atime mode is locked as a whole: keep the source's unless the
	 * options choose one. */
	if (!p->atime_given) {
		if (st_flags & ST_NOATIME)
			r |= MS_NOATIME;
		if (st_flags & ST_NODIRATIME)
			r |= MS_NODIRATIME;
		if (st_flags & ST_RELATIME)
			r |= MS_RELATIME;
	}
	return r;
}

bool hutch_mount_plan_needs_remount(const struct hutch_mount_plan *p)
{
	const unsigned long remountable = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
					  MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
					  MS_STRICTATIME | MS_NOSYMFOLLOW | MS_SYNCHRONOUS |
					  MS_DIRSYNC | MS_MANDLOCK | MS_LAZYTIME;

	return (p->flags & remountable) != 0 || (p->clear & remountable) != 0;
}

unsigned long hutch_mount_propagation_flags(int prop)
{
	switch (prop) {
	case HUTCH_PROPAGATION_PRIVATE:
		return MS_PRIVATE;
	case HUTCH_PROPAGATION_SHARED:
		return MS_SHARED;
	case HUTCH_PROPAGATION_SLAVE:
		return MS_SLAVE;
	case HUTCH_PROPAGATION_UNBINDABLE:
		return MS_UNBINDABLE;
	case HUTCH_PROPAGATION_RPRIVATE:
		return MS_PRIVATE | MS_REC;
	case HUTCH_PROPAGATION_RSHARED:
		return MS_SHARED | MS_REC;
	case HUTCH_PROPAGATION_RSLAVE:
		return MS_SLAVE | MS_REC;
	case HUTCH_PROPAGATION_RUNBINDABLE:
		return MS_UNBINDABLE | MS_REC;
	default:
		return 0;
	}
}

char *hutch_mount_label_data(const char *type, const char *data, const char *label)
{
	static const char *const types[] = {"tmpfs", "devpts", "mqueue"};
	bool takes = false;
	char *out = NULL;

	if (label == NULL || label[0] == '\0' || type == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(type, types[i]) == 0)
			takes = true;
	if (!takes || (data != NULL && strstr(data, "context=") != NULL))
		return NULL;
	if (asprintf(&out, "%s%scontext=\"%s\"", data != NULL ? data : "",
		     data != NULL && data[0] != '\0' ? "," : "", label) < 0)
		return NULL;
	return out;
}
