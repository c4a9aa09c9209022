/* Mount options of an OCI mount, decoded into a plan (pure; unit-tested).
 *
 * The OCI "options" array mixes four kinds of words: mount(2) flags ("ro",
 * "nosuid", "bind"), propagation changes applied after the mount ("rslave"),
 * recursive attributes for mount_setattr(AT_RECURSIVE) ("rro", "rnoexec", Linux
 * 5.12) and filesystem data ("mode=755", "size=65536k").  Later words win
 * ("ro,rw" is rw), as with mount(8).  Unknown words are filesystem data, in
 * order, comma-joined: that is what runc and crun do, and what engines expect
 * ("uid=5,gid=5" for devpts, "newinstance", ...).
 */
#ifndef HUTCH_LINUX_MOUNT_H
#define HUTCH_LINUX_MOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hutch_error;

#define HUTCH_MOUNT_MAX_PROPAGATION 8

struct hutch_mount_plan {
	unsigned long flags; /* MS_* for mount(2): set */
	unsigned long clear; /* MS_* explicitly cleared ("rw", "suid", "atime"...) */
	/* Propagation changes (MS_PRIVATE, MS_SLAVE|MS_REC, ...) in order. */
	unsigned long propagation[HUTCH_MOUNT_MAX_PROPAGATION];
	size_t n_propagation;
	/* struct mount_attr attr_set / attr_clr for mount_setattr(AT_RECURSIVE). */
	uint64_t rec_set;
	uint64_t rec_clr;
	bool has_rec_attr;
	const char *first_rec_option; /* name of the first r* attribute (for errors) */
	bool is_bind;		      /* "bind" or "rbind" */
	bool is_rbind;		      /* "rbind" */
	bool tmpcopyup;		      /* copy the lower directory into the new tmpfs */
	bool idmap;		      /* "idmap" or "ridmap" */
	bool idmap_recursive;
	bool atime_given;  /* some non-recursive atime option was given */
	bool implicit_rro; /* rec RDONLY added by hutch for "ro" over a host bind:
			    * without mount_setattr, remount the submounts */
	char *data;	   /* unknown options, comma-joined; NULL if none */
};

/* Decode OPTIONS (NULL-terminated, may be NULL).  Returns 0, or -1 with *err
 * set (out of memory, too many propagation options, an empty option). */
int hutch_mount_plan_parse(char *const *options, struct hutch_mount_plan *out,
			   struct hutch_error **err);
void hutch_mount_plan_clear(struct hutch_mount_plan *p);

/* The MS_* flags a bind remount must carry besides the requested ones:
 * nosuid/nodev/noexec/rdonly and the atime mode of the source (statfs
 * f_flags, ST_*) are locked in a user namespace (MNT_LOCK_*), and a remount
 * without them fails with EPERM.  Flags the plan clears explicitly are not
 * kept (the kernel then refuses, which is the truthful answer).  rdonly is
 * kept only when the plan neither sets nor clears it. */
unsigned long hutch_mount_locked_flags(const struct hutch_mount_plan *p, unsigned long st_flags);

/* True when the flags need a second MS_BIND|MS_REMOUNT pass after a bind. */
bool hutch_mount_plan_needs_remount(const struct hutch_mount_plan *p);

/* linux.mountLabel for a mount of TYPE with DATA (may be NULL): a new
 * string with context="LABEL" appended for the file systems that take it
 * (tmpfs, devpts, mqueue, as runc does), or NULL when nothing is to be
 * added (no label, another type, or DATA already has a context option). */
char *hutch_mount_label_data(const char *type, const char *data, const char *label);

/* The propagation flags for a rootfsPropagation value (0 for UNSET). */
unsigned long hutch_mount_propagation_flags(int hutch_propagation);

#endif
