#!/usr/bin/env bash
# DTLS-SRTP through srtpo-pmd's exception path (issue 7's DTLS <-> SDES bridge), end to end:
#
#   netns srtpoXn<pid>: openssl s_client PEER_A:38500, SDES peer PEER_B:38600
#      └─ srtpoXd<pid>  net_tap = srtpo-pmd data port 0, moved into the namespace
#   srtpo-pmd ── exception TAP srtpoXe<pid>, ENG ── srtpo-cp [media] ENG:38000.., [dtls]
#
# A WebRTC-like leg A offers UDP/TLS/RTP/SAVPF with a=setup:active, so srtpo-cp answers passive
# and is the DTLS server (RFC 5763 §5); `openssl s_client -dtls1_2 -use_srtp` in the namespace
# connects to srtpo-cp's media port. Its handshake (first byte 20..63 is not RTP, RFC 7983)
# crosses the pmd's exception path both ways. Then SRTP protected with the keys s_client
# exported (RFC 5764 §4.2) crosses the pmd's fast path to leg B's SDES key and back, and
# srtpo-pcap opens what each side received.
#
#   scripts/demo-dtls.sh        (as root, after a build)
# Prints every check; exit 0 when all pass, 1 on a failed check, 77 when network namespaces or
# TAP devices cannot be created here. Environment: see scripts/demo-netns-lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
demo_name=dtls
. scripts/demo-netns-lib.sh
command -v openssl >/dev/null || skip "openssl is not installed"
demo_init

# 1. srtpo-cp with [dtls] (it creates its certificate), srtpo-pmd, the namespace.
demo_start_cp "$(printf '[dtls]\ncertificate = "%s"\nprivate_key = "%s"\ninitial_retransmit_ms = 100\nhandshake_timeout_ms = 8000' \
  "$T/dtls-cert.pem" "$T/dtls-key.pem")"
demo_start_pmd

# 2. The peer's certificate and its a=fingerprint (RFC 8122), as the openssl CLI computes them.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=webrtc-peer \
  -keyout "$T/peer-key.pem" -out "$T/peer.pem" >"$T/req.log" 2>&1 || fail "openssl req: $(cat "$T/req.log")"
fp=$(openssl x509 -in "$T/peer.pem" -noout -fingerprint -sha256 | sed 's/.*=//')

# 3. The call: A's offer (setup:active, rtcp-mux), B is offered SDES.
printf 'v=0\r\no=webrtc 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\na=fingerprint:sha-256 %s\r\na=setup:active\r\na=rtcp-mux\r\n' \
  "$peer_a" "$peer_a" "$a_port" "$fp" >"$T/a_offer.sdp"
demo_call ddemo "$T/a_offer.sdp"
a_local=$(sed -n 's/^m=audio \([0-9]*\) .*/\1/p' "$a_answer" | tr -d '\r')
grep -q "^a=setup:passive" "$a_answer" && grep -q "^a=fingerprint:sha-256 " "$a_answer" && [ -n "$a_local" ] ||
  fail "the answer to the DTLS peer is not passive with a fingerprint: $(cat "$a_answer")"
