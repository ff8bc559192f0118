# Sourced by scripts/demo-zrtp.sh and scripts/demo-dtls.sh: a key-exchange peer in a network
# namespace behind srtpo-pmd's data port, srtpo-cp's media sockets on the pmd's exception TAP.
#
#   netns srtpoXn<pid>: leg-A peer PEER_A:A_PORT, SDES peer PEER_B:B_PORT
#      └─ srtpoXd<pid>  net_tap = srtpo-pmd data port 0, moved into the namespace
#   srtpo-pmd ── exception TAP srtpoXe<pid>, ENG/24 ── srtpo-cp [media] ENG:BASE..BASE+99
#
# Environment: SRTPO_BUILD (default build), SRTPO_CP, SRTPO_PMD, SRTPO_KEYING_CTL, SRTPO_PCAP
# (binaries; default from SRTPO_BUILD), DEMO_PORT_BASE (default 38000: srtpo-cp's media ports
# BASE..BASE+99, the peers BASE+500 and BASE+600), DEMO_KEEP=1 (keep the logs and captures).
# Sets: B CP PMD KCTL PCAP PY UDP base a_port b_port ns data exc table eng peer_a peer_b suite T;
# defines say pass fail skip wait_for in_ns ctl demo_* below. Exits 77 where no namespace or TAP
# can be created.

B=${SRTPO_BUILD:-build}
CP=${SRTPO_CP:-$B/control-plane/srtpo-cp}
PMD=${SRTPO_PMD:-$B/pmd/srtpo-pmd}
KCTL=${SRTPO_KEYING_CTL:-$B/keying-ctl/keying-ctl}
PCAP=${SRTPO_PCAP:-$B/engine/tools/srtpo_pcap/srtpo-pcap}
# The interpreter itself, not a wrapper such as a pyenv shim (a second or more to start on a busy
# machine, while the peers are already sending).
PY=$(python3 -c 'import sys; print(sys.executable)')
UDP="$PY $PWD/scripts/demo_udp.py"
base=${DEMO_PORT_BASE:-38000}
a_port=$((base + 500)) b_port=$((base + 600))
tag=$(($$ % 100000))
ns=srtpoXn$tag data=srtpoXd$tag exc=srtpoXe$tag table=srtpo-${demo_name}-$tag
net=10.203.$((tag % 250 + 1)) # one /24 per run, so parallel runs do not share routes
eng=$net.1 peer_a=$net.2 peer_b=$net.3
suite=AES_CM_128_HMAC_SHA1_80

