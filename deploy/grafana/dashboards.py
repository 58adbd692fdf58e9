#!/usr/bin/env python3
"""Writes kam's Grafana dashboards (deploy/grafana/dashboards/*.json) from the panel lists below.

One dashboard per service and one for the alert stream. The panels are kept here, as data, so
that every dashboard has the same layout, variables and units, and so that the observability test
(tests/e2e/observability_test.cc) can run every panel's query against a real Prometheus that
scrapes a running stack. `--check` fails when the JSON files are not what this script writes.

Usage: deploy/grafana/dashboards.py [--check]
"""
import json
import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parent / "dashboards"
RATE = "[$__rate_interval]"


def sel(job, extra=""):
    return '{job="%s",instance=~"$instance"%s}' % (job, extra)


def calls(job):
    s = sel(job)
    return [
        ("Calls per second by method", "reqps",
         [("sum by (method) (rate(kam_grpc_requests_total%s%s))" % (s, RATE), "{{method}}")]),
        ("Calls per second by status code", "reqps",
         [("sum by (code) (rate(kam_grpc_requests_total%s%s))" % (s, RATE), "{{code}}")]),
        ("Latency p99 by method", "s",
         [("histogram_quantile(0.99, sum by (le, method) (rate(kam_grpc_request_seconds_bucket%s%s)))"
           % (s, RATE), "{{method}}")]),
        ("Latency p50 by method", "s",
         [("histogram_quantile(0.5, sum by (le, method) (rate(kam_grpc_request_seconds_bucket%s%s)))"
           % (s, RATE), "{{method}}")]),
    ]


def stream(job):
    s = sel(job)
    return [
        ("Consumer lag by topic (records)", "short",
         [("sum by (topic) (kam_consumer_lag_records%s)" % s, "{{topic}}")]),
        ("Input records applied per second", "short",
         [("sum by (instance) (rate(kam_consumer_applied_total%s%s))" % (s, RATE), "{{instance}}")]),
        ("Stream tasks by state", "short",
         [("sum by (state) (kam_tasks%s)" % s, "{{state}}")]),
        ("Dead-lettered input records (last hour)", "short",
         [("sum by (instance) (increase(kam_consumer_dead_lettered_total%s[1h]))" % s,
           "{{instance}}")]),
    ]


def transactions(job):
    s = sel(job)
    return [
        ("Kafka transactions per second", "short",
         [("sum by (instance) (rate(kam_changelog_transactions_total%s%s))" % (s, RATE),
           "committed {{instance}}"),
          ("sum by (instance) (rate(kam_changelog_transactions_aborted_total%s%s))" % (s, RATE),
           "aborted {{instance}}")]),
        ("Restore: records left to read", "short",
         [("sum by (instance) (kam_task_restore_remaining_records%s)" % s, "{{instance}}")]),
    ]


def process(job):
    s = sel(job)
    return [
        ("CPU (cores)", "short",
         [("rate(process_cpu_seconds_total%s%s)" % (s, RATE), "{{instance}}")]),
        ("Resident memory", "bytes", [("process_resident_memory_bytes%s" % s, "{{instance}}")]),
        ("Open file descriptors", "short", [("process_open_fds%s" % s, "{{instance}}")]),
        ("Threads", "short", [("process_threads%s" % s, "{{instance}}")]),
    ]


def accounts():
    job = "kam-accounts"
    s = sel(job)
    return [
        ("Calls", calls(job)),
        ("The book", [
            ("Accounts and managers", "short",
             [("max(kam_accounts%s)" % s, "accounts"), ("max(kam_managers%s)" % s, "managers")]),
            ("Writer (1 = this instance writes the book)", "short",
             [("kam_accounts_writer%s" % s, "{{instance}}")]),
            ("Standby trails the writer by (changelog records)", "short",
             [("max by (instance) (kam_standby_behind_records%s)" % s, "{{instance}}")]),
            ("Writer elections (last hour)", "short",
             [("sum by (instance) (increase(kam_accounts_writer_elections_total%s[1h]))" % s,
               "{{instance}}")]),
        ]),
        ("Kafka", transactions(job) + stream(job)[:3]),
        ("Process", process(job)),
    ]


def interactions():
    job = "kam-interactions"
    s = sel(job)
    return [
        ("Calls", calls(job)),
        ("Outbox", [
            ("Oldest unpublished event (age)", "s",
             [("max by (instance) (kam_outbox_oldest_pending_age_seconds%s)" % s, "{{instance}}")]),
            ("Events published per second", "short",
             [("sum by (instance) (rate(kam_outbox_published_total%s%s))" % (s, RATE),
               "{{instance}}")]),
            ("Relay errors per second", "short",
             [("sum by (instance) (rate(kam_outbox_relay_errors_total%s%s))" % (s, RATE),
               "{{instance}}")]),
        ]),
        ("Kafka", stream(job)),
        ("Process", process(job)),
    ]


