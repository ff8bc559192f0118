#!/usr/bin/env bash
# The two-process run: srtpo-cp writes the session table, keying-ctl adds the flows, srtpo-pmd
# (DPDK, a net_pcap vdev, no NIC, no hugepages) transcrypts every call from AES_CM_128_HMAC_SHA1_80
# to AEAD_AES_128_GCM, and srtpo-pcap checks the result with the GCM keys srtpo-cp was given.
#   scripts/cp-pmd-demo.sh [CALLS]      (default 50; run after a build, e.g. from scripts/demo.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-50}
B=build
PCAP=$B/engine/tools/srtpo_pcap/srtpo-pcap CP=$B/control-plane/srtpo-cp KCTL=$B/keying-ctl/keying-ctl PMD=$B/pmd/srtpo-pmd
[ -x "$PMD" ] || { echo "cp-pmd-demo: $PMD was not built (DPDK missing?)"; exit 1; }
T=$(mktemp -d /tmp/srtpo-demo.XXXXXX)
table=srtpo-demo-$$
cp_pid=
cleanup() {
  [ -n "$cp_pid" ] && kill "$cp_pid" 2>/dev/null && wait "$cp_pid" 2>/dev/null
  rm -rf "$T" "/dev/shm/$table" "/dev/shm/$table.status" "/var/run/dpdk/$table"
}
trap cleanup EXIT
umask 077   # the key files below

# 1. Calls: two streams each (192.0.2.1:20000+4i <- and -> 198.51.100.1:20002+4i), crossing a
#    ROC rollover; every stream gets its own inbound AES-CM key and outbound GCM key.
$PCAP generate --out "$T/plain.pcap" --calls "$calls" --packets 300 --initial-seq 65400 >/dev/null
/usr/bin/env python3 - "$T" "$calls" <<'PY'
import base64, json, os, sys
d, calls = sys.argv[1], int(sys.argv[2])
key = lambda n: base64.b64encode(os.urandom(n)).decode()
srtp_in, flows, gcm_out = [], [], []
for i in range(calls):
    for dst in ("192.0.2.1:%d" % (20000 + 4 * i), "198.51.100.1:%d" % (20002 + 4 * i)):
        kin, kout = key(30), key(28)
        host, port = dst.split(":")
        for p in (dst, "%s:%d" % (host, int(port) + 1)):  # RTCP on port + 1 (RFC 3550 §11)
            srtp_in.append({"dst": p, "suite": "AES_CM_128_HMAC_SHA1_80", "key": kin})
            gcm_out.append({"dst": p, "suite": "AEAD_AES_128_GCM", "key": kout})
        flows.append({"match": dst, "in": {"suite": "AES_CM_128_HMAC_SHA1_80", "key": kin},
                      "out": {"suite": "AEAD_AES_128_GCM", "key": kout}})
for name, v in (("in-keys.json", srtp_in), ("flows.json", flows), ("out-keys.json", gcm_out)):
    with open(os.path.join(d, name), "w") as f:
        json.dump(v, f)
PY
$PCAP protect --streams "$T/in-keys.json" --in "$T/plain.pcap" --out "$T/srtp.pcap" >/dev/null
echo "cp-pmd-demo: $calls calls ($((calls * 2)) streams, 300 RTP packets and their RTCP each) protected with AES_CM_128_HMAC_SHA1_80"

# 2. srtpo-cp, and the flows through keying-ctl (one all-or-nothing batch).
"$CP" --table "$table" --socket "$T/cp.sock" --capacity 4096 >"$T/cp.log" 2>&1 &
cp_pid=$!
export SRTPO_CP_SOCKET=$T/cp.sock
for _ in $(seq 100); do "$KCTL" health >/dev/null 2>&1 && break; sleep 0.05; done
"$KCTL" flow add --file "$T/flows.json"

# 3. srtpo-pmd on the table: the capture in, transcrypted frames out.
"$PMD" --no-huge --no-pci -m 256 --no-shconf --file-prefix="$table" -l 0 --log-level=warning --no-telemetry \
  --vdev=net_pcap0,rx_pcap="$T/srtp.pcap",tx_pcap="$T/out.pcap" -- --no-exception --table "$table" --exit-after-idle 300 |
  grep -E 'final|table:'

# 4. What srtpo-cp sees in the pmd's status region, then an independent check of the output:
#    srtpo-pcap opens every frame with the GCM keys and must get the original payloads back.
"$KCTL" stats | tail -1
"$KCTL" flow show 192.0.2.1:20000 | grep -E 'in.live|packets'
$PCAP unprotect --streams "$T/out-keys.json" --in "$T/out.pcap" --out "$T/back.pcap"
if cmp -s <(tshark -r "$T/plain.pcap" -T fields -e udp.payload 2>/dev/null) <(tshark -r "$T/back.pcap" -T fields -e udp.payload 2>/dev/null); then
  echo "cp-pmd-demo: OK: every frame came back, AES-CM in, AES-GCM out, payloads identical"
else
  echo "cp-pmd-demo: FAILED: the transcrypted capture does not match the original"; exit 1
fi
