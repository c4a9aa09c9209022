/*
 * checker: a small static program placed in the integration-test rootfs as
 * /checker.  It reports what the container sees as `key=value` lines so the
 * pytest harness can assert on them without depending on busybox applets.
 *
 * Usage: /checker [SECTION...]      (no section: all of them)
 *        /checker shm KEY           create a SysV shm segment with KEY (hex)
 *        /checker wait              print "ready", then sleep until signalled
 *
 * Sections: caps ids ns mounts rlimits umask nnp oom cwd env hostname pid
 *           fds cgroup seccomp sched personality keyring mempolicy
 *        /checker mkdir PATH      mkdir PATH, print mkdir.errno=N (0 on success)
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static void print_file_lines(const char *path, const char *key, const char *prefix)
{
	char line[4096];
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		printf("%s.error=%s: %s\n", key, path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (prefix != NULL && strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		printf("%s=%s\n", key, line);
	}
	fclose(f);
}

static void section_caps(void)
{
	static const char *const names[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL) {
		printf("caps.error=%s\n", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			size_t n = strlen(names[i]);
			if (strncmp(line, names[i], n) == 0 && line[n] == ':') {
				char *v = line + n + 1;
				v += strspn(v, " \t");
				v[strcspn(v, "\n")] = '\0';
				printf("cap.%s=%s\n", names[i], v);
			}
		}
	}
	fclose(f);
}

static void section_ids(void)
{
	gid_t groups[256];
	int n = getgroups(256, groups);

	printf("uid=%u\neuid=%u\ngid=%u\negid=%u\n", getuid(), geteuid(), getgid(), getegid());
	printf("groups=");
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", groups[i]);
	printf("\n");
	print_file_lines("/proc/self/uid_map", "uid_map", NULL);
	print_file_lines("/proc/self/gid_map", "gid_map", NULL);
	print_file_lines("/proc/self/setgroups", "setgroups", NULL);
}

static void section_ns(void)
{
	static const char *const names[] = {"cgroup", "ipc",  "mnt",  "net",
					    "pid",    "time", "user", "uts"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[64], target[256];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		printf("ns.%s=%s\n", names[i], target);
	}
}

static void section_rlimits(void)
{
	static const struct {
		const char *name;
		int res;
	} lims[] = {
	    {"CPU", RLIMIT_CPU},	   {"FSIZE", RLIMIT_FSIZE},
	    {"DATA", RLIMIT_DATA},	   {"STACK", RLIMIT_STACK},
	    {"CORE", RLIMIT_CORE},	   {"RSS", RLIMIT_RSS},
	    {"NPROC", RLIMIT_NPROC},	   {"NOFILE", RLIMIT_NOFILE},
	    {"MEMLOCK", RLIMIT_MEMLOCK},   {"AS", RLIMIT_AS},
	    {"LOCKS", RLIMIT_LOCKS},	   {"SIGPENDING", RLIMIT_SIGPENDING},
	    {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE},
	    {"RTPRIO", RLIMIT_RTPRIO},	   {"RTTIME", RLIMIT_RTTIME},
	};

	for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
		struct rlimit rl;

		if (getrlimit(lims[i].res, &rl) < 0)
			continue;
		printf("rlimit.%s=", lims[i].name);
		if (rl.rlim_cur == RLIM_INFINITY)
			printf("unlimited ");
		else
			printf("%llu ", (unsigned long long)rl.rlim_cur);
		if (rl.rlim_max == RLIM_INFINITY)
			printf("unlimited\n");
		else
			printf("%llu\n", (unsigned long long)rl.rlim_max);
	}
}

static void section_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (d == NULL) {
		printf("fds.error=%s\n", strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char path[300], target[PATH_MAX];
		ssize_t n;

		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		printf("fd.%s=%s\n", de->d_name, target);
	}
	closedir(d);
}

static void section_sched(void)
{
	struct sched_param sp;
	cpu_set_t set;
	long io = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);

	printf("sched.policy=%d\n", sched_getscheduler(0));
	if (sched_getparam(0, &sp) == 0)
		printf("sched.priority=%d\n", sp.sched_priority);
	errno = 0;
	printf("sched.nice=%d\n", getpriority(PRIO_PROCESS, 0));
	if (io >= 0)
		printf("ioprio.class=%ld\nioprio.level=%ld\n", io >> 13, io & 0x1fff);
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		printf("affinity=");
		for (int c = 0, first = 1; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set)) {
				printf("%s%d", first ? "" : ",", c);
				first = 0;
			}
		printf("\n");
	}
}

static void section_keyring(void)
{
	char buf[512];
	/* KEYCTL_DESCRIBE (6) of KEY_SPEC_SESSION_KEYRING (-3) */
	long n = syscall(SYS_keyctl, 6, -3, buf, sizeof(buf) - 1, 0);

	if (n < 0) {
		printf("keyring.error=%s\n", strerror(errno));
		return;
	}
	buf[n < (long)sizeof(buf) ? n : (long)sizeof(buf) - 1] = '\0';
	/* type;uid;gid;perm;description */
	printf("keyring=%s\n", buf);
}

