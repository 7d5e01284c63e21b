#!/usr/bin/env python3
"""Helpers for scripts/check-monitoring (standard library only).

  dashboard-exprs DASHBOARD        checks the Grafana dashboard's shape; prints its queries, one a line
  alert-exprs RULES                prints the alert rules' expressions, one a line (a small reader for the
                                   two forms alerts.yml uses, `expr: …` and `expr: |` blocks: no PyYAML needed)
  sample-metrics END               prints OpenMetrics samples of every metric the server and darkroom-ml
                                   export, for the 45 minutes before the Unix time END, for backfilling
  query URL TIME EXPRS [--require-data]
                                   runs each line of the file EXPRS as an instant query at TIME; fails
                                   on any error (and, with --require-data, on an empty answer)
"""
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request


def fail(message):
    print(f"[check-monitoring] FAILED: {message}", file=sys.stderr)
    sys.exit(1)


# --- dashboard ---------------------------------------------------------------------------------

def dashboard_exprs(path):
    """Every target's expr, after checking what Grafana and the raw-PromQL test rely on."""
    try:
        with open(path, encoding="utf-8") as file:
            dashboard = json.load(file)
    except (OSError, ValueError) as error:
        fail(f"{path}: {error}")
    panels = dashboard.get("panels")
    if not isinstance(panels, list) or not panels:
        fail(f"{path}: no panels")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    source = variables.get("DS_PROMETHEUS")
    if not source or source.get("type") != "datasource" or source.get("query") != "prometheus":
        fail(f"{path}: the DS_PROMETHEUS variable (type datasource, query prometheus) is missing")
    ids, cells, exprs = set(), set(), []
    for panel in panels:
        title = panel.get("title", "?")
        if panel.get("id") in ids:
            fail(f"{path}: panel id {panel.get('id')} is used twice")
        ids.add(panel.get("id"))
        if panel.get("panels"):
            fail(f"{path}: row {title!r} nests panels; keep rows open so every panel is top level")
        grid = panel.get("gridPos", {})
        if grid.get("x", 0) + grid.get("w", 0) > 24:
            fail(f"{path}: panel {title!r} is wider than the grid")
        for x in range(grid.get("x", 0), grid.get("x", 0) + grid.get("w", 0)):
            for y in range(grid.get("y", 0), grid.get("y", 0) + grid.get("h", 0)):
                if (x, y) in cells:
                    fail(f"{path}: panel {title!r} overlaps another")
                cells.add((x, y))
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets") or []
        if not targets:
            fail(f"{path}: panel {title!r} has no query")
        for thing in [panel] + targets:
            if thing.get("datasource") != {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}:
                fail(f"{path}: panel {title!r} does not use the ${{DS_PROMETHEUS}} data source")
        for target in targets:
            expr = target.get("expr", "")
            if not expr.strip() or "\n" in expr:
                fail(f"{path}: panel {title!r} has an empty or multi-line query")
            # Grafana's variables ($__rate_interval, $queue, …) do not exist in Prometheus.
            if "$" in expr:
                fail(f"{path}: panel {title!r} uses a Grafana variable: {expr}")
            exprs.append(expr)
    return exprs


# --- alert rules -------------------------------------------------------------------------------

def alert_exprs(path):
    """The `expr` of each rule, from the block-scalar or one-line form alerts.yml uses."""
    exprs, lines = [], open(path, encoding="utf-8").read().splitlines()
    i = 0
    while i < len(lines):
        match = re.match(r"^(\s*)expr:\s*(.*)$", lines[i])
        i += 1
        if not match:
            continue
        indent, rest = len(match.group(1)), match.group(2).strip()
        if rest not in ("|", ">", "|-", ">-"):
            exprs.append(rest.strip("'\""))
            continue
        body = []
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
            body.append(lines[i].strip())
            i += 1
        exprs.append(" ".join(part for part in body if part))
    if not exprs:
        fail(f"{path}: no expr found")
    return exprs


# --- sample metrics ----------------------------------------------------------------------------

API = {"job": "darkroom-api", "instance": "darkroom-server:8081"}
WORKERS = {"job": "darkroom-workers", "instance": "darkroom-server:8082"}
ML = {"job": "darkroom-ml", "instance": "darkroom-ml:3003"}
STEP, MINUTES = 15, 45


def labels_text(labels):
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def series(out, name, labels, value_at, end):
    """One series over the window; value_at(i) gives the sample at step i (0 = oldest)."""
    points = MINUTES * 60 // STEP
    for i in range(points + 1):
        out.append(f"{name}{labels_text(labels)} {value_at(i):g} {end - (points - i) * STEP}")


def histogram(out, name, labels, buckets, rate, typical, end):
    """A cumulative histogram receiving `rate` observations per step near `typical`."""
    def cumulative(bound):
        return lambda i: i * rate * (1 - math.exp(-bound / typical))
    for bound in buckets:
        series(out, f"{name}_bucket", {**labels, "le": f"{bound:g}"}, cumulative(bound), end)
    series(out, f"{name}_bucket", {**labels, "le": "+Inf"}, lambda i: i * rate, end)
    series(out, f"{name}_sum", labels, lambda i: i * rate * typical, end)
    series(out, f"{name}_count", labels, lambda i: i * rate, end)


