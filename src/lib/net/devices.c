/* linux.netDevices (config-linux.md, runtime-spec 1.2+): network devices of
 * the namespace hutch runs in, moved into the container's network namespace
 * during create, before the container's process runs.
 *
 * For each device: its permanent addresses of global scope are read, the
 * link is moved and renamed in one RTM_NEWLINK (the kernel flushes its
 * addresses on the way), the addresses are added again inside, and the link
 * is set up.  Nothing is moved back: when the network namespace goes away
 * the kernel returns physical devices to the initial namespace and destroys
 * virtual ones, as the spec describes (and a failed create kills the init,
 * so the same happens to what it had moved). */
#include "net/net.h"
#include "net/nl.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "spec/model.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The addresses the spec asks to keep: permanent, of global scope. */
static bool kept(const struct hutch_nl_addr *a)
{
	return (a->flags & IFA_F_PERMANENT) && a->scope == RT_SCOPE_UNIVERSE;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int move_one(struct hutch_nl *host, struct hutch_nl *ctr, int cns, const char *from,
		    const char *to, struct hutch_error **err)
{
	char buf[HUTCH_NL_BUFSIZE], name[IFNAMSIZ];
	_cleanup_free_ struct hutch_nl_addr *addrs = NULL;
	size_t n = 0;
	int idx, cidx;

	idx = hutch_nl_ifindex(host, from, err);
	if (idx < 0) {
		if ((*err)->code == ENODEV)
			return hutch_error_set(err, ENODEV,
					       "no network device \"%s\" in hutch's network "
					       "namespace",
					       from);
		return -1;
	}
	if (hutch_nl_list_addrs(host, idx, &addrs, &n, err) < 0)
		return -1;
	/* The kernel renames after the move: a name taken inside would fail
	 * only once the device is there (and a virtual one dies with the
	 * namespace of a failed create).  Check first. */
	if (strchr(to, '%') == NULL && hutch_nl_ifindex(ctr, to, NULL) > 0)
		return hutch_error_set(err, EEXIST,
				       "the container already has a network device named \"%s\" "
				       "(a name with %%d lets the kernel number it)",
				       to);
	if (hutch_nl_talk(host, hutch_nl_build_move(buf, idx, cns, to), "move", err) < 0)
		return hutch_error_prefix(err, "move it into the container as \"%s\"", to);
	/* Find it inside: by name, or for a template ("eth%d") by its index,
	 * which the kernel keeps unless the container already uses it. */
	if (strchr(to, '%') == NULL) {
		cidx = hutch_nl_ifindex(ctr, to, err);
		if (cidx < 0)
			return hutch_error_prefix(err, "find \"%s\" in the container", to);
	} else {
		cidx = idx;
		if (hutch_nl_name_of(ctr, cidx, name, err) < 0)
			return hutch_error_prefix(err, "find the device named after \"%s\"", to);
	}
	for (size_t i = 0; i < n; i++) {
		char text[INET6_ADDRSTRLEN + 8] = "";
		if (!kept(&addrs[i]))
			continue;
		inet_ntop(addrs[i].family, addrs[i].has_local ? addrs[i].local : addrs[i].address,
			  text, sizeof(text));
		if (hutch_nl_talk(ctr, hutch_nl_build_newaddr(buf, &addrs[i], cidx), "add address",
				  err) < 0)
			return hutch_error_prefix(err, "keep its address %s/%u", text,
						  addrs[i].prefixlen);
		hutch_debug("netDevices: %s keeps %s/%u", from, text, addrs[i].prefixlen);
	}
	if (hutch_nl_talk(ctr, hutch_nl_build_setup_index(buf, cidx, true), "set up", err) < 0)
		return hutch_error_prefix(err, "set it up in the container");
	return 0;
}

int hutch_net_move_devices(pid_t init, const struct hutch_linux *l, struct hutch_error **err)
{
	_cleanup_nl_ struct hutch_nl *host = NULL, *ctr = NULL;
	_cleanup_close_ int cns = -1, own = -1;
	char path[64];

	if (l->n_net_devices == 0)
		return 0;
	if (!l->namespaces[HUTCH_NS_NETWORK].present)
		return hutch_error_set(err, EINVAL,
				       "linux.netDevices: the container has no network namespace "
				       "of its own to move devices into");
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)init);
	cns = open(path, O_RDONLY | O_CLOEXEC);
	own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (cns < 0 || own < 0)
		return hutch_error_errno(err, "linux.netDevices: open %s",
					 cns < 0 ? path : "/proc/thread-self/ns/net");
	if (same_file(cns, own))
		return hutch_error_set(err, EINVAL,
				       "linux.netDevices: the container's network namespace is "
				       "hutch's own");
	host = hutch_nl_open(-1, err);
	ctr = host != NULL ? hutch_nl_open(cns, err) : NULL;
	if (ctr == NULL)
		return hutch_error_prefix(err, "linux.netDevices");
	for (size_t i = 0; i < l->n_net_devices; i++) {
		const struct hutch_kv *d = &l->net_devices[i];
		if (move_one(host, ctr, cns, d->key, d->value, err) < 0)
			return hutch_error_prefix(err, "linux.netDevices[\"%s\"]", d->key);
	}
	return 0;
}
