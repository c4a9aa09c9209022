/* hutch list [--format table|json] [--quiet]: the containers under --root.
 *
 * The table is laid out as runc's (Go tabwriter: minimum cell width 12,
 * padding 3); the JSON is runc's list document: an array of
 * {ociVersion,id,pid,status,bundle,rootfs,created,owner[,annotations]},
 * with pid 0 for stopped containers and the owner's user name. */
#include "cli.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "state/state.h"
#include "spec/model.h"

#include <json-c/json.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_help help = {
    "list",
    "[OPTIONS]",
    "List the containers.\n\n"
    "Options:\n"
    "   -f, --format FORMAT   table (default) or json\n"
    "   -q, --quiet           only the ids\n"
    "   -h, --help            show this help\n",
};

struct row {
	char *id, *pid, *status, *bundle, *rootfs, *created, *owner;
	struct hutch_state *st;
};

static void row_clear(struct row *r)
{
	free(r->id);
	free(r->pid);
	free(r->status);
	free(r->bundle);
	free(r->rootfs);
	free(r->created);
	free(r->owner);
	hutch_state_free(r->st);
}

/* The status as the lifecycle code reports it (it refines running into
 * paused from the cgroup freezer); the state module's derivation if that
 * fails (e.g. the container was deleted meanwhile). */
static char *status_of(struct hutch_cli *g, const struct hutch_state *st)
{
	_cleanup_free_ char *json = hutch_container_state(&g->ctx, st->id, NULL);
	struct json_object *o, *v;
	char *r = NULL;

	if (json != NULL && (o = json_tokener_parse(json)) != NULL) {
		if (json_object_object_get_ex(o, "status", &v) &&
		    json_object_is_type(v, json_type_string))
			r = strdup(json_object_get_string(v));
		json_object_put(o);
	}
	return r != NULL ? r : strdup(hutch_status_name(st->status));
}

/* The name from /etc/passwd itself (fgetpwent: no NSS modules, which a
 * static binary could not load), else "#UID" as runc prints. */
static char *owner_name(uid_t uid)
{
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw;
	char *r;

	while (f != NULL && (pw = fgetpwent(f)) != NULL) {
		if (pw->pw_uid == uid && pw->pw_name != NULL) {
			r = strdup(pw->pw_name);
			fclose(f);
			return r;
		}
	}
	if (f != NULL)
		fclose(f);
	if (asprintf(&r, "#%u", (unsigned)uid) < 0)
		return NULL;
	return r;
}

static int fill(struct hutch_cli *g, const char *id, struct row *r)
{
	r->st = hutch_state_read(g->ctx.root, id, NULL);
	if (r->st == NULL)
		return -1; /* deleted meanwhile, or unreadable: not listed */
	r->id = strdup(id);
	r->status = status_of(g, r->st);
	if (asprintf(&r->pid, "%d",
		     r->status != NULL && strcmp(r->status, "stopped") == 0 ? 0 : (int)r->st->pid) <
	    0)
		r->pid = NULL;
	r->bundle = strdup(r->st->bundle ? r->st->bundle : "");
	r->rootfs = strdup(r->st->rootfs ? r->st->rootfs : "");
	r->created = strdup(r->st->created ? r->st->created : "");
	r->owner = owner_name(r->st->owner);
	if (r->id == NULL || r->status == NULL || r->pid == NULL || r->bundle == NULL ||
	    r->rootfs == NULL || r->created == NULL || r->owner == NULL)
		return -1;
	return 0;
}

static void print_table(struct row *rows, size_t n)
{
	static const char *head[] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"};
	size_t w[5];

	for (int c = 0; c < 5; c++)
		w[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		const char *cells[5] = {rows[i].id, rows[i].pid, rows[i].status, rows[i].bundle,
					rows[i].created};
		for (int c = 0; c < 5; c++)
			if (strlen(cells[c]) > w[c])
				w[c] = strlen(cells[c]);
	}
	for (int c = 0; c < 5; c++)
		w[c] = w[c] + 3 < 12 ? 12 : w[c] + 3;
	printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], head[0], (int)w[1], head[1], (int)w[2],
	       head[2], (int)w[3], head[3], (int)w[4], head[4], head[5]);
	for (size_t i = 0; i < n; i++)
		printf("%-*s%-*s%-*s%-*s%-*s%s\n", (int)w[0], rows[i].id, (int)w[1], rows[i].pid,
		       (int)w[2], rows[i].status, (int)w[3], rows[i].bundle, (int)w[4],
		       rows[i].created, rows[i].owner);
}

static int print_json(struct row *rows, size_t n)
{
	struct json_object *a = json_object_new_array();
	int rc = 0;

	if (a == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		const struct hutch_state *st = rows[i].st;

		if (o == NULL || json_object_array_add(a, o) < 0) {
			json_object_put(o);
			rc = -1;
			break;
		}
		json_object_object_add(o, "ociVersion", json_object_new_string(HUTCH_OCI_VERSION));
		json_object_object_add(o, "id", json_object_new_string(rows[i].id));
		json_object_object_add(o, "pid", json_object_new_int(atoi(rows[i].pid)));
		json_object_object_add(o, "status", json_object_new_string(rows[i].status));
		json_object_object_add(o, "bundle", json_object_new_string(rows[i].bundle));
		json_object_object_add(o, "rootfs", json_object_new_string(rows[i].rootfs));
		json_object_object_add(o, "created", json_object_new_string(rows[i].created));
		if (st->n_annotations > 0) {
			struct json_object *ann = json_object_new_object();
			for (size_t k = 0; ann != NULL && k < st->n_annotations; k++)
				json_object_object_add(
				    ann, st->annotations[k].key,
				    json_object_new_string(st->annotations[k].value));
			json_object_object_add(o, "annotations", ann);
		}
		json_object_object_add(o, "owner", json_object_new_string(rows[i].owner));
	}
	if (rc == 0)
		printf("%s\n", json_object_to_json_string_ext(
				   a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
	return rc;
}

int cmd_list(struct hutch_cli *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"quiet", optional_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct hutch_error *e = NULL;
	_cleanup_strv_ char **ids = NULL;
	struct row *rows = NULL;
	size_t n = 0, count = 0;
	bool quiet = false, json = false;
	int c, rc = 0;

	while ((c = cli_getopt(&help, argc, argv, "f:q", opts)) != -1) {
		switch (c) {
		case CLI_OPT_HELP:
			return 0;
		case 'f':
			if (cli_format(&help, optarg, &json) < 0)
				return 1;
			break;
		case 'q':
			if (cli_bool(&help, "quiet", optarg, &quiet) < 0)
				return 1;
			break;
		default:
			return 1;
		}
	}
	if (cli_nargs(&help, argc, argv, 0, 0) < 0)
		return 1;
	ids = hutch_state_list(g->ctx.root, &e);
	if (ids == NULL)
		return cli_fail(e);
	while (ids[count] != NULL)
		count++;
	rows = calloc(count + 1, sizeof(*rows));
	if (rows == NULL)
		return 1;
	for (size_t i = 0; i < count; i++) {
		if (fill(g, ids[i], &rows[n]) < 0) {
			row_clear(&rows[n]);
			memset(&rows[n], 0, sizeof(rows[n]));
			continue;
		}
		n++;
	}
	if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", rows[i].id);
	} else if (json) {
		rc = print_json(rows, n) < 0 ? 1 : 0;
	} else {
		print_table(rows, n);
	}
	for (size_t i = 0; i < n; i++)
		row_clear(&rows[i]);
	free(rows);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
