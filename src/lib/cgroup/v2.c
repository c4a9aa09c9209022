/* cgroup v2 specifics: enabling controllers down the tree, cgroup.freeze,
 * and the device filter, which v2 has no controller for: an eBPF program of
 * type BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup. */
#include "cgroup/cgroup-internal.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "spec/model.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- controllers ---------------------------------------------------------- */

int hutch_cg_v2_enable_controllers(const char *root, const char *dir, struct hutch_error **err)
{
	_cleanup_free_ char *avail = hutch_cg_read(dir, "cgroup.controllers", NULL);
	_cleanup_free_ char *on = hutch_cg_read(dir, "cgroup.subtree_control", NULL);
	char *save = NULL;

	(void)root;
	(void)err;
	if (avail == NULL)
		return 0; /* not a cgroup2 directory (unit tests); nothing to enable */
	/* Each controller on its own: one that cannot be enabled (e.g. a
	 * threaded subtree) must not keep the others off.  A limit that needs
	 * it then fails in apply, naming its file. */
	for (char *c = strtok_r(avail, " \n", &save); c != NULL; c = strtok_r(NULL, " \n", &save)) {
		_cleanup_error_ struct hutch_error *e = NULL;
		char buf[64];
		bool enabled = false;

		if (on != NULL) {
			for (char *p = strstr(on, c); p != NULL; p = strstr(p + 1, c)) {
				size_t l = strlen(c);
				if ((p == on || p[-1] == ' ') &&
				    (p[l] == ' ' || p[l] == '\n' || p[l] == '\0'))
					enabled = true;
			}
		}
		if (enabled)
			continue;
		snprintf(buf, sizeof(buf), "+%s", c);
		if (hutch_cg_write(dir, "cgroup.subtree_control", buf, &e) < 0)
			hutch_debug("cgroup: cannot enable %s in %s: %s", c, dir,
				    hutch_error_text(e));
	}
	return 0;
}

/* ---- freezer ------------------------------------------------------------------ */

