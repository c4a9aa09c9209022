/* Attaching containers: veths, addresses, routes, shaping, port forwarders;
 * detach, gc and live bandwidth changes. */
#include "net/internal.h"
#include "net/nl.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/path.h"
#include "spec/model.h"
#include "state/state.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Router-side names, unique per router namespace because the address is. */
static void veth_name(uint32_t ip, char *buf)
{
	snprintf(buf, 16, "hv%08x", ip);
}

static void ifb_name(uint32_t ip, char *buf)
{
	snprintf(buf, 16, "hb%08x", ip);
}

static bool ignorable(struct hutch_error **e, int code)
{
	if (*e != NULL && (*e)->code == code) {
		hutch_error_freep(e);
		return true;
	}
	return false;
}

/* ---- shaping (tc over netlink) ---- */

static uint32_t burst_of(uint64_t bps)
{
	uint64_t bytes = bps / 8 / 50; /* 20 ms worth, at least 16 KiB */

	if (bytes < 16384)
		bytes = 16384;
	return bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
}

/* Delete a qdisc; "none there" (ENOENT, EINVAL) is success. */
static int qdisc_del(struct hutch_nl *nl, int idx, const char *dev, bool ingress,
		     struct hutch_error **err)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	char buf[HUTCH_NL_BUFSIZE], what[96];

	snprintf(what, sizeof(what), "delete %s qdisc of %s", ingress ? "ingress" : "root", dev);
	if (hutch_nl_talk(nl, hutch_nl_build_qdisc_del(buf, idx, ingress), what, &e) < 0 &&
	    !ignorable(&e, ENOENT) && !ignorable(&e, EINVAL))
		return hutch_error_set(err, e->code, "%s", e->msg);
	return 0;
}

static int tbf(struct hutch_nl *nl, int idx, const char *dev, uint64_t bps,
	       struct hutch_error **err)
{
	char buf[HUTCH_NL_BUFSIZE], what[96];

	snprintf(what, sizeof(what), "set tbf rate %" PRIu64 "bit on %s", bps, dev);
	return hutch_nl_talk(nl, hutch_nl_build_tbf(buf, idx, bps, burst_of(bps), 50000), what,
			     err);
}

/* Container ingress: tbf on the router side veth's egress. */
static int shape_ingress(struct hutch_nl *nl, int vidx, const char *veth, uint64_t bps,
			 struct hutch_error **err)
{
	if (bps == 0)
		return qdisc_del(nl, vidx, veth, false, err);
	return tbf(nl, vidx, veth, bps, err);
}

/* Container egress: the veth's ingress redirected (u32 match-all + mirred)
 * to an ifb whose egress carries a tbf. */
