#include "ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

unsigned long hutch_ns_clone_flag(enum hutch_ns_type t)
{
	switch (t) {
	case HUTCH_NS_PID:
		return CLONE_NEWPID;
	case HUTCH_NS_NETWORK:
		return CLONE_NEWNET;
	case HUTCH_NS_MOUNT:
		return CLONE_NEWNS;
	case HUTCH_NS_IPC:
		return CLONE_NEWIPC;
	case HUTCH_NS_UTS:
		return CLONE_NEWUTS;
	case HUTCH_NS_USER:
		return CLONE_NEWUSER;
	case HUTCH_NS_CGROUP:
		return CLONE_NEWCGROUP;
	case HUTCH_NS_TIME:
		return CLONE_NEWTIME;
	default:
		return 0;
	}
}

int hutch_ns_plan(const struct hutch_linux *l, struct hutch_ns_plan *p, struct hutch_error **err)
{
	const struct hutch_namespace *ns = l->namespaces;
	bool any_join = false;
	unsigned long new_flags = 0;

	memset(p, 0, sizeof(*p));
	for (int t = 0; t < HUTCH_NS__COUNT; t++) {
		if (!ns[t].present)
			continue;
		if (ns[t].path != NULL)
			any_join = true;
		else if (t != HUTCH_NS_USER && t != HUTCH_NS_CGROUP && t != HUTCH_NS_TIME)
			new_flags |= hutch_ns_clone_flag(t);
	}
	p->new_user = ns[HUTCH_NS_USER].present && ns[HUTCH_NS_USER].path == NULL;

	if ((l->n_uid_mappings > 0 || l->n_gid_mappings > 0) && !p->new_user)
		return hutch_error_set(err, EINVAL,
				       "linux.uidMappings: mappings need a new user namespace");
	if (p->new_user && (l->n_uid_mappings == 0 || l->n_gid_mappings == 0))
		return hutch_error_set(err, EINVAL,
				       "linux.uidMappings: a new user namespace needs uidMappings "
				       "and gidMappings");
	if ((l->time_monotonic.present || l->time_boottime.present) &&
	    !(ns[HUTCH_NS_TIME].present && ns[HUTCH_NS_TIME].path == NULL))
		return hutch_error_set(err, EINVAL,
				       "linux.timeOffsets: offsets need a new time namespace");
	/* Without a mount namespace of its own the container's mounts (and
	 * making "/" rslave) would change the host's mount table: refused. */
	if (!ns[HUTCH_NS_MOUNT].present)
		return hutch_error_set(err, EINVAL,
				       "linux.namespaces: hutch needs a mount namespace (new or "
				       "joined) to set up the root filesystem");

	/* Joins: the user namespace first, then the rest in a fixed order. */
	if (ns[HUTCH_NS_USER].present && ns[HUTCH_NS_USER].path != NULL)
		p->join[p->n_join++] = HUTCH_NS_USER;
	for (int t = 0; t < HUTCH_NS__COUNT; t++)
		if (t != HUTCH_NS_USER && ns[t].present && ns[t].path != NULL)
			p->join[p->n_join++] = t;

	if (!any_join) {
		p->clone_flags = new_flags | (p->new_user ? CLONE_NEWUSER : 0);
	} else {
		p->unshare_user = p->new_user;
		p->unshare_flags = new_flags;
	}
	p->unshare_cgroup = ns[HUTCH_NS_CGROUP].present && ns[HUTCH_NS_CGROUP].path == NULL;
	p->unshare_time = ns[HUTCH_NS_TIME].present && ns[HUTCH_NS_TIME].path == NULL;
	p->second_fork = p->unshare_time || (ns[HUTCH_NS_PID].present && ns[HUTCH_NS_PID].path) ||
			 (p->unshare_flags & CLONE_NEWPID) ||
			 (ns[HUTCH_NS_TIME].present && ns[HUTCH_NS_TIME].path);
	/* With a second fork the intermediate child exits: it must not be
	 * pid 1 of the new pid namespace (that would kill the namespace), so
	 * the grandchild is made its init by unsharing instead. */
	if (p->second_fork && (p->clone_flags & CLONE_NEWPID)) {
		p->clone_flags &= ~(unsigned long)CLONE_NEWPID;
		p->unshare_flags |= CLONE_NEWPID;
	}
	return 0;
}

int hutch_ns_open_paths(const struct hutch_linux *l, int fds[HUTCH_NS__COUNT],
			struct hutch_error **err)
{
	for (int t = 0; t < HUTCH_NS__COUNT; t++)
		fds[t] = -1;
	for (int t = 0; t < HUTCH_NS__COUNT; t++) {
		const char *path = l->namespaces[t].path;
		struct statfs sfs;
		int fd, type;

		if (!l->namespaces[t].present || path == NULL)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			hutch_error_errno(err, "linux.namespaces: open %s namespace %s",
					  hutch_ns_name(t), path);
			goto fail;
		}
		fds[t] = fd;
		if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC) {
			hutch_error_set(
			    err, EINVAL,
			    "linux.namespaces: %s is not a namespace file (%s namespace)", path,
			    hutch_ns_name(t));
			goto fail;
		}
		type = ioctl(fd, NS_GET_NSTYPE);
		if (type >= 0 && (unsigned long)type != hutch_ns_clone_flag(t)) {
			hutch_error_set(err, EINVAL, "linux.namespaces: %s is not a %s namespace",
					path, hutch_ns_name(t));
			goto fail;
		}
	}
	return 0;
fail:
	for (int t = 0; t < HUTCH_NS__COUNT; t++)
		hutch_closep(&fds[t]);
	return -1;
}

