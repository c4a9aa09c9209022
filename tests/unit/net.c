/* Networking without root: CIDR and rate parsing, annotation plan, IPAM in a
 * temp dir (order, fixed address, exhaustion, release, concurrency), netlink
 * message bytes. */
#include "test.h"

#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "net/net.h"
#include "net/nl.h"
#include "spec/model.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static uint32_t ip(const char *s)
{
	uint32_t v = 0;

	hutch_net_ip_parse(s, &v, NULL);
	return v;
}

TEST(cidr)
{
	struct hutch_cidr c;
	struct hutch_error *e = NULL;
	char buf[16];

	CHECK_INT(hutch_net_cidr_parse("10.1.0.0/24", &c, &e), 0);
	CHECK_INT(c.addr, 0x0a010000);
	CHECK_INT(c.prefix, 24);
	CHECK(hutch_net_cidr_contains(&c, ip("10.1.0.200")));
	CHECK(!hutch_net_cidr_contains(&c, ip("10.1.1.1")));
	CHECK_STR(hutch_net_ip_format(0xc0a80101, buf), "192.168.1.1");

	CHECK_INT(hutch_net_cidr_parse("10.1.0.1/24", &c, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "host bits");
	hutch_error_freep(&e);
	CHECK_INT(hutch_net_cidr_parse("10.1.0.0/31", &c, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "10.1.0.0/31");
	hutch_error_freep(&e);
	CHECK_INT(hutch_net_cidr_parse("10.1.0.0", &c, &e), -1);
	hutch_error_freep(&e);
	CHECK_INT(hutch_net_cidr_parse("10.1.0.0/2x", &c, &e), -1);
	hutch_error_freep(&e);
	CHECK_INT(hutch_net_cidr_parse("300.1.0.0/24", &c, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "300.1.0.0");
	hutch_error_freep(&e);
}

TEST(rates)
{
	uint64_t r = 1;
	struct hutch_error *e = NULL;

	CHECK_INT(hutch_net_rate_parse("10mbit", &r, NULL), 0);
	CHECK_INT(r, 10000000);
	CHECK_INT(hutch_net_rate_parse("512kbit", &r, NULL), 0);
	CHECK_INT(r, 512000);
	CHECK_INT(hutch_net_rate_parse("1mibit", &r, NULL), 0);
	CHECK_INT(r, 1048576);
	CHECK_INT(hutch_net_rate_parse("2mbps", &r, NULL), 0);
	CHECK_INT(r, 16000000);
	CHECK_INT(hutch_net_rate_parse("none", &r, NULL), 0);
	CHECK_INT(r, 0);
	CHECK_INT(hutch_net_rate_parse("10furlongs", &r, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "10furlongs");
	hutch_error_freep(&e);
	CHECK_INT(hutch_net_rate_parse("-5mbit", &r, &e), -1);
	hutch_error_freep(&e);
}

TEST(plan)
{
	struct hutch_kv ann[] = {
	    {"org.hutch.network", "front, back:ip=10.2.0.9"},
	    {"org.hutch.bandwidth", "egress=10mbit,ingress=20mbit"},
	    {"org.hutch.ports", "8080:80/tcp,9000:9001"},
	    {"org.hutch.hosts", "true"},
	    {"other", "ignored"},
	};
	char *extra[] = {"third:ip=10.3.0.4", NULL};
	struct hutch_net_plan p;
	struct hutch_error *e = NULL;

	CHECK_INT(hutch_net_plan_parse(ann, 5, extra, &p, &e), 0);
	CHECK_INT(p.n_nets, 3);
	if (p.n_nets == 3) {
		CHECK_STR(p.nets[0].network, "front");
		CHECK_INT(p.nets[0].ip, 0);
		CHECK_STR(p.nets[1].network, "back");
		CHECK_INT(p.nets[1].ip, ip("10.2.0.9"));
		CHECK_STR(p.nets[2].network, "third");
		CHECK_INT(p.nets[2].ip, ip("10.3.0.4"));
	}
	CHECK_INT(p.egress_bps, 10000000);
	CHECK_INT(p.ingress_bps, 20000000);
	CHECK_INT(p.n_ports, 2);
	if (p.n_ports == 2) {
		CHECK_INT(p.ports[0].host, 8080);
		CHECK_INT(p.ports[0].container, 80);
		CHECK_INT(p.ports[1].host, 9000);
		CHECK_INT(p.ports[1].container, 9001);
	}
	CHECK(p.hosts);
	hutch_net_plan_clear(&p);

	/* nothing asked: an empty plan */
	CHECK_INT(hutch_net_plan_parse(ann + 4, 1, NULL, &p, &e), 0);
	CHECK_INT(p.n_nets, 0);
	hutch_net_plan_clear(&p);

	struct hutch_kv bad_port[] = {{"org.hutch.network", "n"}, {"org.hutch.ports", "80:99999"}};
	CHECK_INT(hutch_net_plan_parse(bad_port, 2, NULL, &p, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "80:99999");
	hutch_error_freep(&e);
	struct hutch_kv udp[] = {{"org.hutch.network", "n"}, {"org.hutch.ports", "53:53/udp"}};
	CHECK_INT(hutch_net_plan_parse(udp, 2, NULL, &p, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "tcp");
	hutch_error_freep(&e);
	struct hutch_kv twice[] = {{"org.hutch.network", "n,n"}};
	CHECK_INT(hutch_net_plan_parse(twice, 1, NULL, &p, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "twice");
	hutch_error_freep(&e);
	struct hutch_kv badname[] = {{"org.hutch.network", "../x"}};
	CHECK_INT(hutch_net_plan_parse(badname, 1, NULL, &p, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "../x");
	hutch_error_freep(&e);
	struct hutch_kv nonet[] = {{"org.hutch.bandwidth", "egress=1mbit"}};
	CHECK_INT(hutch_net_plan_parse(nonet, 1, NULL, &p, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "without a network");
	hutch_error_freep(&e);
	struct hutch_kv badbw[] = {{"org.hutch.network", "n"}, {"org.hutch.bandwidth", "up=1"}};
	CHECK_INT(hutch_net_plan_parse(badbw, 2, NULL, &p, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "up=1");
	hutch_error_freep(&e);
}

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/hutch-unit-net-XXXXXX";
	char *d = mkdtemp(tmpl);

	return d ? strdup(d) : NULL;
}

static char *slurp(const char *dir, const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return hutch_read_file(p, 4096, NULL, NULL);
}

TEST(ipam)
{
	_cleanup_free_ char *d = tmpdir();
	struct hutch_cidr c;
	struct hutch_error *e = NULL;
	uint32_t got = 0, gw;
	char *s;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	hutch_net_cidr_parse("10.5.0.0/29", &c, NULL); /* hosts .1 - .6 */
	gw = ip("10.5.0.1");
	/* lowest free address first, the gateway skipped */
	CHECK_INT(hutch_ipam_allocate(d, &c, gw, 0, "container=a\n", &got, &e), 0);
	CHECK_INT(got, ip("10.5.0.2"));
	s = slurp(d, "10.5.0.2");
	CHECK_STR(s, "container=a\n");
	free(s);
	CHECK_INT(hutch_ipam_allocate(d, &c, gw, 0, "container=b\n", &got, &e), 0);
	CHECK_INT(got, ip("10.5.0.3"));
	/* a fixed address */
	CHECK_INT(hutch_ipam_allocate(d, &c, gw, ip("10.5.0.6"), "container=c\n", &got, &e), 0);
	CHECK_INT(got, ip("10.5.0.6"));
	/* taken, the gateway, the broadcast, outside: refused with the address named */
	CHECK_INT(hutch_ipam_allocate(d, &c, gw, ip("10.5.0.6"), "x", &got, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "10.5.0.6");
	hutch_error_freep(&e);
	CHECK_INT(hutch_ipam_allocate(d, &c, gw, gw, "x", &got, &e), -1);
	hutch_error_freep(&e);
	CHECK_INT(hutch_ipam_allocate(d, &c, gw, ip("10.5.0.7"), "x", &got, &e), -1);
	hutch_error_freep(&e);
	CHECK_INT(hutch_ipam_allocate(d, &c, gw, ip("10.6.0.2"), "x", &got, &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "10.6.0.2");
	hutch_error_freep(&e);
	CHECK_INT(hutch_ipam_allocate(d, &c, gw, 0, "d", &got, &e), 0);
	CHECK_INT(got, ip("10.5.0.4"));
	CHECK_INT(hutch_ipam_allocate(d, &c, gw, 0, "e", &got, &e), 0);
	CHECK_INT(got, ip("10.5.0.5"));
	/* exhausted */
	CHECK_INT(hutch_ipam_allocate(d, &c, gw, 0, "f", &got, &e), -1);
	CHECK_INT(e ? e->code : 0, ENOSPC);
	hutch_error_freep(&e);
	/* release makes the address the next one handed out */
	CHECK_INT(hutch_ipam_release(d, ip("10.5.0.3"), &e), 0);
	CHECK_INT(hutch_ipam_release(d, ip("10.5.0.3"), &e), 0); /* idempotent */
	CHECK_INT(hutch_ipam_allocate(d, &c, gw, 0, "g", &got, &e), 0);
	CHECK_INT(got, ip("10.5.0.3"));
	s = slurp(d, "10.5.0.3");
	CHECK_STR(s, "g");
	free(s);
	hutch_rm_rf(d, NULL);
}

TEST(ipam_concurrent)
{
	_cleanup_free_ char *d = tmpdir();
	struct hutch_cidr c;
	enum { N = 8, PER = 6 };
	int seen[256] = {0}, fails = 0;

	if (d == NULL)
		return;
	hutch_net_cidr_parse("10.7.0.0/24", &c, NULL);
	for (int i = 0; i < N; i++) {
		if (fork() == 0) {
			for (int j = 0; j < PER; j++) {
				uint32_t got;
				char content[32];
				snprintf(content, sizeof(content), "%d", i);
				if (hutch_ipam_allocate(d, &c, c.addr + 1, 0, content, &got, NULL) <
				    0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < N; i++) {
		int st;
		wait(&st);
		fails += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	CHECK_INT(fails, 0);
	/* exactly N*PER distinct leases: .2 .. .(1+N*PER) */
	for (int h = 2; h < 2 + N * PER; h++) {
		char name[512];
		struct stat sb;
		snprintf(name, sizeof(name), "%s/10.7.0.%d", d, h);
		seen[h] = stat(name, &sb) == 0;
		CHECK(seen[h]);
	}
	{
		char name[512];
		struct stat sb;
		snprintf(name, sizeof(name), "%s/10.7.0.%d", d, 2 + N * PER);
		CHECK(stat(name, &sb) < 0);
	}
	hutch_rm_rf(d, NULL);
}

/* ---- netlink bytes ---- */

struct attrs {
	const struct nlattr *tb[64];
};

static int collect(const struct nlattr *a, void *data)
{
	struct attrs *t = data;
	unsigned type = mnl_attr_get_type(a);

	if (type < 64)
		t->tb[type] = a;
	return MNL_CB_OK;
}

TEST(nl_veth)
{
	char buf[HUTCH_NL_BUFSIZE];
	struct nlmsghdr *nlh = hutch_nl_build_veth(buf, "hv0a000002", 7, "eth0", 42);
	struct attrs top = {0}, li = {0}, data = {0}, peer = {0};
	const struct nlattr *pa;
	const struct ifinfomsg *pifm;

	CHECK_INT(nlh->nlmsg_type, RTM_NEWLINK);
	CHECK_INT(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	CHECK_INT(mnl_attr_parse(nlh, sizeof(struct ifinfomsg), collect, &top), MNL_CB_OK);
	CHECK(top.tb[IFLA_IFNAME] != NULL);
	if (top.tb[IFLA_IFNAME] == NULL || top.tb[IFLA_MASTER] == NULL ||
	    top.tb[IFLA_LINKINFO] == NULL)
		return;
	CHECK_STR(mnl_attr_get_str(top.tb[IFLA_IFNAME]), "hv0a000002");
	CHECK_INT(mnl_attr_get_u32(top.tb[IFLA_MASTER]), 7);
	mnl_attr_parse_nested(top.tb[IFLA_LINKINFO], collect, &li);
	CHECK(li.tb[IFLA_INFO_KIND] != NULL && li.tb[IFLA_INFO_DATA] != NULL);
	if (li.tb[IFLA_INFO_KIND] == NULL || li.tb[IFLA_INFO_DATA] == NULL)
		return;
	CHECK_STR(mnl_attr_get_str(li.tb[IFLA_INFO_KIND]), "veth");
	mnl_attr_parse_nested(li.tb[IFLA_INFO_DATA], collect, &data);
	pa = data.tb[VETH_INFO_PEER];
	CHECK(pa != NULL);
	if (pa == NULL)
		return;
	/* VETH_INFO_PEER holds an ifinfomsg, then the peer's attributes */
	pifm = mnl_attr_get_payload(pa);
	CHECK_INT(pifm->ifi_family, AF_UNSPEC);
	{
		const char *p = (const char *)mnl_attr_get_payload(pa) + sizeof(struct ifinfomsg);
		const char *end = (const char *)pa + pa->nla_len;
		while (p + sizeof(struct nlattr) <= end) {
			const struct nlattr *a = (const struct nlattr *)p;
			if (a->nla_len < sizeof(*a))
				break;
			collect(a, &peer);
			p += MNL_ALIGN(a->nla_len);
		}
	}
	CHECK(peer.tb[IFLA_IFNAME] != NULL && peer.tb[IFLA_NET_NS_FD] != NULL);
	if (peer.tb[IFLA_IFNAME] && peer.tb[IFLA_NET_NS_FD]) {
		CHECK_STR(mnl_attr_get_str(peer.tb[IFLA_IFNAME]), "eth0");
		CHECK_INT(mnl_attr_get_u32(peer.tb[IFLA_NET_NS_FD]), 42);
	}
}

TEST(nl_addr_route_setup)
{
	char buf[HUTCH_NL_BUFSIZE];
	struct nlmsghdr *nlh = hutch_nl_build_addaddr(buf, 5, ip("10.1.0.7"), 24);
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct rtmsg *rtm;
	const struct ifinfomsg *ifm;
	struct attrs t = {0};
	static const unsigned char local[4] = {10, 1, 0, 7}, bcast[4] = {10, 1, 0, 255},
				   gw[4] = {10, 1, 0, 1};

	CHECK_INT(nlh->nlmsg_type, RTM_NEWADDR);
	CHECK_INT(ifa->ifa_family, AF_INET);
	CHECK_INT(ifa->ifa_prefixlen, 24);
	CHECK_INT(ifa->ifa_index, 5);
	mnl_attr_parse(nlh, sizeof(*ifa), collect, &t);
	CHECK(t.tb[IFA_LOCAL] && memcmp(mnl_attr_get_payload(t.tb[IFA_LOCAL]), local, 4) == 0);
	CHECK(t.tb[IFA_BROADCAST] &&
	      memcmp(mnl_attr_get_payload(t.tb[IFA_BROADCAST]), bcast, 4) == 0);

	memset(&t, 0, sizeof(t));
	nlh = hutch_nl_build_defroute(buf, ip("10.1.0.1"), 5);
	rtm = mnl_nlmsg_get_payload(nlh);
	CHECK_INT(nlh->nlmsg_type, RTM_NEWROUTE);
	CHECK_INT(rtm->rtm_dst_len, 0);
	CHECK_INT(rtm->rtm_table, RT_TABLE_MAIN);
	mnl_attr_parse(nlh, sizeof(*rtm), collect, &t);
	CHECK(t.tb[RTA_GATEWAY] && memcmp(mnl_attr_get_payload(t.tb[RTA_GATEWAY]), gw, 4) == 0);
	CHECK(t.tb[RTA_OIF] && mnl_attr_get_u32(t.tb[RTA_OIF]) == 5);
	CHECK(t.tb[RTA_DST] == NULL);

	memset(&t, 0, sizeof(t));
	nlh = hutch_nl_build_setup(buf, "eth1", true);
	ifm = mnl_nlmsg_get_payload(nlh);
	CHECK_INT(nlh->nlmsg_flags & NLM_F_CREATE, 0);
	CHECK_INT(ifm->ifi_change, IFF_UP);
	CHECK_INT(ifm->ifi_flags, IFF_UP);
	mnl_attr_parse(nlh, sizeof(*ifm), collect, &t);
	CHECK(t.tb[IFLA_IFNAME] && strcmp(mnl_attr_get_str(t.tb[IFLA_IFNAME]), "eth1") == 0);
	nlh = hutch_nl_build_setup(buf, "eth1", false);
	ifm = mnl_nlmsg_get_payload(nlh);
	CHECK_INT(ifm->ifi_flags, 0);

	memset(&t, 0, sizeof(t));
	nlh = hutch_nl_build_dellink(buf, "hv0a010007");
	CHECK_INT(nlh->nlmsg_type, RTM_DELLINK);
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), collect, &t);
	CHECK(t.tb[IFLA_IFNAME] && strcmp(mnl_attr_get_str(t.tb[IFLA_IFNAME]), "hv0a010007") == 0);
}

/* The link name parser (the dump reply) against a message built here, and
 * against truncated or unterminated attributes. */
/* An RTM_NEWADDR as the kernel sends it, built by libmnl (the independent side). */
static struct nlmsghdr *kernel_addr(char *buf, unsigned char family, unsigned char prefix,
				    unsigned char scope, unsigned ifindex, const void *addr,
				    const void *local, uint32_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t len = family == AF_INET ? 4 : 16;

	nlh->nlmsg_type = RTM_NEWADDR;
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_scope = scope;
	ifa->ifa_index = ifindex;
	ifa->ifa_flags = (unsigned char)(flags & 0xff);
	mnl_attr_put(nlh, IFA_ADDRESS, len, addr);
	if (local != NULL)
		mnl_attr_put(nlh, IFA_LOCAL, len, local);
	mnl_attr_put_strz(nlh, IFA_LABEL, "nd0");
	mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	return nlh;
}

TEST(nl_addresses)
{
	char kbuf[MNL_SOCKET_BUFFER_SIZE], buf[HUTCH_NL_BUFSIZE];
	static const unsigned char v4[4] = {10, 99, 0, 1};
	unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8};
	struct hutch_nl_addr a, b;
	struct nlmsghdr *nlh;
	struct attrs t = {0};
	const struct ifaddrmsg *ifa;

	v6[15] = 1;
	/* IPv4: IFA_FLAGS (32 bits) wins over the 8-bit ifa_flags */
	CHECK_INT(hutch_nl_parse_addr(kernel_addr(kbuf, AF_INET, 24, RT_SCOPE_UNIVERSE, 3, v4, v4,
						  IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE),
				      &a),
		  0);
	CHECK_INT(a.family, AF_INET);
	CHECK_INT(a.prefixlen, 24);
	CHECK_INT(a.ifindex, 3);
	CHECK_INT(a.scope, RT_SCOPE_UNIVERSE);
	CHECK(a.has_local && a.has_address && memcmp(a.local, v4, 4) == 0);
	CHECK_INT((int)a.flags, IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE);
	/* IPv6: no IFA_LOCAL */
	CHECK_INT(hutch_nl_parse_addr(kernel_addr(kbuf, AF_INET6, 64, RT_SCOPE_UNIVERSE, 4, v6,
						  NULL, IFA_F_PERMANENT | IFA_F_NODAD),
				      &b),
		  0);
	CHECK(!b.has_local && b.has_address && memcmp(b.address, v6, 16) == 0);
	/* not an address message, a family without addresses, a bad length */
	nlh = kernel_addr(kbuf, AF_INET, 8, 0, 1, v4, v4, 0);
	nlh->nlmsg_type = RTM_NEWLINK;
	CHECK_INT(hutch_nl_parse_addr(nlh, &a), -1);
	nlh = kernel_addr(kbuf, AF_PACKET, 8, 0, 1, v6, NULL, 0); /* 16 bytes, as for AF_INET6 */
	CHECK_INT(hutch_nl_parse_addr(nlh, &a), -1);
	nlh = kernel_addr(kbuf, AF_INET, 8, 0, 1, v4, NULL, 0);
	((struct nlattr *)((char *)nlh + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*ifa))))->nla_len = 200;
	CHECK_INT(hutch_nl_parse_addr(nlh, &a), -1);

	/* The address again, on another link: what libmnl reads back. */
	nlh = hutch_nl_build_newaddr(buf, &b, 9);
	ifa = mnl_nlmsg_get_payload(nlh);
	CHECK_INT(nlh->nlmsg_type, RTM_NEWADDR);
	CHECK(nlh->nlmsg_flags & NLM_F_CREATE);
	CHECK_INT(ifa->ifa_family, AF_INET6);
	CHECK_INT(ifa->ifa_prefixlen, 64);
	CHECK_INT(ifa->ifa_index, 9);
	mnl_attr_parse(nlh, sizeof(*ifa), collect, &t);
	CHECK(t.tb[IFA_ADDRESS] && mnl_attr_get_payload_len(t.tb[IFA_ADDRESS]) == 16 &&
	      memcmp(mnl_attr_get_payload(t.tb[IFA_ADDRESS]), v6, 16) == 0);
	CHECK(t.tb[IFA_LOCAL] == NULL);
	/* the flags a user may set (nodad), not the kernel's (permanent) */
	CHECK(t.tb[IFA_FLAGS] && mnl_attr_get_u32(t.tb[IFA_FLAGS]) == IFA_F_NODAD);

	/* move + rename in one request, by index */
	memset(&t, 0, sizeof(t));
	nlh = hutch_nl_build_move(buf, 12, 7, "net%d");
	CHECK_INT(nlh->nlmsg_type, RTM_NEWLINK);
	CHECK_INT(nlh->nlmsg_flags & NLM_F_CREATE, 0);
	CHECK_INT(((const struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index, 12);
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), collect, &t);
	CHECK(t.tb[IFLA_NET_NS_FD] && mnl_attr_get_u32(t.tb[IFLA_NET_NS_FD]) == 7);
	CHECK(t.tb[IFLA_IFNAME] && strcmp(mnl_attr_get_str(t.tb[IFLA_IFNAME]), "net%d") == 0);
	nlh = hutch_nl_build_setup_index(buf, 12, true);
	CHECK_INT(((const struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index, 12);
	CHECK_INT(((const struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_flags, IFF_UP);
	nlh = hutch_nl_build_dumpaddrs(buf);
	CHECK_INT(nlh->nlmsg_type, RTM_GETADDR);
	CHECK(nlh->nlmsg_flags & NLM_F_DUMP);
}

TEST(nl_link_name)
{
	char buf[HUTCH_NL_BUFSIZE];
	struct nlmsghdr *nlh = hutch_nl_build_newlink(buf, "br-test", "bridge");
	struct nlattr *a;

	CHECK_STR(hutch_nl_link_name(nlh), "br-test");
	/* the name attribute claims more than the message holds */
	a = (struct nlattr *)((char *)nlh + NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct ifinfomsg))));
	CHECK_INT(a->nla_type, IFLA_IFNAME);
	a->nla_len = 4000;
	CHECK(hutch_nl_link_name(nlh) == NULL);
	/* no NUL inside the attribute */
	nlh = hutch_nl_build_dellink(buf, "abc");
	a = (struct nlattr *)((char *)nlh + NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct ifinfomsg))));
	a->nla_len = NLA_HDRLEN + 3;
	CHECK(hutch_nl_link_name(nlh) == NULL);
	/* shorter than an ifinfomsg */
	nlh->nlmsg_len = NLMSG_LENGTH(4);
	CHECK(hutch_nl_link_name(nlh) == NULL);
}

/* A message that does not fit the buffer is never written past it, and is
 * refused before anything is sent. */
TEST(nl_too_large)
{
	static char buf[HUTCH_NL_BUFSIZE + 64];
	char *name = malloc(HUTCH_NL_BUFSIZE);
	struct hutch_nl *nl;
	struct hutch_error *e = NULL;
	struct nlmsghdr *nlh;

	if (name == NULL)
		return;
	memset(name, 'x', HUTCH_NL_BUFSIZE - 1);
	name[HUTCH_NL_BUFSIZE - 1] = '\0';
	memset(buf + HUTCH_NL_BUFSIZE, 0x5a, 64);
	nlh = hutch_nl_build_veth(buf, name, 3, name, 4);
	CHECK(nlh->nlmsg_len > HUTCH_NL_BUFSIZE);
	for (int i = 0; i < 64; i++)
		CHECK_INT(buf[HUTCH_NL_BUFSIZE + i], 0x5a);
	nl = hutch_nl_open(-1, &e); /* NETLINK_ROUTE needs no privilege to open */
	CHECK(nl != NULL);
	if (nl != NULL) {
		CHECK_INT(hutch_nl_talk(nl, nlh, "add veth", &e), -1);
		CHECK(e != NULL && e->code == EMSGSIZE);
		CHECK_CONTAINS(e ? e->msg : NULL, "add veth");
		hutch_nl_closep(&nl);
	}
	hutch_error_freep(&e);
	free(name);
}

TEST(nl_tc)
{
	char buf[HUTCH_NL_BUFSIZE];
	struct nlmsghdr *nlh = hutch_nl_build_tbf(buf, 9, 10000000, 25000, 50000);
	const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
	struct attrs top = {0}, opt = {0}, u32 = {0}, acts = {0}, act = {0}, aopt = {0};
	const struct tc_tbf_qopt *q;

	CHECK_INT(nlh->nlmsg_type, RTM_NEWQDISC);
	CHECK_INT(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
	CHECK_INT(t->tcm_ifindex, 9);
	CHECK_INT(t->tcm_parent, TC_H_ROOT);
	mnl_attr_parse(nlh, sizeof(*t), collect, &top);
	CHECK(top.tb[TCA_KIND] && strcmp(mnl_attr_get_str(top.tb[TCA_KIND]), "tbf") == 0);
	CHECK(top.tb[TCA_OPTIONS] != NULL);
	if (top.tb[TCA_OPTIONS] == NULL)
		return;
	mnl_attr_parse_nested(top.tb[TCA_OPTIONS], collect, &opt);
	CHECK(opt.tb[TCA_TBF_PARMS] &&
	      mnl_attr_get_payload_len(opt.tb[TCA_TBF_PARMS]) == sizeof(struct tc_tbf_qopt));
	if (opt.tb[TCA_TBF_PARMS] == NULL)
		return;
	q = mnl_attr_get_payload(opt.tb[TCA_TBF_PARMS]);
	CHECK_INT(q->rate.rate, 1250000);				 /* bytes/s */
	CHECK_INT(q->rate.linklayer, TC_LINKLAYER_ETHERNET);		 /* no rate table needed */
	CHECK_INT(q->limit, 1250000 / 20 + 25000);			 /* 50 ms of rate + burst */
	CHECK_INT(q->buffer, (25000ULL * 1000000000ULL / 1250000) >> 6); /* 20 ms in ticks */
	CHECK(opt.tb[TCA_TBF_BURST] && mnl_attr_get_u32(opt.tb[TCA_TBF_BURST]) == 25000);
	CHECK(opt.tb[TCA_TBF_RATE64] == NULL);
	/* above 32 bits of bytes/s: TCA_TBF_RATE64 carries the rate */
	memset(&top, 0, sizeof(top));
	memset(&opt, 0, sizeof(opt));
	nlh = hutch_nl_build_tbf(buf, 9, 40000000000ULL, 1 << 20, 50000);
	mnl_attr_parse(nlh, sizeof(struct tcmsg), collect, &top);
	if (top.tb[TCA_OPTIONS])
		mnl_attr_parse_nested(top.tb[TCA_OPTIONS], collect, &opt);
	CHECK(opt.tb[TCA_TBF_RATE64] && mnl_attr_get_u64(opt.tb[TCA_TBF_RATE64]) == 5000000000ULL);

	nlh = hutch_nl_build_ingress(buf, 4);
	t = mnl_nlmsg_get_payload(nlh);
	CHECK_INT(t->tcm_parent, TC_H_INGRESS);
	CHECK_INT(t->tcm_handle, 0xffff0000u);
	nlh = hutch_nl_build_qdisc_del(buf, 4, true);
	CHECK_INT(nlh->nlmsg_type, RTM_DELQDISC);
	CHECK_INT(((struct tcmsg *)mnl_nlmsg_get_payload(nlh))->tcm_parent, TC_H_INGRESS);
	nlh = hutch_nl_build_qdisc_del(buf, 4, false);
	CHECK_INT(((struct tcmsg *)mnl_nlmsg_get_payload(nlh))->tcm_parent, TC_H_ROOT);

	/* u32 match-all on ffff: redirecting to ifindex 11 */
	memset(&top, 0, sizeof(top));
	nlh = hutch_nl_build_redirect(buf, 4, 11);
	t = mnl_nlmsg_get_payload(nlh);
	CHECK_INT(nlh->nlmsg_type, RTM_NEWTFILTER);
	CHECK_INT(t->tcm_parent, 0xffff0000u);
	CHECK_INT(t->tcm_info, (1u << 16) | htons(ETH_P_ALL));
	mnl_attr_parse(nlh, sizeof(*t), collect, &top);
	CHECK(top.tb[TCA_KIND] && strcmp(mnl_attr_get_str(top.tb[TCA_KIND]), "u32") == 0);
	if (top.tb[TCA_OPTIONS] == NULL)
		return;
	mnl_attr_parse_nested(top.tb[TCA_OPTIONS], collect, &u32);
	CHECK(u32.tb[TCA_U32_SEL] != NULL && u32.tb[TCA_U32_ACT] != NULL);
	if (u32.tb[TCA_U32_SEL] == NULL || u32.tb[TCA_U32_ACT] == NULL)
		return;
	{
		const struct tc_u32_sel *sel = mnl_attr_get_payload(u32.tb[TCA_U32_SEL]);
		CHECK_INT(mnl_attr_get_payload_len(u32.tb[TCA_U32_SEL]),
			  sizeof(struct tc_u32_sel) + sizeof(struct tc_u32_key));
		CHECK_INT(sel->nkeys, 1);
		CHECK_INT(sel->flags, TC_U32_TERMINAL);
		CHECK_INT(sel->keys[0].mask, 0);
	}
	mnl_attr_parse_nested(u32.tb[TCA_U32_ACT], collect, &acts);
	CHECK(acts.tb[1] != NULL);
	if (acts.tb[1] == NULL)
		return;
	mnl_attr_parse_nested(acts.tb[1], collect, &act);
	CHECK(act.tb[TCA_ACT_KIND] &&
	      strcmp(mnl_attr_get_str(act.tb[TCA_ACT_KIND]), "mirred") == 0);
	if (act.tb[TCA_ACT_OPTIONS] == NULL)
		return;
	mnl_attr_parse_nested(act.tb[TCA_ACT_OPTIONS], collect, &aopt);
	CHECK(aopt.tb[TCA_MIRRED_PARMS] != NULL);
	if (aopt.tb[TCA_MIRRED_PARMS]) {
		const struct tc_mirred *m = mnl_attr_get_payload(aopt.tb[TCA_MIRRED_PARMS]);
		CHECK_INT(m->eaction, TCA_EGRESS_REDIR);
		CHECK_INT(m->action, TC_ACT_STOLEN);
		CHECK_INT(m->ifindex, 11);
	}
}

TEST(names)
{
	struct hutch_error *e = NULL;

	CHECK_INT(hutch_network_name_check("front-1.a_b", NULL), 0);
	CHECK_INT(hutch_network_name_check("", &e), -1);
	hutch_error_freep(&e);
	CHECK_INT(hutch_network_name_check(".hidden", &e), -1);
	hutch_error_freep(&e);
	CHECK_INT(hutch_network_name_check("a/b", &e), -1);
	CHECK_CONTAINS(e ? e->msg : NULL, "a/b");
	hutch_error_freep(&e);
}

int main(void)
{
	RUN(cidr);
	RUN(rates);
	RUN(plan);
	RUN(ipam);
	RUN(ipam_concurrent);
	RUN(nl_veth);
	RUN(nl_addr_route_setup);
	RUN(nl_tc);
	RUN(nl_link_name);
	RUN(nl_addresses);
	RUN(nl_too_large);
	RUN(names);
	return test_summary();
}
