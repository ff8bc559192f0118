#!/usr/bin/python3
"""tshark's MIKEY dissector (Wireshark, an independent decoder) must decode every message we
produce, in every mode, without a malformed-packet or error expert note, and read the same
data type, CSB ID and crypto-session map. Messages come from mikey_sample_messages (argv[1])
and travel as UDP to port 2269, MIKEY's registered port, through text2pcap."""
import os
import re
import subprocess
import sys
import tempfile


def tshark_frames(msgs, tmp):
    """One pcap with one UDP packet per message (text2pcap starts a packet at each offset 0),
    one tshark run (tshark's start-up dominates), the -V text split per frame."""
    dump = os.path.join(tmp, "all.txt")
    pcap = os.path.join(tmp, "all.pcap")
    with open(dump, "w") as f:
        for msg in msgs:
            for off in range(0, len(msg), 16):
                f.write("%06x %s\n" % (off, " ".join("%02x" % b for b in msg[off:off + 16])))
    subprocess.run(["timeout", "20", "text2pcap", "-q", "-4", "127.0.0.1,127.0.0.1", "-u", "2269,2269", dump, pcap],
                   check=True, stderr=subprocess.DEVNULL)
    out = subprocess.run(["timeout", "30", "tshark", "-r", pcap, "-V"], check=True, capture_output=True, text=True)
    frames = re.split(r"^Frame \d+:", out.stdout, flags=re.M)[1:]
    assert len(frames) == len(msgs), "tshark saw %d frames for %d messages" % (len(frames), len(msgs))
    return frames


def check(name, msg, text):
    errors = []
    if "Multimedia Internet KEYing" not in text:
        errors.append("not dissected as MIKEY")
    for bad in ("Malformed", "[Expert Info (Error", "[Expert Info (Warning"):
        if bad in text:
            errors.append("tshark reports: " + next(l.strip() for l in text.splitlines() if bad in l))
    dtype = re.search(r"Data Type: .*\((\d+)\)", text)
    if not dtype or int(dtype.group(1)) != msg[1]:
        errors.append("data type %s != %d" % (dtype.group(1) if dtype else None, msg[1]))
    csb = re.search(r"CSB ID: 0x([0-9a-f]{8})", text)
    if not csb or csb.group(1) != msg[4:8].hex():
        errors.append("CSB ID %s != %s" % (csb.group(1) if csb else None, msg[4:8].hex()))
    ssrcs = re.findall(r"^\s+SSRC: 0x([0-9a-f]{8})", text, re.M)
    want = [msg[10 + 9 * i + 1:10 + 9 * i + 5].hex() for i in range(msg[8])] if msg[9] == 0 else []
    if ssrcs != want:
        errors.append("SSRCs %s != %s" % (ssrcs, want))
    # The last payload was reached: tshark lists the SIGN / KEMAC / V / ERR that ends each kind.
    last = {"psk_i": "KEMAC", "psk_null_i": "KEMAC", "psk_r": "Ver msg (V)", "dhhmac_i": "KEMAC",
            "dhhmac_r": "KEMAC", "error": "Error", "every_payload": "Signature", "chash": "CHASH",
            "pk_r": "Ver msg (V)"}
    tail = last.get(name, "Signature")
    if tail not in text:
        errors.append("no %s payload dissected" % tail)
    return errors


def main():
    lines = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout.split("\n")
    named = [(l.split()[0], bytes.fromhex(l.split()[1])) for l in lines if l]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        frames = tshark_frames([m for _, m in named], tmp)
    for (name, msg), text in zip(named, frames):
        errs = check(name, msg, text)
        for e in errs:
            print("FAIL %s: %s" % (name, e))
        failures += bool(errs)
        if not errs:
            print("ok   %s (%d octets)" % (name, len(msg)))
    n = len(named)
    print("%d passed, %d failed" % (n - failures, failures))
    return 1 if failures or n < 16 else 0


if __name__ == "__main__":
    sys.exit(main())