say() { echo "demo-$demo_name: $*"; }
pass() { say "ok:   $*"; }
fail() {
  say "FAIL: $*"
  exit 1
}
skip() {
  say "SKIP: $*"
  exit 77
}
in_ns() { ip netns exec "$ns" "$@"; } # foreground only: a function run with & is a subshell, whose pid is not the command's
ctl() { "$KCTL" --socket "$T/cp.sock" "$@"; }
wait_for() { # wait_for SECONDS COMMAND...: polls every 50 ms
  local n=$(($1 * 20))
  shift
  while ((n-- > 0)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

# demo_init: checks the binaries, makes the temp dir, the cleanup trap and the namespace.
pids=()
demo_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  [ -n "${DEMO_KEEP:-}" ] && echo "demo-$demo_name: logs kept in $T" || rm -rf "$T"
  rm -rf "/dev/shm/$table" "/dev/shm/$table.status" "/var/run/dpdk/$table"
}
demo_init() {
  local b
  for b in "$CP" "$PMD" "$KCTL" "$PCAP"; do [ -x "$b" ] || fail "$b was not built"; done
  [ -r /dev/net/tun ] && [ -w /dev/net/tun ] || skip "/dev/net/tun is not usable"
  command -v ip >/dev/null || skip "the ip command (iproute2) is not installed"
  T=$(mktemp -d "/tmp/srtpo-$demo_name.XXXXXX")
  trap demo_cleanup EXIT
  umask 077 # configs, SDP bodies and key files
  ip netns add "$ns" 2>"$T/netns.err" || skip "cannot create a network namespace: $(cat "$T/netns.err")"
}

# demo_start_cp TOML_SECTIONS: srtpo-cp with a session table, [media] on the engine's address
# (on the exception TAP, created later: srtpo-cp binds its media sockets per call) and the
# given [dtls]/[zrtp] sections.
demo_start_cp() {
  printf '[media]\naddress = "%s"\nport_min = %d\nport_max = %d\n%s\n' "$eng" "$base" $((base + 99)) "$1" >"$T/cp.toml"
  "$CP" --config "$T/cp.toml" --table "$table" --socket "$T/cp.sock" --capacity 64 >"$T/cp.log" 2>&1 &
  pids+=($!)
  wait_for 5 ctl health || fail "srtpo-cp did not start: $(tail -3 "$T/cp.log")"
  pass "srtpo-cp up (table $table, media address $eng)"
}

# demo_start_pmd: srtpo-pmd on the table, data port 0 a net_tap, the exception path the TAP it
# creates by default (--exception-iface); then the data TAP moves into the namespace. Sets pmd_pid.
demo_start_pmd() {
  "$PMD" --no-huge --no-pci -m 256 --no-shconf --file-prefix="$table" -l 0 --log-level=warning --no-telemetry \
    --vdev=net_tap0,iface="$data" -- --table "$table" --exception-iface "$exc" --json >"$T/pmd.log" 2>&1 &
  pmd_pid=$!
  pids+=($pmd_pid)
  wait_for 10 test -e "/sys/class/net/$exc" -a -e "/sys/class/net/$data" || {
    grep -qi "tap" "$T/pmd.log" && skip "net_tap could not start: $(tail -1 "$T/pmd.log")"
    fail "srtpo-pmd did not create its TAP devices: $(tail -3 "$T/pmd.log")"
  }
  wait_for 5 grep -q "exception path: TAP interface $exc" "$T/pmd.log" ||
    fail "the pmd did not report its exception TAP: $(cat "$T/pmd.log")"
  pass "srtpo-pmd up: data port $data, exception TAP $exc"

  # srtpo-pmd sends processed frames back to the station they came from (docs/pmd.md, Ethernet
  # addressing), and the kernel's frames come from the exception TAP: the namespace's interface
  # takes the TAP's MAC so that both kinds reach it as its own. Static neighbours stand in for
  # ARP (which crosses the exception path too, tests/pmd/tap_exception_test.py).
  local mac
  mac=$(cat "/sys/class/net/$exc/address")
  ip link set "$data" netns "$ns"
  in_ns ip link set "$data" address "$mac"
  in_ns ip addr add "$peer_a/24" dev "$data"
  in_ns ip addr add "$peer_b/24" dev "$data"
  in_ns ip link set "$data" up
  in_ns ip link set lo up
  in_ns ip neigh replace "$eng" lladdr "$mac" dev "$data" nud permanent
  ip addr add "$eng/24" dev "$exc"
  ip link set "$exc" up
  ip neigh replace "$peer_a" lladdr "$mac" dev "$exc" nud permanent
  ip neigh replace "$peer_b" lladdr "$mac" dev "$exc" nud permanent
  pass "namespace $ns: leg-A peer at $peer_a:$a_port, SDES peer at $peer_b:$b_port; srtpo-cp at $eng"
}

# demo_call ID A_OFFER_SDP: `call offer` with leg A's SDP, leg B SDES; B's answer (a random key
# of ours, peer PEER_B:B_PORT) through `call answer`. Sets key_to_b (what srtpo-cp sends B with),
# key_from_b (what B sends with), b_local (srtpo-cp's leg-B port), a_answer (file).
demo_call() {
  local id=$1
  ctl call offer "$id" "$2" --method sdes --suite "$suite" >"$T/b_offer.sdp" || fail "call offer: $(cat "$T/b_offer.sdp")"
  key_to_b=$(grep -o "a=crypto:[0-9]* $suite inline:[A-Za-z0-9+/=]*" "$T/b_offer.sdp" | sed 's/.*inline://')
  b_local=$(sed -n 's/^m=audio \([0-9]*\) .*/\1/p' "$T/b_offer.sdp" | tr -d '\r')
  [ -n "$key_to_b" ] && [ -n "$b_local" ] || fail "B's offer has no $suite key or port"
  key_from_b=$(head -c 30 /dev/urandom | base64)
  printf 'v=0\r\no=sdes 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:1 %s inline:%s\r\n' \
    "$peer_b" "$peer_b" "$b_port" "$suite" "$key_from_b" >"$T/b_answer.sdp"
  a_answer=$T/a_answer.sdp
  ctl call answer "$id" "$T/b_answer.sdp" >"$a_answer" || fail "call answer: $(cat "$a_answer")"
}

# demo_wait_flows ID: both legs of stream 0 have their flow in the table.
demo_flows_in() { ctl --json call show "$1" | jq -e '.streams[0].legs.a.flow != null and .streams[0].legs.b.flow != null'; }
demo_wait_flows() {
  wait_for 5 demo_flows_in "$1" || fail "srtpo-cp did not install the call's flows: $(ctl call show "$1")"
}

# demo_recv NAME ADDR PORT COUNT: a UDP receiver in the namespace writing $T/to_NAME.pcap
# (COUNT datagrams, or 1 s without one); returns once it is bound. Sets recv_pid.
demo_recv() {
  ip netns exec "$ns" $UDP recv "$2" "$3" "$T/to_$1.pcap" "$4" 1 >"$T/recv_$1.log" 2>&1 &
  recv_pid=$!
  pids+=($recv_pid)
  wait_for 10 grep -q listening "$T/recv_$1.log" || fail "the receiver at $2:$3 did not start: $(cat "$T/recv_$1.log")"
}

# demo_send NAME KEY_B64 FROM_ADDR FROM_PORT TO_PORT N: N RTP packets (srtpo-pcap generate, seed
# from NAME) protected with KEY, sent 5 ms apart from the namespace's FROM_ADDR:FROM_PORT to
# srtpo-cp's ENG:TO_PORT. The plaintext stays in $T/NAME_plain.pcap. Sets sent.
demo_send() {
  "$PCAP" generate --out "$T/$1_plain.pcap" --calls 1 --packets "$6" --seed "$(printf '%d' "'$1")" >/dev/null
  "$PCAP" protect --suite "$suite" --key "$2" --in "$T/$1_plain.pcap" --out "$T/$1_srtp.pcap" >/dev/null
  in_ns $UDP send "$T/$1_srtp.pcap" "$3" "$4" "$eng" "$5" 5 >"$T/$1_send.log" 2>&1 ||
    fail "could not send $1's SRTP: $(cat "$T/$1_send.log")"
  sent=$(sed -n 's/^sent //p' "$T/$1_send.log")
}

# demo_check_pcap FILE KEY_B64 EXPECT: srtpo-pcap (our engine; tests/interop checks it against
# libsrtp) opens the frames of FILE with KEY; every frame must open, and the RTP packets must be
# the sender's: EXPECT is a plaintext capture (same packets, same order) or a hex byte (each
# payload 160 octets of it). Sets opened.
demo_check_pcap() {
  "$PCAP" unprotect --suite "$suite" --key "$2" --in "$1" --out "$1.plain.pcap" --json >"$1.json" ||
    fail "srtpo-pcap unprotect $1: $(cat "$1.json")"
  opened=$(jq -r .ok "$1.json")
  local same
  same=$("$PY" - "$1.plain.pcap" "$3" <<'PY'
import sys
sys.path.insert(0, "scripts")
from demo_udp import read_pcap, rtp_payloads
got = [p for p, _ in read_pcap(sys.argv[1])]
if sys.argv[2].endswith(".pcap"):
    want = rtp_payloads(sys.argv[2])
    print(len(got) if got == want[:len(got)] else -1)
else:
    b = bytes([int(sys.argv[2], 16)])
    print(sum(1 for p in got if len(p) == 172 and p[12:] == b * 160))
PY
)
  [ "$same" = "$opened" ] || fail "$1: $opened opened, but their RTP is not the sender's ($same match)"
}

# demo_pmd_counters MIN_FAST_OK MIN_EXCEPTION: stops the pmd and checks its final stats: at least
# MIN_EXCEPTION UDP datagrams that are not RTP (the key exchange) went port 0 -> exception TAP
# (drops.not_media, within exception_out), at least MIN_EXCEPTION of the kernel's frames came back
# out of port 0 (exception_in), and the SRTP took the fast path (status.ok).
demo_pmd_counters() {
  kill -TERM "$pmd_pid"
  wait "$pmd_pid" || true
  local stats exc_out exc_in not_media fast_ok
  stats=$(grep '^{' "$T/pmd.log" | tail -1)
  [ -n "$stats" ] || fail "srtpo-pmd printed no final stats: $(tail -5 "$T/pmd.log")"
  echo "$stats" | jq -c '{rx, tx, exception_out, not_media: .drops.not_media, no_flow: .drops.no_flow,
      ports: [.ports[] | {port, rx, tx, exception_in}], fast_path_ok: .status.ok}' | sed 's/^/    pmd: /'
  exc_out=$(echo "$stats" | jq '.exception_out') exc_in=$(echo "$stats" | jq '.ports[0].exception_in')
  not_media=$(echo "$stats" | jq '.drops.not_media') fast_ok=$(echo "$stats" | jq '.status.ok')
  [ "$not_media" -ge "$2" ] && [ "$exc_out" -ge "$not_media" ] ||
    fail "the key exchange did not go to the kernel through the exception path (exception_out $exc_out, not_media $not_media)"
  [ "$exc_in" -ge "$2" ] || fail "srtpo-cp's replies did not come back out of port 0 (exception_in $exc_in)"
  [ "$fast_ok" -ge "$1" ] || fail "the SRTP did not take the fast path (status ok $fast_ok < $1)"
  pass "pmd exception path both ways: $exc_out frames to the kernel ($not_media not RTP), $exc_in back out of port 0; fast path ok $fast_ok"
}
