#!/usr/bin/env bash
# ZRTP through srtpo-pmd's exception path (issue 8), end to end with real processes:
#
#   netns srtpoXn<pid>: bzrtp PEER_A:38500, SDES peer PEER_B:38600
#      └─ srtpoXd<pid>  net_tap = srtpo-pmd data port 0, moved into the namespace
#   srtpo-pmd ── exception TAP srtpoXe<pid>, ENG ── srtpo-cp [media] ENG:38000.., [zrtp]
#
# Linphone's bzrtp (tests/interop/zrtp, a separate GPL process) keys leg A of a call with
# srtpo-cp by ZRTP (RFC 6189); leg B is SDES (RFC 4568). The pmd sends every ZRTP packet (first
# byte 16..19 is not RTP, RFC 7983) to the kernel through its exception TAP, and the kernel's
# replies back out of the data port. Then bzrtp's own SRTP crosses the pmd's fast path, is
# transcrypted to leg B's SDES key, and srtpo-pcap opens what B received; SDES SRTP from B goes
# the other way and bzrtp authenticates it with its ZRTP receive key.
#
#   scripts/demo-zrtp.sh        (as root, after a build with libbzrtp-dev installed)
# Prints every check; exit 0 when all pass, 1 on a failed check, 77 when network namespaces or
# TAP devices cannot be created here, or the bzrtp harness was not built. Environment: see
# scripts/demo-netns-lib.sh, and ZRTP_BZRTP_HARNESS (default: the build's harness).
set -euo pipefail
cd "$(dirname "$0")/.."
demo_name=zrtp
. scripts/demo-netns-lib.sh
HARNESS=${ZRTP_BZRTP_HARNESS:-$B/tests/interop/zrtp/bzrtp_harness}
[ -x "$HARNESS" ] || skip "the bzrtp harness was not built (libbzrtp-dev absent): $HARNESS"
demo_init

# 1. srtpo-cp with [zrtp] (its ZID cache) and [dtls]: with [zrtp] alone srtpo-cp still creates
#    a DTLS certificate, by default under /var/lib/srtpo, so [dtls] puts it in the temp dir.
#    Then srtpo-pmd and the namespace.
demo_start_cp "$(printf '[zrtp]\ncache = "%s"\ncache_key = "%s"\nhandshake_timeout_ms = 10000\n[dtls]\ncertificate = "%s"\nprivate_key = "%s"' \
  "$T/zid.cache" "$T/zid.key" "$T/dtls-cert.pem" "$T/dtls-key.pem")"
demo_start_pmd

# 2. Leg B's media socket: a UDP receiver in the namespace.
demo_recv b "$peer_b" "$b_port" 300
recv_b=$recv_pid

# 3. bzrtp in the namespace, towards srtpo-cp's first media port (the pool hands out the lowest
#    pair first: leg A gets $base). Once secure it sends 300 SRTP packets 5 ms apart (160
#    octets of 0xd5 each) and counts the SRTP it can authenticate until --linger-ms ends.
ip netns exec "$ns" env ASAN_OPTIONS=detect_leaks=0 timeout 25 "$HARNESS" --local-addr "$peer_a" --local "$a_port" --remote-addr "$eng" \
  --remote "$base" --ka X255 --srtp 300 --timeout-ms 15000 --linger-ms 4000 >"$T/bzrtp.log" 2>&1 &
bz_pid=$!
pids+=($bz_pid)
wait_for 5 grep -q "^ZRTP-HASH " "$T/bzrtp.log" || fail "bzrtp harness did not start: $(cat "$T/bzrtp.log")"
hash=$(sed -n 's/^ZRTP-HASH //p' "$T/bzrtp.log")

# 4. The call: A's offer carries bzrtp's a=zrtp-hash (RFC 6189 §8.1); B is offered SDES.
printf 'v=0\r\no=bzrtp 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=zrtp-hash:%s\r\n' \
  "$peer_a" "$peer_a" "$a_port" "$hash" >"$T/a_offer.sdp"
demo_call zdemo "$T/a_offer.sdp"
grep -q "^m=audio $base " "$a_answer" && grep -q "^a=zrtp-hash:1.10 " "$a_answer" ||
  fail "the answer to bzrtp lacks port $base or a=zrtp-hash: $(cat "$a_answer")"
pass "call zdemo: leg A ZRTP $peer_a:$a_port <-> $eng:$base, leg B SDES $peer_b:$b_port <-> $eng:$b_local"