def alerts():
    job = "kam-alerts"
    s = sel(job)
    return [
        ("Calls", calls(job)),
        ("Kafka", transactions(job) + stream(job)),
        ("Views", [
            ("Alerts in the view", "short", [("max(kam_alerts_view_alerts%s)" % s, "alerts")]),
            ("Accounts in the KPI book", "short", [("max(kam_kpi_accounts%s)" % s, "accounts")]),
            ("Interactions held back for their account (last hour)", "short",
             [("sum(increase(kam_alerts_parked_total%s[1h]))" % s, "held back")]),
        ]),
        ("Process", process(job)),
    ]


def alert_stream():
    s = sel("kam-alerts")
    return [
        ("What kam raises", [
            ("Alerts fired by rule (last hour)", "short",
             [('sum by (rule) (increase(kam_alert_changes_total%s[1h]))'
               % sel("kam-alerts", ',change="FIRED"'), "{{rule}}")]),
            ("Alert changes per minute by change", "short",
             [("sum by (change) (rate(kam_alert_changes_total%s%s)) * 60" % (s, RATE),
               "{{change}}")]),
            ("Alert changes per minute by severity", "short",
             [("sum by (severity) (rate(kam_alert_changes_total%s%s)) * 60" % (s, RATE),
               "{{severity}}")]),
            ("Alert changes by change (last day)", "short",
             [("sum by (change) (increase(kam_alert_changes_total%s[1d]))" % s, "{{change}}")]),
        ]),
        ("Is the stream healthy", [
            ("Alerts engine lag (records)", "short",
             [("sum by (topic) (kam_consumer_lag_records%s)" % s, "{{topic}}")]),
            ("Dead-lettered records (last hour)", "short",
             [("sum(increase(kam_consumer_dead_lettered_total%s[1h]))" % s, "dead letters")]),
            ("Aborted transactions per second", "short",
             [("sum(rate(kam_changelog_transactions_aborted_total%s%s))" % (s, RATE), "aborted")]),
        ]),
    ]


def dashboard(uid, title, job, rows):
    panels = []
    y = 0
    panel_id = 1
    for row_title, row_panels in rows:
        panels.append({"type": "row", "title": row_title, "id": panel_id, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        panel_id += 1
        y += 1
        for i, (title_, unit, targets) in enumerate(row_panels):
            panels.append({
                "type": "timeseries",
                "title": title_,
                "id": panel_id,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": y + 8 * (i // 2)},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom"},
                            "tooltip": {"mode": "multi"}},
                "targets": [{"refId": chr(ord("A") + k), "expr": expr, "legendFormat": legend,
                             "datasource": {"type": "prometheus", "uid": "${datasource}"}}
                            for k, (expr, legend) in enumerate(targets)],
            })
            panel_id += 1
        y += 8 * ((len(row_panels) + 1) // 2)
    return {
        "uid": uid,
        "title": title,
        "tags": ["kam"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource",
             "query": "prometheus", "current": {}, "hide": 0},
            {"name": "instance", "label": "Instance", "type": "query",
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "definition": 'label_values(up{job="%s"}, instance)' % job,
             "query": {"query": 'label_values(up{job="%s"}, instance)' % job, "refId": "A"},
             "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2,
             "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "hide": 0},
        ]},
        "annotations": {"list": []},
        "panels": panels,
    }


DASHBOARDS = {
    "kam-accounts.json": dashboard("kam-accounts", "kam / accounts", "kam-accounts", accounts()),
    "kam-interactions.json": dashboard("kam-interactions", "kam / interactions",
                                       "kam-interactions", interactions()),
    "kam-alerts.json": dashboard("kam-alerts", "kam / alerts", "kam-alerts", alerts()),
    "kam-alert-stream.json": dashboard("kam-alert-stream", "kam / alert stream", "kam-alerts",
                                       alert_stream()),
}


def main():
    check = sys.argv[1:] == ["--check"]
    stale = []
    for name, board in DASHBOARDS.items():
        text = json.dumps(board, indent=2, sort_keys=True) + "\n"
        path = OUT / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        sys.exit("dashboards.py: %s not current: run deploy/grafana/dashboards.py"
                 % ", ".join(stale))


if __name__ == "__main__":
    main()
