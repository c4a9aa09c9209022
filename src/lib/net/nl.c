#include "net/nl.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- message building ----------------------------------------------------------
 * The few rtnetlink primitives hutch needs, on a HUTCH_NL_BUFSIZE buffer.  A
 * message that would not fit is poisoned (nlmsg_len beyond the buffer) and
 * refused by send(); builders never write past the buffer. */

#define NL_POISON (HUTCH_NL_BUFSIZE + 1)

static struct nlmsghdr *put_header(void *buf)
{
	struct nlmsghdr *nlh = buf;

	memset(buf, 0, HUTCH_NL_BUFSIZE);
	nlh->nlmsg_len = NLMSG_HDRLEN;
	return nlh;
}

/* Room for SIZE more bytes (aligned), zeroed, at the tail; NULL if full. */
static void *put_tail(struct nlmsghdr *nlh, size_t size)
{
	size_t at = NLMSG_ALIGN(nlh->nlmsg_len), need = NLMSG_ALIGN(size);
	char *p;

	if (nlh->nlmsg_len > HUTCH_NL_BUFSIZE || at + need > HUTCH_NL_BUFSIZE) {
		nlh->nlmsg_len = NL_POISON;
		return NULL;
	}
	p = (char *)nlh + at;
	memset(p, 0, need);
	nlh->nlmsg_len = (uint32_t)(at + need);
	return p;
}

/* A fixed header after the nlmsghdr (ifinfomsg, tcmsg...); also used for
 * the peer's ifinfomsg inside VETH_INFO_PEER.  The builders' buffers are
 * large enough for it: a static scratch keeps a poisoned message safe. */
static void *put_extra(struct nlmsghdr *nlh, size_t size)
{
	static char scratch[64];
	void *p = put_tail(nlh, size);

	return p != NULL ? p : memset(scratch, 0, sizeof(scratch));
}

static void *payload(const struct nlmsghdr *nlh)
{
	return (char *)nlh + NLMSG_HDRLEN;
}

static void attr_put(struct nlmsghdr *nlh, uint16_t type, size_t len, const void *data)
{
	struct nlattr *a = put_tail(nlh, NLA_HDRLEN + len);

	if (a == NULL)
		return;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len > 0)
		memcpy((char *)a + NLA_HDRLEN, data, len);
}

static void attr_put_strz(struct nlmsghdr *nlh, uint16_t type, const char *s)
{
	attr_put(nlh, type, strlen(s) + 1, s);
}

static void attr_put_u32(struct nlmsghdr *nlh, uint16_t type, uint32_t v)
{
	attr_put(nlh, type, sizeof(v), &v);
}

static void attr_put_u64(struct nlmsghdr *nlh, uint16_t type, uint64_t v)
{
	attr_put(nlh, type, sizeof(v), &v);
}

/* Open a nested attribute; its length is set by nest_end(). */
static struct nlattr *nest_start(struct nlmsghdr *nlh, uint16_t type)
{
	struct nlattr *a = put_tail(nlh, NLA_HDRLEN);

	if (a != NULL)
		a->nla_type = NLA_F_NESTED | type;
	return a;
}

static void nest_end(struct nlmsghdr *nlh, struct nlattr *a)
{
	if (a != NULL && nlh->nlmsg_len <= HUTCH_NL_BUFSIZE)
		a->nla_len = (uint16_t)((char *)nlh + nlh->nlmsg_len - (char *)a);
}

/* ---- the socket ----------------------------------------------------------------- */

struct hutch_nl {
	int fd;
	uint32_t portid;
};

struct hutch_nl *hutch_nl_open(int nsfd, struct hutch_error **err)
{
	_cleanup_close_ int cur = -1, fd = -1;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	socklen_t len = sizeof(sa);
	struct hutch_nl *nl;
	int saved;