static int shape_egress(struct hutch_nl *nl, int vidx, const char *veth, const char *ifb,
			uint64_t bps, struct hutch_error **err)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	char buf[HUTCH_NL_BUFSIZE], what[96];
	int bidx;

	if (qdisc_del(nl, vidx, veth, true, err) < 0)
		return -1;
	if (bps == 0) {
		snprintf(what, sizeof(what), "delete ifb %s", ifb);
		if (hutch_nl_talk(nl, hutch_nl_build_dellink(buf, ifb), what, &e) < 0 &&
		    !ignorable(&e, ENODEV))
			return hutch_error_set(err, e->code, "%s", e->msg);
		return 0;
	}
	snprintf(what, sizeof(what), "create ifb %s", ifb);
	if (hutch_nl_talk(nl, hutch_nl_build_newlink(buf, ifb, "ifb"), what, &e) < 0 &&
	    !ignorable(&e, EEXIST))
		return hutch_error_set(err, e->code, "%s", e->msg);
	snprintf(what, sizeof(what), "set ifb %s up", ifb);
	if (hutch_nl_talk(nl, hutch_nl_build_setup(buf, ifb, true), what, err) < 0)
		return -1;
	bidx = hutch_nl_ifindex(nl, ifb, err);
	if (bidx < 0 || tbf(nl, bidx, ifb, bps, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "add ingress qdisc to %s", veth);
	if (hutch_nl_talk(nl, hutch_nl_build_ingress(buf, vidx), what, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "redirect ingress of %s to %s", veth, ifb);
	return hutch_nl_talk(nl, hutch_nl_build_redirect(buf, vidx, bidx), what, err);
}

static int apply_bandwidth(int rfd, const struct net_lease *l, struct hutch_error **err)
{
	_cleanup_nl_ struct hutch_nl *nl = hutch_nl_open(rfd, err);
	int vidx = nl ? hutch_nl_ifindex(nl, l->veth, err) : -1;

	if (vidx < 0 || shape_ingress(nl, vidx, l->veth, l->ingress, err) < 0 ||
	    shape_egress(nl, vidx, l->veth, l->ifb, l->egress, err) < 0)
		return hutch_error_prefix(err, "bandwidth of %s on network %s", l->container,
					  l->network);
	return 0;
}

/* ---- lease release (detach of one attachment) ---- */

static void release(const char *root, const struct net_lease *l)
{
	_cleanup_error_ struct hutch_error *e = NULL;
	_cleanup_close_ int rfd = net_router_open(root, l->network, NULL);
	_cleanup_free_ char *dir = net_path(root, l->network, "leases");

	if (rfd >= 0) {
		_cleanup_nl_ struct hutch_nl *nl = hutch_nl_open(rfd, NULL);
		char buf[HUTCH_NL_BUFSIZE], what[96];
		const char *names[] = {l->veth, l->ifb};

		for (size_t i = 0; nl != NULL && i < 2; i++) {
			if (names[i] == NULL || names[i][0] == '\0')
				continue;
			snprintf(what, sizeof(what), "delete %s of %s on network %s", names[i],
				 l->container, l->network);
			if (hutch_nl_talk(nl, hutch_nl_build_dellink(buf, names[i]), what, &e) <
				0 &&
			    !ignorable(&e, ENODEV)) {
				hutch_warn("%s", hutch_error_text(e));
				hutch_error_freep(&e);
			}
		}
	}
	if (dir != NULL && hutch_ipam_release(dir, l->ip, &e) < 0)
		hutch_warn("%s", hutch_error_text(e));
}

/* ---- port forwarder ---- */

static char *ports_path(const char *root, const char *id)
{
	char *p = NULL;

	if (id == NULL)
		return asprintf(&p, "%s/networks/.ports", root) < 0 ? NULL : p;
	return asprintf(&p, "%s/networks/.ports/%s", root, id) < 0 ? NULL : p;
}

static void kill_forwarder(const char *root, const char *id)
{
	_cleanup_free_ char *p = ports_path(root, id);
	_cleanup_free_ char *data = p ? hutch_read_file(p, 256, NULL, NULL) : NULL;
	unsigned long long st = 0;
	int pid = 0;

	if (data == NULL)
		return;
	if (sscanf(data, "%d %llu", &pid, &st) == 2 && pid > 0 &&
	    hutch_proc_start_time(pid) == st) {
		hutch_debug("kill port forwarder %d of %s", pid, id);
		kill(pid, SIGKILL);
	}
	unlink(p);
}

static void relay(int a, int b)
{
	struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
	bool open_[2] = {true, true};
	char buf[16384];

	while (open_[0] || open_[1]) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (!open_[i] || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				open_[i] = false;
				p[i].fd = -1;
				shutdown(i == 0 ? b : a, SHUT_WR);
				continue;
			}
			if (hutch_write_all(i == 0 ? b : a, buf, (size_t)n) < 0)
				return;
		}
	}
}

static void connection(int c, int cnsfd, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int s;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The socket belongs to the namespace it is created in. */
	if (setns(cnsfd, CLONE_NEWNET) < 0)
		_exit(1);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		_exit(1);
	relay(c, s);
	_exit(0);
}

