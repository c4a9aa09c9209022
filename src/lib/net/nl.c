#include "net/nl.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mnl_socket *hutch_nl_open(int nsfd, struct hutch_error **err)
{
	_cleanup_close_ int cur = -1;
	struct mnl_socket *nl;
	int saved;

	if (nsfd >= 0) {
		cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (cur < 0)
			return hutch_error_errno(err, "open /proc/thread-self/ns/net"), NULL;
		if (setns(nsfd, CLONE_NEWNET) < 0)
			return hutch_error_errno(err, "setns into network namespace"), NULL;
	}
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	saved = errno;
	if (cur >= 0 && setns(cur, CLONE_NEWNET) < 0) {
		/* Staying in the wrong namespace would be far worse than failing. */
		hutch_error_errno(err, "setns back to hutch's network namespace");
		if (nl != NULL)
			mnl_socket_close(nl);
		return NULL;
	}
	if (nl == NULL) {
		errno = saved;
		return hutch_error_errno(err, "netlink socket"), NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		hutch_error_errno(err, "bind netlink socket");
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

void hutch_nl_closep(struct mnl_socket **nl)
{
	if (*nl != NULL)
		mnl_socket_close(*nl);
	*nl = NULL;
}

static struct nlmsghdr *link_msg(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	memset(buf, 0, HUTCH_NL_BUFSIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	return nlh;
}

struct nlmsghdr *hutch_nl_build_veth(void *buf, const char *name, int master, const char *peer,
				     int peer_nsfd)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct nlattr *linkinfo, *data, *peerinfo;
	struct ifinfomsg *pifm;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow its own ifinfomsg. */
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_nsfd);
	mnl_attr_nest_end(nlh, peerinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_newlink(void *buf, const char *name, const char *kind)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct nlattr *linkinfo;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	mnl_attr_nest_end(nlh, linkinfo);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_dellink(void *buf, const char *name)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, NLM_F_ACK);

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_getlink(void *buf, const char *name)
{
	/* The ack after the reply tells nl_recv the answer is complete. */
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_ACK);

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_dumplinks(void *buf)
{
	return link_msg(buf, RTM_GETLINK, NLM_F_DUMP);
}

struct nlmsghdr *hutch_nl_build_setup(void *buf, const char *name, bool up)
{
	/* RTM_NEWLINK without NLM_F_CREATE on an existing name changes that link. */
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_addaddr(void *buf, int ifindex, uint32_t ip, unsigned prefix)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	uint32_t be = htonl(ip);
	uint32_t bcast = htonl(ip | (prefix >= 32 ? 0 : (0xffffffffu >> prefix)));

	memset(buf, 0, HUTCH_NL_BUFSIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put_u32(nlh, IFA_LOCAL, be);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, be);
	mnl_attr_put_u32(nlh, IFA_BROADCAST, bcast);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_defroute(void *buf, uint32_t gw, int ifindex)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	memset(buf, 0, HUTCH_NL_BUFSIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gw));
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nlh;
}

/* ---- traffic control ---- */

static struct nlmsghdr *tc_msg(void *buf, uint16_t type, uint16_t flags, int ifindex,
			       uint32_t parent, uint32_t handle)
{
	struct nlmsghdr *nlh;
	struct tcmsg *t;

	memset(buf, 0, HUTCH_NL_BUFSIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	t = mnl_nlmsg_put_extra_header(nlh, sizeof(*t));
	t->tcm_family = AF_UNSPEC;
	t->tcm_ifindex = ifindex;
	t->tcm_parent = parent;
	t->tcm_handle = handle;
	return nlh;
}

struct nlmsghdr *hutch_nl_build_tbf(void *buf, int ifindex, uint64_t bps, uint32_t burst,
				    uint32_t latency_us)
{
	struct nlmsghdr *nlh =
	    tc_msg(buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, ifindex, TC_H_ROOT, 0);
	uint64_t bytes = bps / 8 ? bps / 8 : 1;
	uint64_t limit = bytes * latency_us / 1000000 + burst;
	/* The kernel keeps the bucket in time: PSCHED_TICKS2NS(t) = t << 6. */
	uint64_t ticks = ((uint64_t)burst * 1000000000ULL / bytes) >> 6;
	struct tc_tbf_qopt q = {0};
	struct nlattr *opts;

	/* Ethernet: no rate table needed (the kernel asks for one only when
	 * the link layer is "unaware"). */
	q.rate.linklayer = TC_LINKLAYER_ETHERNET;
	q.rate.rate = bytes >= UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;
	q.limit = limit >= UINT32_MAX ? UINT32_MAX : (uint32_t)limit;
	q.buffer = ticks >= UINT32_MAX ? UINT32_MAX : (uint32_t)ticks;
	mnl_attr_put_strz(nlh, TCA_KIND, "tbf");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_TBF_PARMS, sizeof(q), &q);
	if (bytes >= UINT32_MAX)
		mnl_attr_put_u64(nlh, TCA_TBF_RATE64, bytes);
	mnl_attr_put_u32(nlh, TCA_TBF_BURST, burst);
	mnl_attr_nest_end(nlh, opts);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_qdisc_del(void *buf, int ifindex, bool ingress)
{
	return ingress
		   ? tc_msg(buf, RTM_DELQDISC, 0, ifindex, TC_H_INGRESS, TC_H_MAKE(TC_H_INGRESS, 0))
		   : tc_msg(buf, RTM_DELQDISC, 0, ifindex, TC_H_ROOT, 0);
}

struct nlmsghdr *hutch_nl_build_ingress(void *buf, int ifindex)
{
	struct nlmsghdr *nlh = tc_msg(buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex,
				      TC_H_INGRESS, TC_H_MAKE(TC_H_INGRESS, 0));

	mnl_attr_put_strz(nlh, TCA_KIND, "ingress");
	return nlh;
}

struct nlmsghdr *hutch_nl_build_redirect(void *buf, int ifindex, int target)
{
	/* prio 1, protocol all: tcm_info = prio << 16 | htons(ETH_P_ALL) */
	struct nlmsghdr *nlh = tc_msg(buf, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex,
				      TC_H_MAKE(TC_H_INGRESS, 0), 0);
	struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key key;
	} sel = {0};
	struct tc_mirred m = {0};
	struct nlattr *opts, *acts, *act, *aopts;

	t->tcm_info = TC_H_MAKE(1U << 16, htons(ETH_P_ALL));
	/* one key, mask 0: every packet matches */
	sel.sel.flags = TC_U32_TERMINAL;
	sel.sel.nkeys = 1;
	m.action = TC_ACT_STOLEN;
	m.eaction = TCA_EGRESS_REDIR;
	m.ifindex = (uint32_t)target;
	mnl_attr_put_strz(nlh, TCA_KIND, "u32");
	opts = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_U32_SEL, sizeof(sel), &sel);
	acts = mnl_attr_nest_start(nlh, TCA_U32_ACT);
	act = mnl_attr_nest_start(nlh, 1); /* the first action */
	mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
	aopts = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
	mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(m), &m);
	mnl_attr_nest_end(nlh, aopts);
	mnl_attr_nest_end(nlh, act);
	mnl_attr_nest_end(nlh, acts);
	mnl_attr_nest_end(nlh, opts);
	return nlh;
}

