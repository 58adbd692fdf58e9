#!/usr/bin/env python3
"""Draws a kam dashboard as a PNG from a running Prometheus, the way Grafana lays it out.

No Grafana runs where kam is built (it is not packaged in Debian 12), so this is how the README
gets a picture of what the dashboards show: every panel's queries are run as range queries
against the Prometheus that scraped a stack under load, and drawn in the panel's grid position,
with its title, unit and legend. Needs matplotlib (`pip install matplotlib`).

  deploy/grafana/render.py --prometheus http://127.0.0.1:9090 --start 1700000000 --end 1700000300 \
      --out docs/dashboards deploy/grafana/dashboards/kam-interactions.json
"""

import argparse
import json
import pathlib
import re
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

UNIT_LABELS = {"reqps": "req/s", "s": "seconds", "ops": "per second", "bytes": "bytes",
               "percentunit": "fraction", "short": ""}


def query_range(base, expr, start, end, step):
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{base}/api/v1/query_range?{params}", timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body}")
    return body["data"]["result"]


def legend(template, labels):
    if not template:
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__") or "value"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template)


def render(dashboard_path, base, start, end, step, rate_interval, out_dir):
    dashboard = json.loads(pathlib.Path(dashboard_path).read_text())
    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    # Grafana's grid: 24 columns; a unit of height is about 30 px, a column about 60 px.
    figure = plt.figure(figsize=(16, rows * 0.33))
    figure.suptitle(dashboard["title"], fontsize=15, x=0.01, y=0.998, ha="left", va="top")
    grid = figure.add_gridspec(rows, 24, hspace=2.2, wspace=3.0, left=0.04, right=0.99,
                               top=1 - 2.5 / rows, bottom=0.02)
    for panel in panels:
        pos = panel["gridPos"]
        if panel["type"] == "row":
            axis = figure.add_subplot(grid[pos["y"]:pos["y"] + 1, :])
            axis.axis("off")
            axis.text(0, 0.2, panel["title"], fontsize=12, fontweight="bold")
            continue
        axis = figure.add_subplot(grid[pos["y"]:pos["y"] + pos["h"] - 1,
                                       pos["x"]:pos["x"] + pos["w"]])
        axis.set_title(panel["title"], fontsize=9, loc="left")
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        axis.set_ylabel(UNIT_LABELS.get(unit, unit), fontsize=7)
        axis.tick_params(labelsize=7)
        axis.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
        axis.grid(alpha=0.3)
        lines = 0
        for target in panel.get("targets", []):
            expr = (target["expr"].replace("$__rate_interval", rate_interval)
                    .replace("$instance", ".*"))
            for series in query_range(base, expr, start, end, step):
                times = [datetime.fromtimestamp(float(t), tz=timezone.utc)
                         for t, _ in series["values"]]
                values = [float(v) for _, v in series["values"]]
                axis.plot(times, values, linewidth=1.2,
                          label=legend(target.get("legendFormat", ""), series["metric"]))
                lines += 1
        if lines == 0:
            axis.text(0.5, 0.5, "no data", ha="center", va="center", transform=axis.transAxes)
        elif lines <= 8:
            axis.legend(fontsize=6, loc="upper left")
    out = pathlib.Path(out_dir) / (pathlib.Path(dashboard_path).stem + ".png")
    figure.savefig(out, dpi=80)
    plt.close(figure)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dashboards", nargs="+")
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--start", type=float, required=True, help="Unix seconds")
    parser.add_argument("--end", type=float, required=True, help="Unix seconds")
    parser.add_argument("--step", default="2s")
    parser.add_argument("--rate-interval", default="10s",
                        help="what Grafana's $__rate_interval stands for (4 scrape intervals)")
    parser.add_argument("--out", required=True, help="directory for the PNG files")
    args = parser.parse_args()
    pathlib.Path(args.out).mkdir(parents=True, exist_ok=True)
    for dashboard in args.dashboards:
        print(render(dashboard, args.prometheus, args.start, args.end, args.step,
                     args.rate_interval, args.out))


if __name__ == "__main__":
    main()
