"""Plots bench/run-latency-bench results (one --json-out file per offered rate) as a PNG.

    plot_latency.py DIR OUT.png    (DIR holds latency-<rate>.json files)

Left: end-to-end alert latency (p50, p99) against the offered rate, log scale, with the targets of
issue #14. Right: the rate at which alerts were delivered against the rate offered; a point under
the diagonal is a pipeline that did not keep up.
"""

import glob
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(directory: str, out: str) -> None:
    runs = []
    for path in glob.glob(f"{directory}/latency-*.json"):
        with open(path) as f:
            runs.append(json.load(f))
    if not runs:
        sys.exit(f"no latency-*.json in {directory}")
    runs.sort(key=lambda r: r["rate"])
    rates = [r["rate"] for r in runs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(rates, [r["p50_ms"] for r in runs], "o-", label="p50")
    left.plot(rates, [r["p99_ms"] for r in runs], "s-", label="p99")
    left.axhline(20, color="grey", linestyle="--", linewidth=1, label="p99 target (20 ms)")
    left.axhline(5, color="grey", linestyle=":", linewidth=1, label="p50 target (5 ms)")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("offered RecordInteraction calls/s")
    left.set_ylabel("call returned -> alert consumed, ms")
    left.set_title("Alert latency against load")
    left.legend(fontsize=8)
    left.grid(True, which="both", alpha=0.3)
    right.plot(rates, rates, color="grey", linestyle="--", linewidth=1, label="offered")
    right.plot(rates, [r["delivered_rate"] for r in runs], "o-", label="alerts delivered/s")
    for r in runs:
        if not r["rate_met"]:
            right.annotate("rate not offered", (r["rate"], r["offered_rate"]), fontsize=7)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("offered calls/s")
    right.set_ylabel("alerts/s")
    right.set_title("Throughput against load")
    right.legend(fontsize=8)
    right.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
