/* libFuzzer target: the config parser (whole config, process, resources)
 * and the small option parsers (signals, container ids, cpu lists) on
 * hostile input; a parsed config's seccomp profile is compiled too.
 * Built by tools/fuzz.sh with clang -fsanitize=fuzzer,address,undefined. */
#include "core/error.h"
#include "hutch/hutch.h"
#include "linux/process.h"
#include "linux/seccomp.h"
#include "spec/model.h"
#include "state/state.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hutch_error *err = NULL;
	struct hutch_spec *s;
	struct hutch_process p;
	struct hutch_resources r;
	char *str;
	int sig;

	s = hutch_spec_parse((const char *)data, size, &err);
	hutch_error_freep(&err);
	if (s != NULL) {
		/* what the parent derives from a parsed config before clone */
		struct hutch_seccomp_filter f;
		if (s->linux_.has_seccomp &&
		    hutch_seccomp_compile(&s->linux_.seccomp, &f, &err) == 0)
			hutch_seccomp_filter_clear(&f);
		hutch_error_freep(&err);
		if (s->linux_.has_personality)
			hutch_process_personality_value(s->linux_.personality_domain,
							s->linux_.personality_flags, &err);
		hutch_error_freep(&err);
	}
	hutch_spec_free(s);

	memset(&p, 0, sizeof(p));
	if (hutch_spec_parse_process((const char *)data, size, &p, &err) == 0)
		hutch_process_clear(&p);
	hutch_error_freep(&err);

	memset(&r, 0, sizeof(r));
	if (hutch_spec_parse_resources((const char *)data, size, &r, &err) == 0)
		hutch_resources_clear(&r);
	hutch_error_freep(&err);

	/* the string parsers take NUL-terminated text */
	str = malloc(size + 1);
	if (str == NULL)
		return 0;
	memcpy(str, data, size);
	str[size] = '\0';
	hutch_signal_parse(str, &sig, &err);
	hutch_error_freep(&err);
	hutch_id_check(str, &err);
	hutch_error_freep(&err);
	{
		unsigned long mask[1024 / (8 * sizeof(unsigned long))];
		hutch_process_parse_cpu_list(str, mask, 1024, &err);
		hutch_error_freep(&err);
	}
	free(str);
	return 0;
}
