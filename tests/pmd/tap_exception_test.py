#!/usr/bin/env python3
"""srtpo-pmd exception path through the kernel (net_tap), both directions.

Data port 0 is a net_tap (srtpoA<pid>), the exception port 1 another (srtpoB<pid>, address
10.199.0.1/24). A UDP datagram sent into A by a packet socket reaches the pmd on port 0, is not
RTP/RTCP (RFC 7983), goes to the exception port and must arrive on a UDP socket bound to
10.199.0.1. The reply makes the kernel ARP for 10.199.0.2 on B; that ARP request comes back
through the pmd and leaves on port 0, where the packet socket on A sees it.
With the explicit exception port, the data port's receive checksum verdicts are checked too:
net_tap computes them when asked, so frames with bad sums injected into A must be dropped on the
port's word and counted (receive_checksums, checksum_counts_ok).
The exchange runs twice: with an explicit --exception-port, and with the default, where the pmd
creates the exception TAP itself (--exception-iface names it).
Exit 77 (skipped) when TAP devices cannot be created here.
"""
import base64, json, os, shutil, socket, struct, subprocess, sys, time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap_probe import tap_unavailable  # noqa: E402

pmd = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SRTPO_PMD", "srtpo-pmd")
tag = str(os.getpid() % 100000)
ifa, ifb = "srtpoA" + tag, "srtpoB" + tag


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


why_not = tap_unavailable(ifa)
if why_not:
    skip(why_not)

key_b64 = base64.b64encode(bytes(range(30))).decode()
media_port = 40000 + os.getpid() % 10000


def internet_checksum(blob):
    """RFC 1071: the one's complement of the one's complement sum of 16-bit words (odd length
    padded with a zero octet)."""
    if len(blob) % 2:
        blob += b"\0"
    s = sum(struct.unpack("!%dH" % (len(blob) // 2), blob))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(src, dst, l4):
    """An IPv4 header (checksum computed) for a UDP datagram `l4`."""
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, 17, 0,
                              socket.inet_aton(src), socket.inet_aton(dst)))
    h[10:12] = struct.pack("!H", internet_checksum(bytes(h)))
    return bytes(h) + l4


def udp4(src, dst, sport, dport, data):
    """A UDP header with its checksum over the IPv4 pseudo-header (RFC 768), then `data`."""
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, 8 + len(data))
    return hdr[:6] + struct.pack("!H", internet_checksum(pseudo + hdr + data) or 0xffff) + data


def flip(frame, at):
    """`frame` with the octet at `at` changed."""
    return frame[:at] + bytes([frame[at] ^ 0x40]) + frame[at + 1:]


def receive_checksums(pkt, media, l2, rtp):
    """Frames whose checksums fail, into a port that verifies them (net_tap computes the RX verdicts
    in software when asked; pmd/main.cpp asks): the worker must drop them on the port's word,
    counted as bad_checksum (checksum_counts_ok reads the counts). A valid frame with a UDP
    checksum still goes through (the port's GOOD is not taken for BAD)."""
    ip_sum_at, udp_sum_at = 14 + 10, 14 + 20 + 6
    data = rtp[:2] + struct.pack("!H", 100) + rtp[4:]
    good = l2 + ipv4("10.199.3.2", "10.199.2.1", udp4("10.199.3.2", "10.199.2.1", 5004, 22000, data))
    assert good[udp_sum_at:udp_sum_at + 2] != b"\0\0"
    # Garbage "SRTP" for the unprotect flow: with a bad UDP checksum the port's BAD verdict drops
    # it as bad_checksum; a worker that summed nothing itself would have let the tag fail instead.
    srtp = bytes([0x80, 0]) + bytes(range(2, 40))
    srtp_good = l2 + ipv4("10.199.3.2", "10.199.4.1", udp4("10.199.3.2", "10.199.4.1", 5004, 24000, srtp))
    for f in (flip(good, udp_sum_at), flip(good, ip_sum_at), flip(srtp_good, udp_sum_at), srtp_good):
        pkt.send(f)
    try:
        while True:  # nothing of the above may arrive
            stray = media.recvfrom(2048)
            print("FAIL: a frame with a bad checksum reached the kernel's socket", stray)
            sys.exit(1)
    except socket.timeout:
        pass
    pkt.send(good)
    try:
        got = media.recvfrom(2048)
    except socket.timeout:
        got = None
    if got is None or len(got[0]) != len(data) + 10 or got[0][2:4] != data[2:4]:
        print("FAIL: a frame with a valid UDP checksum did not go through", got)
        sys.exit(1)
    print("receive checksums verified by the port: bad ones dropped, a good one through")


