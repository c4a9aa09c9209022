/* measure: run one command and report its wall time and the rusage of its
 * whole process tree, for bench/bench.py.
 *
 *   measure RESULT_FILE PROG [ARGS...]
 *
 * Forks, execs PROG, waits for it, writes
 *   "<wall ns> <user us> <sys us> <maxrss KiB>\n"
 * to RESULT_FILE and exits with PROG's status (128+N if killed by signal N).
 *
 * Why a separate, statically linked program: Linux's ru_maxrss includes the
 * memory of the process image *before* execve, so a command spawned straight
 * from Python reports at least Python's own RSS (~15 MiB).  Spawned from this
 * tiny static binary, the pre-exec image is a few hundred KiB at most, and
 * the "floor" row of the report shows what is left of it.
 *
 * Build: gcc -O2 -static -o measure measure.c
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: measure RESULT_FILE PROG [ARGS...]\n");
		return 125;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("measure: fork");
		return 125;
	}
	if (pid == 0) {
		execv(argv[2], argv + 2);
		fprintf(stderr, "measure: exec %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR) {
			perror("measure: wait4");
			return 125;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long wall = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	FILE *f = fopen(argv[1], "we");
	if (!f) {
		perror("measure: result file");
		return 125;
	}
	fprintf(f, "%lld %lld %lld %ld\n", wall,
		(long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
		(long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss);
	fclose(f);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}
