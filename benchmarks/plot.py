#!/usr/bin/env python3
"""Draws the benchmark table as an SVG: for each workload, each peer's main figure divided by
concurrence's (log scale; right of the line, concurrence is faster). In the two-core rows
(those with a conc-2 figure) the reference is conc-2, and concurrence on one dispatcher is
one of the bars.

Usage: python3 benchmarks/plot.py results.csv benchmarks/ratios.svg
Reads the CSV the runner writes with --csv (or benchmarks/io-results.csv, where each value is a
time per message relative to concurrence's: the IO ratios of BENCHMARKS.md). Plain Python, no
plotting library needed.
"""
import csv
import math
import sys

COLORS = {
    "concurrence": "#8c564b",
    "conc-compact": "#9467bd",
    "tokio-ct": "#1f77b4",
    "tokio-mt2": "#aec7e8",
    "may-1": "#d62728",
    "may": "#ff9896",
    "threads": "#7f7f7f",
    "actix": "#ff7f0e",
    "ractor": "#17becf",
    "kameo": "#bcbd22",
    "redis-server": "#2ca02c",
}


def load(path):
    rows = {}
    order = []
    with open(path) as f:
        for rec in csv.DictReader(f):
            label = rec["workload"]
            if label not in rows:
                rows[label] = {}
                order.append(label)
            value = float(rec["value"]) if rec["value"] not in ("", "NaN", "nan") else math.nan
            rows[label][rec["runtime"]] = value
    return order, rows


def main():
    src, dst = sys.argv[1], sys.argv[2]
    order, rows = load(src)
    def reference(label):
        return "conc-2" if "conc-2" in rows[label] else "concurrence"

    peers = [p for p in COLORS if any(p in rows[w] and p != reference(w) for w in order)]
    bar_h, gap = 9, 10
    left, right, top = 190, 40, 50
    lo, hi = 0.1, 1000.0  # ratio axis, log scale
    width = 900
    plot_w = width - left - right
    group_h = bar_h * len(peers) + gap
    legend_w = 110
    per_line = max(1, (width - left) // legend_w)
    legend_lines = max(1, math.ceil(len(peers) / per_line))
    legend_h = 16 * (legend_lines - 1)
    height = top + group_h * len(order) + 60 + legend_h

    def x(ratio):
        ratio = min(max(ratio, lo), hi)
        return left + plot_w * (math.log10(ratio) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="14" font-weight="bold">'
        "Peer time / concurrence time (log scale; right of 1x, concurrence is faster)</text>",
        f'<text x="{left}" y="34">In the two-core rows the reference is conc-2 (two dispatchers), '
        "and concurrence (one dispatcher) is a bar.</text>",
    ]
    for tick in [0.1, 0.25, 0.5, 1, 2, 4, 10, 30, 100, 300, 1000]:
        tx = x(tick)
        style = 'stroke="black" stroke-width="1.5"' if tick == 1 else 'stroke="#ddd"'
        out.append(f'<line x1="{tx:.1f}" y1="{top - 8}" x2="{tx:.1f}" y2="{height - 50 - legend_h}" {style}/>')
        out.append(f'<text x="{tx:.1f}" y="{height - 36 - legend_h}" text-anchor="middle">{tick:g}x</text>')
    for i, label in enumerate(order):
        gy = top + i * group_h
        out.append(f'<text x="{left - 8}" y="{gy + group_h / 2:.1f}" text-anchor="end">{label}</text>')
        ours = rows[label].get(reference(label), math.nan)
        for j, peer in enumerate(peers):
            value = rows[label].get(peer) if peer != reference(label) else None
            y = gy + j * bar_h
            if value is None:
                continue
            if math.isnan(value) or math.isnan(ours):
                out.append(f'<text x="{x(1) + 4:.1f}" y="{y + bar_h - 1}" fill="{COLORS[peer]}">fails</text>')
                continue
            ratio = value / ours
            x0, x1 = sorted([x(1), x(ratio)])
            out.append(
                f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{bar_h - 1}" '
                f'fill="{COLORS[peer]}"><title>{peer}: {ratio:.2f}x</title></rect>'
            )
    for k, peer in enumerate(peers):
        lx = left + (k % per_line) * legend_w
        ly = height - 22 - legend_h + 16 * (k // per_line)
        out.append(f'<rect x="{lx}" y="{ly}" width="12" height="10" fill="{COLORS[peer]}"/>')
        out.append(f'<text x="{lx + 16}" y="{ly + 9}">{peer}</text>')
    out.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
