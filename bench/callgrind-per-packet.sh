#!/bin/sh
# Instructions per packet of one benchmark cell under callgrind, split into the engine's own
# work and IPsec-MB's (docs/PERFORMANCE.md §3). Repeatable where wall clock on a shared VM is not.
#
#   bench/callgrind-per-packet.sh BINARY FILTER COLLECT COUNTED BURST
#
# BINARY   build/bench/burst_bench or build/bench/raw_imb_bench
# FILTER   a --benchmark_filter matching exactly one cell, e.g. 'AES_CM_128_HMAC_SHA1_80_protect_imb/payload:160/burst:32$'
# COLLECT  the function whose inclusive cost is counted (callgrind --toggle-collect), e.g.
#          'srtpo::engine::protect_rtp*' or '*cm_hmac*'
# COUNTED  a substring of the callee whose calls are counted (one call = BURST packets), e.g.
#          'engine::protect_rtp(' or 'hash_burst' or 'gcm_enc'
# BURST    packets per counted call
#
# valgrind runs IPsec-MB's AVX2 code (it has no AVX-512), so the IPsec-MB share is not the
# AVX-512 one the wall-clock runs use; the engine's share is the same code either way.
set -eu
bin=$1 filter=$2 collect=$3 counted=$4 burst=$5
out=$(mktemp /tmp/callgrind.XXXXXX)
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="$collect" \
    "$bin" --benchmark_filter="$filter" --benchmark_min_time=0.05 >/dev/null 2>&1
python3 - "$out" "$counted" "$burst" <<'EOF'
import re, sys
path, counted, burst = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = {}   # (kind, id) -> name, for callgrind's name compression
def name(kind, v):
    m = re.match(r'\((\d+)\)(?:\s+(.*))?', v)
    if not m:
        return v
    if m.group(2):
        names[(kind, m.group(1))] = m.group(2)
    return names.get((kind, m.group(1)), '')
ob = ''
self_cost = {}
calls = 0
after_calls = False
pending_cfn = ''
with open(path) as f:
    for line in f:
        line = line.rstrip('\n')
        if line.startswith('ob='):
            ob = name('ob', line[3:])
        elif line.startswith('cob='):
            name('ob', line[4:])
        elif line.startswith('fn='):
            name('fn', line[3:])
        elif line.startswith('cfn='):
            pending_cfn = name('fn', line[4:])
        elif line.startswith(('fl=', 'fi=', 'fe=', 'cfl=', 'cfi=')):
            name('fl', line.split('=', 1)[1])
        elif line.startswith('calls='):
            after_calls = True
            if counted in pending_cfn:
                calls += int(line[6:].split()[0])
        elif line[:1].isdigit() or line[:1] in '+-*':
            parts = line.split()
            if after_calls:       # inclusive cost of the call: not this function's own
                after_calls = False
                continue
            if len(parts) > 1:
                self_cost[ob] = self_cost.get(ob, 0) + int(parts[1])
total = sum(self_cost.values())
imb = sum(v for k, v in self_cost.items() if 'IPSec_MB' in k or 'ipsec' in k.lower())
pkts = calls * burst
if pkts == 0:
    sys.exit('no counted calls found')
print(f'packets {pkts}  total {total / pkts:.0f} instr/pkt  ipsec-mb {imb / pkts:.0f}  rest {(total - imb) / pkts:.0f}')
EOF
rm -f "$out"