# 5. The exchange: bzrtp prints its SAS when secure, srtpo-cp installs both legs' flows, and
#    keying-ctl zrtp show must give the same SAS.
wait_for 15 grep -q "^KEYS " "$T/bzrtp.log" || fail "bzrtp did not go secure: $(cat "$T/bzrtp.log"; tail -5 "$T/cp.log")"
demo_wait_flows zdemo
sas=$(sed -n 's/^SECURE stream=0 sas=\([^ ]*\) .*/\1/p' "$T/bzrtp.log")
pass "ZRTP secure; bzrtp says: $(grep '^SECURE' "$T/bzrtp.log")"
ctl zrtp show zdemo | tee "$T/zshow.txt" | sed 's/^/    /'
ctl --json zrtp show zdemo >"$T/zshow.json"
[ "$(jq -r '.streams[0].state' "$T/zshow.json")" = secure ] || fail "keying-ctl zrtp show: not secure"
[ -n "$sas" ] && [ "$(jq -r '.streams[0].sas' "$T/zshow.json")" = "$sas" ] && grep -q -- "$sas" "$T/zshow.txt" ||
  fail "keying-ctl zrtp show gives another SAS than bzrtp ($sas)"
pass "keying-ctl zrtp show gives the SAS bzrtp printed: $sas"
zrtp_in=$(ctl --json call show zdemo | jq '.streams[0].legs.a.media_path.port.zrtp')
[ "$zrtp_in" -ge 4 ] || fail "srtpo-cp's media socket counted $zrtp_in ZRTP packets"
pass "srtpo-cp's media socket $eng:$base received $zrtp_in ZRTP packets (from the kernel, via the exception TAP)"

# 6. B -> A while bzrtp lingers: SDES SRTP to srtpo-cp's leg-B port (from B_PORT + 10: B_PORT
#    is the receiver's), transcrypted by the pmd to leg A's ZRTP keys; bzrtp must authenticate
#    (nearly) all of it and reject none.
demo_send b "$key_from_b" "$peer_b" $((b_port + 10)) "$b_local" 40
sent_b=$sent
wait "$bz_pid" || true
grep '^SRTP' "$T/bzrtp.log" | sed 's/^/    bzrtp: /'
bz_ok=$(sed -n 's/^SRTP stream=0 sent=[0-9]* ok=\([0-9]*\) bad=[0-9]*/\1/p' "$T/bzrtp.log")
bz_bad=$(sed -n 's/^SRTP stream=0 sent=[0-9]* ok=[0-9]* bad=\([0-9]*\)/\1/p' "$T/bzrtp.log")
grep -q "^RESULT: OK" "$T/bzrtp.log" || fail "bzrtp: $(grep RESULT "$T/bzrtp.log")"
[ "${bz_ok:-0}" -ge $((sent_b * 9 / 10)) ] && [ "${bz_bad:-1}" -eq 0 ] ||
  fail "B -> A: bzrtp authenticated ${bz_ok:-0} of $sent_b SRTP packets transcrypted by the pmd (bad ${bz_bad:-?})"
pass "B -> A: bzrtp authenticated $bz_ok of $sent_b SDES packets transcrypted to its ZRTP keys, 0 bad"

# 7. A -> B: what B's socket received, opened with the key srtpo-cp offered B; the plaintext
#    must be bzrtp's (tests/interop/zrtp/bzrtp_harness.c sends 0xd5 payloads). bzrtp starts
#    sending right after its Conf2ACK, before srtpo-cp has put the flows in the table and the pmd
#    has applied them: those first packets take the exception path (no_flow) to srtpo-cp's
#    socket, which drops them. At least 100 of the rest must arrive (a gap under 1 s) and open.
wait "$recv_b" || true
got_b=$(sed -n 's/^received //p' "$T/recv_b.log")
demo_check_pcap "$T/to_b.pcap" "$key_to_b" d5
[ "${got_b:-0}" -ge 100 ] && [ "$opened" = "$got_b" ] ||
  fail "A -> B: received ${got_b:-0} of 300, opened $opened ($(cat "$T/to_b.pcap.json"))"
pass "A -> B: $got_b of bzrtp's 300 SRTP packets reached the SDES peer, all opened with B's SDES key, payload = bzrtp's"
say "      (the first $((300 - got_b)) packets, ~$(((300 - got_b) * 5)) ms, came before the flow was in the pmd)"

# 8. The pmd's counters: the exception path both ways, the fast path for the SRTP.
demo_pmd_counters $((got_b + bz_ok)) 4 # bzrtp as responder: Hello, HelloACK, DHPart1, Confirm1, Conf2ACK
say "OK: ZRTP (bzrtp) <-> srtpo-cp through srtpo-pmd's exception path, SAS $sas, SRTP transcrypted ZRTP <-> SDES both ways"
