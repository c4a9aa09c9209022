/* Addresses, rates, the annotation plan, and the address manager. */
#include "net/net.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "spec/model.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hutch_net_ip_parse(const char *s, uint32_t *ip, struct hutch_error **err)
{
	struct in_addr a;

	if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
		return hutch_error_set(err, EINVAL, "invalid IPv4 address \"%s\"", s ? s : "");
	*ip = ntohl(a.s_addr);
	return 0;
}

const char *hutch_net_ip_format(uint32_t ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

static uint32_t mask_of(unsigned prefix)
{
	return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

int hutch_net_cidr_parse(const char *s, struct hutch_cidr *c, struct hutch_error **err)
{
	_cleanup_free_ char *copy = s ? strdup(s) : NULL;
	char *slash, *end;
	unsigned long prefix;
	uint32_t ip;

	if (copy == NULL || (slash = strchr(copy, '/')) == NULL)
		return hutch_error_set(err, EINVAL, "invalid subnet \"%s\" (want A.B.C.D/N)",
				       s ? s : "");
	*slash++ = '\0';
	errno = 0;
	prefix = strtoul(slash, &end, 10);
	if (*slash == '\0' || *end != '\0' || errno != 0 || !isdigit((unsigned char)*slash))
		return hutch_error_set(err, EINVAL, "invalid prefix length in subnet \"%s\"", s);
	/* /31 and /32 leave no room for a gateway and a container. */
	if (prefix < 8 || prefix > 30)
		return hutch_error_set(err, EINVAL, "subnet \"%s\": prefix length must be 8..30",
				       s);
	if (hutch_net_ip_parse(copy, &ip, err) < 0)
		return hutch_error_prefix(err, "subnet \"%s\"", s);
	if (ip & ~mask_of((unsigned)prefix))
		return hutch_error_set(err, EINVAL, "subnet \"%s\" has host bits set", s);
	c->addr = ip;
	c->prefix = (unsigned)prefix;
	return 0;
}

bool hutch_net_cidr_contains(const struct hutch_cidr *c, uint32_t ip)
{
	return (ip & mask_of(c->prefix)) == c->addr;
}

int hutch_net_rate_parse(const char *s, uint64_t *bps, struct hutch_error **err)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {
	    {"", 1},
	    {"bit", 1},
	    {"kbit", 1000ULL},
	    {"mbit", 1000000ULL},
	    {"gbit", 1000000000ULL},
	    {"kibit", 1024ULL},
	    {"mibit", 1048576ULL},
	    {"gibit", 1073741824ULL},
	    {"bps", 8ULL},
	    {"kbps", 8000ULL},
	    {"mbps", 8000000ULL},
	    {"gbps", 8000000000ULL},
	};
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0')
		return hutch_error_set(err, EINVAL, "empty rate");
	if (strcmp(s, "none") == 0) {
		*bps = 0;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return hutch_error_set(err, EINVAL, "invalid rate \"%s\"", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return hutch_error_set(err, EINVAL, "invalid rate \"%s\"", s);
	for (size_t i = 0; i < HUTCH_ARRAY_SIZE(units); i++) {
		if (strcasecmp(end, units[i].unit) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mul)
			return hutch_error_set(err, ERANGE, "rate \"%s\" too large", s);
		*bps = v * units[i].mul;
		return 0;
	}
	return hutch_error_set(err, EINVAL,
			       "invalid rate \"%s\" (units: bit kbit mbit gbit kibit mibit gibit "
			       "bps kbps mbps gbps)",
			       s);
}

/* ---- plan ---- */

void hutch_net_plan_clear(struct hutch_net_plan *plan)
{
	for (size_t i = 0; i < plan->n_nets; i++)
		free(plan->nets[i].network);
	free(plan->nets);
	free(plan->ports);
	memset(plan, 0, sizeof(*plan));
}

/* "NAME" or "NAME:ip=A" */
static int add_net(struct hutch_net_plan *plan, const char *item, struct hutch_error **err)
{
	_cleanup_free_ char *name = strdup(item);
	struct hutch_net_request *nv;
	uint32_t ip = 0;
	char *colon;

	if (name == NULL)
		return hutch_error_set(err, ENOMEM, "network \"%s\"", item);
	colon = strchr(name, ':');
	if (colon != NULL) {
		*colon++ = '\0';
		if (strncmp(colon, "ip=", 3) != 0)
			return hutch_error_set(err, EINVAL,
					       "network \"%s\": unknown option \"%s\" (want ip=A)",
					       name, colon);
		if (hutch_net_ip_parse(colon + 3, &ip, err) < 0)
			return hutch_error_prefix(err, "network \"%s\"", name);
	}
	if (hutch_network_name_check(name, err) < 0)
		return -1;
	for (size_t i = 0; i < plan->n_nets; i++)
		if (strcmp(plan->nets[i].network, name) == 0)
			return hutch_error_set(err, EINVAL, "network \"%s\" asked for twice", name);
	nv = realloc(plan->nets, (plan->n_nets + 1) * sizeof(*nv));
	if (nv == NULL)
		return hutch_error_set(err, ENOMEM, "network \"%s\"", name);
	plan->nets = nv;
	nv[plan->n_nets].network = steal_ptr(name);
	nv[plan->n_nets].ip = ip;
	plan->n_nets++;
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "HOST:CONTAINER[/tcp]" */
static int add_port(struct hutch_net_plan *plan, const char *item, struct hutch_error **err)
{
	_cleanup_free_ char *s = strdup(item);
	struct hutch_net_port p, *pv;
	char *colon, *slash;

	if (s == NULL)
		return hutch_error_set(err, ENOMEM, "port \"%s\"", item);
	slash = strchr(s, '/');
	if (slash != NULL) {
		*slash++ = '\0';
		if (strcmp(slash, "tcp") != 0)
			return hutch_error_set(err, EINVAL,
					       "port \"%s\": only tcp can be published", item);
	}
	colon = strchr(s, ':');
	if (colon == NULL)
		return hutch_error_set(err, EINVAL, "port \"%s\" (want HOST:CONTAINER[/tcp])",
				       item);
	*colon++ = '\0';
	if (parse_port(s, &p.host) < 0 || parse_port(colon, &p.container) < 0)
		return hutch_error_set(err, EINVAL, "invalid port \"%s\" (1..65535)", item);
	for (size_t i = 0; i < plan->n_ports; i++)
		if (plan->ports[i].host == p.host)
			return hutch_error_set(err, EINVAL, "host port %u published twice", p.host);
	pv = realloc(plan->ports, (plan->n_ports + 1) * sizeof(*pv));
	if (pv == NULL)
		return hutch_error_set(err, ENOMEM, "port \"%s\"", item);
	plan->ports = pv;
	pv[plan->n_ports++] = p;
	return 0;
}

static int add_bandwidth(struct hutch_net_plan *plan, const char *item, struct hutch_error **err)
{
	if (strncmp(item, "egress=", 7) == 0)
		return hutch_net_rate_parse(item + 7, &plan->egress_bps, err) < 0
			   ? hutch_error_prefix(err, "%s", HUTCH_NET_ANN_BANDWIDTH)
			   : 0;
	if (strncmp(item, "ingress=", 8) == 0)
		return hutch_net_rate_parse(item + 8, &plan->ingress_bps, err) < 0
			   ? hutch_error_prefix(err, "%s", HUTCH_NET_ANN_BANDWIDTH)
			   : 0;
	if (strncmp(item, "rate=", 5) == 0) {
		if (hutch_net_rate_parse(item + 5, &plan->egress_bps, err) < 0)
			return hutch_error_prefix(err, "%s", HUTCH_NET_ANN_BANDWIDTH);
		plan->ingress_bps = plan->egress_bps;
		return 0;
	}
	return hutch_error_set(err, EINVAL,
			       "%s: unknown item \"%s\" (want egress=, ingress=, rate=)",
			       HUTCH_NET_ANN_BANDWIDTH, item);
}

typedef int (*item_fn)(struct hutch_net_plan *, const char *, struct hutch_error **);

static int each_item(struct hutch_net_plan *plan, const char *list, item_fn fn,
		     struct hutch_error **err)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;

	if (copy == NULL)
		return hutch_error_set(err, ENOMEM, "\"%s\"", list);
	for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		if (fn(plan, tok, err) < 0)
			return -1;
	return 0;
}

int hutch_net_plan_parse(const struct hutch_kv *ann, size_t n_ann, char **extra,
			 struct hutch_net_plan *plan, struct hutch_error **err)
{
	memset(plan, 0, sizeof(*plan));
	for (size_t i = 0; i < n_ann; i++) {
		const char *k = ann[i].key, *v = ann[i].value ? ann[i].value : "";
		int r = 0;

		if (strcmp(k, HUTCH_NET_ANN_NETWORK) == 0)
			r = each_item(plan, v, add_net, err);
		else if (strcmp(k, HUTCH_NET_ANN_BANDWIDTH) == 0)
			r = each_item(plan, v, add_bandwidth, err);
		else if (strcmp(k, HUTCH_NET_ANN_PORTS) == 0)
			r = each_item(plan, v, add_port, err);
		else if (strcmp(k, HUTCH_NET_ANN_HOSTS) == 0) {
			if (strcmp(v, "true") == 0)
				plan->hosts = true;
			else if (strcmp(v, "false") != 0)
				r = hutch_error_set(err, EINVAL,
						    "%s: \"%s\" is neither true nor false", k, v);
		}
		if (r < 0) {
			hutch_net_plan_clear(plan);
			return -1;
		}
	}
	for (char **e = extra; e != NULL && *e != NULL; e++) {
		if (add_net(plan, *e, err) < 0) {
			hutch_net_plan_clear(plan);
			return hutch_error_prefix(err, "--network");
		}
	}
	if (plan->n_nets == 0 && (plan->n_ports > 0 || plan->egress_bps || plan->ingress_bps)) {
		hutch_net_plan_clear(plan);
		return hutch_error_set(err, EINVAL,
				       "ports or bandwidth asked for without a network (%s)",
				       HUTCH_NET_ANN_NETWORK);
	}
	return 0;
}

/* ---- IPAM ---- */

int hutch_ipam_allocate(const char *dir, const struct hutch_cidr *subnet, uint32_t gateway,
			uint32_t want, const char *content, uint32_t *out, struct hutch_error **err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	uint32_t first = subnet->addr + 1;
	uint32_t last = (subnet->addr | ~mask_of(subnet->prefix)) - 1; /* not broadcast */
	char ipbuf[16], path[4096];
	int ret = -1;

	if (want != 0) {
		if (!hutch_net_cidr_contains(subnet, want) || want < first || want > last ||
		    want == gateway)
			return hutch_error_set(
			    err, EINVAL, "address %s is not a free host address of the subnet",
			    hutch_net_ip_format(want, ipbuf));
		first = last = want;
	}
	if (asprintf(&tmp, "%s/.tmp-%d", dir, (int)getpid()) < 0)
		return hutch_error_set(err, ENOMEM, "lease in %s", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return hutch_error_errno(err, "create %s", tmp);
	if (hutch_write_all(fd, content, strlen(content)) < 0 || fsync(fd) < 0) {
		hutch_error_errno(err, "write %s", tmp);
		goto out;
	}
	/* link(2) fails with EEXIST if the name is taken: allocation and
	 * content appear together, atomically, even under concurrent creates. */
	for (uint32_t ip = first; ip <= last; ip++) {
		if (ip == gateway)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, hutch_net_ip_format(ip, ipbuf));
		if (link(tmp, path) == 0) {
			*out = ip;
			ret = 0;
			goto out;
		}
		if (errno != EEXIST) {
			hutch_error_errno(err, "create lease %s", path);
			goto out;
		}
	}
	if (want != 0)
		hutch_error_set(err, EADDRINUSE, "address %s is already leased",
				hutch_net_ip_format(want, ipbuf));
	else
		hutch_error_set(err, ENOSPC, "no free address left in %s",
				hutch_net_ip_format(subnet->addr, ipbuf));
out:
	unlink(tmp);
	if (ret == 0) {
		_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0)
			fsync(dfd);
	}
	return ret;
}

int hutch_ipam_release(const char *dir, uint32_t ip, struct hutch_error **err)
{
	char ipbuf[16], path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, hutch_net_ip_format(ip, ipbuf));
	if (unlink(path) < 0 && errno != ENOENT)
		return hutch_error_errno(err, "remove lease %s", path);
	return 0;
}
