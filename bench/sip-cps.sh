#!/usr/bin/env bash
# SIP calls per second over TLS through srtpo-cp's B2BUA, call engine and session table (issue 6;
# docs/PERFORMANCE.md §8), and srtpo-cp's memory per active call.
#
# Usage: bench/sip-cps.sh [--build DIR] [--rates "100 200 ... 1000"] [--seconds S] [--hold-ms MS]
#                         [--mem-calls N] [--cp-core C] [--load-core C] [--keep DIR]
#   --build      meson build dir with control-plane/srtpo-cp and keying-ctl/keying-ctl (default build)
#   --rates      call rates to step through, calls/s (default "100 200 300 400 500 600 700 800 900 1000");
#                the steps stop at the first rate with a failed call
#   --seconds    length of each step (default 10): rate x seconds calls are placed
#   --hold-ms    how long each call stays up between ACK and BYE (default 1000)
#   --mem-calls  calls held up at once for the memory measurement (default 1000; 0 skips it)
#   --cp-core    the core srtpo-cp is pinned to (default 1); --load-core: sipp and socat (default 0)
#   --keep       keep the logs and configuration in DIR (default: a temporary dir, removed)
# Prints one line per step and, last, "RESULT max_cps=... cpu_pct=... mem_per_call_kib=...".
#
# Set-up (what tests/b2bua/b2bua_interop_test.cpp TlsOnBothLegsThroughSocatHops does, with the
# real srtpo-cp of tests/pmd/call_e2e_test.cpp): Debian's sipp has no TLS, so
#   sipp UAC --TCP--> socat TCP-LISTEN:39072 -> OPENSSL --TLS--> srtpo-cp :39061 (TLS listener)
#   srtpo-cp --TLS--> socat OPENSSL-LISTEN:39071 -> TCP --TCP--> sipp UAS :39070
# Both sipp use one TCP connection (-t t1), so each socat forks once per step, not per call, and
# srtpo-cp's next-hop connection is reused for every call. Each call: SDES
# AES_CM_128_HMAC_SHA1_80 offer on leg A, srtpo-cp offers leg B SDES with its own key, both legs'
# flows really go into the shared-memory session table (a=crypto is checked in both directions:
# a message without one fails the call). The media ports (40000..49999 on 192.0.2.1) are numbers
# in SDP only: an SDES leg binds no socket; srtpo-pmd is not running, no media flows.
# A call fails when sipp sees an unexpected message, a missing a=crypto, or no answer within
# 4 s (-recv_timeout): an overloaded srtpo-cp shows as failures, not as a slower rate.
# Ports: 39061, 39070-39072, 39080, 39090-39091, 39100-39121 (sipp media, unused).
set -euo pipefail

build=build
rates="100 200 300 400 500 600 700 800 900 1000"
seconds=10
hold_ms=1000
mem_calls=1000
cp_core=1
load_core=0
keep=""
while [[ $# -gt 0 ]]; do
    case "$1" in
    --build) build="$2"; shift 2 ;;
    --rates) rates="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --hold-ms) hold_ms="$2"; shift 2 ;;
    --mem-calls) mem_calls="$2"; shift 2 ;;
    --cp-core) cp_core="$2"; shift 2 ;;
    --load-core) load_core="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "sip-cps.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

repo=$(cd "$(dirname "$0")/.." && pwd)
cp_bin="$build/control-plane/srtpo-cp"
ctl_bin="$build/keying-ctl/keying-ctl"
for b in "$cp_bin" "$ctl_bin"; do
    [[ -x "$b" ]] || { echo "sip-cps.sh: $b missing: ninja -C $build control-plane/srtpo-cp keying-ctl/keying-ctl" >&2; exit 2; }
done
for p in sipp socat openssl taskset; do
    command -v "$p" >/dev/null || { echo "sip-cps.sh: $p missing (scripts/install-deps.sh)" >&2; exit 2; }
done

if [[ -n "$keep" ]]; then
    dir="$keep"
    mkdir -p "$dir"
