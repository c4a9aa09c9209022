#!/bin/sh
# tools/fuzz.sh [SECONDS]: build the libFuzzer target over the config and
# option parsers with clang (ASan + UBSan) and run it for SECONDS (default 60).
# The corpus starts from `hutch spec` outputs; crashes fail the script.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
out=build-fuzz
mkdir -p "$out/corpus"
command -v clang >/dev/null || { echo "fuzz: clang missing (tools/deps.sh installs it)" >&2; exit 1; }
srcs="tests/fuzz/fuzz_spec.c src/lib/spec/*.c src/lib/core/error.c src/lib/core/log.c
      src/lib/core/fs.c src/lib/core/signal.c src/lib/core/bitlist.c src/lib/state/state.c
      src/lib/linux/seccomp.c src/lib/linux/process.c src/lib/linux/security.c"
# shellcheck disable=SC2086
clang -g -O1 -std=gnu17 -D_GNU_SOURCE -DHUTCH_VERSION='"fuzz"' -DHUTCH_OCI_VERSION='"1.3.0"' \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Iinclude -iquote src/lib $(pkg-config --cflags json-c libseccomp) \
    $srcs -o "$out/fuzz_spec" $(pkg-config --libs json-c libseccomp)
for f in build/hutch; do
    [ -x "$f" ] || continue
    t=$(mktemp -d); (cd "$t" && "$OLDPWD/$f" spec >/dev/null 2>&1 && cp config.json "$OLDPWD/$out/corpus/default.json"); rm -rf "$t"
done
printf '{"ociVersion":"1.0.0","process":{"args":["sh"],"cwd":"/"},"root":{"path":"r"}}' >"$out/corpus/min.json"
printf 'SIGKILL' >"$out/corpus/sig"
printf '0-3,7' >"$out/corpus/cpus"
printf '%s' '{"ociVersion":"1.3.0","root":{"path":"r"},"linux":{"personality":{"domain":"LINUX32","flags":["ADDR_NO_RANDOMIZE"]},"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"flags":["SECCOMP_FILTER_FLAG_LOG"],"listenerPath":"/l","syscalls":[{"names":["mkdir","read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"valueTwo":2,"op":"SCMP_CMP_MASKED_EQ"},{"index":0,"value":3,"op":"SCMP_CMP_NE"}]},{"names":["openat"],"action":"SCMP_ACT_NOTIFY"}]}}}' >"$out/corpus/seccomp.json"
"$out/fuzz_spec" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$out/corpus"
