/* Number lists as the kernel prints and takes them (cpuset.cpus, taskset
 * -c, set_mempolicy node lists): "0-3,7,9-11". */
#ifndef HUTCH_CORE_BITLIST_H
#define HUTCH_CORE_BITLIST_H

#include <stddef.h>

/* Parse LIST into MASK (NBITS bits, cleared first): each number below NBITS,
 * ranges ascending, no blanks.  "" is the empty list.  0, or -1 when LIST
 * is malformed or out of range (MASK is then undefined). */
int hutch_bitlist_parse(const char *list, unsigned long *mask, size_t nbits);

#endif
