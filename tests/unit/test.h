/* A tiny unit test harness: no root, no dependencies.
 *
 *   TEST(name) { CHECK(cond); CHECK_STR(a, b); CHECK_INT(a, b); }
 *   int main(void) { RUN(name); ...; return test_summary(); }
 *
 * Prints one line per failed check and ends with "N passed, N failed". */
#ifndef HUTCH_TEST_H
#define HUTCH_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_checks;
static int tests_passed, tests_failed;

#define TEST(name) static void test_##name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b) {                                                                    \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__,  \
				#a, _a, _b);                                                       \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0) {                             \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,        \
				__LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)");             \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

/* The string a contains b. */
#define CHECK_CONTAINS(a, b)                                                                       \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (_a == NULL || strstr(_a, _b) == NULL) {                                        \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected to contain \"%s\"\n",       \
				__FILE__, __LINE__, #a, _a ? _a : "(null)", _b);                   \
			test_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define RUN(name)                                                                                  \
	do {                                                                                       \
		int _before = test_failed_checks;                                                  \
		test_##name();                                                                     \
		if (test_failed_checks == _before) {                                               \
			tests_passed++;                                                            \
		} else {                                                                           \
			tests_failed++;                                                            \
			fprintf(stderr, "FAIL %s\n", #name);                                       \
		}                                                                                  \
	} while (0)

static inline int test_summary(void)
{
	printf("%d passed, %d failed\n", tests_passed, tests_failed);
	return tests_failed == 0 ? 0 : 1;
}

#endif
