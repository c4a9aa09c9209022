/* rtnetlink through libmnl: message builders (pure, unit-tested byte by byte)
 * and a socket bound to a chosen network namespace.  A netlink socket acts on
 * the namespace it was created in, so hutch opens one per namespace (setns in,
 * socket(), setns back) instead of moving itself around. */
#ifndef HUTCH_NET_NL_H
#define HUTCH_NET_NL_H

#include <stdbool.h>
#include <stdint.h>

struct hutch_error;
struct mnl_socket;
struct nlmsghdr;

#define HUTCH_NL_BUFSIZE 8192

/* nsfd < 0: the current namespace. */
struct mnl_socket *hutch_nl_open(int nsfd, struct hutch_error **err);
void hutch_nl_closep(struct mnl_socket **nl);
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
int hutch_nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, const char *what,
		  struct hutch_error **err);
/* ifindex of NAME in the socket's namespace (-1, ENODEV if absent). */
int hutch_nl_ifindex(struct mnl_socket *nl, const char *name, struct hutch_error **err);
/* Names of all links (NULL-terminated). */
char **hutch_nl_list_links(struct mnl_socket *nl, struct hutch_error **err);

#endif
