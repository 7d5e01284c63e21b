#!/usr/bin/env python3
"""Helpers of scripts/check-crowdsec (needs PyYAML: Debian's python3-yaml).

  cases CASES_YAML
      prints one case a line: LOG TYPE
  dumps CASES_YAML LOG DUMP_DIR
      checks what `crowdsec -dump-data DUMP_DIR` wrote for LOG against the case: the lines the
      Darkroom parsers read (by log_type, status and address), the lines they did not, and the
      alerts of each scenario
  alerts CASES_YAML LOG ALERTS_JSON
      checks `cscli alerts list -o json` after the same log was replayed into the Local API:
      the same alerts as the case says, each with a ban decision
"""
import collections
import json
import sys

import yaml

OUR_PARSERS = ("darkroom/darkroom-logs", "darkroom/darkroom-console-logs")


def load_case(cases_path, log):
    with open(cases_path) as f:
        cases = yaml.safe_load(f)["cases"]
    for case in cases:
        if case["log"] == log:
            return case
    sys.exit(f"no case for {log} in {cases_path}")


def parse_key(meta):
    if meta.get("log_type") == "darkroom_access":
        return f"darkroom_access {meta.get('http_status')}"
    return meta.get("log_type")


def normalised(expected):
    """{key: {ip: count}} with every ip and count as strings and ints."""
    return {key: {str(ip): int(n) for ip, n in (by_ip or {}).items()} for key, by_ip in (expected or {}).items()}


def compare(what, got, wanted, failures):
    if got != wanted:
        failures.append(f"{what}:\n    got    {json.dumps(got, sort_keys=True)}\n    wanted {json.dumps(wanted, sort_keys=True)}")


def check_dumps(cases_path, log, dump_dir):
    case = load_case(cases_path, log)
    failures = []
    with open(f"{dump_dir}/parser-dump.yaml") as f:
        parser_dump = yaml.safe_load(f) or {}
    s01 = parser_dump.get("s01-parse", {})
    lines = len(parser_dump.get("s00-raw", {}).get("crowdsecurity/syslog-logs", [])) or len(
        parser_dump.get("s00-raw", {}).get("crowdsecurity/non-syslog", [])
    )
    parsed = collections.defaultdict(collections.Counter)
    parsed_lines = 0
    for name in OUR_PARSERS:
        for result in s01.get(name, []):
            if not result.get("success"):
                continue
            parsed_lines += 1
            meta = result["evt"].get("Meta") or {}
            if not meta.get("source_ip"):
                failures.append(f"{name} read a line without source_ip: {result['evt']['Line']['Raw'][:200]}")
            if meta.get("service") != "darkroom":
                failures.append(f"{name} read a line without service=darkroom: {result['evt']['Line']['Raw'][:200]}")
            if not result["evt"].get("StrTime"):
                failures.append(f"{name} read a line without its time: {result['evt']['Line']['Raw'][:200]}")
            parsed[parse_key(meta)][meta.get("source_ip")] += 1
    got_parsed = {key: dict(by_ip) for key, by_ip in parsed.items()}
    compare("lines read, by log_type and address", got_parsed, normalised(case.get("parsed")), failures)
    # Every line goes through s00-raw; the ones no Darkroom parser read are the unparsed.
    compare("lines no Darkroom parser read", lines - parsed_lines, int(case.get("unparsed", 0)), failures)

    with open(f"{dump_dir}/bucket-dump.yaml") as f:
        overflows = yaml.safe_load(f) or []
    alerts = collections.defaultdict(set)
    for event in overflows:
        alert = (event.get("Overflow") or {}).get("Alert") or {}
        alerts[alert.get("scenario")].add((alert.get("source") or {}).get("value"))
    got_alerts = {scenario: sorted(ips) for scenario, ips in alerts.items()}
    wanted_alerts = {scenario: sorted(str(ip) for ip in ips) for scenario, ips in (case.get("alerts") or {}).items()}
    compare("alerts (replay with -dump-data)", got_alerts, wanted_alerts, failures)
    report(log, "parsers and scenarios", failures)
    print(
        f"{log}: {parsed_lines} lines read as {', '.join(f'{k} x{sum(v.values())}' for k, v in sorted(got_parsed.items()))};"
        f" {lines - parsed_lines} others; alerts {json.dumps(got_alerts, sort_keys=True)}"
    )


def check_alerts(cases_path, log, alerts_path):
    case = load_case(cases_path, log)
    failures = []
    with open(alerts_path) as f:
        listed = json.load(f) or []
    alerts = collections.defaultdict(set)
    for alert in listed:
        ip = (alert.get("source") or {}).get("value")
        alerts[alert.get("scenario")].add(ip)
        bans = [d for d in alert.get("decisions") or [] if d.get("type") == "ban" and d.get("value") == ip]
        if not bans:
            failures.append(f"alert {alert.get('scenario')} for {ip} has no ban decision")
    got = {scenario: sorted(ips) for scenario, ips in alerts.items()}
    wanted = {scenario: sorted(str(ip) for ip in ips) for scenario, ips in (case.get("alerts") or {}).items()}
    compare("alerts in the Local API", got, wanted, failures)
    report(log, "Local API", failures)
    print(f"{log}: {len(listed)} alert(s) in the Local API, each with a ban: {json.dumps(got, sort_keys=True)}")


def report(log, what, failures):
    if failures:
        print(f"{log} ({what}) FAILED:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        sys.exit(1)


def main():
    args = sys.argv[1:]
    if args[:1] == ["cases"] and len(args) == 2:
        with open(args[1]) as f:
            for case in yaml.safe_load(f)["cases"]:
                print(case["log"], case["type"])
    elif args[:1] == ["dumps"] and len(args) == 4:
        check_dumps(*args[1:])
    elif args[:1] == ["alerts"] and len(args) == 4:
        check_alerts(*args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
