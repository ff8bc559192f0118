#!/usr/bin/env python3
"""keying-ctl mikey decode on messages GStreamer's GstMIKEYMessage built (a third-party encoder):
the fields GStreamer was given come back, keys stay hidden unless --show-keys, and garbage is a
usage error (exit 2) with the decoder's message.  Usage: keying_ctl_mikey_test.py KEYING_CTL GST_PEER"""
import json, subprocess, sys

KCTL, GST = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


key, salt = "000102030405060708090a0b0c0d0e0f", "a0a1a2a3a4a5a6a7a8a9aaabacad"
msg = subprocess.run([GST, "create", key, salt, "cafebabe,12345678", "7"], capture_output=True, text=True,
                     timeout=10).stdout.strip().splitlines()[-1]
for form in (msg, "a=key-mgmt:mikey " + msg):
    r = subprocess.run([KCTL, "--json", "mikey", "decode", form], capture_output=True, text=True, timeout=10)
    check(r.returncode == 0, "decode exits 0: " + r.stderr.strip())
    j = json.loads(r.stdout)
    cs = j["hdr"]["cs"]
    check([c["ssrc"] for c in cs] == ["0xcafebabe", "0x12345678"] and all(c["roc"] == 7 for c in cs),
          "both SSRCs and ROC 7 as GStreamer wrote them")
    check(key not in r.stdout and salt not in r.stdout, "keys hidden without --show-keys")
r = subprocess.run([KCTL, "--json", "mikey", "decode", "--show-keys", msg], capture_output=True, text=True, timeout=10)
check(key in r.stdout and salt in r.stdout, "--show-keys prints the NULL-KEMAC TEK and salt GStreamer carried")
r = subprocess.run([KCTL, "mikey", "decode", msg], capture_output=True, text=True, timeout=10)
check(r.returncode == 0 and "SRTP-ID" in r.stdout and "0xcafebabe" in r.stdout, "text form")
r = subprocess.run([KCTL, "mikey", "decode", "not*base64"], capture_output=True, text=True, timeout=10)
check(r.returncode == 2 and "base64" in r.stderr, "garbage: exit 2 with the reason: " + r.stderr.strip())
r = subprocess.run([KCTL, "mikey", "decode", "-"], input="AQAF", capture_output=True, text=True, timeout=10)
check(r.returncode == 2 and "mikey decode" in r.stderr, "a truncated message from stdin: " + r.stderr.strip())
print("%d checks failed" % len(failures))
sys.exit(1 if failures else 0)