our_fp=$(openssl x509 -in "$T/dtls-cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
grep -q "^a=fingerprint:sha-256 $our_fp" "$a_answer" || fail "a=fingerprint is not srtpo-cp's certificate's"
pass "call ddemo: leg A DTLS-SRTP $peer_a:$a_port <-> $eng:$a_local (srtpo-cp passive = server), leg B SDES $peer_b:$b_port <-> $eng:$b_local"

# 4. s_client in the namespace (its stdin a FIFO held open, so it does not quit on EOF; its
#    stdout line-buffered, so the keying material shows as soon as it is printed); it
#    checks srtpo-cp's certificate against the one in the answer and exports the SRTP keys.
mkfifo "$T/s_in"
exec 3<>"$T/s_in"
ip netns exec "$ns" timeout 30 stdbuf -oL openssl s_client -dtls1_2 -connect "$eng:$a_local" -bind "$peer_a:$a_port" -noservername -cert "$T/peer.pem" \
  -key "$T/peer-key.pem" -CAfile "$T/dtls-cert.pem" -verify_return_error -use_srtp SRTP_AES128_CM_SHA1_80 \
  -keymatexport EXTRACTOR-dtls_srtp -keymatexportlen 60 <&3 >"$T/s_client.log" 2>&1 &
sc_pid=$!
pids+=($sc_pid)
wait_for 10 grep -q "^ *Keying material: " "$T/s_client.log" || fail "s_client: no handshake: $(tail -20 "$T/s_client.log"; tail -5 "$T/cp.log")"
grep -q "Verify return code: 0 (ok)" "$T/s_client.log" || fail "s_client did not verify srtpo-cp's certificate: $(grep Verify "$T/s_client.log")"
grep -q "SRTP Extension negotiated, profile=SRTP_AES128_CM_SHA1_80" "$T/s_client.log" || fail "s_client: no SRTP profile"
demo_wait_flows ddemo
ctl --json call show ddemo | jq -c '.streams[0].legs.a.media_path' >"$T/mp.json"
[ "$(jq -r .state "$T/mp.json")" = connected ] && [ "$(jq -r .role "$T/mp.json")" = server ] &&
  [ "$(jq -r .peer_fingerprint "$T/mp.json")" = match ] && [ "$(jq -r .profile "$T/mp.json")" = SRTP_AES128_CM_SHA1_80 ] ||
  fail "call show: $(cat "$T/mp.json")"
ctl call show ddemo | sed 's/^/    /'
dtls_in=$(ctl --json call show ddemo | jq '.streams[0].legs.a.media_path.port.dtls')
[ "$dtls_in" -ge 2 ] || fail "srtpo-cp's media socket counted $dtls_in DTLS datagrams"
pass "DTLS 1.2 handshake through the exception path ($dtls_in datagrams on srtpo-cp's socket): srtpo-cp server, peer fingerprint match, profile SRTP_AES128_CM_SHA1_80"

# 5. RFC 5764 §4.2: client_key | server_key | client_salt | server_salt; s_client is the client.
km=$(sed -n 's/^ *Keying material: //p' "$T/s_client.log" | tr -d '\r')
[ ${#km} -eq 120 ] || fail "keying material: ${#km} hex digits"
b64() { "$PY" -c 'import base64, sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$1"; }
key_a_tx=$(b64 "${km:0:32}${km:64:28}")
key_a_rx=$(b64 "${km:32:32}${km:92:28}")
# s_client's job is done: SIGTERM (timeout passes it on; s_client does not catch it, so it sends
# no close_notify); its port becomes A's receiver.
kill -TERM "$sc_pid"
wait "$sc_pid" 2>/dev/null || true
exec 3>&-

# 6. Media both ways through the fast path: A's SRTP (s_client's keys) to B, B's SDES SRTP to A.
demo_recv a "$peer_a" "$a_port" 40
recv_a=$recv_pid
demo_recv b "$peer_b" "$b_port" 40
recv_b=$recv_pid
demo_send a "$key_a_tx" "$peer_a" $((a_port + 10)) "$a_local" 40
sent_a=$sent
demo_send b "$key_from_b" "$peer_b" $((b_port + 10)) "$b_local" 40
sent_b=$sent
wait "$recv_a" "$recv_b" || true
got_a=$(sed -n 's/^received //p' "$T/recv_a.log") got_b=$(sed -n 's/^received //p' "$T/recv_b.log")
demo_check_pcap "$T/to_b.pcap" "$key_to_b" "$T/a_plain.pcap"
[ "${got_b:-0}" -eq "$sent_a" ] && [ "$opened" -eq "$sent_a" ] || fail "A -> B: received ${got_b:-0} of $sent_a, opened $opened"
pass "A -> B: all $sent_a SRTP packets under s_client's DTLS keys reached B, opened with B's SDES key, RTP = A's"
demo_check_pcap "$T/to_a.pcap" "$key_a_rx" "$T/b_plain.pcap"
[ "${got_a:-0}" -eq "$sent_b" ] && [ "$opened" -eq "$sent_b" ] || fail "B -> A: received ${got_a:-0} of $sent_b, opened $opened"
pass "B -> A: all $sent_b SDES packets reached A, opened with the DTLS server key s_client exported, RTP = B's"

# 7. The pmd's counters.
demo_pmd_counters $((sent_a + sent_b)) 2 # the client's two flights; ours: ServerHello.., Finished
say "OK: DTLS-SRTP (openssl s_client) <-> srtpo-cp through srtpo-pmd's exception path, SRTP transcrypted DTLS <-> SDES both ways"
