/* hutch network create|ls|inspect|rm|gc|bandwidth
 *
 *   network create NAME --subnet CIDR [--gateway IP] [--internal]
 *   network ls [-q]
 *   network inspect NAME...            JSON (an array when several)
 *   network rm [-f|--force] NAME...
 *   network gc                         repair what a killed hutch left
 *   network bandwidth ID [egress=RATE] [ingress=RATE]   (RATE "none": no limit)
 *   network attach ID PID [NAME[:ip=A]...] [org.hutch.KEY=VALUE...]
 *                                      (debugging and tests; create does it)
 *   network detach ID
 *
 * argv[0] is "network", argv[1] the subcommand. */
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "net/net.h"
#include "spec/model.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_network(int argc, char **argv, const char *root);

static void usage(FILE *f)
{
	fputs("usage: hutch network create NAME --subnet CIDR [--gateway IP] [--internal]\n"
	      "       hutch network ls [-q]\n"
	      "       hutch network inspect NAME...\n"
	      "       hutch network rm [--force] NAME...\n"
	      "       hutch network gc\n"
	      "       hutch network bandwidth ID [egress=RATE] [ingress=RATE]\n"
	      "       hutch network attach ID PID [NAME[:ip=A]...] [org.hutch.KEY=VALUE...]\n"
	      "       hutch network detach ID\n",
	      f);
}

static int fail(struct hutch_error *e)
{
	hutch_log_error(e);
	hutch_error_free(e);
	return 1;
}