int hutch_ns_join(const struct hutch_ns_plan *plan, const int fds[HUTCH_NS__COUNT],
		  struct hutch_error **err)
{
	for (size_t i = 0; i < plan->n_join; i++) {
		int t = plan->join[i];
		if (setns(fds[t], (int)hutch_ns_clone_flag(t)) < 0)
			return hutch_error_errno(err, "join %s namespace", hutch_ns_name(t));
	}
	return 0;
}

char *hutch_ns_format_idmap(const struct hutch_idmap *m, size_t n)
{
	size_t cap = n * 36 + 1, off = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		return NULL;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%u %u %u\n", m[i].container_id,
					m[i].host_id, m[i].size);
	return buf;
}

static int write_proc(pid_t pid, const char *file, const char *data, struct hutch_error **err)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	hutch_debug("write %s: %s", path, data);
	return hutch_write_file(path, data, strlen(data), err);
}

/* newuidmap/newgidmap (shadow's uidmap package) PID C H S [C H S ...]:
 * setuid helpers that let an ordinary user map the ranges /etc/subuid and
 * /etc/subgid grant it. */
static int run_idmap_helper(const char *tool, pid_t pid, const struct hutch_idmap *m, size_t n,
			    const char *field, struct hutch_error **err)
{
	_cleanup_free_ char **argv = calloc(3 * n + 3, sizeof(char *));
	_cleanup_free_ char *nums = malloc((3 * n + 1) * 12);
	size_t a = 0, off = 0;
	int status;
	pid_t child;

	if (argv == NULL || nums == NULL)
		return hutch_error_set(err, ENOMEM, "%s", tool);
	argv[a++] = (char *)tool;
	argv[a++] = nums + off;
	off += (size_t)sprintf(nums + off, "%d", (int)pid) + 1;
	for (size_t i = 0; i < n; i++) {
		unsigned v[3] = {m[i].container_id, m[i].host_id, m[i].size};
		for (int k = 0; k < 3; k++) {
			argv[a++] = nums + off;
			off += (size_t)sprintf(nums + off, "%u", v[k]) + 1;
		}
	}
	argv[a] = NULL;
	hutch_debug("run %s for pid %d (%zu ranges)", tool, (int)pid, n);
	child = fork();
	if (child < 0)
		return hutch_error_errno(err, "%s: fork %s", field, tool);
	if (child == 0) {
		execvp(tool, argv);
		_exit(127);
	}
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return hutch_error_errno(err, "%s: wait for %s", field, tool);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return hutch_error_set(err, ENOENT,
				       "%s: %s not found (an unprivileged user needs it to map "
				       "several ids: install Debian's uidmap package)",
				       field, tool);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return hutch_error_set(err, EPERM,
				       "%s: %s failed (are the ranges granted in /etc/sub%cid?)",
				       field, tool, tool[3] == 'u' ? 'u' : 'g');
	return 0;
}

/* The one mapping an unprivileged process may write itself: its own id. */
static bool only_self(const struct hutch_idmap *m, size_t n, unsigned self)
{
	return n == 1 && m[0].host_id == self && m[0].size == 1;
}

int hutch_ns_write_idmaps(pid_t pid, const struct hutch_linux *l, bool deny_setgroups,
			  struct hutch_error **err)
{
	_cleanup_free_ char *u = hutch_ns_format_idmap(l->uid_mappings, l->n_uid_mappings);
	_cleanup_free_ char *g = hutch_ns_format_idmap(l->gid_mappings, l->n_gid_mappings);
	bool root = geteuid() == 0;

	if (u == NULL || g == NULL)
		return hutch_error_set(err, ENOMEM, "id maps");
	if (root) {
		if (deny_setgroups && write_proc(pid, "setgroups", "deny", err) < 0)
			return -1;
		if (write_proc(pid, "uid_map", u, err) < 0)
			return hutch_error_prefix(err, "linux.uidMappings");
		if (write_proc(pid, "gid_map", g, err) < 0)
			return hutch_error_prefix(err, "linux.gidMappings");
		return 0;
	}
	/* Not root (rootless): the kernel lets us map our own uid and gid only,
	 * and the gid only after setgroups is denied (Linux 3.19, CVE-2014-8989);
	 * anything else goes through newuidmap/newgidmap, as runc does. */
	if (only_self(l->uid_mappings, l->n_uid_mappings, geteuid())) {
		if (write_proc(pid, "uid_map", u, err) < 0)
			return hutch_error_prefix(err, "linux.uidMappings");
	} else if (run_idmap_helper("newuidmap", pid, l->uid_mappings, l->n_uid_mappings,
				    "linux.uidMappings", err) < 0) {
		return -1;
	}
	if (only_self(l->gid_mappings, l->n_gid_mappings, getegid())) {
		if (write_proc(pid, "setgroups", "deny", err) < 0 ||
		    write_proc(pid, "gid_map", g, err) < 0)
			return hutch_error_prefix(err, "linux.gidMappings");
	} else if (run_idmap_helper("newgidmap", pid, l->gid_mappings, l->n_gid_mappings,
				    "linux.gidMappings", err) < 0) {
		return -1;
	}
	return 0;
}

char *hutch_ns_format_time_offsets(const struct hutch_linux *l)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	if (l->time_monotonic.present)
		fprintf(f, "monotonic %lld %u\n", (long long)l->time_monotonic.secs,
			l->time_monotonic.nanosecs);
	if (l->time_boottime.present)
		fprintf(f, "boottime %lld %u\n", (long long)l->time_boottime.secs,
			l->time_boottime.nanosecs);
	fclose(f);
	return buf;
}

int hutch_ns_loopback_up(struct hutch_error **err)
{
	struct ifreq ifr;
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return hutch_error_errno(err, "loopback: socket");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return hutch_error_errno(err, "loopback: get flags of lo");
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return hutch_error_errno(err, "loopback: bring lo up");
	return 0;
}