else
    dir=$(mktemp -d /tmp/srtpo-sip-cps.XXXXXX)
fi
table="/srtpo-sip-cps-$$"
pids=()
cleanup() {
    # Only the processes this script started, by PID.
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -f "/dev/shm$table"
    [[ -n "$keep" ]] || rm -rf "$dir"
}
trap cleanup EXIT

# ---- certificates: a CA, one server certificate for 127.0.0.1 (srtpo-cp and socat B) ----
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
(
    cd "$dir"
    openssl req -x509 $ec -keyout ca.key -out ca.crt -days 2 -subj /CN=srtpo-bench-ca 2>/dev/null
    openssl req $ec -keyout srv.key -out srv.csr -subj /CN=localhost 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >srv.ext
    openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile srv.ext -out srv.crt 2>/dev/null
    cat srv.crt srv.key >srv.pem
    chmod 600 ./*.key srv.pem
)

cat >"$dir/cp.toml" <<EOF
[media]
address = "192.0.2.1"
port_min = 40000
port_max = 49999

[sip]
[[sip.listen]]
transport = "tls"
address = "127.0.0.1"
port = 39061

[sip.tls]
cert = "$dir/srv.crt"
key = "$dir/srv.key"
ca = "$dir/ca.crt"
verify_server = true
verify_hostname = true

[sip.limits]
max_calls = 100000

[[sip.route]]
domain = "cps.bench"
next_hop = "sip:127.0.0.1:39071;transport=tls"
a_keying = "sdes"
b_keying = "sdes"
a_suites = ["AES_CM_128_HMAC_SHA1_80"]
b_suites = ["AES_CM_128_HMAC_SHA1_80"]
EOF

hz=$(getconf CLK_TCK)
# utime + stime of a process, in clock ticks (proc(5) fields 14 and 15); 0 once it is gone.
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# A process and its children (socat forks one child per connection).
tree_ticks() {
    local t
    t=$(ticks "$1")
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do t=$((t + $(ticks "$c"))); done
    echo "$t"
}
rss_kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
now() { date +%s.%N; }
slots() { "$ctl_bin" --socket "$dir/cp.sock" health 2>/dev/null | awk '/^table/ { print $3 }'; }
wait_listen() {
    for _ in $(seq 250); do
        ss -Htln "sport = :$1" | grep -q LISTEN && return 0
        sleep 0.02
    done
    echo "sip-cps.sh: nothing listens on $1" >&2
    exit 1
}

taskset -c "$cp_core" "$cp_bin" --config "$dir/cp.toml" --table "$table" --socket "$dir/cp.sock" --capacity 65536 \
    >"$dir/cp.log" 2>&1 &
cp_pid=$!
pids+=("$cp_pid")
for _ in $(seq 250); do "$ctl_bin" --socket "$dir/cp.sock" health >/dev/null 2>&1 && break; sleep 0.02; done
"$ctl_bin" --socket "$dir/cp.sock" health >/dev/null || { echo "sip-cps.sh: srtpo-cp did not start:" >&2; cat "$dir/cp.log" >&2; exit 1; }

answer_key=$(openssl rand -base64 30)
offer_key=$(openssl rand -base64 30)
taskset -c "$load_core" sipp -t t1 -i 127.0.0.1 -p 39070 -cp 39090 -mp 39100 -sf "$repo/bench/sipp/cps_uas.xml" -nostdin \
    -key answer_key "$answer_key" -trace_stat -stf "$dir/uas.csv" -fd 1 -trace_err -error_file "$dir/uas.err" \
    >"$dir/uas.out" 2>&1 &
uas_pid=$!
pids+=("$uas_pid")
taskset -c "$load_core" socat OPENSSL-LISTEN:39071,bind=127.0.0.1,reuseaddr,fork,cert="$dir/srv.pem",cafile="$dir/ca.crt",verify=0 \
    TCP:127.0.0.1:39070 2>"$dir/socat-b.log" &
hop_b=$!
pids+=("$hop_b")
taskset -c "$load_core" socat TCP-LISTEN:39072,bind=127.0.0.1,reuseaddr,fork OPENSSL:127.0.0.1:39061,cafile="$dir/ca.crt",commonname=localhost \
    2>"$dir/socat-a.log" &
hop_a=$!
pids+=("$hop_a")
wait_listen 39070
wait_listen 39071
wait_listen 39072

# One sipp UAC run: $1 calls at $2 calls/s held $3 ms; sets ok, failed, wall, cpu_* (%, measured
# from 2 s in to 1 s before the last call is placed: the steady state).
run_uac() {
    local calls=$1 rate=$2 hold=$3 tag=$4
    rm -f "$dir/uac-$tag.csv"
    local t0 t1 t2 c1 a1 b1 u1 s1 c2 a2 b2 u2 s2 rc=0
    t0=$(now)
    taskset -c "$load_core" sipp -t t1 -i 127.0.0.1 -p 39080 -cp 39091 -mp 39120 -sf "$repo/bench/sipp/cps_uac.xml" -nostdin \
        -s bob -key rdomain cps.bench -key offer_key "$offer_key" -r "$rate" -m "$calls" -l $((calls + 1)) -d "$hold" \
        -recv_timeout 4000 -timeout $((seconds + hold / 1000 + 60))s -timeout_error \
        -trace_stat -stf "$dir/uac-$tag.csv" -fd 1 -trace_err -error_file "$dir/uac-$tag.err" \
        127.0.0.1:39072 >"$dir/uac-$tag.out" 2>&1 &
    local uac=$!
    pids+=("$uac")
    local window=$((calls / rate))
    if ((window >= 4)); then
        sleep 2
        t1=$(now); c1=$(ticks "$cp_pid"); a1=$(tree_ticks "$hop_a"); b1=$(tree_ticks "$hop_b"); u1=$(ticks "$uac"); s1=$(ticks "$uas_pid")
        sleep $((window - 3))
        t2=$(now); c2=$(ticks "$cp_pid"); a2=$(tree_ticks "$hop_a"); b2=$(tree_ticks "$hop_b"); u2=$(ticks "$uac"); s2=$(ticks "$uas_pid")
        local dt
        dt=$(echo "$t2 - $t1" | bc -l)
        pct() { echo "scale=0; 100 * ($2 - $1) / $hz / $dt" | bc -l; }
        cpu_cp=$(pct "$c1" "$c2"); cpu_a=$(pct "$a1" "$a2"); cpu_b=$(pct "$b1" "$b2"); cpu_uac=$(pct "$u1" "$u2"); cpu_uas=$(pct "$s1" "$s2")
    else
        cpu_cp="-"; cpu_a="-"; cpu_b="-"; cpu_uac="-"; cpu_uas="-"
    fi
    wait "$uac" || rc=$?
    wall=$(echo "$(now) - $t0" | bc -l)
    # The last line of sipp's statistics file holds the cumulative counters.
    local hdr last
    hdr=$(head -1 "$dir/uac-$tag.csv")
    last=$(tail -1 "$dir/uac-$tag.csv")
    col() { awk -F';' -v h="$hdr" -v want="$1" 'BEGIN { n = split(h, H, ";"); for (i = 1; i <= n; i++) if (H[i] == want) c = i } { print $c }' <<<"$last"; }
    ok=$(col "SuccessfulCall(C)")
    failed=$(col "FailedCall(C)")
    rtt=$(col "ResponseTime1(C)")
    if [[ "$rc" -ne 0 && "$failed" == 0 ]]; then failed="rc=$rc"; fi
}

mem_per_call="-"
if ((mem_calls > 0)); then
    # Memory per active call: RSS with mem_calls calls up minus RSS idle, divided by the calls.
    # Measured first, on a fresh srtpo-cp: after the rate steps the allocator keeps the memory of
    # thousands of ended calls, which new calls reuse, and the difference would read 0. Idle is
    # taken after 20 warm-up calls, so connections, TLS sessions and the route are already there.
    run_uac 20 20 0 warm
    idle_rss=$(rss_kib "$cp_pid" VmRSS)
    idle_anon=$(rss_kib "$cp_pid" RssAnon)
    idle_shm=$(rss_kib "$cp_pid" RssShmem)
    hold=$(( (mem_calls / 200 + 30) * 1000 ))
    taskset -c "$load_core" sipp -t t1 -i 127.0.0.1 -p 39080 -cp 39091 -mp 39120 -sf "$repo/bench/sipp/cps_uac.xml" -nostdin \
        -s bob -key rdomain cps.bench -key offer_key "$offer_key" -r 200 -m "$mem_calls" -l $((mem_calls + 1)) -d "$hold" \
        -recv_timeout 4000 -timeout $((hold / 1000 + 60))s -timeout_error \
        -trace_stat -stf "$dir/uac-mem.csv" -fd 1 127.0.0.1:39072 >"$dir/uac-mem.out" 2>&1 &
    mem_uac=$!
    pids+=("$mem_uac")
    # All calls are placed after mem_calls / 200 s; then wait until the slot count stops growing.
    sleep $((mem_calls / 200 + 2))
    prev=-1
    for _ in $(seq 60); do
        s=$(slots)
        [[ -n "$s" && "$s" == "$prev" ]] && break
        prev=$s
        sleep 1
    done
    up_slots=$(slots)
    up_rss=$(rss_kib "$cp_pid" VmRSS)
    up_anon=$(rss_kib "$cp_pid" RssAnon)
    up_shm=$(rss_kib "$cp_pid" RssShmem)
    udp=$(ss -Hunap 2>/dev/null | grep -c "pid=$cp_pid," || true)
    mem_per_call=$(echo "scale=1; ($up_rss - $idle_rss) / $mem_calls" | bc -l)
    echo "# memory: $mem_calls calls up, $up_slots table slots; VmRSS $idle_rss -> $up_rss KiB" \
        "(anon $idle_anon -> $up_anon, shm $idle_shm -> $up_shm); $mem_per_call KiB per call; srtpo-cp UDP sockets: $udp"
    # Dropping the caller's connection ends every call (BYE to leg B, flows removed).
    kill "$mem_uac" 2>/dev/null || true
    wait "$mem_uac" 2>/dev/null || true
    for _ in $(seq 100); do [[ "$(slots)" == 0 ]] && break; sleep 0.2; done
fi
echo "# srtpo-cp pinned to core $cp_core; sipp and socat on core $load_core; $(uptime | sed 's/.*load/load/')"
printf '%-6s %-7s %-7s %-7s %-8s %-16s %-7s %-7s %-7s %-7s %-7s\n' rate calls ok failed wall_s setup_avg cp_cpu% hopA% hopB% uac% uas%
max_ok=0
max_cpu="-"
for r in $rates; do
    calls=$((r * seconds))
    run_uac "$calls" "$r" "$hold_ms" "r$r"
    printf '%-6s %-7s %-7s %-7s %-8.1f %-16s %-7s %-7s %-7s %-7s %-7s\n' "$r" "$calls" "$ok" "$failed" "$wall" "$rtt" \
        "$cpu_cp" "$cpu_a" "$cpu_b" "$cpu_uac" "$cpu_uas"
    # A step passes when every call completed and none failed.
    if [[ "$failed" != 0 || "$ok" != "$calls" ]]; then break; fi
    max_ok=$r
    max_cpu=$cpu_cp
    sleep 1
done
leftover=$(slots)
echo "# session-table slots in use after the steps: $leftover (0: every BYE removed its flows)"

echo "# srtpo-cp peak RSS (VmHWM): $(rss_kib "$cp_pid" VmHWM) KiB"
echo "RESULT max_cps=$max_ok cpu_pct=$max_cpu mem_per_call_kib=$mem_per_call"
