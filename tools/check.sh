#!/bin/sh
# The whole check: deps, build, format, unit tests, unit tests under
# ASan+UBSan, integration tests (as root).  Used by `make check`.
# Every step runs even after a failure; the exit status is non-zero if any
# step failed.  The integration tests run last so the output ends with
# pytest's summary; earlier failures are listed just before them.
set -u
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}

step() {
	echo "==> $*"
	"$@"
}

step sh tools/deps.sh || { echo "check: installing dependencies failed" >&2; exit 1; }
step $MAKE --no-print-directory build || { echo "check: build failed" >&2; exit 1; }

failed=""
step $MAKE --no-print-directory format-check || failed="$failed format-check"
step $MAKE --no-print-directory unit || failed="$failed unit"
step $MAKE --no-print-directory asan || failed="$failed asan"
step $MAKE --no-print-directory integration-enosys || failed="$failed integration-enosys"
step $MAKE --no-print-directory fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-60} || failed="$failed fuzz"
step $MAKE --no-print-directory check-cgroupv2 || failed="$failed check-cgroupv2"

if [ -n "$failed" ]; then
	echo "==> check: FAILED so far:$failed (running integration tests anyway)"
fi
step $MAKE --no-print-directory integration || failed="$failed integration"

# No output after pytest's summary: the exit status says the rest.
[ -z "$failed" ]
