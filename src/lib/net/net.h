/* Container networking: networks as objects, veth attachments, IPAM, overlapping
 * subnets, bandwidth limits and port publishing, without a daemon.
 *
 * Layout under the runtime root:
 *   <root>/networks/lock                   flock held by network create/rm and
 *                                          by attach/detach/gc (short)
 *   <root>/networks/<name>/network.json    {"name","subnet","gateway","internal",
 *                                          "bridge","uplink"} (fsync + rename)
 *   <root>/networks/<name>/netns           bind mount pinning the network's
 *                                          "router" network namespace
 *   <root>/networks/<name>/leases/<ip>     one file per address in use, created
 *                                          atomically (link(2) of a complete temp
 *                                          file: EEXIST means taken), holding
 *                                          key=value lines: container, pid,
 *                                          starttime, ifname, veth, ifb, egress,
 *                                          ingress
 *   <root>/networks/.ports/<id>            "PID STARTTIME" of the port forwarder
 *   <root>/networks/.uplinks/<index>       the network owning uplink INDEX
 *                                          (O_EXCL allocation)
 *
 * Design (as OpenStack Neutron does it): every network has its own network
 * namespace ("router") holding a bridge "br0" with the gateway address.  A
 * container attachment is a veth pair whose host end ("hv<ip in hex>") is a
 * port of that bridge and whose other end is created directly inside the
 * container's namespace as eth0, eth1, ...  Two networks with the same CIDR
 * (even the same addresses) live in different namespaces, so they are isolated
 * by construction, and nothing depends on the namespace hutch runs in: hutch
 * can run inside any namespace a test creates.  --internal networks have no
 * uplink; the others get one to the namespace hutch runs in (see struct
 * hutch_network), with NAT in the router so identical subnets stay apart.
 *
 * Annotations of config.json (hutch's own keys):
 *   org.hutch.network    "net1,net2:ip=10.1.0.5"  networks to attach, in order
 *                        (eth0 is the first; the default route goes via the
 *                        first network's gateway); an optional fixed address
 *   org.hutch.bandwidth  "egress=10mbit,ingress=20mbit"  per attachment; units
 *                        bit, kbit, mbit, gbit (x1000), kibit, mibit, gibit
 *                        (x1024), bps/kbps/mbps/gbps (bytes)
 *   org.hutch.ports      "8080:80/tcp,8443:443"  host TCP port on 127.0.0.1 of
 *                        hutch's namespace -> container port (TCP only)
 *   org.hutch.hosts      "true": write the container's /etc/hosts (in its rootfs,
 *                        so it changes the bundle): localhost, "IP HOSTNAME" for
 *                        its addresses, "IP ID" for the other containers on its
 *                        networks at create time (hutch_net_write_hosts)
 * `create/run --network NAME[:ip=A]` adds networks after the annotation's.
 *
 * Bandwidth is shaped on the router side of the veth, out of the container's
 * reach: the container's ingress by a tbf qdisc on the veth's egress, the
 * container's egress by redirecting the veth's ingress (u32 match-all + mirred)
 * to an ifb device ("hb<ip in hex>") that carries a tbf qdisc.  The kernel here
 * has no act_police nor cls_matchall, hence ifb and u32.  Everything (links,
 * addresses, routes, qdiscs, filters) is netlink (nl.h), on a socket
 * opened inside the namespace concerned; the only program run is iptables,
 * for the uplink's MASQUERADE rule inside the router namespace.  Limits change on a running
 * container with `hutch network bandwidth ID egress=RATE ingress=RATE`
 * (hutch_net_bandwidth) and show in `hutch network inspect`.
 *
 * Port forwarder: a daemon per container (double-forked, all other fds
 * closed) listening on 127.0.0.1:HOST in hutch's namespace; per connection a
 * child setns()es into the container's namespace and connects to
 * 127.0.0.1:PORT there (a socket stays in the namespace it was made in), so
 * published ports work on --internal networks too.  It exits with the
 * container's init (pidfd) and is killed by detach and gc.
 *
 * gc releases a lease when its recorded init (pid + start time) is gone or
 * <root>/<id>/state.json does not exist (a create killed after attaching):
 * run it when no create is in progress.  IPv4 only. */
#ifndef HUTCH_NET_H
#define HUTCH_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hutch_error;
struct hutch_spec;
struct hutch_kv;

#define HUTCH_NET_ANN_NETWORK	"org.hutch.network"
#define HUTCH_NET_ANN_BANDWIDTH "org.hutch.bandwidth"
#define HUTCH_NET_ANN_PORTS	"org.hutch.ports"
#define HUTCH_NET_ANN_HOSTS	"org.hutch.hosts"

/* ---- addresses (host byte order) ---- */
struct hutch_cidr {
	uint32_t addr; /* network base */
	unsigned prefix;
};
int hutch_net_ip_parse(const char *s, uint32_t *ip, struct hutch_error **err);
/* "10.1.0.0/24"; host bits set or prefix outside 8..30 are refused. */
int hutch_net_cidr_parse(const char *s, struct hutch_cidr *c, struct hutch_error **err);
bool hutch_net_cidr_contains(const struct hutch_cidr *c, uint32_t ip);
/* buf >= 16 bytes */
const char *hutch_net_ip_format(uint32_t ip, char *buf);
/* "10mbit" -> bits per second; "0"/"none" -> 0 (no limit). */
int hutch_net_rate_parse(const char *s, uint64_t *bps, struct hutch_error **err);

