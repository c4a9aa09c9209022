/* Networks as objects: <root>/networks/<name>/{network.json,netns,leases/}. */
#include "net/internal.h"
#include "net/nl.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BRIDGE "br0"

char *net_path(const char *root, const char *a, const char *b)
{
	char *p = NULL;
	int r;

	if (a == NULL)
		r = asprintf(&p, "%s/networks", root);
	else if (b == NULL)
		r = asprintf(&p, "%s/networks/%s", root, a);
	else
		r = asprintf(&p, "%s/networks/%s/%s", root, a, b);
	return r < 0 ? NULL : p;
}

int hutch_network_name_check(const char *name, struct hutch_error **err)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			goto bad;
	return 0;
bad:
	return hutch_error_set(err, EINVAL,
			       "invalid network name \"%s\" (want [A-Za-z0-9_][A-Za-z0-9_.-]*, "
			       "at most 64 bytes)",
			       name ? name : "");
}

int net_lock(const char *root, struct hutch_error **err)
{
	_cleanup_free_ char *dir = net_path(root, NULL, NULL);
	_cleanup_free_ char *path = net_path(root, "lock", NULL);
	_cleanup_close_ int fd = -1;

	if (dir == NULL || path == NULL)
		return hutch_error_set(err, ENOMEM, "networks lock");
	if (hutch_mkdir_p(dir, 0700, err) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return hutch_error_errno(err, "open %s", path);
	if (flock(fd, LOCK_EX) < 0)
		return hutch_error_errno(err, "lock %s", path);
	return steal_fd(fd);
}

int net_router_open(const char *root, const char *name, struct hutch_error **err)
{
	_cleanup_free_ char *p = net_path(root, name, "netns");
	int fd;

	if (p == NULL)
		return hutch_error_set(err, ENOMEM, "network %s", name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hutch_error_errno(err, "open router namespace of network %s (%s)", name, p);
	return fd;
}

/* A new network namespace pinned by a bind mount on PATH (an empty file). */
static int make_netns(const char *path, struct hutch_error **err)
{
	_cleanup_close_ int cur = -1, f = -1;
	int r = 0;

	f = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (f < 0)
		return hutch_error_errno(err, "create %s", path);
	cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (cur < 0)
		return hutch_error_errno(err, "open /proc/thread-self/ns/net");
	hutch_debug("unshare network namespace, bind mount onto %s", path);
	if (unshare(CLONE_NEWNET) < 0)
		return hutch_error_errno(err, "unshare network namespace for %s", path);
	if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
		r = hutch_error_errno(err, "bind mount network namespace onto %s", path);
	if (setns(cur, CLONE_NEWNET) < 0) {
		/* Cannot happen with a valid fd; carrying on in the wrong
		 * namespace would be worse than stopping. */
		hutch_log(HUTCH_LOG_ERROR, "setns back to hutch's network namespace: %s",
			  strerror(errno));
		abort();
	}
	return r;
}

static void drop_netns(const char *path)
{
	hutch_debug("unmount %s", path);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		hutch_warn("unmount %s: %s", path, strerror(errno));
	unlink(path);
}

static int setup_router(int nsfd, const char *name, uint32_t gw, unsigned prefix,
			struct hutch_error **err)
{
	_cleanup_nl_ struct hutch_nl *nl = hutch_nl_open(nsfd, err);
	char buf[HUTCH_NL_BUFSIZE], what[128], ipbuf[16];
	int idx;

	if (nl == NULL)
		return -1;
	snprintf(what, sizeof(what), "set lo up in router of network %s", name);
	if (hutch_nl_talk(nl, hutch_nl_build_setup(buf, "lo", true), what, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "create bridge %s in router of network %s", BRIDGE, name);
	if (hutch_nl_talk(nl, hutch_nl_build_newlink(buf, BRIDGE, "bridge"), what, err) < 0)
		return -1;
	idx = hutch_nl_ifindex(nl, BRIDGE, err);
	if (idx < 0)
		return -1;
	snprintf(what, sizeof(what), "add gateway %s/%u to %s of network %s",
		 hutch_net_ip_format(gw, ipbuf), prefix, BRIDGE, name);
	if (hutch_nl_talk(nl, hutch_nl_build_addaddr(buf, idx, gw, prefix), what, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "set %s up in router of network %s", BRIDGE, name);
	return hutch_nl_talk(nl, hutch_nl_build_setup(buf, BRIDGE, true), what, err);
}

/* ---- uplink ---- */

#define UPLINK_MAX 16383u

uint32_t hutch_net_uplink_base(unsigned index)
{
	return 0xa9fe0000u + index * 4u; /* 169.254.0.0/16 */
}

/* Delete the uplink pair now, from the router's side (so never another
 * root's "hu" link, whatever namespace hutch runs in now; the router
 * namespace's death would do it too, but asynchronously and only once
 * nothing holds the namespace), and free its index. */
static void uplink_release(const char *root, unsigned index, int nsfd)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	char p[4096], buf[HUTCH_NL_BUFSIZE];

	if (index == 0)
		return;
	if (nsfd >= 0) {
		_cleanup_nl_ struct hutch_nl *nl = hutch_nl_open(nsfd, NULL);
		snprintf(p, sizeof(p), "delete uplink hu%04x", index);
		if (nl != NULL &&
		    hutch_nl_talk(nl, hutch_nl_build_dellink(buf, "uplink"), p, &e) < 0 &&
		    e->code != ENODEV)
			hutch_warn("%s", hutch_error_text(e));
	}
	snprintf(p, sizeof(p), "%s/networks/.uplinks/%u", root, index);
	unlink(p);
}

static int write_ip_forward(int nsfd, struct hutch_error **err)
{
	pid_t pid;
	int status;

	hutch_debug("net.ipv4.ip_forward=1 in a router namespace");
	pid = fork();
	if (pid < 0)
		return hutch_error_errno(err, "fork");
	if (pid == 0) {
		/* /proc/sys/net shows the namespace of whoever opens it. */
		int fd;
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(1);
		fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
		_exit(fd < 0 || write(fd, "1", 1) != 1 ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return hutch_error_set(err, EIO, "set net.ipv4.ip_forward in the router");
	return 0;
}

static int uplink_links(int nsfd, const char *name, unsigned index, const char *hv,
			const struct hutch_cidr *subnet, struct hutch_error **err)
{
	_cleanup_nl_ struct hutch_nl *hnl = hutch_nl_open(-1, err);
	_cleanup_nl_ struct hutch_nl *rnl = hnl ? hutch_nl_open(nsfd, err) : NULL;
	char buf[HUTCH_NL_BUFSIZE], what[160], a[16], s[16], cidr[24];
	uint32_t base = hutch_net_uplink_base(index);
	int hidx, ridx;

	if (rnl == NULL)
		return -1;
	hutch_net_ip_format(base + 1, a);
	snprintf(what, sizeof(what), "add address %s/30 to %s", a, hv);
	if ((hidx = hutch_nl_ifindex(hnl, hv, err)) < 0 ||
	    hutch_nl_talk(hnl, hutch_nl_build_addaddr(buf, hidx, base + 1, 30), what, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "set %s up", hv);
	if (hutch_nl_talk(hnl, hutch_nl_build_setup(buf, hv, true), what, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "add address %s/30 to uplink in router of network %s",
		 hutch_net_ip_format(base + 2, s), name);
	if ((ridx = hutch_nl_ifindex(rnl, "uplink", err)) < 0 ||
	    hutch_nl_talk(rnl, hutch_nl_build_addaddr(buf, ridx, base + 2, 30), what, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "set uplink up in router of network %s", name);
	if (hutch_nl_talk(rnl, hutch_nl_build_setup(buf, "uplink", true), what, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "add default route via %s in router of network %s", a, name);
	if (hutch_nl_talk(rnl, hutch_nl_build_defroute(buf, base + 1, ridx), what, err) < 0)
		return -1;
	if (write_ip_forward(nsfd, err) < 0)
		return -1;
	snprintf(cidr, sizeof(cidr), "%s/%u", hutch_net_ip_format(subnet->addr, s), subnet->prefix);
	char *const nat[] = {"iptables", "-w", "-t",	 "nat", "-A",	      "POSTROUTING", "-s",
			     cidr,	 "-o", "uplink", "-j",	"MASQUERADE", NULL};
	return net_run(nsfd, "iptables", nat, false, err);
}

/* Take a free uplink index (O_EXCL file), create the veth pair, address both
 * ends, route and NAT in the router. */
static int setup_uplink(const char *root, const char *name, int nsfd,
			const struct hutch_cidr *subnet, unsigned *out, struct hutch_error **err)
{
	_cleanup_nl_ struct hutch_nl *hnl = hutch_nl_open(-1, err);
	char dir[4096], p[4200], buf[HUTCH_NL_BUFSIZE], hv[16], what[128];

	if (hnl == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/networks/.uplinks", root);
	if (hutch_mkdir_p(dir, 0700, err) < 0)
		return -1;
	for (unsigned i = 1; i <= UPLINK_MAX; i++) {
		_cleanup_error_ struct hutch_error *e = NULL;
		_cleanup_close_ int fd = -1;

		/* never the /30 holding 169.254.169.254 (cloud metadata) */
		if ((hutch_net_uplink_base(i) >> 2) == (0xa9fea9feu >> 2))
			continue;
		snprintf(p, sizeof(p), "%s/%u", dir, i);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return hutch_error_errno(err, "create %s", p);
		}
		if (hutch_write_all(fd, name, strlen(name)) < 0)
			return hutch_error_errno(err, "write %s", p);
		snprintf(hv, sizeof(hv), "hu%04x", i);
		snprintf(what, sizeof(what), "create uplink veth %s for network %s", hv, name);
		if (hutch_nl_talk(hnl, hutch_nl_build_veth(buf, hv, 0, "uplink", nsfd), what, &e) <
		    0) {
			if (e->code == EEXIST)
				continue; /* used by another root: keep the index taken */
			unlink(p);
			return hutch_error_set(err, e->code, "%s", e->msg);
		}
		*out = i;
		return uplink_links(nsfd, name, i, hv, subnet, err);
	}
	return hutch_error_set(err, ENOSPC, "network %s: no free uplink index", name);
}

static char *network_json(const struct hutch_network *n)
{
	struct json_object *o = json_object_new_object();
	char ip[16], sub[24];
	char *s;

	snprintf(sub, sizeof(sub), "%s/%u", hutch_net_ip_format(n->subnet.addr, ip),
		 n->subnet.prefix);
	json_object_object_add(o, "name", json_object_new_string(n->name));
	json_object_object_add(o, "subnet", json_object_new_string(sub));
	json_object_object_add(o, "gateway",
			       json_object_new_string(hutch_net_ip_format(n->gateway, ip)));
	json_object_object_add(o, "internal", json_object_new_boolean(n->internal));
	json_object_object_add(o, "bridge", json_object_new_string(n->bridge));
	json_object_object_add(o, "uplink", json_object_new_int((int)n->uplink));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
	return s;
}

int hutch_network_create(const char *root, const char *name, const char *subnet,
			 const char *gateway, bool internal, struct hutch_error **err)
{
	_cleanup_close_ int lock = -1, nsfd = -1;
	_cleanup_free_ char *dir = NULL, *leases = NULL, *nspath = NULL, *jpath = NULL;
	_cleanup_free_ char *json = NULL;
	struct hutch_network n = {.name = (char *)name, .internal = internal, .bridge = BRIDGE};

	if (hutch_network_name_check(name, err) < 0)
		return -1;
	if (hutch_net_cidr_parse(subnet, &n.subnet, err) < 0)
		return hutch_error_prefix(err, "network %s", name);
	if (gateway != NULL) {
		if (hutch_net_ip_parse(gateway, &n.gateway, err) < 0)
			return hutch_error_prefix(err, "network %s: gateway", name);
		uint32_t bcast = n.subnet.addr | (0xffffffffu >> n.subnet.prefix);
		if (!hutch_net_cidr_contains(&n.subnet, n.gateway) || n.gateway == n.subnet.addr ||
		    n.gateway == bcast)
			return hutch_error_set(err, EINVAL,
					       "network %s: gateway %s is not a host address of %s",
					       name, gateway, subnet);
	} else {
		n.gateway = n.subnet.addr + 1;
	}
	dir = net_path(root, name, NULL);
	leases = net_path(root, name, "leases");
	nspath = net_path(root, name, "netns");
	jpath = net_path(root, name, "network.json");
	if (!dir || !leases || !nspath || !jpath)
		return hutch_error_set(err, ENOMEM, "network %s", name);
	lock = net_lock(root, err);
	if (lock < 0)
		return -1;
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return hutch_error_set(err, EEXIST, "network %s already exists", name);
		return hutch_error_errno(err, "create %s", dir);
	}
	if (mkdir(leases, 0700) < 0) {
		hutch_error_errno(err, "create %s", leases);
		goto fail;
	}
	if (make_netns(nspath, err) < 0)
		goto fail;
	nsfd = net_router_open(root, name, err);
	if (nsfd < 0 || setup_router(nsfd, name, n.gateway, n.subnet.prefix, err) < 0)
		goto fail;
	if (!internal && setup_uplink(root, name, nsfd, &n.subnet, &n.uplink, err) < 0)
		goto fail;
	/* network.json last: its presence means the network is complete. */
	json = network_json(&n);
	if (json == NULL) {
		hutch_error_set(err, ENOMEM, "network %s", name);
		goto fail;
	}
	if (hutch_write_file_atomic(jpath, json, strlen(json), 0600, true, err) < 0)
		goto fail;
	return 0;
fail:
	uplink_release(root, n.uplink, nsfd);
	drop_netns(nspath);
	hutch_rm_rf(dir, NULL);
	return hutch_error_prefix(err, "create network %s", name);
}

void hutch_network_free(struct hutch_network *n)
{
	if (n == NULL)
		return;
	free(n->name);
	free(n->bridge);
	free(n);
}

struct hutch_network *hutch_network_load(const char *root, const char *name,
					 struct hutch_error **err)
{
	_cleanup_free_ char *jpath = NULL, *data = NULL;
	struct json_object *o, *v;
	struct hutch_network *n;
	const char *subnet = NULL, *gw = NULL, *bridge = BRIDGE;

	if (hutch_network_name_check(name, err) < 0)
		return NULL;
	jpath = net_path(root, name, "network.json");
	if (jpath == NULL)
		return hutch_error_set(err, ENOMEM, "network %s", name), NULL;
	data = hutch_read_file(jpath, 65536, NULL, err);
	if (data == NULL) {
		if ((*err)->code == ENOENT) {
			hutch_error_freep(err);
			hutch_error_set(err, ENOENT, "network %s does not exist", name);
		}
		return NULL;
	}
	o = json_tokener_parse(data);
	if (o == NULL)
		return hutch_error_set(err, EINVAL, "%s: invalid JSON", jpath), NULL;
	if (json_object_object_get_ex(o, "subnet", &v))
		subnet = json_object_get_string(v);
	if (json_object_object_get_ex(o, "gateway", &v))
		gw = json_object_get_string(v);
	if (json_object_object_get_ex(o, "bridge", &v))
		bridge = json_object_get_string(v);
	n = calloc(1, sizeof(*n));
	if (n == NULL || (n->name = strdup(name)) == NULL ||
	    (n->bridge = strdup(bridge ? bridge : BRIDGE)) == NULL) {
		hutch_network_free(n);
		json_object_put(o);
		return hutch_error_set(err, ENOMEM, "network %s", name), NULL;
	}
	if (json_object_object_get_ex(o, "internal", &v))
		n->internal = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "uplink", &v))
		n->uplink = (unsigned)json_object_get_int(v);
	if (hutch_net_cidr_parse(subnet, &n->subnet, err) < 0 ||
	    hutch_net_ip_parse(gw, &n->gateway, err) < 0) {
		hutch_network_free(n);
		json_object_put(o);
		return hutch_error_prefix(err, "%s", jpath), NULL;
	}
	json_object_put(o);
	return n;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in DIR (no dot files), optionally only those with a FILE inside or
 * (need == "") only those that are IPv4 addresses (leases; not the temp files
 * of an atomic rewrite). */
static char **dir_names(const char *dir, const char *need, struct hutch_error **err)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	char **v = calloc(1, sizeof(char *));
	size_t n = 0;
	struct dirent *e;

	if (v == NULL)
		return hutch_error_set(err, ENOMEM, "%s", dir), NULL;
	if (d == NULL) {
		if (errno == ENOENT)
			return v;
		free(v);
		return hutch_error_errno(err, "open %s", dir), NULL;
	}
	while ((e = readdir(d)) != NULL) {
		char **nv;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "lock") == 0)
			continue;
		if (need != NULL && need[0] == '\0') {
			uint32_t ip;
			if (hutch_net_ip_parse(e->d_name, &ip, NULL) < 0)
				continue;
		} else if (need != NULL) {
			struct stat st;
			_cleanup_free_ char *p = NULL;
			if (asprintf(&p, "%s/%s/%s", dir, e->d_name, need) < 0 || stat(p, &st) < 0)
				continue;
		}
		nv = realloc(v, (n + 2) * sizeof(char *));
		if (nv == NULL || (nv[n] = strdup(e->d_name)) == NULL) {
			hutch_strv_free(nv ? nv : v);
			return hutch_error_set(err, ENOMEM, "%s", dir), NULL;
		}
		v = nv;
		v[++n] = NULL;
	}
	qsort(v, n, sizeof(char *), cmpstr);
	return v;
}

char **hutch_network_list(const char *root, struct hutch_error **err)
{
	_cleanup_free_ char *dir = net_path(root, NULL, NULL);

	if (dir == NULL)
		return hutch_error_set(err, ENOMEM, "networks"), NULL;
	return dir_names(dir, "network.json", err);
}

char **net_lease_names(const char *root, const char *network, struct hutch_error **err)
{
	_cleanup_free_ char *dir = net_path(root, network, "leases");

	if (dir == NULL)
		return hutch_error_set(err, ENOMEM, "leases of network %s", network), NULL;
	return dir_names(dir, "", err);
}

void net_lease_clear(struct net_lease *l)
{
	free(l->network);
	free(l->container);
	free(l->ifname);
	free(l->veth);
	free(l->ifb);
	memset(l, 0, sizeof(*l));
}

char *net_lease_format(const struct net_lease *l)
{
	char *s = NULL;

	if (asprintf(&s,
		     "container=%s\npid=%d\nstarttime=%llu\nifname=%s\nveth=%s\nifb=%s\n"
		     "egress=%" PRIu64 "\ningress=%" PRIu64 "\n",
		     l->container, (int)l->pid, l->starttime, l->ifname ? l->ifname : "",
		     l->veth ? l->veth : "", l->ifb ? l->ifb : "", l->egress, l->ingress) < 0)
		return NULL;
	return s;
}

int net_lease_read(const char *root, const char *network, const char *ipname, struct net_lease *l,
		   struct hutch_error **err)
{
	_cleanup_free_ char *dir = net_path(root, network, "leases");
	_cleanup_free_ char *path = NULL, *data = NULL;
	char *save = NULL;

	memset(l, 0, sizeof(*l));
	if (dir == NULL || asprintf(&path, "%s/%s", dir, ipname) < 0)
		return hutch_error_set(err, ENOMEM, "lease %s", ipname);
	if (hutch_net_ip_parse(ipname, &l->ip, err) < 0)
		return hutch_error_prefix(err, "lease %s", path);
	data = hutch_read_file(path, 4096, NULL, err);
	if (data == NULL)
		return -1;
	l->network = strdup(network);
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "container") == 0)
			l->container = strdup(eq);
		else if (strcmp(line, "pid") == 0)
			l->pid = (pid_t)atoi(eq);
		else if (strcmp(line, "starttime") == 0)
			l->starttime = strtoull(eq, NULL, 10);
		else if (strcmp(line, "ifname") == 0)
			l->ifname = strdup(eq);
		else if (strcmp(line, "veth") == 0)
			l->veth = strdup(eq);
		else if (strcmp(line, "ifb") == 0)
			l->ifb = strdup(eq);
		else if (strcmp(line, "egress") == 0)
			l->egress = strtoull(eq, NULL, 10);
		else if (strcmp(line, "ingress") == 0)
			l->ingress = strtoull(eq, NULL, 10);
	}
	if (l->network == NULL || l->container == NULL) {
		net_lease_clear(l);
		return hutch_error_set(err, EINVAL, "lease %s names no container", path);
	}
	return 0;
}

int net_lease_rewrite(const char *root, const struct net_lease *l, struct hutch_error **err)
{
	_cleanup_free_ char *dir = net_path(root, l->network, "leases");
	_cleanup_free_ char *path = NULL, *data = net_lease_format(l);
	char ip[16];

	if (dir == NULL || data == NULL ||
	    asprintf(&path, "%s/%s", dir, hutch_net_ip_format(l->ip, ip)) < 0)
		return hutch_error_set(err, ENOMEM, "lease");
	return hutch_write_file_atomic(path, data, strlen(data), 0644, true, err);
}

char *hutch_network_inspect(const char *root, const char *name, struct hutch_error **err)
{
	struct hutch_network *n = hutch_network_load(root, name, err);
	_cleanup_strv_ char **leases = NULL;
	_cleanup_free_ char *nspath = net_path(root, name, "netns");
	struct json_object *o, *arr;
	char ip[16], sub[24];
	char *s;

	if (n == NULL)
		return NULL;
	leases = net_lease_names(root, name, err);
	if (leases == NULL) {
		hutch_network_free(n);
		return NULL;
	}
	o = json_object_new_object();
	snprintf(sub, sizeof(sub), "%s/%u", hutch_net_ip_format(n->subnet.addr, ip),
		 n->subnet.prefix);
	json_object_object_add(o, "name", json_object_new_string(n->name));
	json_object_object_add(o, "subnet", json_object_new_string(sub));
	json_object_object_add(o, "gateway",
			       json_object_new_string(hutch_net_ip_format(n->gateway, ip)));
	json_object_object_add(o, "internal", json_object_new_boolean(n->internal));
	json_object_object_add(o, "bridge", json_object_new_string(n->bridge));
	json_object_object_add(o, "netns", json_object_new_string(nspath ? nspath : ""));
	if (n->uplink) {
		struct json_object *u = json_object_new_object();
		uint32_t base = hutch_net_uplink_base(n->uplink);
		char vn[16], a[24];

		snprintf(vn, sizeof(vn), "hu%04x", n->uplink);
		json_object_object_add(u, "veth", json_object_new_string(vn));
		snprintf(a, sizeof(a), "%s/30", hutch_net_ip_format(base + 1, ip));
		json_object_object_add(u, "address", json_object_new_string(a));
		snprintf(a, sizeof(a), "%s/30", hutch_net_ip_format(base + 2, ip));
		json_object_object_add(u, "router_address", json_object_new_string(a));
		json_object_object_add(o, "uplink", u);
	}
	arr = json_object_new_array();
	for (char **p = leases; *p; p++) {
		struct net_lease l;
		struct json_object *a;

		if (net_lease_read(root, name, *p, &l, NULL) < 0)
			continue;
		a = json_object_new_object();
		json_object_object_add(a, "container", json_object_new_string(l.container));
		json_object_object_add(a, "network", json_object_new_string(name));
		json_object_object_add(a, "ip", json_object_new_string(*p));
		json_object_object_add(a, "ifname", json_object_new_string(l.ifname ?: ""));
		json_object_object_add(a, "veth", json_object_new_string(l.veth ?: ""));
		json_object_object_add(a, "pid", json_object_new_int(l.pid));
		json_object_object_add(a, "egress_bps", json_object_new_int64((int64_t)l.egress));
		json_object_object_add(a, "ingress_bps", json_object_new_int64((int64_t)l.ingress));
		json_object_array_add(arr, a);
		net_lease_clear(&l);
	}
	json_object_object_add(o, "attachments", arr);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
	hutch_network_free(n);
	if (s == NULL)
		hutch_error_set(err, ENOMEM, "inspect network %s", name);
	return s;
}

int hutch_network_remove(const char *root, const char *name, bool force, struct hutch_error **err)
{
	_cleanup_close_ int lock = -1;
	_cleanup_strv_ char **leases = NULL;
	_cleanup_free_ char *dir = net_path(root, name, NULL);
	_cleanup_free_ char *nspath = net_path(root, name, "netns");
	struct hutch_network *net;
	struct stat st;
	size_t n = 0;

	if (hutch_network_name_check(name, err) < 0)
		return -1;
	if (dir == NULL || nspath == NULL)
		return hutch_error_set(err, ENOMEM, "network %s", name);
	lock = net_lock(root, err);
	if (lock < 0)
		return -1;
	if (stat(dir, &st) < 0)
		return hutch_error_set(err, ENOENT, "network %s does not exist", name);
	leases = net_lease_names(root, name, err);
	if (leases == NULL)
		return -1;
	while (leases[n] != NULL)
		n++;
	if (n > 0 && !force)
		return hutch_error_set(err, EBUSY,
				       "network %s has %zu attached container(s) (first: %s); "
				       "use --force",
				       name, n, leases[0]);
	/* The router namespace goes away with its last reference; its veths
	 * (their container ends, the uplink's end in hutch's namespace) and
	 * qdiscs go with it. */
	net = hutch_network_load(root, name, NULL);
	if (net != NULL) {
		_cleanup_close_ int nsfd = net_router_open(root, name, NULL);
		uplink_release(root, net->uplink, nsfd);
	}
	hutch_network_free(net);
	drop_netns(nspath);
	if (hutch_rm_rf(dir, err) < 0)
		return hutch_error_prefix(err, "remove network %s", name);
	return 0;
}

int net_run(int nsfd, const char *prog, char *const argv[], bool quiet_fail,
	    struct hutch_error **err)
{
	char p1[64], p2[64];
	char cmd[512] = "";
	pid_t pid;
	int status;

	for (char *const *a = argv; *a; a++) {
		strncat(cmd, *a, sizeof(cmd) - strlen(cmd) - 2);
		strcat(cmd, " ");
	}
	hutch_debug("run in router namespace: %s", cmd);
	pid = fork();
	if (pid < 0)
		return hutch_error_errno(err, "fork for %s", cmd);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (setns(nsfd, CLONE_NEWNET) < 0)
			_exit(126);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			if (quiet_fail)
				dup2(devnull, STDERR_FILENO);
		}
		snprintf(p1, sizeof(p1), "/usr/sbin/%s", prog);
		snprintf(p2, sizeof(p2), "/sbin/%s", prog);
		execv(p1, argv);
		execv(p2, argv);
		execvp(prog, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hutch_error_errno(err, "wait for %s", cmd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return hutch_error_set(err, 0, "%sfailed (status %d)", cmd,
				       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
