/* rtnetlink: message builders (pure, unit-tested against libmnl's parser)
 * and a socket bound to a chosen network namespace.  No library at run time:
 * hutch links statically and Debian has no static libmnl; the primitives are
 * a page of code (nl.c).  A netlink socket acts on
 * the namespace it was created in, so hutch opens one per namespace (setns in,
 * socket(), setns back) instead of moving itself around. */
#ifndef HUTCH_NET_NL_H
#define HUTCH_NET_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hutch_error;
struct hutch_nl;
struct nlmsghdr;

#define HUTCH_NL_BUFSIZE 8192
/* receive buffer: the kernel sends at most a page (up to 8 KiB) per message */
#define HUTCH_NL_RECVSIZE 32768

/* nsfd < 0: the current namespace. */
struct hutch_nl *hutch_nl_open(int nsfd, struct hutch_error **err);
void hutch_nl_closep(struct hutch_nl **nl);
#define _cleanup_nl_ __attribute__((cleanup(hutch_nl_closep)))

/* Builders: BUF must hold HUTCH_NL_BUFSIZE bytes; seq is set by talk(). */
/* veth NAME (in the socket's namespace, port of MASTER if > 0) with its peer
 * PEER created directly in the namespace PEER_NSFD. */
struct nlmsghdr *hutch_nl_build_veth(void *buf, const char *name, int master, const char *peer,
				     int peer_nsfd);
/* A link of KIND ("bridge", "ifb") named NAME. */
struct nlmsghdr *hutch_nl_build_newlink(void *buf, const char *name, const char *kind);
struct nlmsghdr *hutch_nl_build_dellink(void *buf, const char *name);
struct nlmsghdr *hutch_nl_build_getlink(void *buf, const char *name);
/* Set the link NAME up or down. */
struct nlmsghdr *hutch_nl_build_setup(void *buf, const char *name, bool up);
struct nlmsghdr *hutch_nl_build_addaddr(void *buf, int ifindex, uint32_t ip, unsigned prefix);
/* Default route via GW (host order) on IFINDEX, main table. */
struct nlmsghdr *hutch_nl_build_defroute(void *buf, uint32_t gw, int ifindex);
/* Dump every link (to find stale veths). */
struct nlmsghdr *hutch_nl_build_dumplinks(void *buf);

/* ---- moving a link to another namespace (linux.netDevices) ---- */
/* An address of a link, either family, as RTM_NEWADDR carries it. */
struct hutch_nl_addr {
	unsigned char family; /* AF_INET or AF_INET6 */
	unsigned char prefixlen;
	unsigned char scope; /* RT_SCOPE_* */
	uint32_t flags;	     /* IFA_F_*: IFA_FLAGS when present, else ifa_flags */
	int ifindex;
	unsigned char local[16];   /* IFA_LOCAL */
	unsigned char address[16]; /* IFA_ADDRESS (the peer on point-to-point links) */
	unsigned char broadcast[4];
	bool has_local, has_address, has_broadcast;
};
/* Parse an RTM_NEWADDR message, checking every bound; -1 if it is not one. */
int hutch_nl_parse_addr(const struct nlmsghdr *nlh, struct hutch_nl_addr *a);
/* Dump the addresses of every link, both families. */
struct nlmsghdr *hutch_nl_build_dumpaddrs(void *buf);
/* Add A (its addresses, prefix, scope and the flags a user may set) to IFINDEX. */
struct nlmsghdr *hutch_nl_build_newaddr(void *buf, const struct hutch_nl_addr *a, int ifindex);
/* Move link IFINDEX into the network namespace NSFD and name it NAME there
 * (with "%d" in NAME the kernel numbers it). */
struct nlmsghdr *hutch_nl_build_move(void *buf, int ifindex, int nsfd, const char *name);
/* Set link IFINDEX up or down. */
struct nlmsghdr *hutch_nl_build_setup_index(void *buf, int ifindex, bool up);
/* Get link IFINDEX (its RTM_NEWLINK answer names it). */
struct nlmsghdr *hutch_nl_build_getlink_index(void *buf, int ifindex);

/* ---- traffic control ---- */
/* Replace the root qdisc of IFINDEX by tbf: BPS bits/s, BURST bytes, a queue
 * of LATENCY_US worth of rate (plus the burst). */
struct nlmsghdr *hutch_nl_build_tbf(void *buf, int ifindex, uint64_t bps, uint32_t burst,
				    uint32_t latency_us);
/* Delete the root qdisc (ingress: the ingress qdisc) of IFINDEX. */
struct nlmsghdr *hutch_nl_build_qdisc_del(void *buf, int ifindex, bool ingress);
/* Add the ingress qdisc (ffff:) to IFINDEX. */
struct nlmsghdr *hutch_nl_build_ingress(void *buf, int ifindex);
/* On IFINDEX's ingress, a u32 match-all filter (prio 1, all protocols) whose
 * mirred action redirects every packet to TARGET's egress. */
struct nlmsghdr *hutch_nl_build_redirect(void *buf, int ifindex, int target);

/* Send NLH (WHAT names it for the debug log and the error) and wait for the
 * ack.  The error is "WHAT: strerror". */
int hutch_nl_talk(struct hutch_nl *nl, struct nlmsghdr *nlh, const char *what,
		  struct hutch_error **err);
/* ifindex of NAME in the socket's namespace (-1, ENODEV if absent). */
int hutch_nl_ifindex(struct hutch_nl *nl, const char *name, struct hutch_error **err);
/* The IFLA_IFNAME of an RTM_NEWLINK message, or NULL (checked bounds). */
const char *hutch_nl_link_name(const struct nlmsghdr *nlh);
/* Names of all links (NULL-terminated). */
char **hutch_nl_list_links(struct hutch_nl *nl, struct hutch_error **err);
/* The addresses of link IFINDEX: *OUT (malloc'd) holds *N of them. */
int hutch_nl_list_addrs(struct hutch_nl *nl, int ifindex, struct hutch_nl_addr **out, size_t *n,
			struct hutch_error **err);
/* The name of link IFINDEX into NAME (IFNAMSIZ bytes); -1, ENODEV if absent. */
int hutch_nl_name_of(struct hutch_nl *nl, int ifindex, char *name, struct hutch_error **err);

#endif
