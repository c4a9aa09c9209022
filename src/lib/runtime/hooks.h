/* OCI hooks: each run with the state JSON on stdin, its args and env, and a
 * timeout (the hook is killed when it passes). */
#ifndef HUTCH_RUNTIME_HOOKS_H
#define HUTCH_RUNTIME_HOOKS_H

#include <stddef.h>

struct hutch_error;
struct hutch_hook_list;

/* Run every hook of the list in order; stop at the first failure (returned
 * as an error naming the hook kind, path and exit status). */
int hutch_hooks_run(const struct hutch_hook_list *list, const char *kind_name,
		    const char *state_json, struct hutch_error **err);
/* Same, but a failing hook only warns and the rest still run (poststart,
 * poststop per the spec). */
void hutch_hooks_run_warn(const struct hutch_hook_list *list, const char *kind_name,
			  const char *state_json);

#endif
