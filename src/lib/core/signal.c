/* Signal names for `kill`: "KILL", "SIGKILL", "kill", "9", "RTMIN+3",
 * "SIGRTMAX-1".  runc takes the names in upper case with or without "SIG";
 * lower case is accepted too since nothing else could be meant. */
#include "core/error.h"
#include "hutch/hutch.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	int sig;
} names[] = {
    {"HUP", SIGHUP},	   {"INT", SIGINT},	{"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},	   {"ABRT", SIGABRT},	{"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},	   {"KILL", SIGKILL},	{"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},	   {"PIPE", SIGPIPE},	{"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},	{"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},	   {"TSTP", SIGTSTP},	{"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},	   {"XCPU", SIGXCPU},	{"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},	   {"WINCH", SIGWINCH}, {"IO", SIGIO},	   {"POLL", SIGPOLL},
    {"PWR", SIGPWR},	   {"SYS", SIGSYS},
};

/* Digits only (no sign, no spaces, no hex): 1 and *n set, or 0. */
static int parse_uint(const char *s, long *n)
{
	long v = 0;

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return 0;
		v = v * 10 + (*s - '0');
		if (v > 1000000)
			return 0;
	}
	*n = v;
	return 1;
}

static int parse_rt(const char *s, int *sig)
{
	long off = 0;
	bool min;

	if (strncasecmp(s, "RTMIN", 5) == 0)
		min = true;
	else if (strncasecmp(s, "RTMAX", 5) == 0)
		min = false;
	else
		return 0;
	s += 5;
	if (*s != '\0') {
		if (*s != (min ? '+' : '-') || !parse_uint(s + 1, &off))
			return -1;
	}
	if (off > SIGRTMAX - SIGRTMIN)
		return -1;
	*sig = min ? SIGRTMIN + (int)off : SIGRTMAX - (int)off;
	return 1;
}

int hutch_signal_parse(const char *s, int *sig, struct hutch_error **err)
{
	const char *name;
	long n;
	int r;

	if (s == NULL || *s == '\0')
		return hutch_error_set(err, 0, "invalid signal \"\"");
	if (parse_uint(s, &n)) {
		if (n < 1 || n > SIGRTMAX)
			return hutch_error_set(err, 0, "invalid signal \"%.64s\": not in 1..%d", s,
					       SIGRTMAX);
		*sig = (int)n;
		return 0;
	}
	name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(name, names[i].name) == 0) {
			*sig = names[i].sig;
			return 0;
		}
	}
	r = parse_rt(name, sig);
	if (r > 0)
		return 0;
	return hutch_error_set(err, 0, "invalid signal \"%.64s\"%s", s,
			       r < 0 ? ": use RTMIN+N or RTMAX-N within the real-time range" : "");
}