/* Receive until the ack (or error) for SEQ; CB sees data messages. */
static int nl_recv(struct mnl_socket *nl, unsigned seq, mnl_cb_t cb, void *data, const char *what,
		   struct hutch_error **err)
{
	_cleanup_free_ char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	unsigned portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int r;

	if (buf == NULL)
		return hutch_error_set(err, ENOMEM, "%s", what);
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (n < 0)
			return hutch_error_errno(err, "%s: receive", what);
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (r < 0)
			return hutch_error_errno(err, "%s", what);
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static unsigned next_seq(void)
{
	static unsigned seq;

	if (seq == 0)
		seq = (unsigned)time(NULL);
	return ++seq;
}

int hutch_nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, const char *what,
		  struct hutch_error **err)
{
	nlh->nlmsg_seq = next_seq();
	hutch_debug("netlink: %s", what);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return hutch_error_errno(err, "%s: send", what);
	return nl_recv(nl, nlh->nlmsg_seq, NULL, NULL, what, err);
}

static int ifindex_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK)
		*(int *)data = ifm->ifi_index;
	return MNL_CB_OK;
}

int hutch_nl_ifindex(struct mnl_socket *nl, const char *name, struct hutch_error **err)
{
	char buf[HUTCH_NL_BUFSIZE];
	struct nlmsghdr *nlh = hutch_nl_build_getlink(buf, name);
	_cleanup_free_ char *what = NULL;
	int idx = -1;

	if (asprintf(&what, "get link %s", name) < 0)
		return hutch_error_set(err, ENOMEM, "get link %s", name);
	nlh->nlmsg_seq = next_seq();
	hutch_debug("netlink: %s", what);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return hutch_error_errno(err, "%s: send", what);
	if (nl_recv(nl, nlh->nlmsg_seq, ifindex_cb, &idx, what, err) < 0)
		return -1;
	if (idx <= 0)
		return hutch_error_set(err, ENODEV, "%s", what);
	return idx;
}

struct names {
	char **v;
	size_t n;
};

static int name_attr_cb(const struct nlattr *a, void *data)
{
	const char **name = data;

	if (mnl_attr_get_type(a) == IFLA_IFNAME && mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
		*name = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int names_cb(const struct nlmsghdr *nlh, void *data)
{
	struct names *ns = data;
	const char *name = NULL;
	char **nv;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), name_attr_cb, &name);
	if (name == NULL)
		return MNL_CB_OK;
	nv = realloc(ns->v, (ns->n + 2) * sizeof(*nv));
	if (nv == NULL)
		return MNL_CB_ERROR;
	ns->v = nv;
	ns->v[ns->n] = strdup(name);
	if (ns->v[ns->n] == NULL)
		return MNL_CB_ERROR;
	ns->v[++ns->n] = NULL;
	return MNL_CB_OK;
}

char **hutch_nl_list_links(struct mnl_socket *nl, struct hutch_error **err)
{
	char buf[HUTCH_NL_BUFSIZE];
	struct nlmsghdr *nlh = hutch_nl_build_dumplinks(buf);
	struct names ns = {0};

	nlh->nlmsg_seq = next_seq();
	hutch_debug("netlink: dump links");
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return hutch_error_errno(err, "dump links: send"), NULL;
	if (nl_recv(nl, nlh->nlmsg_seq, names_cb, &ns, "dump links", err) < 0) {
		hutch_strv_free(ns.v);
		return NULL;
	}
	if (ns.v == NULL)
		ns.v = calloc(1, sizeof(char *));
	return ns.v;
}