static void section_mempolicy(void)
{
	unsigned long mask[1024 / (8 * sizeof(unsigned long))] = {0};
	const unsigned long lbits = 8 * sizeof(unsigned long);
	int mode = -1;

	if (syscall(SYS_get_mempolicy, &mode, mask, 1024UL, NULL, 0UL) < 0) {
		printf("mempolicy.error=%s\n", strerror(errno));
		return;
	}
	/* the mode flags (MPOL_F_STATIC_NODES...) are bits 13-15 */
	printf("mempolicy.mode=%d\nmempolicy.flags=%d\nmempolicy.nodes=", mode & 0x1fff,
	       mode & 0xe000);
	for (unsigned long n = 0, first = 1; n < 1024; n++)
		if (mask[n / lbits] & (1UL << (n % lbits))) {
			printf("%s%lu", first ? "" : ",", n);
			first = 0;
		}
	printf("\n");
}

static void section(const char *name)
{
	if (strcmp(name, "caps") == 0) {
		section_caps();
	} else if (strcmp(name, "ids") == 0) {
		section_ids();
	} else if (strcmp(name, "ns") == 0) {
		section_ns();
	} else if (strcmp(name, "mounts") == 0) {
		print_file_lines("/proc/self/mountinfo", "mount", NULL);
	} else if (strcmp(name, "rlimits") == 0) {
		section_rlimits();
	} else if (strcmp(name, "umask") == 0) {
		mode_t m = umask(0);
		umask(m);
		printf("umask=%04o\n", (unsigned)m);
	} else if (strcmp(name, "nnp") == 0) {
		printf("nnp=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	} else if (strcmp(name, "oom") == 0) {
		print_file_lines("/proc/self/oom_score_adj", "oom", NULL);
	} else if (strcmp(name, "cwd") == 0) {
		char buf[PATH_MAX];
		printf("cwd=%s\n", getcwd(buf, sizeof(buf)) ? buf : strerror(errno));
	} else if (strcmp(name, "env") == 0) {
		for (char **e = environ; *e != NULL; e++)
			printf("env=%s\n", *e);
	} else if (strcmp(name, "hostname") == 0) {
		struct utsname u;
		if (uname(&u) == 0)
			printf("hostname=%s\ndomainname=%s\n", u.nodename, u.domainname);
	} else if (strcmp(name, "pid") == 0) {
		printf("pid=%d\nppid=%d\n", getpid(), getppid());
	} else if (strcmp(name, "fds") == 0) {
		section_fds();
	} else if (strcmp(name, "cgroup") == 0) {
		print_file_lines("/proc/self/cgroup", "cgroup", NULL);
	} else if (strcmp(name, "seccomp") == 0) {
		print_file_lines("/proc/self/status", "seccomp", "Seccomp:");
		print_file_lines("/proc/self/status", "seccomp_filters", "Seccomp_filters:");
	} else if (strcmp(name, "sched") == 0) {
		section_sched();
	} else if (strcmp(name, "personality") == 0) {
		struct utsname u;
		printf("personality=0x%x\n", (unsigned)personality(0xffffffff));
		if (uname(&u) == 0)
			printf("machine=%s\n", u.machine);
	} else if (strcmp(name, "keyring") == 0) {
		section_keyring();
	} else if (strcmp(name, "mempolicy") == 0) {
		section_mempolicy();
	} else {
		printf("error=unknown section %s\n", name);
	}
}

int main(int argc, char **argv)
{
	static const char *const all[] = {"caps",     "ids", "ns",  "mounts", "rlimits",
					  "umask",    "nnp", "oom", "cwd",    "env",
					  "hostname", "pid", "fds", "cgroup"};

	if (argc == 3 && strcmp(argv[1], "shm") == 0) {
		key_t key = (key_t)strtol(argv[2], NULL, 16);
		int id = shmget(key, 4096, IPC_CREAT | 0600);
		if (id < 0) {
			printf("shm.error=%s\n", strerror(errno));
			return 1;
		}
		printf("shmid=%d\n", id);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "mkdir") == 0) {
		printf("mkdir.errno=%d\n", mkdir(argv[2], 0755) < 0 ? errno : 0);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "wait") == 0) {
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (argc == 1) {
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			section(all[i]);
	} else {
		for (int i = 1; i < argc; i++)
			section(argv[i]);
	}
	fflush(stdout);
	return 0;
}
