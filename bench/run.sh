#!/bin/sh
# hutch benchmark: hutch vs crun vs runc vs a C floor (see bench/README.md).
# Usage (root):  bench/run.sh [--quick] [-n N] [--hutch PATH] [--only PHASES]
#                BENCH_N=20 bench/run.sh
set -eu
exec /usr/bin/python3 "$(dirname "$0")/bench.py" "$@"
