/* Cleanup attributes for owned locals, and steal helpers to move ownership. */
#ifndef HUTCH_CORE_CLEANUP_H
#define HUTCH_CORE_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void hutch_freep(void *p)
{
	free(*(void **)p);
}

static inline void hutch_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
	*fd = -1;
}

static inline void hutch_fclosep(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
	*f = NULL;
}

static inline void hutch_closedirp(DIR **d)
{
	if (*d != NULL)
		closedir(*d);
	*d = NULL;
}

static inline void hutch_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

static inline void hutch_strv_freep(char ***v)
{
	hutch_strv_free(*v);
	*v = NULL;
}

#define _cleanup_free_	   __attribute__((cleanup(hutch_freep)))
#define _cleanup_close_	   __attribute__((cleanup(hutch_closep)))
#define _cleanup_fclose_   __attribute__((cleanup(hutch_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(hutch_closedirp)))
#define _cleanup_strv_	   __attribute__((cleanup(hutch_strv_freep)))

static inline void *hutch_steal_ptr(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}

static inline int hutch_steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

#define steal_ptr(p) hutch_steal_ptr(&(p))
#define steal_fd(fd) hutch_steal_fd(&(fd))

#define HUTCH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
