/* Shared between network.c and attach.c. */
#ifndef HUTCH_NET_INTERNAL_H
#define HUTCH_NET_INTERNAL_H

#include "net/net.h"

#include <stdint.h>
#include <sys/types.h>

struct hutch_error;

/* "<root>/networks[/<a>[/<b>]]" (malloc'd; NULL on ENOMEM) */
char *net_path(const char *root, const char *a, const char *b);
/* Exclusive flock on <root>/networks/lock (created with the directory). */
int net_lock(const char *root, struct hutch_error **err);
/* fd of the network's router namespace. */
int net_router_open(const char *root, const char *name, struct hutch_error **err);

/* One lease file, parsed. */
struct net_lease {
	char *network;
	uint32_t ip;
	char *container;
	pid_t pid;
	unsigned long long starttime;
	char *ifname, *veth, *ifb;
	uint64_t egress, ingress;
};
char *net_lease_format(const struct net_lease *l);
int net_lease_read(const char *root, const char *network, const char *ipname, struct net_lease *l,
		   struct hutch_error **err);
int net_lease_rewrite(const char *root, const struct net_lease *l, struct hutch_error **err);
void net_lease_clear(struct net_lease *l);
/* Leases of NETWORK (names of files), sorted, NULL-terminated. */
char **net_lease_names(const char *root, const char *network, struct hutch_error **err);

/* Run PROG (/usr/sbin, /sbin, then PATH) with ARGV inside the namespace NSFD. */
int net_run(int nsfd, const char *prog, char *const argv[], bool quiet_fail,
	    struct hutch_error **err);

#endif
