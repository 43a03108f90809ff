#!/usr/bin/env python3
"""The rough edges a new user hit, each as real processes on 127.0.0.1:

  - --bind with a host name: resolved (localhost), or refused with a message to use an
    IP address or *, before the journal or spool folder is created;
  - --topics, --boilerplate, --log and --state given a folder say it is a folder;
  - a folder, a FIFO and a dangling symlink in incoming/ are logged once per name;
  - a failed article's .error says how to retry;
  - a subscriber that hears from no publisher (a closed port, a host that does not
    resolve) warns once;
  - --once prints the look-back and exits 0 (and needs a look-back);
  - --kind shows only the kinds asked for;
  - --format compact: the title once, alerts indented, lines cut to $COLUMNS.

Usage: rough_edges_test.py PUB_BIN SUB_BIN ARTICLE
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PUB, SUB, ARTICLE = sys.argv[1:4]
LIMIT_S = 30
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


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=LIMIT_S, **kw)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there now
    return port


def test_usage_edges(work):
    journal, spool = os.path.join(work, "j-unused"), os.path.join(work, "s-unused")
    r = run([PUB, "--config", "none", "--bind", "tcp://nosuch.invalid:5560", "--journal", journal,
             "--spool", spool])
    check("--bind with a name that does not resolve: exit 3", r.returncode == 3, r.returncode)
    check("... says to use an IP address or *",
          "use an IP address (127.0.0.1) or * for every interface" in r.stderr, r.stderr.strip())
    check("... before creating the journal or the spool",
          not os.path.exists(journal) and not os.path.exists(spool))
    for prog, flag in ((PUB, "--topics"), (PUB, "--boilerplate"), (SUB, "--log"), (SUB, "--state")):
        r = run([prog, "--config", "none", flag, work])
        check(f"{os.path.basename(prog)} {flag} FOLDER: exit 2, 'is a folder'",
              r.returncode == 2 and f"{flag} {work}: is a folder, not a file" in r.stderr,
              r.stderr.strip()[:200])
    r = run([SUB, "--config", "none", "--once"])
    check("--once without a look-back: exit 2, says what it needs",
          r.returncode == 2 and "--once needs --since, --last or --state" in r.stderr,
          r.stderr.strip()[:200])
    r = run([SUB, "--config", "none", "--kind", "headline,column"])
    check("--kind with a wrong kind: exit 2, names it",
          r.returncode == 2 and "'column' is not a kind" in r.stderr, r.stderr.strip()[:200])


def test_no_publisher(work):
    for endpoint in (f"tcp://127.0.0.1:{closed_port()}", "tcp://nosuch.invalid:5556"):
        r = run([SUB, "--config", "none", "-c", endpoint, "-W", "5"])
        n = r.stderr.count("no publisher heard from")
        check(f"no publisher on {endpoint}: warned once, then -W exits 3",
              n == 1 and r.returncode == 3 and endpoint in r.stderr, f"{n} warnings, exit {r.returncode}")


def test_with_publisher(work):
    spool, journal = os.path.join(work, "spool"), os.path.join(work, "journal")
    pub_log = os.path.join(work, "pub.log")
    pub = subprocess.Popen([PUB, "--config", "none", "--spool", spool, "--journal", journal,
                            "--bind", "tcp://localhost:*", "--replay-bind", "tcp://localhost:*",
                            "--heartbeat", "200ms"], stderr=open(pub_log, "w"))
    try:
        endpoint = wait_for("the publisher listening", lambda: (
            lambda m: m.group(1) if m else None)(re.search(r"info: listening on (tcp://\S+)",
                                                           read(pub_log))))
        check("--bind tcp://localhost:* listens on 127.0.0.1", endpoint.startswith("tcp://127.0.0.1:"),
              endpoint)
        incoming = os.path.join(spool, "incoming")
        os.mkdir(os.path.join(incoming, "a-folder"))
        os.mkfifo(os.path.join(incoming, "a-fifo"))
        os.symlink(os.path.join(work, "nowhere"), os.path.join(incoming, "a-dangling-link"))
        odd = {"a-folder": "is a folder", "a-fifo": "is a FIFO",
               "a-dangling-link": "is a dangling symlink"}
        wait_for("the odd entries logged", lambda: all(
            f"incoming/{n} {why}" in read(pub_log) for n, why in odd.items()))
        second = os.path.join(os.path.dirname(ARTICLE), "02-defense-budget.txt")
        for i, src in ((1, ARTICLE), (2, second)):  # each publish lists incoming/ again
            tmp = os.path.join(spool, f".good{i}")
            shutil.copy(src, tmp)
            os.rename(tmp, os.path.join(incoming, f"good{i}.txt"))
            wait_for(f"good{i}.txt published", lambda: f"published good{i}.txt" in read(pub_log))
        text = read(pub_log)
        for name, why in odd.items():
            n = text.count(f"incoming/{name} {why}")
            check(f"incoming/{name} ({why}) logged once", n == 1, f"{n} times")

        with open(os.path.join(spool, ".bad"), "wb") as f:
            f.write(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00")
        os.rename(os.path.join(spool, ".bad"), os.path.join(incoming, "bad.bin"))
        error = wait_for("failed/bad.bin.error", lambda: read(os.path.join(spool, "failed",
                                                                           "bad.bin.error")))
        check("the .error says how to retry",
              "to retry, fix the cause and move it from failed/ back into incoming/" in error
              and error.count("\n") == 1, error.strip())

        r = run([SUB, "--config", "none", "-c", endpoint, "--last", "5", "--once", "-W", "20",
                 "--format", "%k|%m"])
        lines = r.stdout.splitlines()
        check("--last 5 --once: 5 alerts, exit 0", r.returncode == 0 and len(lines) == 5,
              f"exit {r.returncode}, {len(lines)} lines")
        r = run([SUB, "--config", "none", "-c", endpoint, "--last", "40", "--once", "-W", "20",
                 "--kind", "headline,keypoint", "--format", "%k"])
        kinds = set(r.stdout.split())
        check("--kind headline,keypoint: only those", r.returncode == 0
              and kinds == {"headline", "keypoint"}, kinds)
        r = run([SUB, "--config", "none", "-c", endpoint, "--last", "40", "--once", "-W", "20",
                 "--format", "compact"], env=dict(os.environ, COLUMNS="50"))
        lines = r.stdout.splitlines()
        titles = [x for x in lines if not x.startswith("  ")]
        check("compact: one title line per article (2 published)", len(titles) == 2
              and titles[0] != titles[1], titles)
        check("compact: the alerts indented under it", len(lines) > 4 and all(
            x.startswith("  ") for x in lines if x not in titles))
        check("compact: every line cut to 50 columns", all(len(x) <= 50 for x in lines)
              and any(x.endswith("\u2026") for x in lines), max(len(x) for x in lines))
        r = run([SUB, "--config", "none", "-c", endpoint, "--last", "3", "--once", "-W", "20",
                 "--format", "compact", "--full"], env=dict(os.environ, COLUMNS="50"))
        check("--full: every field, one line per alert", len(r.stdout.splitlines()) == 3
              and all(" -- " in x for x in r.stdout.splitlines()), r.stdout[:200])
    finally:
        pub.send_signal(signal.SIGTERM)
        check("the publisher exits 0 on SIGTERM", pub.wait(timeout=LIMIT_S) == 0)


def main():
    work = tempfile.mkdtemp(prefix="nw-rough.")
    try:
        test_usage_edges(work)
        test_no_publisher(work)
        test_with_publisher(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        raise SystemExit(f"FAIL: {len(failures)} checks failed")
    print("PASS")


main()