static void close_other_fds(const int *keep, size_t n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int *fds = NULL;
	size_t nf = 0;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		bool k = fd <= 2 || fd == dirfd(d);
		int *nv;
		for (size_t i = 0; i < n; i++)
			k = k || keep[i] == fd;
		if (k || e->d_name[0] == '.')
			continue;
		nv = realloc(fds, (nf + 1) * sizeof(int));
		if (nv == NULL)
			break;
		fds = nv;
		fds[nf++] = fd;
	}
	closedir(d);
	for (size_t i = 0; i < nf; i++)
		close(fds[i]);
	free(fds);
}

static void forwarder_main(int *ls, const struct hutch_net_port *ports, size_t n, int cnsfd,
			   int pidfd)
{
	struct pollfd *p = calloc(n + 1, sizeof(*p));
	int devnull = open("/dev/null", O_RDWR);

	if (p == NULL)
		_exit(1);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		close(devnull);
	}
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < n; i++)
		p[i] = (struct pollfd){.fd = ls[i], .events = POLLIN};
	/* The forwarder ends with the container's init. */
	p[n] = (struct pollfd){.fd = pidfd, .events = POLLIN};
	for (;;) {
		if (poll(p, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (p[n].revents)
			_exit(0);
		for (size_t i = 0; i < n; i++) {
			int c;
			if (!(p[i].revents & POLLIN))
				continue;
			c = accept4(ls[i], NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			if (fork() == 0) {
				for (size_t j = 0; j < n; j++)
					close(ls[j]);
				connection(c, cnsfd, ports[i].container);
			}
			close(c);
		}
	}
}

static int spawn_forwarder(const char *root, const char *id, pid_t init, int cnsfd,
			   const struct hutch_net_plan *plan, struct hutch_error **err)
{
	_cleanup_free_ int *ls = calloc(plan->n_ports, sizeof(int));
	_cleanup_free_ char *dir = ports_path(root, NULL), *path = ports_path(root, id);
	_cleanup_close_ int pidfd = -1;
	int pipefd[2] = {-1, -1};
	char line[64];
	pid_t child, fwd = 0;
	int ret = -1;

	if (ls == NULL || dir == NULL || path == NULL)
		return hutch_error_set(err, ENOMEM, "publish ports of %s", id);
	for (size_t i = 0; i < plan->n_ports; i++)
		ls[i] = -1;
	pidfd = (int)syscall(SYS_pidfd_open, init, 0);
	if (pidfd < 0)
		return hutch_error_errno(err, "pidfd_open %d", (int)init);
	for (size_t i = 0; i < plan->n_ports; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons(plan->ports[i].host)};
		int one = 1;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		hutch_debug("listen on 127.0.0.1:%u for %s port %u", plan->ports[i].host, id,
			    plan->ports[i].container);
		ls[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (ls[i] < 0 || setsockopt(ls[i], SOL_SOCKET, SO_REUSEADDR, &one, 4) < 0 ||
		    bind(ls[i], (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls[i], 64) < 0) {
			hutch_error_errno(err, "publish port %u: listen on 127.0.0.1:%u",
					  plan->ports[i].container, plan->ports[i].host);
			goto out;
		}
	}
	if (hutch_mkdir_p(dir, 0700, err) < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		if (pipefd[0] < 0)
			hutch_error_errno(err, "pipe");
		goto out;
	}
	child = fork();
	if (child < 0) {
		hutch_error_errno(err, "fork the port forwarder");
		goto out;
	}
	if (child == 0) {
		pid_t me;
		int keep[64];
		size_t nk = 0;

		setsid();
		if (fork() != 0)
			_exit(0);
		me = getpid();
		if (write(pipefd[1], &me, sizeof(me)) != sizeof(me))
			_exit(1);
		for (size_t i = 0; i < plan->n_ports && nk < 60; i++)
			keep[nk++] = ls[i];
		keep[nk++] = cnsfd;
		keep[nk++] = pidfd;
		close_other_fds(keep, nk);
		forwarder_main(ls, plan->ports, plan->n_ports, cnsfd, pidfd);
		_exit(0);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	waitpid(child, NULL, 0);
	if (read(pipefd[0], &fwd, sizeof(fwd)) != sizeof(fwd) || fwd <= 0) {
		hutch_error_set(err, EIO, "the port forwarder of %s did not start", id);
		goto out;
	}
	snprintf(line, sizeof(line), "%d %llu\n", (int)fwd, hutch_proc_start_time(fwd));
	if (hutch_write_file_atomic(path, line, strlen(line), 0600, true, err) < 0) {
		kill(fwd, SIGKILL);
		goto out;
	}
	ret = 0;
out:
	for (size_t i = 0; i < plan->n_ports; i++)
		hutch_closep(&ls[i]);
	hutch_closep(&pipefd[0]);
	hutch_closep(&pipefd[1]);
	return ret;
}

/* ---- attach ---- */

static int attach_one(const char *root, const char *id, pid_t init, unsigned long long st,
		      int cnsfd, size_t index, const struct hutch_net_request *req,
		      const struct hutch_net_plan *plan, struct hutch_error **err)
{
	struct hutch_network *net = hutch_network_load(root, req->network, err);
	_cleanup_free_ char *leases = net_path(root, req->network, "leases");
	_cleanup_free_ char *content = NULL;
	_cleanup_close_ int rfd = -1;
	_cleanup_nl_ struct hutch_nl *rnl = NULL, *cnl = NULL;
	char ifname[16], veth[16], ifb[16], ipbuf[16], gwbuf[16], buf[HUTCH_NL_BUFSIZE], what[160];
	struct net_lease l = {.container = (char *)id, .pid = init, .starttime = st};
	int ret = -1, br, idx;

	if (net == NULL)
		return -1;
	snprintf(ifname, sizeof(ifname), "eth%zu", index);
	l.ifname = ifname;
	content = net_lease_format(&l);
	if (leases == NULL || content == NULL) {
		hutch_error_set(err, ENOMEM, "attach %s", id);
		goto out;
	}
	if (hutch_ipam_allocate(leases, &net->subnet, net->gateway, req->ip, content, &l.ip, err) <
	    0) {
		hutch_error_prefix(err, "network %s", req->network);
		goto out;
	}
	veth_name(l.ip, veth);
	ifb_name(l.ip, ifb);
	l.network = req->network;
	l.veth = veth;
	l.ifb = ifb;
	l.egress = plan->egress_bps;
	l.ingress = plan->ingress_bps;
	hutch_net_ip_format(l.ip, ipbuf);
	if (net_lease_rewrite(root, &l, err) < 0)
		goto undo;
	rfd = net_router_open(root, req->network, err);
	if (rfd < 0 || (rnl = hutch_nl_open(rfd, err)) == NULL ||
	    (cnl = hutch_nl_open(cnsfd, err)) == NULL)
		goto undo;
	br = hutch_nl_ifindex(rnl, net->bridge, err);
	if (br < 0)
		goto undo;
	snprintf(what, sizeof(what), "create veth %s (network %s) with peer %s in container %s",
		 veth, req->network, ifname, id);
	if (hutch_nl_talk(rnl, hutch_nl_build_veth(buf, veth, br, ifname, cnsfd), what, err) < 0)
		goto undo;
	snprintf(what, sizeof(what), "set %s up (network %s)", veth, req->network);
	if (hutch_nl_talk(rnl, hutch_nl_build_setup(buf, veth, true), what, err) < 0)
		goto undo;
	idx = hutch_nl_ifindex(cnl, ifname, err);
	if (idx < 0)
		goto undo;
	snprintf(what, sizeof(what), "add address %s/%u to %s of container %s", ipbuf,
		 net->subnet.prefix, ifname, id);
	if (hutch_nl_talk(cnl, hutch_nl_build_addaddr(buf, idx, l.ip, net->subnet.prefix), what,
			  err) < 0)
		goto undo;
	snprintf(what, sizeof(what), "set %s up in container %s", ifname, id);
	if (hutch_nl_talk(cnl, hutch_nl_build_setup(buf, ifname, true), what, err) < 0)
		goto undo;
	snprintf(what, sizeof(what), "set lo up in container %s", id);
	if (hutch_nl_talk(cnl, hutch_nl_build_setup(buf, "lo", true), what, err) < 0)
		goto undo;
	if (index == 0) {
		snprintf(what, sizeof(what), "add default route via %s dev %s in container %s",
			 hutch_net_ip_format(net->gateway, gwbuf), ifname, id);
		if (hutch_nl_talk(cnl, hutch_nl_build_defroute(buf, net->gateway, idx), what, err) <
		    0)
			goto undo;
	}
	if ((l.egress || l.ingress) && apply_bandwidth(rfd, &l, err) < 0)
		goto undo;
	ret = 0;
	goto out;
undo:
	hutch_error_prefix(err, "attach %s to network %s", id, req->network);
	release(root, &l);
out:
	hutch_network_free(net);
	return ret;
}

static int detach_locked(const char *root, const char *id, struct hutch_error **err)
{
	_cleanup_strv_ char **nets = hutch_network_list(root, err);

	if (nets == NULL)
		return -1;
	for (char **n = nets; *n; n++) {
		_cleanup_strv_ char **leases = net_lease_names(root, *n, NULL);
		for (char **p = leases; p && *p; p++) {
			struct net_lease l;
			if (net_lease_read(root, *n, *p, &l, NULL) < 0)
				continue;
			if (strcmp(l.container, id) == 0) {
				hutch_debug("detach %s from network %s (%s)", id, *n, *p);
				release(root, &l);
			}
			net_lease_clear(&l);
		}
	}
	kill_forwarder(root, id);
	return 0;
}

int hutch_net_attach_plan(const char *root, const char *id, pid_t init_pid,
			  const struct hutch_net_plan *plan, struct hutch_error **err)
{
	_cleanup_close_ int lock = -1, cnsfd = -1;
	char nspath[64];
	unsigned long long st;

	if (plan->n_nets == 0)
		return 0;
	lock = net_lock(root, err);
	if (lock < 0)
		return -1;
	st = hutch_proc_start_time(init_pid);
	snprintf(nspath, sizeof(nspath), "/proc/%d/ns/net", (int)init_pid);
	cnsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (cnsfd < 0 || st == 0)
		return hutch_error_errno(err, "open network namespace of %s (%s)", id, nspath);
	for (size_t i = 0; i < plan->n_nets; i++)
		if (attach_one(root, id, init_pid, st, cnsfd, i, &plan->nets[i], plan, err) < 0)
			goto fail;
	if (plan->n_ports > 0 && spawn_forwarder(root, id, init_pid, cnsfd, plan, err) < 0)
		goto fail;
	return 0;
fail:
	detach_locked(root, id, NULL);
	return -1;
}

int hutch_net_attach(const char *root, const char *id, pid_t init_pid,
		     const struct hutch_spec *spec, char **extra_networks, struct hutch_error **err)
{
	struct hutch_net_plan plan;
	bool asked = extra_networks != NULL && extra_networks[0] != NULL;
	int r;

	/* Zero cost when nothing is asked: not even a file is opened. */
	for (size_t i = 0; !asked && spec != NULL && i < spec->n_annotations; i++)
		asked = strcmp(spec->annotations[i].key, HUTCH_NET_ANN_NETWORK) == 0;
	if (!asked)
		return 0;
	/* Never plug interfaces into the namespace hutch runs in. */
	if (spec != NULL && !spec->linux_.namespaces[HUTCH_NS_NETWORK].present)
		return hutch_error_set(err, EINVAL,
				       "container %s: networks (%s, --network) need a network "
				       "namespace in linux.namespaces",
				       id, HUTCH_NET_ANN_NETWORK);
	if (hutch_net_plan_parse(spec ? spec->annotations : NULL, spec ? spec->n_annotations : 0,
				 extra_networks, &plan, err) < 0)
		return -1;
	r = hutch_net_attach_plan(root, id, init_pid, &plan, err);
	hutch_net_plan_clear(&plan);
	return r;
}

int hutch_net_detach(const char *root, const char *id, struct hutch_error **err)
{
	_cleanup_free_ char *dir = net_path(root, NULL, NULL);
	_cleanup_close_ int lock = -1;
	struct stat sb;

	/* No networks directory: hutch never attached anything; touch nothing. */
	if (dir == NULL || stat(dir, &sb) < 0)
		return 0;
	lock = net_lock(root, err);
	if (lock < 0)
		return -1;
	return detach_locked(root, id, err);
}

/* ---- gc ---- */

static bool container_gone(const char *root, const struct net_lease *l)
{
	_cleanup_free_ char *state = NULL;
	struct stat sb;

	if (l->pid <= 0 || hutch_proc_start_time(l->pid) != l->starttime)
		return true;
	/* A create killed after attaching leaves the state dir without state.json
	 * (written once the container is mounted).  gc is a repair command: do
	 * not run it while a create is in progress. */
	if (asprintf(&state, "%s/%s/state.json", root, l->container) < 0)
		return false;
	return stat(state, &sb) < 0 && errno == ENOENT;
}

static void gc_router(const char *root, const char *net, char **leases)
{
	_cleanup_close_ int rfd = net_router_open(root, net, NULL);
	_cleanup_nl_ struct hutch_nl *nl = rfd >= 0 ? hutch_nl_open(rfd, NULL) : NULL;
	_cleanup_strv_ char **links = nl ? hutch_nl_list_links(nl, NULL) : NULL;

	for (char **k = links; k && *k; k++) {
		bool used = false;
		char buf[HUTCH_NL_BUFSIZE], what[96];
		unsigned ip;

		if ((strncmp(*k, "hv", 2) != 0 && strncmp(*k, "hb", 2) != 0) ||
		    sscanf(*k + 2, "%08x", &ip) != 1)
			continue;
		for (char **p = leases; p && *p && !used; p++) {
			uint32_t lip;
			used = hutch_net_ip_parse(*p, &lip, NULL) == 0 && lip == ip;
		}
		if (used)
			continue;
		snprintf(what, sizeof(what), "delete stale %s on network %s", *k, net);
		hutch_nl_talk(nl, hutch_nl_build_dellink(buf, *k), what, NULL);
	}
}

/* ".tmp-PID" files of allocations and "IP.tmp.PID" files of lease rewrites
 * whose process died before renaming or unlinking them. */
static void gc_tmp_leases(const char *root, const char *net)
{
	_cleanup_free_ char *dir = net_path(root, net, "leases");
	_cleanup_closedir_ DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char p[4200];
		int pid;

		const char *t = strstr(e->d_name, ".tmp");

		if (t == NULL || sscanf(t + 5, "%d", &pid) != 1 || pid <= 0 ||
		    (kill(pid, 0) == 0 || errno != ESRCH))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
}

int hutch_net_gc(const char *root, struct hutch_error **err)
{
	_cleanup_free_ char *dir = net_path(root, NULL, NULL);
	_cleanup_free_ char *pdir = ports_path(root, NULL);
	_cleanup_close_ int lock = -1;
	_cleanup_strv_ char **nets = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct stat sb;
	struct dirent *e;

	if (dir == NULL || pdir == NULL)
		return hutch_error_set(err, ENOMEM, "gc");
	if (stat(dir, &sb) < 0)
		return 0;
	lock = net_lock(root, err);
	if (lock < 0)
		return -1;
	/* Networks whose create was killed before network.json was written. */
	d = opendir(dir);
	while (d != NULL && (e = readdir(d)) != NULL) {
		_cleanup_free_ char *j = NULL, *ns = NULL, *nd = NULL;
		if (e->d_name[0] == '.' || strcmp(e->d_name, "lock") == 0)
			continue;
		j = net_path(root, e->d_name, "network.json");
		if (j == NULL || stat(j, &sb) == 0)
			continue;
		ns = net_path(root, e->d_name, "netns");
		nd = net_path(root, e->d_name, NULL);
		if (ns == NULL || nd == NULL)
			continue;
		hutch_debug("gc: half-created network %s", e->d_name);
		if (umount2(ns, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			continue;
		hutch_rm_rf(nd, NULL);
	}
	nets = hutch_network_list(root, err);
	if (nets == NULL)
		return -1;
	for (char **n = nets; *n; n++) {
		_cleanup_strv_ char **leases = net_lease_names(root, *n, NULL);
		_cleanup_strv_ char **left = NULL;
		for (char **p = leases; p && *p; p++) {
			struct net_lease l;
			if (net_lease_read(root, *n, *p, &l, NULL) < 0) {
				/* an unreadable lease file (e.g. a .tmp) is removed */
				continue;
			}
			if (container_gone(root, &l)) {
				hutch_debug("gc: release %s of %s on network %s", *p, l.container,
					    *n);
				release(root, &l);
				kill_forwarder(root, l.container);
			}
			net_lease_clear(&l);
		}
		left = net_lease_names(root, *n, NULL);
		gc_router(root, *n, left);
		gc_tmp_leases(root, *n);
	}
	/* Uplink indexes no network owns (a killed create, a name taken in
	 * hutch's namespace by another root). */
	closedir(steal_ptr(d));
	{
		_cleanup_free_ char *udir = NULL;
		if (asprintf(&udir, "%s/networks/.uplinks", root) >= 0)
			d = opendir(udir);
		while (d != NULL && (e = readdir(d)) != NULL) {
			_cleanup_free_ char *p = NULL, *owner = NULL;
			struct hutch_network *n;
			unsigned idx = (unsigned)strtoul(e->d_name, NULL, 10);
			if (e->d_name[0] == '.' || asprintf(&p, "%s/%s", udir, e->d_name) < 0)
				continue;
			owner = hutch_read_file(p, 256, NULL, NULL);
			n = owner ? hutch_network_load(root, owner, NULL) : NULL;
			if (n == NULL || n->uplink != idx) {
				hutch_debug("gc: uplink index %s", e->d_name);
				unlink(p);
			}
			hutch_network_free(n);
		}
	}
	/* Forwarders whose container holds no lease any more. */
	closedir(steal_ptr(d));
	d = opendir(pdir);
	while (d != NULL && (e = readdir(d)) != NULL) {
		bool used = false;
		if (e->d_name[0] == '.')
			continue;
		for (char **n = nets; *n && !used; n++) {
			_cleanup_strv_ char **leases = net_lease_names(root, *n, NULL);
			for (char **p = leases; p && *p && !used; p++) {
				struct net_lease l;
				if (net_lease_read(root, *n, *p, &l, NULL) < 0)
					continue;
				used = strcmp(l.container, e->d_name) == 0;
				net_lease_clear(&l);
			}
		}
		if (!used)
			kill_forwarder(root, e->d_name);
	}
	return 0;
}

/* ---- bandwidth of a running container ---- */

int hutch_net_bandwidth(const char *root, const char *id, uint64_t egress_bps, uint64_t ingress_bps,
			struct hutch_error **err)
{
	_cleanup_close_ int lock = net_lock(root, err);
	_cleanup_strv_ char **nets = NULL;
	size_t found = 0;

	if (lock < 0)
		return -1;
	nets = hutch_network_list(root, err);
	if (nets == NULL)
		return -1;
	for (char **n = nets; *n; n++) {
		_cleanup_strv_ char **leases = net_lease_names(root, *n, NULL);
		for (char **p = leases; p && *p; p++) {
			struct net_lease l;
			_cleanup_close_ int rfd = -1;
			int r;
			if (net_lease_read(root, *n, *p, &l, NULL) < 0)
				continue;
			if (strcmp(l.container, id) != 0) {
				net_lease_clear(&l);
				continue;
			}
			found++;
			if (egress_bps != UINT64_MAX)
				l.egress = egress_bps;
			if (ingress_bps != UINT64_MAX)
				l.ingress = ingress_bps;
			rfd = net_router_open(root, *n, err);
			r = rfd < 0 ? -1 : apply_bandwidth(rfd, &l, err);
			if (r == 0)
				r = net_lease_rewrite(root, &l, err);
			net_lease_clear(&l);
			if (r < 0)
				return -1;
		}
	}
	if (found == 0)
		return hutch_error_set(err, ENOENT, "container %s is attached to no network", id);
	return 0;
}

/* ---- /etc/hosts ---- */

static bool wants_hosts(const struct hutch_spec *spec)
{
	for (size_t i = 0; spec != NULL && i < spec->n_annotations; i++)
		if (strcmp(spec->annotations[i].key, HUTCH_NET_ANN_HOSTS) == 0)
			return spec->annotations[i].value != NULL &&
			       strcmp(spec->annotations[i].value, "true") == 0;
	return false;
}

/* "IP NAME" lines: the container's own addresses first, then the other
 * containers of its networks (as attached at this moment). */
static char *hosts_text(const char *root, const char *id, const char *hostname,
			struct hutch_error **err)
{
	_cleanup_strv_ char **nets = hutch_network_list(root, err);
	_cleanup_free_ char *own = strdup(""), *peers = strdup("");
	char *out = NULL;

	if (nets == NULL)
		return NULL;
	for (char **n = nets; *n && own && peers; n++) {
		_cleanup_strv_ char **leases = net_lease_names(root, *n, NULL);
		bool member = false;
		for (char **p = leases; p && *p && !member; p++) {
			struct net_lease l;
			if (net_lease_read(root, *n, *p, &l, NULL) == 0) {
				member = strcmp(l.container, id) == 0;
				net_lease_clear(&l);
			}
		}
		for (char **p = leases; member && p && *p; p++) {
			struct net_lease l;
			char *line = NULL, **dst;
			if (net_lease_read(root, *n, *p, &l, NULL) < 0)
				continue;
			dst = strcmp(l.container, id) == 0 ? &own : &peers;
			if (asprintf(&line, "%s%s\t%s\n", *dst, *p,
				     dst == &own ? hostname : l.container) >= 0) {
				free(*dst);
				*dst = line;
			}
			net_lease_clear(&l);
		}
	}
	if (own == NULL || peers == NULL ||
	    asprintf(&out, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s%s",
		     own, peers) < 0)
		return hutch_error_set(err, ENOMEM, "hosts of %s", id), NULL;
	return out;
}

int hutch_net_write_hosts(const char *root, const char *id, const char *rootfs,
			  const struct hutch_spec *spec, struct hutch_error **err)
{
	_cleanup_close_ int rfd = -1, etc = -1, fd = -1;
	_cleanup_free_ char *text = NULL;
	const char *hostname;

	if (!wants_hosts(spec))
		return 0;
	hostname = spec->hostname != NULL && spec->hostname[0] ? spec->hostname : id;
	text = hosts_text(root, id, hostname, err);
	if (text == NULL)
		return -1;
	rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return hutch_error_errno(err, "open rootfs %s", rootfs);
	/* Resolved inside the rootfs: a symlinked /etc cannot lead out of it. */
	etc = hutch_path_mkdir_in_root(rfd, "/etc", 0755, true, err);
	if (etc < 0)
		return hutch_error_prefix(err, "/etc/hosts of %s", id);
	hutch_debug("write %s/etc/hosts", rootfs);
	fd = openat(etc, "hosts", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return hutch_error_errno(err, "open %s/etc/hosts", rootfs);
	if (hutch_write_all(fd, text, strlen(text)) < 0)
		return hutch_error_errno(err, "write %s/etc/hosts", rootfs);
	return 0;
}
