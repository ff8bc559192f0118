#!/usr/bin/env bash
# The README's demo command: installs what is missing, builds, and runs srtpo-pcap's demo on an
# embedded default (200 calls, both directions, a per-stream key, ROC rollover mid-call), then
# the two-process run: srtpo-cp + keying-ctl + srtpo-pmd transcrypting 50 calls (cp-pmd-demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ -f build/build.ninja ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build >/dev/null
build/engine/tools/srtpo_pcap/srtpo-pcap demo "$@"
echo
exec scripts/cp-pmd-demo.sh