def sample_metrics(end):
    out = []
    for target in (API, WORKERS, ML):
        series(out, "up", target, lambda i: 1, end)
    for method, route, status, rate in [("GET", "/api/assets/{id}", "200", 20),
                                        ("GET", "/api/server/ping", "200", 4),
                                        ("POST", "/api/assets", "201", 2),
                                        ("POST", "/api/search/smart", "500", 1)]:
        histogram(out, "http_server_duration",
                  {**API, "http_method": method, "http_route": route, "http_status_code": status},
                  [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000], rate, 40, end)
    series(out, "immich_users_total", API, lambda i: 3, end)
    series(out, "immich_queues_thumbnail_generation_started_total", API, lambda i: 2, end)
    series(out, "darkroom_upload_bytes_total", API, lambda i: i * 4_000_000, end)
    queues = ["thumbnailGeneration", "metadataExtraction", "smartSearch", "faceDetection", "backupDatabase"]
    for n, queue in enumerate(queues):
        for status, rate in [("success", 5), ("failed", 0.05), ("retrying", 0.2)]:
            histogram(out, "darkroom_job_duration_seconds", {**WORKERS, "queue": queue, "status": status},
                      [0.1, 0.5, 1, 5, 10, 30, 60, 300], rate, 1 + n, end)
        for state, value in [("waiting", lambda i: 100 + 2 * i), ("active", lambda i: 4), ("delayed", lambda i: 1),
                             ("failed", lambda i: 2), ("paused", lambda i: 0)]:
            series(out, "darkroom_queue_jobs", {**WORKERS, "queue": queue, "state": state}, value, end)
    # What belongs to a whole process: one set per process, as in a split API/workers set-up.
    for target in (API, WORKERS):
        series(out, "darkroom_db_pool_connections", {**target, "state": "busy"}, lambda i: 3, end)
        series(out, "darkroom_db_pool_connections", {**target, "state": "idle"}, lambda i: 7, end)
        series(out, "darkroom_db_pool_max_connections", target, lambda i: 10, end)
        for task in ("clip", "facial-recognition", "ocr"):
            for outcome, rate in (("ok", 3), ("error", 0.1)):
                histogram(out, "darkroom_ml_request_duration_seconds", {**target, "task": task, "outcome": outcome},
                          [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], rate, 0.3, end)
        series(out, "darkroom_ml_available", {**target, "url": "http://darkroom-ml:3003"}, lambda i: 1, end)
        series(out, "darkroom_media_disk_size_bytes", target, lambda i: 4e12, end)
        series(out, "darkroom_media_disk_free_bytes", target, lambda i: 1.2e12 - i * 1e6, end)
        series(out, "darkroom_library_assets", target, lambda i: 52_000 + i, end)
        series(out, "darkroom_library_bytes", target, lambda i: 2.6e12 + i * 4e6, end)
        series(out, "darkroom_database_backup_last_success_timestamp_seconds", target, lambda i: end - 6 * 3600, end)
        series(out, "process_memory_usage", target, lambda i: 300e6, end)
        for state, share in (("user", 0.8), ("system", 0.1)):
            series(out, "process_cpu_time_total", {**target, "process_cpu_state": state}, lambda i: i * STEP * share, end)
    for name, task, kind in [("ViT-B-32__openai", "clip", "visual"), ("ViT-B-32__openai", "clip", "textual"),
                             ("buffalo_l", "facial-recognition", "detection"),
                             ("buffalo_l", "facial-recognition", "recognition"), ("PP-OCRv5_mobile", "ocr", "detection")]:
        histogram(out, "darkroom_ml_inference_duration_seconds",
                  {**ML, "model_name": name, "model_task": task, "model_type": kind},
                  [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], 2, 0.08, end)
    series(out, "darkroom_ml_models_loaded", ML, lambda i: 5, end)
    # OpenMetrics wants each family's samples together; the lines above already are, per name.
    out.append("# EOF")
    print("\n".join(out))


# --- queries -----------------------------------------------------------------------------------

def run_queries(url, at, path, require_data):
    exprs = [line for line in open(path, encoding="utf-8").read().splitlines() if line.strip()]
    problems = []
    for expr in exprs:
        query = urllib.parse.urlencode({"query": expr, "time": at})
        try:
            with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=30) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            answer = json.load(error)
        if answer.get("status") != "success":
            problems.append(f"{expr}\n    error: {answer.get('errorType')}: {answer.get('error')}")
        elif answer.get("warnings"):
            problems.append(f"{expr}\n    warnings: {answer['warnings']}")
        elif require_data and answer["data"]["resultType"] == "vector" and not answer["data"]["result"]:
            problems.append(f"{expr}\n    no data (a metric or label name the server does not export?)")
    for problem in problems:
        print(f"[check-monitoring]   {problem}", file=sys.stderr)
    if problems:
        fail(f"{len(problems)} of {len(exprs)} queries in {path}")
    print(f"[check-monitoring] {len(exprs)} queries ran without error" + (" and returned data" if require_data else ""))


def main(argv):
    if len(argv) >= 2 and argv[0] == "dashboard-exprs":
        print("\n".join(dashboard_exprs(argv[1])))
    elif len(argv) >= 2 and argv[0] == "alert-exprs":
        print("\n".join(alert_exprs(argv[1])))
    elif len(argv) >= 2 and argv[0] == "sample-metrics":
        sample_metrics(int(argv[1]))
    elif len(argv) >= 4 and argv[0] == "query":
        run_queries(argv[1], argv[2], argv[3], "--require-data" in argv[4:])
    else:
        fail(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
