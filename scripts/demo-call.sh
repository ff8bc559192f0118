#!/usr/bin/env bash
# A real SIP call over TLS through srtpo-cp's B2BUA, its media through srtpo-pmd:
#   scripts/demo-call.sh [sdes|rtp|mikey]     (default sdes; run after a build, as root)
#   sdes   SDES AES_CM_128_HMAC_SHA1_80 on the caller's leg <-> SDES AEAD_AES_128_GCM on the callee's
#   rtp    SDES AES_CM_128_HMAC_SHA1_80 on the caller's leg <-> plain RTP/AVP on the callee's
#   mikey  MIKEY (GStreamer's I_MESSAGE, RFC 4567) on the caller's leg <-> SDES AEAD_AES_128_GCM
# sipp plays both phones, socat (OpenSSL) carries each leg's TLS, libsrtp makes and opens the
# media. It is the `call_e2e_tls` test (tests/pmd/call_e2e_tls_test.cpp) run for one case: the
# lines it prints say what was checked (suites per leg, flows installed, packets decrypted each
# way, flows gone after BYE); the exit status is non-zero if any check failed.
# BUILD=dir selects another build directory (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
case "${1:-sdes}" in
  sdes) name=sdes_cm80_to_sdes_gcm ;;
  rtp) name=sdes_cm80_to_plain_rtp ;;
  mikey) name=mikey_gst_to_sdes_gcm ;;
  *) echo "usage: $0 [sdes|rtp|mikey]" >&2; exit 2 ;;
esac
T=$B/tests/pmd/call_e2e_tls_test
for x in "$T" "$B/control-plane/srtpo-cp" "$B/pmd/srtpo-pmd" "$B/keying-ctl/keying-ctl"; do
  [ -x "$x" ] || { echo "demo-call: $x was not built: ninja -C $B ${x#"$B"/}" >&2; exit 1; }
done
for p in sipp socat openssl; do
  command -v "$p" >/dev/null || { echo "demo-call: $p missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
export SRTPO_CP=$B/control-plane/srtpo-cp SRTPO_PMD=$B/pmd/srtpo-pmd SRTPO_KEYING_CTL=$B/keying-ctl/keying-ctl
export SRTPO_SCENARIOS=tests/pmd/scenarios
if [ -x "$B/tests/mikey/gst_mikey_peer" ]; then
  export SRTPO_GST_MIKEY_PEER=$B/tests/mikey/gst_mikey_peer
elif [ "$name" = mikey_gst_to_sdes_gcm ]; then
  echo "demo-call: $B/tests/mikey/gst_mikey_peer was not built (libgstreamer-plugins-base1.0-dev missing?)" >&2; exit 1
fi
out=$(mktemp /tmp/srtpo-demo-call.XXXXXX)
trap 'rm -f "$out"' EXIT
rc=0
"$T" --gtest_filter="tls/call_e2e_tls.*/$name" >"$out" 2>&1 || rc=$?
sed -n 's/^demo: //p' "$out"
if [ "$rc" -ne 0 ] || grep -q '^\[  SKIPPED' "$out" || ! grep -q '^\[  PASSED  \] 1 test' "$out"; then
  echo "demo-call: FAILED ($name):"; grep -v '^demo: ' "$out"
  exit 1
fi
echo "demo-call: $name passed"
