#!/usr/bin/env python3
"""UDP helpers for the namespace demos (scripts/demo-zrtp.sh): a peer's media socket.

  demo_udp.py recv ADDR PORT OUT.pcap COUNT IDLE_S
      Binds ADDR:PORT, receives datagrams until COUNT arrived, none came for IDLE_S seconds after
      the first, or the first did not come within 20 s,
      and writes each as an Ethernet/IPv4/UDP frame (sender's address, ADDR:PORT) to OUT.pcap, so
      srtpo-pcap (libsrtp-compatible engine) can open them. Prints "listening" once bound, then
      "received N".
  demo_udp.py send IN.pcap FROM_ADDR FROM_PORT TO_ADDR TO_PORT [GAP_MS]
      Sends the UDP payloads of the RTP frames (not RTCP, RFC 5761 §4 payload types) of the
      capture's first destination port from FROM_ADDR:FROM_PORT to TO_ADDR:TO_PORT. Prints
      "sent N".
Exit 0 on success, 1 when nothing was received/sent, 2 on a usage error.
"""
import socket
import struct
import sys
import time


def ipv4_frame(src, dst, payload):
    """An Ethernet/IPv4/UDP frame; IPv4 header checksum computed, UDP checksum 0 (RFC 768)."""
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                              socket.inet_aton(src[0]), socket.inet_aton(dst[0])))
    s = sum(struct.unpack("!10H", bytes(h)))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    h[10:12] = struct.pack("!H", ~s & 0xffff)
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + bytes(h) + udp


def recv(addr, port, out, count, idle):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("listening", flush=True)  # the demo starts its senders after this line
    s.settimeout(20)  # the first datagram comes once the key exchange is done
    frames = []
    while len(frames) < count:
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            break
        s.settimeout(idle)
        frames.append(ipv4_frame(peer, (addr, port), data))
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))  # pcap, LINKTYPE_ETHERNET
        now = time.time()
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", int(now), i, len(fr), len(fr)) + fr)
    print("received %d" % len(frames))
    return 0 if frames else 1


def read_pcap(path):
    """(payload, dst_port) of every IPv4/UDP frame of an Ethernet pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        fr = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(fr) < 42 or fr[12:14] != b"\x08\x00" or fr[23] != 17:
            continue
        l4 = 14 + (fr[14] & 0x0f) * 4
        dport, ulen = struct.unpack("!HH", fr[l4 + 2:l4 + 6])
        out.append((fr[l4 + 8:l4 + ulen], dport))
    return out


def rtp_payloads(pcap):
    """The UDP payloads of the RTP frames (not RTCP) to the capture's first destination port."""
    frames = read_pcap(pcap)
    if not frames:
        return []
    first_port = frames[0][1]
    # RTCP packet types 200..204 show as 72..76 in the RTP payload-type bits (RFC 5761 §4).
    return [p for p, dport in frames if dport == first_port and len(p) >= 12 and not 72 <= (p[1] & 0x7f) <= 76]


def send(pcap, from_addr, from_port, to_addr, to_port, gap_ms):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((from_addr, from_port))
    n = 0
    for payload in rtp_payloads(pcap):
        s.sendto(payload, (to_addr, to_port))
        n += 1
        time.sleep(gap_ms / 1000.0)
    print("sent %d" % n)
    return 0 if n else 1


def main(a):
    try:
        if a[0] == "recv" and len(a) == 6:
            return recv(a[1], int(a[2]), a[3], int(a[4]), float(a[5]))
        if a[0] == "send" and len(a) in (6, 7):
            return send(a[1], a[2], int(a[3]), a[4], int(a[5]), float(a[6]) if len(a) == 7 else 5.0)
    except (IndexError, ValueError):
        pass
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