/* "frozen 1" in cgroup.events; -1 when unreadable. */
static int events_frozen(int fd)
{
	char buf[512];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *p;

	if (n < 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "frozen ");
	if (p == NULL || (p != buf && p[-1] != '\n'))
		return -1;
	return p[7] == '1';
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int hutch_cg_v2_freeze(const char *dir, bool freeze, struct hutch_error **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	long deadline;
	int st;

	if (hutch_cg_write(dir, "cgroup.freeze", freeze ? "1" : "0", err) < 0)
		return -1;
	if (asprintf(&path, "%s/cgroup.events", dir) < 0)
		return hutch_error_set(err, ENOMEM, "freeze %s", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hutch_error_errno(err, "open %s", path);
	/* The kernel reports the change in cgroup.events and wakes pollers
	 * (POLLPRI) when it happens: no busy loop. */
	deadline = now_ms() + 2 * hutch_cg_timeout_ms;
	while ((st = events_frozen(fd)) != (freeze ? 1 : 0)) {
		struct pollfd pfd = {fd, POLLPRI, 0};
		long left = deadline - now_ms();
		if (st < 0)
			return hutch_error_set(err, EIO, "%s: no \"frozen\" line", path);
		if (left <= 0) {
			if (freeze)
				hutch_cg_write(dir, "cgroup.freeze", "0", NULL);
			return hutch_error_set(err, EBUSY, "%s: still \"frozen %d\" after %d ms",
					       path, st, 2 * hutch_cg_timeout_ms);
		}
		if (poll(&pfd, 1, (int)(left > 50 ? 50 : left)) < 0 && errno != EINTR)
			return hutch_error_errno(err, "poll %s", path);
	}
	return 0;
}

int hutch_cg_v2_is_frozen(const char *dir, bool *frozen, struct hutch_error **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	int st;

	if (asprintf(&path, "%s/cgroup.events", dir) < 0)
		return hutch_error_set(err, ENOMEM, "read %s", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hutch_error_errno(err, "open %s", path);
	st = events_frozen(fd);
	if (st < 0)
		return hutch_error_set(err, EIO, "%s: no \"frozen\" line", path);
	*frozen = st == 1;
	return 0;
}

/* ---- device filter ------------------------------------------------------------- */

/* Registers of the program.  The context is struct bpf_cgroup_dev_ctx:
 * access_type (access << 16 | type), major, minor. */
enum { R_CTX = 1, R_TYPE = 3, R_ACC = 4, R_MAJ = 5, R_MIN = 6, R_TMP = 7 };

struct prog {
	struct bpf_insn *v;
	size_t n, cap;
	bool done; /* a rule matched unconditionally: the rest is unreachable,
		    * which the verifier refuses */
};

static int emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct bpf_insn *nv = realloc(p->v, cap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n] =
	    (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
	p->n++;
	return 0;
}

static int16_t acc_bits(const char *access)
{
	int16_t a = 0;

	if (access == NULL || *access == '\0')
		access = "rwm";
	for (; *access; access++)
		a |= *access == 'r'   ? BPF_DEVCG_ACC_READ
		     : *access == 'w' ? BPF_DEVCG_ACC_WRITE
		     : *access == 'm' ? BPF_DEVCG_ACC_MKNOD
				      : 0x100;
	return a;
}

/* One rule: a block that falls through to the next rule unless the request
 * matches, then returns the verdict.  An allow rule must grant every access
 * asked for; a deny rule matches if it covers any of them (as the v1
 * controller decides). */
static int emit_rule(struct prog *p, size_t idx, bool allow, char type, int64_t major,
		     int64_t minor, const char *access, struct hutch_error **err)
{
	size_t start = p->n, jumps[4], nj = 0;
	int16_t acc = acc_bits(access);
	int r = 0;

	if (acc & 0x100)
		return hutch_error_set(
		    err, EINVAL, "linux.resources.devices[%zu]: bad access \"%s\"", idx, access);
	if (type != 'a' && type != 'b' && type != 'c')
		return hutch_error_set(err, EINVAL, "linux.resources.devices[%zu]: bad type '%c'",
				       idx, type);
	if (major > INT32_MAX || minor > INT32_MAX)
		return hutch_error_set(
		    err, EINVAL, "linux.resources.devices[%zu]: device number too large", idx);
	if (type != 'a') {
		jumps[nj++] = p->n;
		r |= emit(p, BPF_JMP | BPF_JNE | BPF_K, R_TYPE, 0, 0,
			  type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
	}
	if (major >= 0) {
		jumps[nj++] = p->n;
		r |= emit(p, BPF_JMP | BPF_JNE | BPF_K, R_MAJ, 0, 0, (int32_t)major);
	}
	if (minor >= 0) {
		jumps[nj++] = p->n;
		r |= emit(p, BPF_JMP | BPF_JNE | BPF_K, R_MIN, 0, 0, (int32_t)minor);
	}
	if (acc != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
		r |= emit(p, BPF_ALU64 | BPF_MOV | BPF_X, R_TMP, R_ACC, 0, 0);
		r |= emit(p, BPF_ALU64 | BPF_AND | BPF_K, R_TMP, 0, 0, allow ? (~acc & 7) : acc);
		jumps[nj++] = p->n;
		r |= emit(p, BPF_JMP | (allow ? BPF_JNE : BPF_JEQ) | BPF_K, R_TMP, 0, 0, 0);
	}
	r |= emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, allow ? 1 : 0);
	r |= emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (r < 0)
		return hutch_error_set(err, ENOMEM, "device filter");
	for (size_t i = 0; i < nj; i++)
		p->v[jumps[i]].off = (int16_t)(p->n - jumps[i] - 1);
	p->done = nj == 0;
	(void)start;
	return 0;
}

/* Rules are evaluated last first, so the last matching rule wins (a later
 * "a" rule overrides all before it, as in the v1 controller); the defaults
 * hutch always grants come after the spec's rules.  No match: allow, as a
 * cgroup without a filter does. */
int hutch_cg_v2_device_prog(const struct hutch_resources *r, struct bpf_insn **insns, size_t *n,
			    struct hutch_error **err)
{
	struct prog p = {0};
	int rc = 0;

	rc |= emit(&p, BPF_LDX | BPF_MEM | BPF_W, 2, R_CTX, 0, 0);
	rc |= emit(&p, BPF_ALU64 | BPF_MOV | BPF_X, R_TYPE, 2, 0, 0);
	rc |= emit(&p, BPF_ALU64 | BPF_AND | BPF_K, R_TYPE, 0, 0, 0xffff);
	rc |= emit(&p, BPF_ALU64 | BPF_MOV | BPF_X, R_ACC, 2, 0, 0);
	rc |= emit(&p, BPF_ALU64 | BPF_RSH | BPF_K, R_ACC, 0, 0, 16);
	rc |= emit(&p, BPF_LDX | BPF_MEM | BPF_W, R_MAJ, R_CTX, 4, 0);
	rc |= emit(&p, BPF_LDX | BPF_MEM | BPF_W, R_MIN, R_CTX, 8, 0);
	if (rc < 0) {
		free(p.v);
		return hutch_error_set(err, ENOMEM, "device filter");
	}
	for (size_t i = hutch_cg_n_default_devices; i-- > 0 && !p.done;) {
		const struct hutch_cg_default_dev *d = &hutch_cg_default_devices[i];
		if (emit_rule(&p, i, true, d->type, d->major, d->minor, "rwm", err) < 0)
			goto fail;
	}
	for (size_t i = r->n_devices; i-- > 0 && !p.done;) {
		const struct hutch_device_rule *d = &r->devices[i];
		if (emit_rule(&p, i, d->allow, d->type ? d->type : 'a', d->major, d->minor,
			      d->access, err) < 0)
			goto fail;
	}
	if (!p.done && (emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1) < 0 ||
			emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0) < 0)) {
		hutch_error_set(err, ENOMEM, "device filter");
		goto fail;
	}
	if (p.n > 4096) {
		hutch_error_set(err, E2BIG, "linux.resources.devices: too many rules");
		goto fail;
	}
	*insns = p.v;
	*n = p.n;
	return 0;
fail:
	free(p.v);
	return -1;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* The ids of the device programs already on the cgroup (an update replaces
 * them: with BPF_F_ALLOW_MULTI every attached program must allow). */
static int query_progs(int cgfd, uint32_t *ids, uint32_t *cnt)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cgfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = *cnt;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return -1;
	*cnt = a.query.prog_cnt;
	return 0;
}

int hutch_cg_v2_devices(const char *dir, const struct hutch_resources *r, struct hutch_error **err)
{
	_cleanup_free_ struct bpf_insn *insns = NULL;
	_cleanup_close_ int cgfd = -1, progfd = -1;
	static char log[4096];
	uint32_t old[64], nold = HUTCH_ARRAY_SIZE(old);
	size_t n = 0;
	union bpf_attr a;

	if (hutch_cg_v2_device_prog(r, &insns, &n, err) < 0)
		return -1;
	cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return hutch_error_errno(err, "linux.resources.devices: open %s", dir);
	if (query_progs(cgfd, old, &nold) < 0)
		nold = 0;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t) "Apache";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	log[0] = '\0';
	hutch_debug("cgroup bpf device filter: %zu instructions for %s", n, dir);
	progfd = sys_bpf(BPF_PROG_LOAD, &a);
	if (progfd < 0 && errno == ENOSPC) { /* log too small: load without it */
		a.log_buf = 0;
		a.log_size = 0;
		a.log_level = 0;
		progfd = sys_bpf(BPF_PROG_LOAD, &a);
	}
	log[strcspn(log, "\n")] = '\0';
	if (progfd < 0)
		return hutch_error_errno(err,
					 "linux.resources.devices: load eBPF device filter%s%.200s",
					 log[0] ? ": " : "", log);
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)progfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	hutch_debug("cgroup bpf attach device filter to %s", dir);
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		return hutch_error_errno(
		    err, "linux.resources.devices: attach eBPF device filter to %s", dir);
	/* Detach the filters an earlier apply put there, now that the new one
	 * guards the cgroup (never a gap without a filter). */
	for (uint32_t i = 0; i < nold && i < HUTCH_ARRAY_SIZE(old); i++) {
		_cleanup_close_ int ofd = -1;
		memset(&a, 0, sizeof(a));
		a.prog_id = old[i];
		ofd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
		if (ofd < 0)
			continue;
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)cgfd;
		a.attach_bpf_fd = (uint32_t)ofd;
		a.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &a) < 0)
			return hutch_error_errno(
			    err,
			    "linux.resources.devices: detach old device filter "
			    "%u from %s",
			    old[i], dir);
	}
	return 0;
}
