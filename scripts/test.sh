#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs the whole suite —
# the normal build, the engine under ASan+UBSan, and every libFuzzer target for a bounded time.
# Ends with one line "N passed, N failed" (meson's counts over all three) and exits non-zero on
# any failure.
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
run() { # dir, meson test args...
  local dir=$1; shift
  # ninja prints compiler errors on stdout: keep both in the log, and show its end on failure.
  ninja -C "$dir" >"$dir.build.log" 2>&1 || { grep -E 'FAILED|error' -A8 "$dir.build.log" | head -60; rc=1; return; }
  local log="$dir.test.log" r=0
  meson test -C "$dir" --print-errorlogs --num-processes "$jobs" "$@" >"$log" 2>&1 || r=1
  grep -vE '^ *[0-9]+/[0-9]+ .* OK +[0-9.]+s' "$log" | grep -vE '^$' | tail -60
  [ "$r" -eq 0 ] || rc=1
}

echo "== build and test (debugoptimized)"
setup build && run build || rc=1

echo "== engine, net and tools under AddressSanitizer + UndefinedBehaviorSanitizer"
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false && \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run build-asan --no-suite fuzz || rc=1

echo "== session table under ThreadSanitizer (one writer, reader threads and processes)"
# Only the table's tests: TSan checks the seqlock/doorbell protocol; the rest is covered above.
setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbench=false -Dpmd=disabled && {
  tsan_targets=$(sed -n "s/^  '\([a-z_]*\)': '.*_test.cpp',$/tests\/table\/table_\1_test/p" tests/table/meson.build)
  if ninja -C build-tsan $tsan_targets >build-tsan.build.log 2>&1; then
    TSAN_OPTIONS=halt_on_error=1 meson test -C build-tsan --no-rebuild --print-errorlogs --suite table >build-tsan.test.log 2>&1 || rc=1
    grep -vE '^ *[0-9]+/[0-9]+ .* OK +[0-9.]+s' build-tsan.test.log | grep -vE '^$' | tail -30
  else
    tail -40 build-tsan.build.log; rc=1
  fi
} || rc=1

echo "== libFuzzer targets (${SRTPO_FUZZ_SECONDS:-20} s each)"
CC=clang CXX=clang++ setup build-fuzz -Dfuzz=true -Dtests=false -Dbench=false -Dpmd=disabled -Dfuzz_seconds="${SRTPO_FUZZ_SECONDS:-20}" && \
  run build-fuzz --suite fuzz --num-processes 1 || rc=1

python3 scripts/summarize_tests.py build build-asan build-tsan build-fuzz || rc=1
exit $rc