	if (nsfd >= 0) {
		cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (cur < 0)
			return hutch_error_errno(err, "open /proc/thread-self/ns/net"), NULL;
		if (setns(nsfd, CLONE_NEWNET) < 0)
			return hutch_error_errno(err, "setns into network namespace"), NULL;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	saved = errno;
	if (cur >= 0 && setns(cur, CLONE_NEWNET) < 0)
		/* Staying in the wrong namespace would be far worse than failing. */
		return hutch_error_errno(err, "setns back to hutch's network namespace"), NULL;
	if (fd < 0) {
		errno = saved;
		return hutch_error_errno(err, "netlink socket"), NULL;
	}
	/* nl_pid 0: the kernel picks a unique port id */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return hutch_error_errno(err, "bind netlink socket"), NULL;
	nl = malloc(sizeof(*nl));
	if (nl == NULL)
		return hutch_error_set(err, ENOMEM, "netlink socket"), NULL;
	nl->fd = steal_fd(fd);
	nl->portid = sa.nl_pid;
	return nl;
}

void hutch_nl_closep(struct hutch_nl **nl)
{
	if (*nl != NULL) {
		close((*nl)->fd);
		free(*nl);
	}
	*nl = NULL;
}

static struct nlmsghdr *link_msg(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	nlh = put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifm = put_extra(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	return nlh;
}

struct nlmsghdr *hutch_nl_build_veth(void *buf, const char *name, int master, const char *peer,
				     int peer_nsfd)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct nlattr *linkinfo, *data, *peerinfo;
	struct ifinfomsg *pifm;

	attr_put_strz(nlh, IFLA_IFNAME, name);
	if (master > 0)
		attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	linkinfo = nest_start(nlh, IFLA_LINKINFO);
	attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = nest_start(nlh, IFLA_INFO_DATA);
	peerinfo = nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow its own ifinfomsg. */
	pifm = put_extra(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_nsfd >= 0)
		attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_nsfd);
	nest_end(nlh, peerinfo);
	nest_end(nlh, data);
	nest_end(nlh, linkinfo);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_newlink(void *buf, const char *name, const char *kind)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct nlattr *linkinfo;

	attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = nest_start(nlh, IFLA_LINKINFO);
	attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	nest_end(nlh, linkinfo);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_dellink(void *buf, const char *name)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, NLM_F_ACK);

	attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_getlink(void *buf, const char *name)
{
	/* The ack after the reply tells nl_recv the answer is complete. */
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_ACK);

	attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_dumplinks(void *buf)
{
	return link_msg(buf, RTM_GETLINK, NLM_F_DUMP);
}

struct nlmsghdr *hutch_nl_build_getlink_index(void *buf, int ifindex)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_ACK);

	((struct ifinfomsg *)payload(nlh))->ifi_index = ifindex;
	return nlh;
}

struct nlmsghdr *hutch_nl_build_move(void *buf, int ifindex, int nsfd, const char *name)
{
	/* One request: the kernel moves the link and renames it on arrival,
	 * so the name never clashes in either namespace along the way. */
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_ACK);

	((struct ifinfomsg *)payload(nlh))->ifi_index = ifindex;
	attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
	attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_setup_index(void *buf, int ifindex, bool up)
{
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifm = payload(nlh);

	ifm->ifi_index = ifindex;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	return nlh;
}