def checksum_counts_ok(st, out):
    """The counts receive_checksums() expects: three bad_checksum drops (UDP and IPv4 header sum on
    plain media, the port's UDP verdict on SRTP in) and the one garbage SRTP packet with good sums
    failing its tag."""
    if "port 0: rx checksum verdicts from the port (IPv4 header, UDP)" not in out:
        print("FAIL: net_tap's receive checksum verdicts were not enabled")
        return False
    if st["drops"]["bad_checksum"] != 3 or st["status"].get("auth_fail") != 1:
        print("FAIL: receive checksum counts: bad_checksum %s (want 3), auth_fail %s (want 1)"
              % (st["drops"]["bad_checksum"], st["status"].get("auth_fail")))
        return False
    return True


def exchange(auto):
    """One pmd run: a datagram in through port 0 to the kernel, the kernel's ARP back out."""
    ok = False
    flows = "/tmp/srtpo-tap-flows-%s.toml" % tag
    with open(flows, "w") as f:
        f.write('[[flow]]\nmatch = "10.199.0.1:20000"\n')
        # Fast path back into the kernel: protect (the length grows by the tag), rewrite the
        # addresses; the kernel's UDP socket receives it only if both checksums are right.
        f.write('[[flow]]\nmatch = "10.199.2.1:22000"\nout = { suite = "AES_CM_128_HMAC_SHA1_80", key = "%s" }\n'
                'send_from = "10.199.3.2:5004"\nsend_to = "10.199.3.1:%d"\n' % (key_b64, media_port))
        # SRTP in: a receive-checksum probe (no packet sent to it authenticates).
        f.write('[[flow]]\nmatch = "10.199.4.1:24000"\nin = { suite = "AES_CM_128_HMAC_SHA1_80", key = "%s" }\n' % key_b64)
    if auto:  # the default: the pmd creates the TAP itself
        exc_eal, exc_opt = [], ["--exception-iface", ifb]
    else:
        exc_eal, exc_opt = ["--vdev=net_tap1,iface=" + ifb], ["--exception-port", "1"]
    proc = subprocess.Popen([pmd, "--no-huge", "--no-pci", "-m", "256", "--no-shconf", "--file-prefix=srtpo-tap-" + tag, "-l", "0",
                             "--log-level=warning", "--no-telemetry", "--vdev=net_tap0,iface=" + ifa] + exc_eal +
                            ["--", "--flows", flows] + exc_opt + ["--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ok = False
    try:
        for _ in range(100):
            if os.path.exists("/sys/class/net/" + ifb) and os.path.exists("/sys/class/net/" + ifa):
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        else:
            pass
        if proc.poll() is not None:
            out = proc.stdout.read()
            if "tap" in out.lower() and ("error" in out.lower() or "fail" in out.lower()):
                skip("net_tap could not start: " + out.strip().splitlines()[-1])
            print(out)
            sys.exit(1)
        subprocess.run(["ip", "link", "set", ifa, "up"], check=True)
        subprocess.run(["ip", "addr", "add", "10.199.0.1/24", "dev", ifb], check=True)
        subprocess.run(["ip", "link", "set", ifb, "up"], check=True)
        with open("/sys/class/net/%s/address" % ifb) as f:
            mac_b = bytes.fromhex(f.read().strip().replace(":", ""))
        time.sleep(0.3)

        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("10.199.0.1", 0))
        udp_port = udp.getsockname()[1]
        udp.settimeout(3)
        pkt = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        pkt.bind((ifa, 0))
        pkt.settimeout(0.2)

        payload = b"hello through the exception path"
        src_mac = bytes.fromhex("02aabbccdd02")
        udp_hdr = struct.pack("!HHHH", 5555, udp_port, 8 + len(payload), 0)
        frame = mac_b + src_mac + b"\x08\x00" + ipv4("10.199.0.2", "10.199.0.1", udp_hdr + payload)
        got = None
        for _ in range(10):  # the first frames may race the interface coming up
            pkt.send(frame)
            try:
                got = udp.recvfrom(2048)
                break
            except socket.timeout:
                continue
        if got is None or got[0] != payload:
            print("FAIL: the datagram did not reach the kernel through the exception port")
            sys.exit(1)
        print("port -> exception port -> kernel: ok (%r from %s)" % (got[0][:5], got[1]))

        # Kernel -> exception port -> port 0: the reply needs ARP for 10.199.0.2.
        udp.sendto(b"reply", ("10.199.0.2", 5555))
        arp_seen = False
        deadline = time.time() + 5
        while time.time() < deadline and not arp_seen:
            try:
                data = pkt.recv(2048)
            except socket.timeout:
                continue
            if len(data) >= 42 and data[12:14] == b"\x08\x06" and data[38:42] == socket.inet_aton("10.199.0.2"):
                arp_seen = True
        if not arp_seen:
            print("FAIL: the kernel's ARP request did not come back out of port 0")
            sys.exit(1)
        print("kernel -> exception port -> port 0: ok (ARP who-has 10.199.0.2)")

        # Fast path with rewritten headers out of a port that offloads checksums: net_tap
        # computes them in its tx path when the mbuf's offload flags and l2/l3 lengths ask for it
        # (the pmd leaves the IPv4 header checksum 0, so without them the kernel drops the
        # datagram). net_tap recomputes the UDP sum from scratch, so the pseudo-header seed a NIC
        # needs is checked by tests/net (UdpRewrite.OffloadPreparesWhatTheNicCompletes).
        subprocess.run(["ip", "addr", "add", "10.199.3.1/24", "dev", ifa], check=True)
        with open("/sys/class/net/%s/address" % ifa) as f:
            mac_a = bytes.fromhex(f.read().strip().replace(":", ""))
        # The kernel side of port 0 is the media peer's station (mac_a). Its frame is addressed
        # to the pmd's port (any MAC but mac_a: the port is promiscuous); the pmd must send the
        # result back to mac_a (pmd/next_hop.hpp rule 3), or the kernel drops it as not its own.
        to_port = bytes.fromhex("02aabbccdd01")
        media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        media.bind(("10.199.3.1", media_port))
        media.settimeout(0.5)
        rtp = struct.pack("!BBHII", 0x80, 0, 1, 160, 0x1234) + bytes(range(160))
        got = None
        for attempt in range(10):
            rtp = rtp[:2] + struct.pack("!H", attempt + 1) + rtp[4:]
            pkt.send(to_port + mac_a + b"\x08\x00" + ipv4("10.199.3.2", "10.199.2.1", struct.pack("!HHHH", 5004, 22000, 8 + len(rtp), 0) + rtp))
            try:
                got = media.recvfrom(2048)
                break
            except socket.timeout:
                continue
        if got is None or len(got[0]) != len(rtp) + 10 or got[0][:2] != rtp[:2] or got[1] != ("10.199.3.2", 5004):
            print("FAIL: the protected, rewritten packet did not reach the kernel's socket (checksums?)", got)
            sys.exit(1)
        print("fast path -> port with checksum offload -> kernel socket: ok (%d bytes from %s)" % (len(got[0]), got[1]))
        if not auto:
            receive_checksums(pkt, media, to_port + mac_a + b"\x08\x00", rtp)
        ok = True
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                out, _ = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            print(out)
            if ok:
                stats = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
                if proc.returncode != 0 or not stats:
                    print("FAIL: pmd exit %s without final stats" % proc.returncode)
                    sys.exit(1)
                st = stats[-1]
                if auto and ("exception path: TAP interface " + ifb) not in out:
                    print("FAIL: the default exception path was not reported")
                    sys.exit(1)
                if "port 0: tx checksum offload" not in out:
                    print("FAIL: net_tap's checksum offload was not enabled")
                    sys.exit(1)
                if not auto and not checksum_counts_ok(st, out):
                    sys.exit(1)
                if st["exception_out"] < 1 or st["ports"][0]["exception_in"] < 1:
                    print("FAIL: exception counters", st["exception_out"], st["ports"])
                    sys.exit(1)
        try:
            os.unlink(flows)
        except OSError:
            pass
        # EAL leaves its runtime directory behind.
        base = "/var/run/dpdk" if os.geteuid() == 0 else os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"), "dpdk")
        shutil.rmtree(os.path.join(base, "srtpo-tap-" + tag), ignore_errors=True)
    return ok


ok = exchange(auto=False)
print("explicit exception port (--exception-port): ok")
ok = ok and exchange(auto=True)
print("default exception path (TAP created by the pmd): ok")
sys.exit(0 if ok else 1)