/* ---- IPAM over a leases directory ---- */
/* Take WANT (if non-zero) or the lowest free host address of SUBNET other than
 * the gateway, by linking a complete temp file holding CONTENT to DIR/<ip>. */
int hutch_ipam_allocate(const char *dir, const struct hutch_cidr *subnet, uint32_t gateway,
			uint32_t want, const char *content, uint32_t *out,
			struct hutch_error **err);
int hutch_ipam_release(const char *dir, uint32_t ip, struct hutch_error **err);

/* ---- the plan from annotations and the command line ---- */
struct hutch_net_request {
	char *network;
	uint32_t ip; /* 0: any */
};
struct hutch_net_port {
	uint16_t host, container;
};
struct hutch_net_plan {
	struct hutch_net_request *nets;
	size_t n_nets;
	uint64_t egress_bps, ingress_bps; /* 0: unlimited */
	struct hutch_net_port *ports;
	size_t n_ports;
	bool hosts;
};
int hutch_net_plan_parse(const struct hutch_kv *ann, size_t n_ann, char **extra,
			 struct hutch_net_plan *plan, struct hutch_error **err);
void hutch_net_plan_clear(struct hutch_net_plan *plan);

/* ---- networks as objects ---- */
struct hutch_network {
	char *name;
	struct hutch_cidr subnet;
	uint32_t gateway;
	bool internal;
	char *bridge;
	/* Not internal: a veth from the router to the namespace hutch ran in at
	 * create time ("hu<index>" there, "uplink" in the router), a transit /30
	 * from 169.254.0.0/16 (index-derived), the router's default route via
	 * hutch's side and a MASQUERADE rule for the subnet in the router: the
	 * containers reach that namespace (and whatever it routes and NATs
	 * onward; hutch changes nothing there beyond the veth). */
	unsigned uplink; /* index, 0: none */
};
/* The transit /30 of uplink INDEX: *base (host order). */
uint32_t hutch_net_uplink_base(unsigned index);
int hutch_network_name_check(const char *name, struct hutch_error **err);
/* gateway NULL: the first host address. */
int hutch_network_create(const char *root, const char *name, const char *subnet,
			 const char *gateway, bool internal, struct hutch_error **err);
struct hutch_network *hutch_network_load(const char *root, const char *name,
					 struct hutch_error **err);
void hutch_network_free(struct hutch_network *n);
/* Sorted, NULL-terminated. */
char **hutch_network_list(const char *root, struct hutch_error **err);
/* JSON object: the network plus "attachments" [{container, ip, ifname, veth,
 * egress, ingress}]. */
char *hutch_network_inspect(const char *root, const char *name, struct hutch_error **err);
/* EBUSY while containers are attached, unless force (their veths vanish
 * with the router namespace and their leases are removed). */
int hutch_network_remove(const char *root, const char *name, bool force, struct hutch_error **err);

/* ---- containers ---- */
/* Attach container ID (its init is INIT_PID, whose netns exists) to the
 * networks its annotations and EXTRA_NETWORKS ("NAME[:ip=A]") ask for.
 * Nothing asked: returns 0 without touching any file.  On failure, whatever
 * was set up is undone. */
int hutch_net_attach(const char *root, const char *id, pid_t init_pid,
		     const struct hutch_spec *spec, char **extra_networks,
		     struct hutch_error **err);
/* Same, from an already parsed plan (the CLI and tests). */
int hutch_net_attach_plan(const char *root, const char *id, pid_t init_pid,
			  const struct hutch_net_plan *plan, struct hutch_error **err);
/* With org.hutch.hosts=true, write ROOTFS/etc/hosts (resolved inside ROOTFS):
 * localhost, "IP HOSTNAME" for each of the container's addresses (hostname:
 * the spec's, else the id), then "IP ID" of the other containers attached to
 * its networks at that moment.  Call after attach.  Otherwise a no-op. */
int hutch_net_write_hosts(const char *root, const char *id, const char *rootfs,
			  const struct hutch_spec *spec, struct hutch_error **err);
/* linux.netDevices: move each device of hutch's network namespace into the
 * container's (INIT_PID's), renamed as asked, keeping its permanent global
 * addresses, and set it up (devices.c).  None asked: 0 without any work. */
struct hutch_linux;
int hutch_net_move_devices(pid_t init_pid, const struct hutch_linux *l, struct hutch_error **err);
/* Remove every veth, ifb, qdisc, lease and forwarder of ID.  Idempotent. */
int hutch_net_detach(const char *root, const char *id, struct hutch_error **err);
/* Detach every container whose recorded init (pid + start time) is gone, kill
 * orphan forwarders, delete router veths no lease refers to. */
int hutch_net_gc(const char *root, struct hutch_error **err);
/* Change a running container's limits (UINT64_MAX: leave as is; 0: remove). */
int hutch_net_bandwidth(const char *root, const char *id, uint64_t egress_bps, uint64_t ingress_bps,
			struct hutch_error **err);

#endif
