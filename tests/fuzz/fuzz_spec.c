/* libFuzzer target: the config parser (whole config, process, resources)
 * and the small option parsers (signals, container ids) on hostile input.
 * Built by tools/fuzz.sh with clang -fsanitize=fuzzer,address,undefined. */
#include "core/error.h"
#include "hutch/hutch.h"
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
	hutch_spec_free(s);
	hutch_error_freep(&err);

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
	free(str);
	return 0;
}
