#!/usr/bin/env python3
"""--metrics-bind on both programs, as real processes on 127.0.0.1.

A known run: one publisher, one subscriber of every topic with an --exec hook
that fails, one good and one bad article, then a look-back subscriber
(--last 3). Each daemon's GET /metrics is scraped and checked against what the
run must have produced (the alert counts come from the publisher's own
--dry-run of the article).

Usage: metrics_test.py PUB_BIN SUB_BIN ARTICLE
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

PUB, SUB, ARTICLE = sys.argv[1:4]
LIMIT_S = 30  # bound on every wait; the machine may be loaded
failures = []


def check(what, ok, detail=""):
    print(("ok: " if ok else "FAIL: ") + what + (f" ({detail})" if detail else ""))
    if not ok:
        failures.append(what)


def wait_for(what, predicate):
    deadline = time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"FAIL: {what} within {LIMIT_S} s")


def log_value(path, pattern):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            m = re.search(pattern, f.read())
    except FileNotFoundError:
        return None
    return m.group(1) if m else None


def scrape(port):
    """Returns {series: value} from GET /metrics (series with labels as written)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        check_type = r.headers.get("Content-Type", "")
        text = r.read().decode()
    assert check_type.startswith("text/plain; version=0.0.4"), check_type
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def metrics_port(log):
    return wait_for(f"'metrics: listening on' in {log}",
                    lambda: log_value(log, r"metrics: listening on http://127\.0\.0\.1:(\d+)/metrics"))