struct nlmsghdr *hutch_nl_build_dumpaddrs(void *buf)
{
	struct nlmsghdr *nlh = put_header(buf);
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = put_extra(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	return nlh;
}

static size_t addr_len(unsigned char family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

struct nlmsghdr *hutch_nl_build_newaddr(void *buf, const struct hutch_nl_addr *a, int ifindex)
{
	/* what a user may ask for; the kernel manages the rest (permanent,
	 * tentative, deprecated...) */
	const uint32_t settable = IFA_F_NODAD | IFA_F_OPTIMISTIC | IFA_F_HOMEADDRESS |
				  IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE | IFA_F_MCAUTOJOIN;
	struct nlmsghdr *nlh = put_header(buf);
	struct ifaddrmsg *ifa;
	size_t len = addr_len(a->family);

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	ifa = put_extra(nlh, sizeof(*ifa));
	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = a->prefixlen;
	ifa->ifa_scope = a->scope;
	ifa->ifa_index = (unsigned)ifindex;
	ifa->ifa_flags = (unsigned char)(a->flags & settable & 0xff);
	if (a->has_local)
		attr_put(nlh, IFA_LOCAL, len, a->local);
	if (a->has_address)
		attr_put(nlh, IFA_ADDRESS, len, a->address);
	if (a->has_broadcast && a->family == AF_INET)
		attr_put(nlh, IFA_BROADCAST, 4, a->broadcast);
	attr_put_u32(nlh, IFA_FLAGS, a->flags & settable);
	return nlh;
}

int hutch_nl_parse_addr(const struct nlmsghdr *nlh, struct hutch_nl_addr *a)
{
	const struct ifaddrmsg *ifa = payload(nlh);
	size_t off = NLMSG_ALIGN(sizeof(*ifa)), left, len;
	const char *p;

	memset(a, 0, sizeof(*a));
	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < NLMSG_LENGTH(off))
		return -1;
	len = addr_len(ifa->ifa_family);
	if (len == 0)
		return -1;
	a->family = ifa->ifa_family;
	a->prefixlen = ifa->ifa_prefixlen;
	a->scope = ifa->ifa_scope;
	a->flags = ifa->ifa_flags;
	a->ifindex = (int)ifa->ifa_index;
	p = (const char *)ifa + off;
	left = nlh->nlmsg_len - NLMSG_LENGTH(off);
	while (left >= NLA_HDRLEN) {
		const struct nlattr *at = (const struct nlattr *)p;
		size_t alen, step;
		const void *data = p + NLA_HDRLEN;
		if (at->nla_len < NLA_HDRLEN || at->nla_len > left)
			return -1;
		alen = at->nla_len - NLA_HDRLEN;
		switch (at->nla_type & NLA_TYPE_MASK) {
		case IFA_LOCAL:
			if (alen == len) {
				memcpy(a->local, data, len);
				a->has_local = true;
			}
			break;
		case IFA_ADDRESS:
			if (alen == len) {
				memcpy(a->address, data, len);
				a->has_address = true;
			}
			break;
		case IFA_BROADCAST:
			if (alen == 4 && a->family == AF_INET) {
				memcpy(a->broadcast, data, 4);
				a->has_broadcast = true;
			}
			break;
		case IFA_FLAGS:
			if (alen == sizeof(uint32_t))
				memcpy(&a->flags, data, sizeof(uint32_t));
			break;
		default:
			break;
		}
		step = NLA_ALIGN(at->nla_len);
		if (step >= left)
			break;
		p += step;
		left -= step;
	}
	return a->has_local || a->has_address ? 0 : -1;
}

struct nlmsghdr *hutch_nl_build_setup(void *buf, const char *name, bool up)
{
	/* RTM_NEWLINK without NLM_F_CREATE on an existing name changes that link. */
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifm = payload(nlh);

	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_addaddr(void *buf, int ifindex, uint32_t ip, unsigned prefix)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	uint32_t be = htonl(ip);
	uint32_t bcast = htonl(ip | (prefix >= 32 ? 0 : (0xffffffffu >> prefix)));

	nlh = put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	ifa = put_extra(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	attr_put_u32(nlh, IFA_LOCAL, be);
	attr_put_u32(nlh, IFA_ADDRESS, be);
	attr_put_u32(nlh, IFA_BROADCAST, bcast);
	return nlh;
}

struct nlmsghdr *hutch_nl_build_defroute(void *buf, uint32_t gw, int ifindex)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	nlh = put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	rtm = put_extra(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	attr_put_u32(nlh, RTA_GATEWAY, htonl(gw));
	attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nlh;
}

/* ---- traffic control ---- */

static struct nlmsghdr *tc_msg(void *buf, uint16_t type, uint16_t flags, int ifindex,
			       uint32_t parent, uint32_t handle)
{
	struct nlmsghdr *nlh;
	struct tcmsg *t;

	nlh = put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	t = put_extra(nlh, sizeof(*t));
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
	attr_put_strz(nlh, TCA_KIND, "tbf");
	opts = nest_start(nlh, TCA_OPTIONS);
	attr_put(nlh, TCA_TBF_PARMS, sizeof(q), &q);
	if (bytes >= UINT32_MAX)
		attr_put_u64(nlh, TCA_TBF_RATE64, bytes);
	attr_put_u32(nlh, TCA_TBF_BURST, burst);
	nest_end(nlh, opts);
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

	attr_put_strz(nlh, TCA_KIND, "ingress");
	return nlh;
}

struct nlmsghdr *hutch_nl_build_redirect(void *buf, int ifindex, int target)
{
	/* prio 1, protocol all: tcm_info = prio << 16 | htons(ETH_P_ALL) */
	struct nlmsghdr *nlh = tc_msg(buf, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex,
				      TC_H_MAKE(TC_H_INGRESS, 0), 0);
	struct tcmsg *t = payload(nlh);
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
	attr_put_strz(nlh, TCA_KIND, "u32");
	opts = nest_start(nlh, TCA_OPTIONS);
	attr_put(nlh, TCA_U32_SEL, sizeof(sel), &sel);
	acts = nest_start(nlh, TCA_U32_ACT);
	act = nest_start(nlh, 1); /* the first action */
	attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
	aopts = nest_start(nlh, TCA_ACT_OPTIONS);
	attr_put(nlh, TCA_MIRRED_PARMS, sizeof(m), &m);
	nest_end(nlh, aopts);
	nest_end(nlh, act);
	nest_end(nlh, acts);
	nest_end(nlh, opts);
	return nlh;
}

/* ---- send, receive -------------------------------------------------------------- */

typedef int (*msg_cb)(const struct nlmsghdr *nlh, void *data); /* <0: error (errno set) */

static unsigned next_seq(void);

static int nl_send(struct hutch_nl *nl, struct nlmsghdr *nlh, const char *what,
		   struct hutch_error **err)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	ssize_t n;

