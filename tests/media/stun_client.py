#!/usr/bin/env python3
"""An independent STUN client for the 'media' tests: builds an ICE connectivity check (RFC 8489
Binding request with USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY and
FINGERPRINT; RFC 8445 §7.1.2) from the RFCs with Python's hmac/zlib, sends it to srtpo-cp's
media port, and checks the answer the same way: MESSAGE-INTEGRITY under the agent's password,
FINGERPRINT, and XOR-MAPPED-ADDRESS equal to our own socket address.

usage: stun_client.py HOST PORT USERNAME PASSWORD [--wrong-key]
prints one line:  RESULT success integrity=ok|bad fingerprint=ok|bad mapped=ok|bad
              or  RESULT error code=NNN integrity=ok|bad|absent
              or  RESULT timeout
"""
import hmac, hashlib, os, socket, struct, sys, zlib

COOKIE = 0x2112A442


def attr(t, v):
    pad = (4 - len(v) % 4) % 4
    return struct.pack("!HH", t, len(v)) + v + b"\0" * pad


def finish(mtype, tid, body, key):
    # MESSAGE-INTEGRITY: HMAC-SHA1 over the message with the length field covering it (§14.5)
    hdr = struct.pack("!HHI", mtype, len(body) + 24, COOKIE) + tid
    mi = hmac.new(key, hdr + body, hashlib.sha1).digest()
    body += attr(0x0008, mi)
    # FINGERPRINT: CRC-32 of the message up to it, xor 0x5354554e (§14.7)
    hdr = struct.pack("!HHI", mtype, len(body) + 8, COOKIE) + tid
    fp = (zlib.crc32(hdr + body) ^ 0x5354554E) & 0xFFFFFFFF
    body += attr(0x8028, struct.pack("!I", fp))
    return struct.pack("!HHI", mtype, len(body), COOKIE) + tid + body


def parse(msg):
    mtype, length, cookie = struct.unpack("!HHI", msg[:8])
    tid = msg[8:20]
    attrs, off = [], 20
    while off + 4 <= 20 + length:
        t, l = struct.unpack("!HH", msg[off:off + 4])
        attrs.append((t, msg[off + 4:off + 4 + l], off))
        off += 4 + l + (4 - l % 4) % 4
    return mtype, tid, attrs


def check_integrity(msg, attrs, key):
    for t, v, off in attrs:
        if t == 0x0008:
            hdr = msg[:2] + struct.pack("!H", off - 20 + 24) + msg[4:20]
            want = hmac.new(key, hdr + msg[20:off], hashlib.sha1).digest()
            return "ok" if hmac.compare_digest(want, v) else "bad"
    return "absent"


def check_fingerprint(msg, attrs):
    for t, v, off in attrs:
        if t == 0x8028:
            hdr = msg[:2] + struct.pack("!H", off - 20 + 8) + msg[4:20]
            want = (zlib.crc32(hdr + msg[20:off]) ^ 0x5354554E) & 0xFFFFFFFF
            return "ok" if struct.unpack("!I", v)[0] == want else "bad"
    return "absent"


def main():
    host, port, user, pwd = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    wrong = "--wrong-key" in sys.argv
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    tid = os.urandom(12)
    body = attr(0x0006, user.encode())
    body += attr(0x0024, struct.pack("!I", 1845501695))          # PRIORITY (prflx)
    body += attr(0x802A, os.urandom(8))                           # ICE-CONTROLLING
    body += attr(0x0025, b"")                                     # USE-CANDIDATE
    key = (pwd + "x").encode() if wrong else pwd.encode()
    sock.sendto(finish(0x0001, tid, body, key), (host, port))
    try:
        msg, _ = sock.recvfrom(2048)
    except socket.timeout:
        print("RESULT timeout")
        return 0
    mtype, rtid, attrs = parse(msg)
    if rtid != tid:
        print("RESULT bad-transaction-id")
        return 1
    integ = check_integrity(msg, attrs, pwd.encode())
    if mtype == 0x0101:
        mapped = "bad"
        for t, v, _ in attrs:
            if t == 0x0020 and v[1] == 1:
                p = struct.unpack("!H", v[2:4])[0] ^ (COOKIE >> 16)
                a = socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", v[4:8])[0] ^ COOKIE))
                mapped = "ok" if (a, p) == sock.getsockname() else "bad"
        print(f"RESULT success integrity={integ} fingerprint={check_fingerprint(msg, attrs)} mapped={mapped} "
              f"from={sock.getsockname()[0]}:{sock.getsockname()[1]}")
    elif mtype == 0x0111:
        code = 0
        for t, v, _ in attrs:
            if t == 0x0009:
                code = v[2] * 100 + v[3]
        print(f"RESULT error code={code} integrity={integ}")
    else:
        print(f"RESULT unexpected type=0x{mtype:04x}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
