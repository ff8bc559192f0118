#!/usr/bin/env bash
# Installs every Debian 12 package srtp-offload needs to build, test and demo. Idempotent: it
# asks apt only for what is missing. Run as root (CI and the README's quick start do).
set -euo pipefail

pkgs=(
  # build
  meson ninja-build pkg-config g++ python3
  # engine and tools
  libssl-dev libipsec-mb-dev libpcap-dev libcli11-dev nlohmann-json3-dev
  # DTLS-SRTP's second stack (control-plane/dtls, ADR 0014): GnuTLS 3.7 negotiates the NULL
  # profiles that OpenSSL 3.0 lacks
  libgnutls28-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libsrtp2-dev
  # srtpo-pmd (DPDK data plane, flows file)
  libdpdk-dev libtomlplusplus-dev
  # independent decoders the tests compare against (tshark checks generated captures)
  tshark
  # ZRTP interop peer: Linphone's bzrtp (GPL-3+), linked only by the separate test harness
  # tests/interop/zrtp/bzrtp_harness, which talks to our endpoint over loopback UDP
  libbzrtp-dev libbctoolbox-dev
  # DTLS-SRTP interop peers (tests/dtls): the OpenSSL and GnuTLS command-line tools, and Go with
  # Debian's pion/dtls and pion/srtp sources, from which tests/dtls/pion/pion_peer.go is built offline
  openssl gnutls-bin golang-go golang-github-pion-dtls.v2-dev golang-github-pion-srtp.v2-dev
  # SIP interop peer of control-plane/sip+sdes tests (SIPp as UAC and UAS over loopback TCP)
  sip-tester
  # SIP B2BUA interop (tests/b2bua): socat as the TLS hop in front of sipp, which Debian builds
  # without TLS (OPENSSL-LISTEN before the callee, OPENSSL: client behind the caller)
  socat
  # MIKEY interop and crypto reference: GStreamer's GstMIKEYMessage (a real peer for the codec)
  # and python3-cryptography (tests/mikey/mikey_oracle.py, an RFC 3830 §4 reference)
  libgstreamer-plugins-base1.0-dev python3-cryptography
  # key exchanges through srtpo-pmd's exception path in a network namespace (scripts/demo-zrtp.sh,
  # scripts/demo-dtls.sh, suite demo), the TAP tests and bench/sip-cps.sh: ip netns / ip tuntap / ss,
  # and jq for the JSON checks
  iproute2 jq
  # control-plane benchmarks (bench/sip-cps.sh): bc for the rates, ss to wait for listeners and
  # count srtpo-cp's UDP sockets, ps to find socat's per-connection children
  bc procps
  # real phones on both sides of srtpo-cp (tests/pmd/baresip_call_test.py): baresip 1.0 with its
  # srtp (SDES), ausine (sine source) and aubridge (null player) modules (iproute2 above sets up the TAP)
  baresip-core
  # sanitizer and fuzzing builds (clang + libFuzzer runtime)
  clang libclang-rt-14-dev
)
[ "${SRTPO_DEPS_EXTRA:-}" ] && read -r -a extra <<<"$SRTPO_DEPS_EXTRA" && pkgs+=("${extra[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}) and not root; install them or rerun as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
