#!/bin/sh
# Where srtpo-pmd's worker spends its time per packet, phase by phase (docs/PERFORMANCE.md §7.8):
# rx, parse, lookup, the ops loop, each engine call, fixup, tx — and inside the engine each
# chunk's load, prepare, crypto and commit phases — read from the TSC around each phase.
#
# The timer is a patch (bench/phase-timing.patch), not code in the tree: it sits in the hot loops
# and would cost every build. This script applies it to a scratch worktree of HEAD (uncommitted
# changes are not included), builds pmd_worker_bench there, and runs each benchmark cell given
# in its own process (the sums are per process), printing "PH <phase> <ns> ns/pkt" lines.
# It fails, saying so, when the patch no longer applies to HEAD: refresh it then.
#
#   bench/phase-timing.sh ['BM_pmd/transcrypt:1/flows:10000/ring:1024' ...]
#
# Environment: SRTPO_HUGEPAGES (default 1: hugepages reserved and mounted beforehand),
# SRTPO_BENCH_ITERATIONS (default 2), CPU (default 1, for taskset).
set -eu
root=$(git rev-parse --show-toplevel)
scratch=$(mktemp -d /tmp/srtpo-phase.XXXXXX)
cleanup() {
    git -C "$root" worktree remove --force "$scratch/src" 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT
git -C "$root" worktree add --quiet --detach "$scratch/src" HEAD
if ! git -C "$scratch/src" apply "$root/bench/phase-timing.patch"; then
    echo "phase-timing.sh: bench/phase-timing.patch does not apply to HEAD; refresh it" >&2
    exit 1
fi
meson setup "$scratch/build" "$scratch/src" >/dev/null
ninja -C "$scratch/build" bench/pmd_worker_bench >/dev/null
[ $# -gt 0 ] || set -- 'BM_pmd/transcrypt:0/flows:64/ring:1024' 'BM_pmd/transcrypt:0/flows:10000/ring:1024' \
    'BM_pmd/transcrypt:1/flows:64/ring:1024' 'BM_pmd/transcrypt:1/flows:10000/ring:1024'
for cell in "$@"; do
    echo "== $cell"
    SRTPO_PHASE_TIMING=1 SRTPO_HUGEPAGES="${SRTPO_HUGEPAGES:-1}" SRTPO_BENCH_ITERATIONS="${SRTPO_BENCH_ITERATIONS:-2}" \
        taskset -c "${CPU:-1}" "$scratch/build/bench/pmd_worker_bench" --benchmark_filter="$cell" 2>&1 |
        grep -E '^PH |cpu_ns/pkt' | sed 's/.*\(cpu_ns\/pkt=[0-9.k]*\).*/\1/'
done
