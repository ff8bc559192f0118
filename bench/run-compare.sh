#!/usr/bin/env bash
# The side-by-side comparison from a fresh clone: builds srtp-offload, builds libsrtp 2.5 with
# OpenSSL 3 from Debian's source package (bench/setup-libsrtp-openssl.sh), runs
# `srtpo-bench compare` on one pinned core, and writes the table, the JSON and the plot.
#   usage: bench/run-compare.sh [OUTDIR] [srtpo-bench compare options...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/bench/results}; shift || true
SRTPO_DEPS_EXTRA="python3-matplotlib" scripts/install-deps.sh
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build bench/srtpo-bench >/dev/null
lib=$(bench/setup-libsrtp-openssl.sh | tail -1)
mkdir -p "$out"
core=$(( $(nproc) - 1 ))
taskset -c "$core" build/bench/srtpo-bench compare --libsrtp-openssl "$lib" --json "$@" > "$out/compare.json"
taskset -c "$core" build/bench/srtpo-bench compare --libsrtp-openssl "$lib" --seconds 0.2 --suite AES_CM_128_HMAC_SHA1_80 \
  --payload 160 | head -3 > "$out/environment.txt"
/usr/bin/python3 bench/plot_compare.py "$out/compare.json" "$out/compare.png"
/usr/bin/python3 - "$out/compare.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
print(f"{'suite':<24} {'payload':>7} {'direction':<9} {'srtpo':>8} {'libsrtp+ossl':>12} {'+nss':>6} {'ratio':>6}")
for r in rows:
    print(f"{r['suite']:<24} {r['payload']:>7} {r['direction']:<9} {r['srtpo_mpps']:>8.2f} "
          f"{r['libsrtp_openssl_mpps']:>12.2f} {r['libsrtp_nss_mpps']:>6.2f} {r['ratio_vs_openssl']:>5.2f}x")
PY
echo "results in $out (compare.json, compare.png)"
