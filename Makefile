# hutch: build entry points.  meson/ninja do the real work; this file only
# names the steps.  `make check` is what CI runs (via ./check and .ci/run).

BUILD      ?= build
BUILD_ASAN ?= build-asan
PYTHON     ?= /usr/bin/python3
HUTCH_BIN  ?= $(abspath $(BUILD))/hutch
PYTEST_ARGS ?=
FORMAT_FILES = $(shell find src include tests -name '*.[ch]' 2>/dev/null | sort)

.PHONY: all deps build demo check unit integration integration-enosys integration-runc check-cgroupv2 fuzz \
	asan format-check bench clean

all: build

deps:
	sh tools/deps.sh

build:
	@test -f $(BUILD)/build.ninja || meson setup $(BUILD)
	ninja -C $(BUILD)
	@# meson puts the binary in $(BUILD)/src/cli; give it the documented name
	@if [ ! -e $(BUILD)/hutch ] && [ -e $(BUILD)/src/cli/hutch ]; then \
		ln -s src/cli/hutch $(BUILD)/hutch; fi

demo: build
	HUTCH_BIN=$(HUTCH_BIN) sh tools/demo.sh

unit: build
	meson test -C $(BUILD) --print-errorlogs

integration: build
	@if [ "$$(id -u)" != 0 ]; then echo "integration tests need root" >&2; exit 1; fi
	HUTCH_BIN=$(HUTCH_BIN) $(PYTHON) -m pytest -v $(PYTEST_ARGS) tests/integration

# The integration suite again with openat2/clone3 failing with ENOSYS (a
# seccomp filter around the whole run), so the fallbacks are exercised.
$(BUILD)/enosys: tests/helpers/enosys.c
	@mkdir -p $(BUILD)
	gcc -std=gnu17 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o $@ $< -lseccomp

ENOSYS_TESTS ?= tests/integration/test_rootfs.py tests/integration/test_mounts.py \
	tests/integration/test_escape.py
integration-enosys: build $(BUILD)/enosys
	@if [ "$$(id -u)" != 0 ]; then echo "integration tests need root" >&2; exit 1; fi
	HUTCH_BIN=$(HUTCH_BIN) $(BUILD)/enosys $(PYTHON) -m pytest -q $(PYTEST_ARGS) $(ENOSYS_TESTS)

# The same suite against runc, to compare (see README for expected failures).
integration-runc:
	HUTCH_BIN=/usr/sbin/runc $(PYTHON) -m pytest -q $(PYTEST_ARGS) tests/integration

# Pure cgroup v2 cannot be had on a hybrid host: boot Debian's kernel under
# qemu with only cgroup2 mounted (tools/cgv2-vm) and run the cgroup tests
# there, against the same build (the tree is shared into the VM).  The
# mount, namespace and error tests run there too: cgroup namespaces and
# cleanup differ on v2, and Debian's 6.1 is an older kernel for the mount
# API paths (it clones only attached mounts).  Not the idmapped binds: the
# VM's /tmp is a tmpfs, which takes idmapped mounts from 6.3 on.
CGV2_TESTS ?= tests/integration/test_cgroup*.py tests/integration/test_update.py \
	tests/integration/test_lifecycle.py tests/integration/test_exec.py \
	tests/integration/test_rootfs.py tests/integration/test_mounts.py \
	tests/integration/test_namespaces.py tests/integration/test_errors.py
CGV2_PYTEST_ARGS ?= -k "not idmapped"
check-cgroupv2: build
	@if [ "$$(id -u)" != 0 ]; then echo "the v2 VM stage needs root" >&2; exit 1; fi
	bash tools/cgv2-vm/prepare.sh >/dev/null
	CGV2VM_TIMEOUT=$${CGV2VM_TIMEOUT:-1500} bash tools/cgv2-vm/run-in-vm.sh "$(CURDIR)" \
		'echo "cgroup v2 VM: $$(uname -r), $$(cat /sys/fs/cgroup/cgroup.controllers)"; \
		 HUTCH_BIN=$(HUTCH_BIN) $(PYTHON) -m pytest -q --color=no -p no:cacheprovider $(PYTEST_ARGS) $(CGV2_PYTEST_ARGS) $(CGV2_TESTS)'

# The libFuzzer target over the config and option parsers, bounded.
FUZZ_SECONDS ?= 60
fuzz:
	sh tools/fuzz.sh $(FUZZ_SECONDS)

asan:
	@test -f $(BUILD_ASAN)/build.ninja || meson setup $(BUILD_ASAN) \
		-Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dstatic=false \
		-Dc_args=-fno-sanitize-recover=all
	ninja -C $(BUILD_ASAN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		meson test -C $(BUILD_ASAN) --print-errorlogs

format-check:
	@if [ -z "$(FORMAT_FILES)" ]; then echo "format-check: no files"; exit 0; fi
	clang-format --dry-run -Werror $(FORMAT_FILES)
	@echo "format-check: $(words $(FORMAT_FILES)) files clean"

# Runs every step even when an earlier one fails, so one run shows all
# problems; exits non-zero if any failed.  Integration tests come last so the
# output ends with pytest's summary.
check:
	sh tools/check.sh

# hutch beside crun and runc (Debian packages, installed by the script),
# interleaved; medians, ranges, ratios, a PNG (bench/README.md).
bench: build
	@if [ "$$(id -u)" != 0 ]; then echo "bench needs root" >&2; exit 1; fi
	HUTCH_BIN=$(HUTCH_BIN) bench/run.sh $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