static int do_create(int argc, char **argv, const char *root)
{
	static const struct option opts[] = {{"subnet", required_argument, NULL, 's'},
					     {"gateway", required_argument, NULL, 'g'},
					     {"internal", no_argument, NULL, 'i'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *subnet = NULL, *gw = NULL;
	struct hutch_error *e = NULL;
	bool internal = false;
	int c;

	optind = 0; /* 0: full re-initialisation (the global parser ran with "+") */
	while ((c = getopt_long(argc, argv, "s:g:ih", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			subnet = optarg;
			break;
		case 'g':
			gw = optarg;
			break;
		case 'i':
			internal = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	/* NAME may come before or after the options. */
	if (optind != argc - 1 || subnet == NULL) {
		fputs("hutch network create: need NAME and --subnet CIDR\n", stderr);
		return 1;
	}
	if (hutch_network_create(root, argv[optind], subnet, gw, internal, &e) < 0)
		return fail(e);
	return 0;
}

static int do_ls(int argc, char **argv, const char *root)
{
	struct hutch_error *e = NULL;
	_cleanup_strv_ char **names = hutch_network_list(root, &e);
	bool quiet = argc > 1 && (strcmp(argv[1], "-q") == 0 || strcmp(argv[1], "--quiet") == 0);

	if (names == NULL)
		return fail(e);
	if (!quiet)
		printf("%-20s %-18s %-15s %s\n", "NAME", "SUBNET", "GATEWAY", "INTERNAL");
	for (char **n = names; *n; n++) {
		struct hutch_network *net;
		char sub[16], gw[16];

		if (quiet) {
			printf("%s\n", *n);
			continue;
		}
		net = hutch_network_load(root, *n, &e);
		if (net == NULL) {
			hutch_log_error(e);
			hutch_error_freep(&e);
			continue;
		}
		hutch_net_ip_format(net->subnet.addr, sub);
		printf("%-20s %s/%-*u %-15s %s\n", *n, sub, (int)(17 - strlen(sub)),
		       net->subnet.prefix, hutch_net_ip_format(net->gateway, gw),
		       net->internal ? "true" : "false");
		hutch_network_free(net);
	}
	return 0;
}

static int do_inspect(int argc, char **argv, const char *root)
{
	struct hutch_error *e = NULL;

	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (argc > 2)
		printf("[\n");
	for (int i = 1; i < argc; i++) {
		_cleanup_free_ char *s = hutch_network_inspect(root, argv[i], &e);
		if (s == NULL)
			return fail(e);
		printf("%s%s\n", s, argc > 2 && i < argc - 1 ? "," : "");
	}
	if (argc > 2)
		printf("]\n");
	return 0;
}

static int do_rm(int argc, char **argv, const char *root)
{
	struct hutch_error *e = NULL;
	bool force = false;
	int rc = 0, n = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--force") == 0)
			force = true;
	}
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		n++;
		if (hutch_network_remove(root, argv[i], force, &e) < 0)
			rc = fail(e), e = NULL;
	}
	if (n == 0) {
		usage(stderr);
		return 1;
	}
	return rc;
}

static int do_bandwidth(int argc, char **argv, const char *root)
{
	struct hutch_error *e = NULL;
	uint64_t egress = UINT64_MAX, ingress = UINT64_MAX;

	if (argc < 3) {
		usage(stderr);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		int r;
		if (strncmp(argv[i], "egress=", 7) == 0)
			r = hutch_net_rate_parse(argv[i] + 7, &egress, &e);
		else if (strncmp(argv[i], "ingress=", 8) == 0)
			r = hutch_net_rate_parse(argv[i] + 8, &ingress, &e);
		else if (strncmp(argv[i], "rate=", 5) == 0) {
			r = hutch_net_rate_parse(argv[i] + 5, &egress, &e);
			ingress = egress;
		} else
			r = hutch_error_set(&e, EINVAL,
					    "unknown item \"%s\" (want egress=RATE, "
					    "ingress=RATE or rate=RATE)",
					    argv[i]);
		if (r < 0)
			return fail(e);
	}
	if (hutch_net_bandwidth(root, argv[1], egress, ingress, &e) < 0)
		return fail(e);
	return 0;
}

static int do_attach(int argc, char **argv, const char *root)
{
	struct hutch_error *e = NULL;
	struct hutch_net_plan plan;
	int r;

	if (argc < 4) {
		usage(stderr);
		return 1;
	}
	/* Arguments "org.hutch.KEY=VALUE" act as the annotations of config.json. */
	_cleanup_free_ struct hutch_kv *ann = calloc((size_t)argc, sizeof(*ann));
	_cleanup_free_ char **nets = calloc((size_t)argc, sizeof(char *));
	size_t na = 0, nn = 0;

	if (ann == NULL || nets == NULL)
		return 1;
	for (int i = 3; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (strncmp(argv[i], "org.hutch.", 10) == 0 && eq != NULL) {
			*eq = '\0';
			ann[na].key = argv[i];
			ann[na++].value = eq + 1;
		} else {
			nets[nn++] = argv[i];
		}
	}
	if (hutch_net_plan_parse(ann, na, nets, &plan, &e) < 0)
		return fail(e);
	r = hutch_net_attach_plan(root, argv[1], (pid_t)atoi(argv[2]), &plan, &e);
	hutch_net_plan_clear(&plan);
	return r < 0 ? fail(e) : 0;
}

int cmd_network(int argc, char **argv, const char *root)
{
	struct hutch_error *e = NULL;
	const char *sub;

	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	sub = argv[1];
	argc--;
	argv++;
	if (strcmp(sub, "create") == 0)
		return do_create(argc, argv, root);
	if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
		return do_ls(argc, argv, root);
	if (strcmp(sub, "inspect") == 0)
		return do_inspect(argc, argv, root);
	if (strcmp(sub, "rm") == 0 || strcmp(sub, "remove") == 0)
		return do_rm(argc, argv, root);
	if (strcmp(sub, "gc") == 0)
		return hutch_net_gc(root, &e) < 0 ? fail(e) : 0;
	if (strcmp(sub, "bandwidth") == 0)
		return do_bandwidth(argc, argv, root);
	if (strcmp(sub, "attach") == 0)
		return do_attach(argc, argv, root);
	if (strcmp(sub, "detach") == 0) {
		if (argc != 2) {
			usage(stderr);
			return 1;
		}
		return hutch_net_detach(root, argv[1], &e) < 0 ? fail(e) : 0;
	}
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "hutch network: unknown subcommand \"%s\"\n", sub);
	usage(stderr);
	return 1;
}
