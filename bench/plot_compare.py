#!/usr/bin/python3
"""Plots `srtpo-bench compare --json` output: packets/s by payload size for each implementation,
one panel per suite and direction. Needs Debian's python3-matplotlib (run with /usr/bin/python3).
usage: bench/plot_compare.py compare.json out.png"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

rows = json.load(open(sys.argv[1]))
suites = list(dict.fromkeys(r["suite"] for r in rows))
directions = ["protect", "unprotect"]
impls = [("srtpo_mpps", "srtp-offload (burst 32)"), ("libsrtp_openssl_mpps", "libsrtp 2.5 + OpenSSL 3"),
         ("libsrtp_nss_mpps", "libsrtp 2.5 + NSS (Debian)")]
fig, axes = plt.subplots(len(directions), len(suites), figsize=(3.2 * len(suites), 6.2), sharey="row", squeeze=False)
for col, suite in enumerate(suites):
    for row, d in enumerate(directions):
        ax = axes[row][col]
        sel = sorted((r for r in rows if r["suite"] == suite and r["direction"] == d), key=lambda r: r["payload"])
        x = [str(r["payload"]) for r in sel]
        width = 0.27
        for k, (field, label) in enumerate(impls):
            ax.bar([i + (k - 1) * width for i in range(len(x))], [r[field] for r in sel], width, label=label)
        ax.set_xticks(range(len(x)), x)
        ax.set_title(f"{suite}\n{d}", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        if col == 0:
            ax.set_ylabel("million packets/s (one core)")
        if row == len(directions) - 1:
            ax.set_xlabel("payload octets")
axes[0][0].legend(fontsize=7, loc="upper right")
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
