#!/usr/bin/env python3
"""Interleaved A/B runs of Google Benchmark binaries, for machines whose speed drifts.

On a shared VM the same cell can run 1.5-2.5x slower for minutes at a time (docs/PERFORMANCE.md,
"Machine"), so numbers from two runs made at different times do not compare. This runs the
binaries in turn, round after round (A, B, A, B, ...), each pinned to one CPU with the same filter
and environment, and compares each benchmark's counter between the binaries *within a round*:
the per-round ratios show a real difference as a consistent direction, and drift as scatter.

    bench/interleave.py [--rounds N] [--cpu C] [--counter NAME] [--env K=V ...] \
        --filter REGEX BINARY_A BINARY_B [BINARY ...] [-- extra benchmark args]

Example (the old tree's binary copied aside before rebuilding):

    cp build/bench/burst_bench /tmp/old_burst_bench && ninja -C build bench/burst_bench
    bench/interleave.py --rounds 4 --counter cycles_per_pkt \
        --filter 'AES_CM_128_HMAC_SHA1_80_(un)?protect_imb/payload:160/burst:32$' \
        /tmp/old_burst_bench build/bench/burst_bench

Prints, per benchmark, each binary's value in every round with the median, and each later
binary's ratio to the first one per round (the number to quote is the set of ratios, not one
of them). The same binary may be given twice: an A/A run shows the machine's own scatter.
--json FILE writes the same as JSON. A binary that fails, skips a cell (SkipWithError) or
reports no value for a benchmark in a round is an error (exit 1): a missing cell must not look
like a result.

Thread-safety / ownership: a plain script; it starts one benchmark process at a time and waits
for it, so the binaries never run concurrently.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def parse_args(argv):
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="rounds (each runs every binary once); default 3")
    p.add_argument("--cpu", default="1", help="CPU list for taskset; '' to run unpinned; default 1")
    p.add_argument("--counter", default="cpu_time",
                   help="what to compare: a user counter (cycles_per_pkt, cpu_ns/pkt, pkts, ...) or "
                        "real_time / cpu_time; default cpu_time")
    p.add_argument("--env", action="append", default=[], metavar="K=V", help="environment for every run (repeatable)")
    p.add_argument("--filter", required=True, help="--benchmark_filter for every run")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("binaries", nargs="+", help="two or more benchmark binaries; the first is the baseline")
    a = p.parse_args(argv)
    if len(a.binaries) < 2:
        p.error("give at least two binaries to compare")
    if a.rounds < 1:
        p.error("--rounds must be at least 1")
    for kv in a.env:
        if "=" not in kv:
            p.error("--env takes K=V, got %r" % kv)
    a.extra = extra
    return a


def run_once(binary, a, env):
    """One run of `binary`: {benchmark name: counter value}."""
    cmd = (["taskset", "-c", a.cpu] if a.cpu else []) + [binary, "--benchmark_filter=" + a.filter,
                                                         "--benchmark_format=json"] + a.extra
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    except OSError as e:
        raise RuntimeError("cannot run %s: %s" % (binary, e)) from e
    if r.returncode != 0:
        raise RuntimeError("%s exited %d:\n%s" % (binary, r.returncode, r.stderr.strip()[-2000:]))
    # Google Benchmark writes the JSON document to stdout; anything a binary prints before it
    # (EAL banners, for example) is skipped.
    start = r.stdout.find("{")
    if start < 0:  # Google Benchmark prints nothing on stdout when the filter matches nothing
        raise RuntimeError("%s reported no %r for filter %r (no JSON; stderr: %s)"
                           % (binary, a.counter, a.filter, r.stderr.strip()[-300:]))
    doc = json.loads(r.stdout[start:])
    values = {}
    for b in doc.get("benchmarks", []):
        if b.get("error_occurred"):  # a skipped cell is not a result
            raise RuntimeError("%s: %s: %s" % (binary, b.get("name"), b.get("error_message", "error")))
        if b.get("run_type") == "aggregate" or a.counter not in b:
            continue
        values[b["name"]] = float(b[a.counter])
    if not values:
        raise RuntimeError("%s reported no %r for filter %r" % (binary, a.counter, a.filter))
    return values


def main(argv):
    a = parse_args(argv)
    env = dict(os.environ)
    env.update(kv.split("=", 1) for kv in a.env)
    # results[k][benchmark] = [value per round] of binary k (by position: the same binary may
    # be given twice, an A/A run that shows the machine's own scatter)
    results = [{} for _ in a.binaries]
    for r in range(a.rounds):
        for k, b in enumerate(a.binaries):
            for name, v in run_once(b, a, env).items():
                results[k].setdefault(name, []).append(v)
        print("round %d of %d done" % (r + 1, a.rounds), file=sys.stderr)

    labels = ["%d:%s" % (k, b) for k, b in enumerate(a.binaries)]
    names = sorted(set().union(*(set(res) for res in results)))
    rows = []
    for n in names:
        for k in range(len(a.binaries)):
            got = results[k].get(n, [])
            if len(got) != a.rounds:
                raise RuntimeError("%s: %s reported %d of %d rounds" % (n, labels[k], len(got), a.rounds))
        base = results[0][n]
        row = {"benchmark": n, "counter": a.counter,
               "runs": [{"binary": b, "values": results[k][n],
                         "ratio_to_first": [x / y for x, y in zip(results[k][n], base)]}
                        for k, b in enumerate(a.binaries)]}
        rows.append(row)
        print(n)
        for k, run in enumerate(row["runs"]):
            v = run["values"]
            print("  %-44s %s  median %.4g" % (labels[k], " ".join("%.4g" % x for x in v), statistics.median(v)))
        for k, run in enumerate(row["runs"][1:], start=1):
            rs = run["ratio_to_first"]
            print("  %-44s %s  median %.3f" % ("ratio %d / 0" % k, " ".join("%.3f" % x for x in rs), statistics.median(rs)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"filter": a.filter, "counter": a.counter, "rounds": a.rounds, "cpu": a.cpu, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except RuntimeError as e:
        print("interleave: " + str(e), file=sys.stderr)
        sys.exit(1)
