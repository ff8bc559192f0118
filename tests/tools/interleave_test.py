#!/usr/bin/env python3
"""bench/interleave.py against a real benchmark binary: an A/A run of two rounds gives every
value and ratio it claims, in the JSON too; a filter that matches nothing and a binary that does
not exist are errors (exit 1), never an empty result.

usage: interleave_test.py INTERLEAVE_PY BURST_BENCH
"""
import json
import os
import subprocess
import sys
import tempfile

script, bench = sys.argv[1], sys.argv[2]
cell = "AES_CM_128_HMAC_SHA1_80_protect_imb/payload:160/burst:32$"
failures = []


def run(*args):
    return subprocess.run([sys.executable, script, "--cpu", ""] + list(args), capture_output=True, text=True, timeout=300)


with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "r.json")
    r = run("--rounds", "2", "--counter", "cycles_per_pkt", "--filter", cell, "--json", out, bench, bench,
            "--", "--benchmark_min_time=0.01")
    if r.returncode != 0:
        failures.append("A/A run exited %d: %s" % (r.returncode, r.stderr))
    else:
        doc = json.load(open(out))
        rows = doc["rows"]
        if len(rows) != 1 or not rows[0]["benchmark"].endswith("payload:160/burst:32"):
            failures.append("want exactly the one cell, got %r" % [x["benchmark"] for x in rows])
        else:
            runs = rows[0]["runs"]
            if len(runs) != 2 or any(len(x["values"]) != 2 or min(x["values"]) <= 0 for x in runs):
                failures.append("want two binaries x two positive values, got %r" % runs)
            elif runs[0]["ratio_to_first"] != [1.0, 1.0]:
                failures.append("the baseline's own ratios must be 1, got %r" % runs[0]["ratio_to_first"])
            else:
                want = [b / a for a, b in zip(runs[0]["values"], runs[1]["values"])]
                if runs[1]["ratio_to_first"] != want:
                    failures.append("ratios %r are not value / baseline %r" % (runs[1]["ratio_to_first"], want))
        if "ratio 1 / 0" not in r.stdout or "median" not in r.stdout:
            failures.append("no ratio line in the table:\n" + r.stdout)

    r = run("--rounds", "1", "--filter", "no_such_benchmark", bench, bench)
    if r.returncode != 1 or "reported no" not in r.stderr:
        failures.append("a filter matching nothing: exit %d, %r" % (r.returncode, r.stderr))
    r = run("--rounds", "1", "--filter", cell, bench, os.path.join(d, "missing_bench"))
    if r.returncode != 1:
        failures.append("a missing binary: exit %d, %r" % (r.returncode, r.stderr))

for f in failures:
    print("FAIL: " + f)
sys.exit(1 if failures else 0)
