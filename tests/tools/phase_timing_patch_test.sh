#!/bin/sh
# bench/phase-timing.sh applies bench/phase-timing.patch to HEAD; this keeps the patch applying
# to the tree as it is (the timer sits in lines that change). Fails when `git apply --check`
# refuses the patch; skips (77) outside a git checkout, e.g. in a source tarball.
set -u
src=$1
patch=$2
if ! git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "not a git checkout: skipped"
    exit 77
fi
if git -C "$src" apply --check "$patch"; then
    echo "bench/phase-timing.patch applies to the tree"
    exit 0
fi
echo "bench/phase-timing.patch no longer applies: refresh it (bench/phase-timing.sh's header says how it is used)" >&2
exit 1
