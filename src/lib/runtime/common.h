/* Helpers shared by the lifecycle commands (container.c) and exec (exec.c). */
#ifndef HUTCH_RUNTIME_COMMON_H
#define HUTCH_RUNTIME_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"

struct hutch_context;
struct hutch_error;
struct hutch_state;

#define CGROUP_MOUNT "/sys/fs/cgroup"

static inline void hutch_cgroup_freep(struct hutch_cgroup **cg)
{
	hutch_cgroup_free(*cg);
	*cg = NULL;
}
#define _cleanup_cgroup_ __attribute__((cleanup(hutch_cgroup_freep)))

/* pidfd of PID, refused (ESRCH) when its start time is not START_TIME. */
int hutch_rt_pidfd_open(pid_t pid, unsigned long long start_time);
/* Wait up to timeout_ms for the process behind PIDFD to exit. */
bool hutch_rt_wait_pidfd(int pidfd, int timeout_ms);
void hutch_rt_kill_and_wait(pid_t pid, unsigned long long start_time);
void hutch_rt_now_rfc3339(char *buf, size_t size);
int hutch_rt_write_pid_file(const char *path, pid_t pid, struct hutch_error **err);
/* clone3 (CLONE_INTO_CGROUP when cgroup_fd >= 0) or clone, fork-style. */
pid_t hutch_rt_clone(unsigned long flags, int cgroup_fd, bool *into_cgroup);
/* Read a container's state, refining the status with the freezer; *cgp
 * (optional) gets its cgroup. */
struct hutch_state *hutch_rt_load(const struct hutch_context *ctx, const char *id,
				  struct hutch_cgroup **cgp, struct hutch_error **err);
/* The same for a mutating command: checks the id, takes the container's
 * lock (*lock, to close when done), then reads the state. */
struct hutch_state *hutch_rt_load_locked(const struct hutch_context *ctx, const char *id, int *lock,
					 struct hutch_cgroup **cgp, struct hutch_error **err);
/* Wait for PID (our child, or reparented to us), forwarding the usual
 * signals to it; *status as a shell reports it. */
int hutch_rt_wait_forwarding(pid_t pid, int *status, struct hutch_error **err);

#endif
