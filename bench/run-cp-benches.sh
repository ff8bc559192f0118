#!/usr/bin/env bash
# The control-plane benchmarks of issues 6, 7 and 8 (docs/PERFORMANCE.md §8), one after the
# other, each pinned to one core, then a table of the numbers against their targets.
#
# Usage: bench/run-cp-benches.sh [--build DIR] [--core C] [--out DIR] [--no-build] [--quick]
#                                [-- extra arguments for bench/sip-cps.sh]
#   --build     meson build dir configured with -Dbench=true (default build)
#   --core      the core the measured code is pinned to (default 1; sipp/socat use the other one)
#   --out       where the raw results go (default a temporary dir): dtls.json, zrtp.json, sip-cps.txt
#   --no-build  do not run ninja first
#   --quick     shorter runs (min time 0.2 s per benchmark, SIP steps of 5 s, 200 held calls):
#               for checking the scripts, not for numbers
set -euo pipefail

build=build
core=1
out=""
do_build=1
quick=0
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --build) build="$2"; shift 2 ;;
    --core) core="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --quick) quick=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run-cp-benches.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
if [[ -z "$out" ]]; then
    out=$(mktemp -d /tmp/srtpo-cp-benches.XXXXXX)
fi
mkdir -p "$out"
load_core=$(( core == 0 ? 1 : 0 ))

if ((do_build)); then
    ninja -C "$build" -j2 bench/dtls_handshake_bench bench/zrtp_exchange_bench control-plane/srtpo-cp keying-ctl/keying-ctl
fi
min_time=2
sip_args=()
if ((quick)); then
    min_time=0.2
    sip_args=(--seconds 5 --rates "100 300" --mem-calls 200)
fi

echo "== load before: $(uptime)"
echo "== DTLS-SRTP handshakes (issue 7), core $core"
taskset -c "$core" "$build/bench/dtls_handshake_bench" --benchmark_min_time="$min_time" \
    --benchmark_out="$out/dtls.json" --benchmark_out_format=json
echo "== ZRTP exchanges by key agreement (issue 8), core $core"
taskset -c "$core" "$build/bench/zrtp_exchange_bench" --benchmark_min_time="$min_time" \
    --benchmark_out="$out/zrtp.json" --benchmark_out_format=json
echo "== SIP-TLS calls/s through srtpo-cp (issue 6), srtpo-cp on core $core"
bench/sip-cps.sh --build "$build" --cp-core "$core" --load-core "$load_core" "${sip_args[@]}" "${extra[@]}" | tee "$out/sip-cps.txt"
echo "== load after: $(uptime)"

python3 - "$out" <<'EOF'
import json, re, sys
out = sys.argv[1]

def rates(path, counter):
    r = {}
    for b in json.load(open(f"{out}/{path}"))["benchmarks"]:
        if b.get("error_occurred"):
            r[b.get("label", b["name"])] = None
        else:
            r[b["label"]] = b[counter]
    return r

rows = []
def row(what, value, unit, target, higher_is_better=True):
    if value is None:
        rows.append((what, "error", target, "no"))
        return
    met = "-" if target is None else ("yes" if (value >= target if higher_is_better else value <= target) else "NO")
    rows.append((what, f"{value:,.0f} {unit}", "-" if target is None else f">= {target:,} {unit}", met))

d = rates("dtls.json", "handshakes/s")
row("DTLS server role, P-256", d.get("P-256 server"), "/s", 2000)
row("DTLS client role, P-256", d.get("P-256 client"), "/s", None)
row("DTLS both sides (one core), P-256", d.get("P-256 pair"), "/s", None)
row("DTLS server role, X25519", d.get("X25519 server"), "/s", None)
row("DTLS client role, X25519", d.get("X25519 client"), "/s", None)

z = rates("zrtp.json", "exchanges/s")
targets = {"DH3k": 500, "EC25": 3000, "X255": 3000}
for ka in ["DH3k", "DH2k", "EC25", "EC38", "X255", "X448"]:
    # srtpo-cp is one side of an exchange, initiator or responder: the slower side is the target's.
    sides = [z.get(f"{ka} initiator"), z.get(f"{ka} responder")]
    one = None if None in sides else min(sides)
    row(f"ZRTP {ka}, one side (slower of initiator/responder)", one, "/s", targets.get(ka))
    row(f"ZRTP {ka}, both sides on one core", z.get(f"{ka} pair"), "/s", None)

text = open(f"{out}/sip-cps.txt").read()
m = re.search(r"RESULT max_cps=(\S+) cpu_pct=(\S+) mem_per_call_kib=(\S+)", text)
if m:
    cps = float(m.group(1))
    row("SIP-TLS calls/s with 0 failed calls", cps, "calls/s", 300)
    rows.append(("srtpo-cp CPU at that rate", f"{m.group(2)} % of one core", "-", "-"))
    rows.append(("srtpo-cp memory per active call", f"{m.group(3)} KiB", "-", "-"))
else:
    rows.append(("SIP-TLS calls/s", "no RESULT line", ">= 300 calls/s", "no"))

w = [max(len(r[i]) for r in rows + [("benchmark", "measured", "target", "met")]) for i in range(4)]
print()
for r in [("benchmark", "measured", "target", "met")] + rows:
    print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))
print(f"\nraw results in {out}")
EOF