	if (nlh->nlmsg_len > HUTCH_NL_BUFSIZE)
		return hutch_error_set(err, EMSGSIZE, "%s: netlink message too large", what);
	nlh->nlmsg_seq = next_seq();
	hutch_debug("netlink: %s", what);
	do
		n = sendto(nl->fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return hutch_error_errno(err, "%s: send", what);
	return 0;
}

/* Receive until the ack (or error, or end of a dump) for SEQ; CB sees the
 * data messages.  Messages for other requests or ports are skipped. */
static int nl_recv(struct hutch_nl *nl, uint32_t seq, msg_cb cb, void *data, const char *what,
		   struct hutch_error **err)
{
	/* a page per message at most (NLMSG_GOODSIZE); dumps come in parts */
	_cleanup_free_ char *buf = malloc(HUTCH_NL_RECVSIZE);

	if (buf == NULL)
		return hutch_error_set(err, ENOMEM, "%s", what);
	for (;;) {
		ssize_t n = recv(nl->fd, buf, HUTCH_NL_RECVSIZE, 0);
		size_t left;
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hutch_error_errno(err, "%s: receive", what);
		if (n == 0)
			return hutch_error_set(err, EPROTO, "%s: netlink socket closed", what);
		for (left = (size_t)n; NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
			if (nlh->nlmsg_seq != seq ||
			    (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid != nl->portid))
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = payload(nlh);
				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return hutch_error_set(err, EPROTO, "%s: short error",
							       what);
				if (e->error == 0)
					return 0; /* the ack */
				errno = -e->error;
				return hutch_error_errno(err, "%s", what);
			}
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE || cb == NULL)
				continue;
			if (cb(nlh, data) < 0)
				return hutch_error_errno(err, "%s", what);
		}
	}
}

static unsigned next_seq(void)
{
	static unsigned seq;

	if (seq == 0)
		seq = (unsigned)time(NULL);
	return ++seq;
}

int hutch_nl_talk(struct hutch_nl *nl, struct nlmsghdr *nlh, const char *what,
		  struct hutch_error **err)
{
	if (nl_send(nl, nlh, what, err) < 0)
		return -1;
	return nl_recv(nl, nlh->nlmsg_seq, NULL, NULL, what, err);
}

static int ifindex_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWLINK && nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifm)))
		*(int *)data = ifm->ifi_index;
	return 0;
}

int hutch_nl_ifindex(struct hutch_nl *nl, const char *name, struct hutch_error **err)
{
	char buf[HUTCH_NL_BUFSIZE];
	struct nlmsghdr *nlh = hutch_nl_build_getlink(buf, name);
	_cleanup_free_ char *what = NULL;
	int idx = -1;

	if (asprintf(&what, "get link %s", name) < 0)
		return hutch_error_set(err, ENOMEM, "get link %s", name);
	if (nl_send(nl, nlh, what, err) < 0 ||
	    nl_recv(nl, nlh->nlmsg_seq, ifindex_cb, &idx, what, err) < 0)
		return -1;
	if (idx <= 0)
		return hutch_error_set(err, ENODEV, "%s", what);
	return idx;
}

