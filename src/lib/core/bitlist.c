#include "core/bitlist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int hutch_bitlist_parse(const char *list, unsigned long *mask, size_t nbits)
{
	const size_t w = 8 * sizeof(unsigned long);
	const char *s = list;

	memset(mask, 0, (nbits + w - 1) / w * sizeof(unsigned long));
	if (*s == '\0')
		return 0;
	for (;;) {
		unsigned long lo, hi;
		char *end;

		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		lo = strtoul(s, &end, 10);
		hi = lo;
		if (*end == '-') {
			s = end + 1;
			if (*s < '0' || *s > '9')
				return -1;
			hi = strtoul(s, &end, 10);
		}
		if (errno != 0 || lo > hi || hi >= nbits)
			return -1;
		for (unsigned long n = lo; n <= hi; n++)
			mask[n / w] |= 1UL << (n % w);
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}
