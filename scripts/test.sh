#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the whole suite —
# everything under ASan+UBSan, the session table under TSan, and every libFuzzer target for a
# bounded time (two at once: they are single-threaded). Ends with one line "N passed, N failed"
# (meson's counts over all three) and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

jobs=$(nproc)
setup() { # dir, options...
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null
  else meson setup "$dir" "$@" >/dev/null; fi
}
rc=0
t0=$(date +%s)
stage_time() { echo "   (stage done at +$(( $(date +%s) - t0 )) s)"; }
run() { # dir, "ninja targets" (empty: all), meson test args...
  local dir=$1 targets=$2; shift 2
  # ninja prints compiler errors on stdout: keep both in the log, and show its end on failure.
  # shellcheck disable=SC2086
  ninja -C "$dir" $targets >"$dir.build.log" 2>&1 || { grep -E 'FAILED|error' -A8 "$dir.build.log" | head -60; rc=1; return; }
  local log="$dir.test.log" r=0
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$jobs" "$@" >"$log" 2>&1 || r=1
  grep -vE '^ *[0-9]+/[0-9]+ .* OK +[0-9.]+s' "$log" | grep -vE '^$' | tail -60
  [ "$r" -eq 0 ] || rc=1
  stage_time
}

# One build runs the whole suite, under AddressSanitizer + UndefinedBehaviorSanitizer: every test
# is also a memory-safety check, and the suite is compiled once instead of twice (CI time). It is
# compiled at -O0 with line-table debug info (-g1): under ASan GCC 12 compiles a TU 2-2.5x faster
# at -O0 than at -O1 (measured on ice_test.cpp and call_engine.cpp), and the compile, not the
# tests, is most of the CI time; the tests get twice meson's timeouts for the slower code.
# The benchmarks are compiled here too (not run: timings under ASan mean nothing), so they cannot rot.
fast=(-Doptimization=1 -Dcpp_args=-g1)
echo "== build and test everything under AddressSanitizer + UndefinedBehaviorSanitizer"
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Doptimization=0 -Dcpp_args=-g1 && \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run build-asan "" --no-suite fuzz --timeout-multiplier 2 || rc=1

echo "== session table and pmd flow index under ThreadSanitizer (one writer, reader threads and processes)"
# Only the table's tests and the pmd's flow index (header-only, built without DPDK): TSan checks
# the seqlock/doorbell protocol and the index's slot re-check (ADR 0015); the rest is covered above.
setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbench=false -Dpmd=disabled "${fast[@]}" && \
  TSAN_OPTIONS=halt_on_error=1 \
  run build-tsan "$(sed -n "s/^  '\([a-z_]*\)': '.*_test.cpp',$/tests\/table\/table_\1_test/p" tests/table/meson.build) tests/flow_index/flow_index_test" \
    --suite table --suite flow_index || rc=1

# Only the fuzz targets are built here (not the daemons, tools or header checks again).
echo "== libFuzzer targets (${SRTPO_FUZZ_SECONDS:-20} s each, two at a time)"
CC=clang CXX=clang++ setup build-fuzz -Dfuzz=true -Dtests=false -Dbench=false -Dpmd=disabled -Dfuzz_seconds="${SRTPO_FUZZ_SECONDS:-20}" "${fast[@]}" && \
  run build-fuzz "$(sed -n "s/^  '\([a-z_]*_fuzz\)':.*/tests\/fuzz\/\1/p" tests/fuzz/meson.build)" --suite fuzz || rc=1

python3 scripts/summarize_tests.py build-asan build-tsan build-fuzz || rc=1
exit $rc