const char *hutch_nl_link_name(const struct nlmsghdr *nlh)
{
	size_t off = NLMSG_ALIGN(sizeof(struct ifinfomsg));
	const char *p = (const char *)payload(nlh) + off;
	size_t left;

	if (nlh->nlmsg_len < NLMSG_LENGTH(off))
		return NULL;
	left = nlh->nlmsg_len - NLMSG_LENGTH(off);
	while (left >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t step;
		if (a->nla_len < NLA_HDRLEN || a->nla_len > left)
			return NULL;
		/* a NUL-terminated name within the attribute */
		if ((a->nla_type & NLA_TYPE_MASK) == IFLA_IFNAME && a->nla_len > NLA_HDRLEN &&
		    memchr(p + NLA_HDRLEN, '\0', a->nla_len - NLA_HDRLEN) != NULL)
			return p + NLA_HDRLEN;
		step = NLA_ALIGN(a->nla_len);
		if (step >= left)
			break;
		p += step;
		left -= step;
	}
	return NULL;
}

struct names {
	char **v;
	size_t n;
};

static int names_cb(const struct nlmsghdr *nlh, void *data)
{
	struct names *ns = data;
	const char *name;
	char **nv;

	if (nlh->nlmsg_type != RTM_NEWLINK || (name = hutch_nl_link_name(nlh)) == NULL)
		return 0;
	nv = realloc(ns->v, (ns->n + 2) * sizeof(*nv));
	if (nv == NULL)
		return errno = ENOMEM, -1;
	ns->v = nv;
	ns->v[ns->n] = strdup(name);
	if (ns->v[ns->n] == NULL)
		return errno = ENOMEM, -1;
	ns->v[++ns->n] = NULL;
	return 0;
}

char **hutch_nl_list_links(struct hutch_nl *nl, struct hutch_error **err)
{
	char buf[HUTCH_NL_BUFSIZE];
	struct nlmsghdr *nlh = hutch_nl_build_dumplinks(buf);
	struct names ns = {0};

	if (nl_send(nl, nlh, "dump links", err) < 0)
		return NULL;
	if (nl_recv(nl, nlh->nlmsg_seq, names_cb, &ns, "dump links", err) < 0) {
		hutch_strv_free(ns.v);
		return NULL;
	}
	if (ns.v == NULL)
		ns.v = calloc(1, sizeof(char *));
	return ns.v;
}

struct addrs {
	int ifindex;
	struct hutch_nl_addr *v;
	size_t n;
};

static int addrs_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addrs *as = data;
	struct hutch_nl_addr a, *nv;

	if (hutch_nl_parse_addr(nlh, &a) < 0 || a.ifindex != as->ifindex)
		return 0;
	nv = realloc(as->v, (as->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		errno = ENOMEM;
		return -1;
	}
	as->v = nv;
	as->v[as->n++] = a;
	return 0;
}

int hutch_nl_list_addrs(struct hutch_nl *nl, int ifindex, struct hutch_nl_addr **out, size_t *n,
			struct hutch_error **err)
{
	char buf[HUTCH_NL_BUFSIZE];
	struct nlmsghdr *nlh = hutch_nl_build_dumpaddrs(buf);
	struct addrs as = {.ifindex = ifindex};

	if (nl_send(nl, nlh, "dump addresses", err) < 0 ||
	    nl_recv(nl, nlh->nlmsg_seq, addrs_cb, &as, "dump addresses", err) < 0) {
		free(as.v);
		return -1;
	}
	*out = as.v;
	*n = as.n;
	return 0;
}

static int name_cb(const struct nlmsghdr *nlh, void *data)
{
	const char *name = nlh->nlmsg_type == RTM_NEWLINK ? hutch_nl_link_name(nlh) : NULL;

	if (name != NULL && strlen(name) < IFNAMSIZ)
		strcpy(data, name);
	return 0;
}

int hutch_nl_name_of(struct hutch_nl *nl, int ifindex, char *name, struct hutch_error **err)
{
	char buf[HUTCH_NL_BUFSIZE];
	struct nlmsghdr *nlh = hutch_nl_build_getlink_index(buf, ifindex);

	name[0] = '\0';
	if (nl_send(nl, nlh, "get link by index", err) < 0 ||
	    nl_recv(nl, nlh->nlmsg_seq, name_cb, name, "get link by index", err) < 0)
		return -1;
	if (name[0] == '\0')
		return hutch_error_set(err, ENODEV, "get link %d", ifindex);
	return 0;
}