def main():
    work = tempfile.mkdtemp(prefix="nw-metrics.")
    procs = []
    try:
        spool, journal = os.path.join(work, "spool"), os.path.join(work, "journal")
        dry = subprocess.run([PUB, "--config", "none", "--dry-run", ARTICLE], check=True,
                             capture_output=True, text=True).stdout.splitlines()
        alerts = [json.loads(line) for line in dry]
        n_alerts = len(alerts)
        n_messages = sum(len(a["topics"]) for a in alerts)
        print(f"dry run: {n_alerts} alerts, {n_messages} messages")

        pub_log = os.path.join(work, "pub.log")
        pub = subprocess.Popen([PUB, "--config", "none", "--spool", spool, "--journal", journal,
                                "--bind", "tcp://127.0.0.1:*", "--replay-bind",
                                "tcp://127.0.0.1:*", "--heartbeat", "100ms",
                                "--metrics-bind", "127.0.0.1:0"],
                               stderr=open(pub_log, "w"))
        procs.append(pub)
        endpoint = wait_for("the publisher listening",
                            lambda: log_value(pub_log, r"info: listening on (tcp://\S+)"))
        pub_port = metrics_port(pub_log)

        sub_log, sub_out = os.path.join(work, "sub.log"), os.path.join(work, "sub.out")
        sub = subprocess.Popen([SUB, "--config", "none", "-c", endpoint, "--format", "json",
                                "--exec", "false", "--metrics-bind", "127.0.0.1:*"],
                               stdout=open(sub_out, "w"), stderr=open(sub_log, "w"))
        procs.append(sub)
        sub_port = metrics_port(sub_log)
        wait_for("the subscription at the publisher",
                 lambda: log_value(pub_log, r"(subscriber subscribed)"))

        for name, src in (("good.txt", ARTICLE), ("bad.bin", None)):
            tmp = os.path.join(spool, "." + name)
            if src:
                shutil.copy(src, tmp)
            else:
                with open(tmp, "wb") as f:
                    f.write(b"\x00\x01\x02\x03binary")
            os.rename(tmp, os.path.join(spool, "incoming", name))

        # Counted once each article is done with: the good one after its group fsync, which
        # may end after the bad one failed.
        p = wait_for("the publisher's metrics of the run", lambda: (
            lambda m: m if m.get('newswire_pub_articles_total{result="failed"}') == 1
            and m.get('newswire_pub_articles_total{result="done"}') == 1
            and m.get("newswire_pub_journal_records") == n_alerts
            and m.get("newswire_pub_subscribers") == 1 else None)(scrape(pub_port)))
        check("pub: articles done 1", p['newswire_pub_articles_total{result="done"}'] == 1)
        check("pub: articles failed 1", p['newswire_pub_articles_total{result="failed"}'] == 1)
        check(f"pub: alerts {n_alerts}", p["newswire_pub_alerts_total"] == n_alerts,
              p["newswire_pub_alerts_total"])
        check(f"pub: messages {n_messages}", p["newswire_pub_messages_total"] == n_messages,
              p["newswire_pub_messages_total"])
        check("pub: heartbeats sent", p["newswire_pub_heartbeats_total"] >= 1)
        check("pub: 1 subscriber connected", p["newswire_pub_subscribers"] == 1)
        check("pub: 1 subscription (every topic)", p["newswire_pub_subscriptions"] == 1,
              p["newswire_pub_subscriptions"])
        check("pub: 1 journal segment", p["newswire_pub_journal_segments"] == 1)
        check("pub: journal bytes", p["newswire_pub_journal_bytes"] > 0)
        check("pub: fsync histogram counted the article's sync",
              p["newswire_pub_journal_fsync_seconds_count"] >= 1
              and p['newswire_pub_journal_fsync_seconds_bucket{le="+Inf"}']
              == p["newswire_pub_journal_fsync_seconds_count"])
        check("pub: no replay yet", p["newswire_pub_replay_requests_total"] == 0)

        s = wait_for("the subscriber's metrics of the run", lambda: (
            lambda m: m if m.get("newswire_sub_printed_total") == n_alerts
            and m.get("newswire_sub_exec_failures_total") == n_alerts else None)(scrape(sub_port)))
        check(f"sub: received {n_messages} frames", s["newswire_sub_received_total"] == n_messages,
              s["newswire_sub_received_total"])
        check(f"sub: printed {n_alerts}", s["newswire_sub_printed_total"] == n_alerts)
        check(f"sub: duplicates {n_messages - n_alerts}",
              s["newswire_sub_duplicates_total"] == n_messages - n_alerts,
              s["newswire_sub_duplicates_total"])
        check("sub: nothing filtered, no gap, nothing missed, no bad frame",
              s["newswire_sub_filtered_total"] == 0 and s["newswire_sub_gaps_total"] == 0
              and s["newswire_sub_missed_total"] == 0 and s["newswire_sub_bad_frames_total"] == 0)
        check(f"sub: exec runs {n_alerts}, failures {n_alerts}",
              s["newswire_sub_exec_runs_total"] == n_alerts
              and s["newswire_sub_exec_failures_total"] == n_alerts)
        check(f"sub: lag histogram counted {n_alerts}",
              s["newswire_sub_lag_seconds_count"] == n_alerts
              and s['newswire_sub_lag_seconds_bucket{le="+Inf"}'] == n_alerts,
              s["newswire_sub_lag_seconds_count"])
        check("sub: nothing repaired live", s["newswire_sub_repaired_total"] == 0)

        # A look-back subscriber: three alerts come by replay.
        back_log = os.path.join(work, "back.log")
        back = subprocess.Popen([SUB, "--config", "none", "-c", endpoint, "-q", "--last", "3",
                                 "--metrics-bind", "127.0.0.1:0"], stderr=open(back_log, "w"))
        procs.append(back)
        back_port = metrics_port(back_log)
        b = wait_for("the look-back subscriber's metrics", lambda: (
            lambda m: m if m.get("newswire_sub_printed_total") == 3 else None)(scrape(back_port)))
        check("look-back sub: repaired 3", b["newswire_sub_repaired_total"] == 3,
              b["newswire_sub_repaired_total"])
        p = wait_for("the publisher's replay metrics", lambda: (
            lambda m: m if m.get("newswire_pub_replay_alerts_total") == 3 else None)(scrape(pub_port)))
        check("pub: 1 replay request, 3 alerts replayed, no error",
              p["newswire_pub_replay_requests_total"] == 1
              and p["newswire_pub_replay_alerts_total"] == 3
              and p["newswire_pub_replay_errors_total"] == 0)
        check("pub: 2 subscribers connected", p["newswire_pub_subscribers"] == 2,
              p["newswire_pub_subscribers"])
        with urllib.request.urlopen(f"http://127.0.0.1:{pub_port}/metrics", timeout=10) as r:
            check("HTTP 200 on /metrics", r.status == 200)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{pub_port}/", timeout=10)
            check("404 elsewhere", False)
        except urllib.error.HTTPError as e:
            check("404 elsewhere", e.code == 404, e.code)

        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            check(f"{os.path.basename(proc.args[0])} exits 0 on SIGTERM",
                  proc.wait(timeout=LIMIT_S) == 0)
        procs = []
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        raise SystemExit(f"FAIL: {len(failures)} checks failed")
    print("PASS")


main()
