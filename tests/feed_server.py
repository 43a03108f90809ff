#!/usr/bin/env python3
"""A local HTTP server for the feed tests: serves the files of DIR on 127.0.0.1 with ETag
and Last-Modified (answering 304 to a matching If-None-Match or If-Modified-Since), plus
misbehaving paths:

  /status/CODE      answers CODE with a short body
  /slow/SECONDS     waits SECONDS before answering (a stuck server)
  /loop             redirects to itself, forever
  /redirect/PATH    redirects once to /PATH
  /big              50 MB of XML without a Content-Length (read until the server closes)
  /bigcl            50 MB with a Content-Length

Prints "PORT N" once listening, then one line per request: "GET PATH STATUS".
Usage: feed_server.py DIR
"""
import email.utils
import hashlib
import http.server
import os
import sys
import threading
import time

ROOT = sys.argv[1]
BIG = 50 * 1024 * 1024
# print() writes the text and its newline separately: two handler threads could interleave
# them ("GET /loop 302GET /loop 302\n\n"), and a test counting lines would miss a request.
SAY_LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: simple, and /big ends on close

    def log_message(self, fmt, *args):
        pass

    def _say(self, status):
        with SAY_LOCK:
            sys.stdout.write("GET %s %d\n" % (self.path, status))
            sys.stdout.flush()

    def _answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self._say(status)

    def _big(self, with_length):
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        if with_length:
            self.send_header("Content-Length", str(BIG))
        self.end_headers()
        self._say(200)
        chunk = b"<!-- " + b"x" * (64 * 1024 - 9) + b" -->"
        try:
            self.wfile.write(b"<rss version='2.0'><channel>")
            for _ in range(BIG // len(chunk)):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("/status/"):
            return self._answer(int(path[8:]), b"no feed here\n")
        if path.startswith("/slow/"):
            time.sleep(float(path[6:]))
            return self._answer(200, b"<rss version='2.0'><channel></channel></rss>")
        if path == "/loop":
            return self._answer(302, headers=[("Location", "/loop")])
        if path.startswith("/redirect/"):
            return self._answer(302, headers=[("Location", path[9:])])
        if path in ("/big", "/bigcl"):
            return self._big(path == "/bigcl")
        file = os.path.join(ROOT, os.path.basename(path))
        if not os.path.isfile(file):
            return self._answer(404, b"not found\n")
        with open(file, "rb") as f:
            body = f.read()
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        mtime = email.utils.formatdate(int(os.path.getmtime(file)), usegmt=True)
        if self.headers.get("If-None-Match") == etag:
            return self._answer(304, headers=[("ETag", etag)])
        ctype = "text/html" if file.endswith(".html") else "application/xml"
        self._answer(200, body, [("ETag", etag), ("Last-Modified", mtime),
                                 ("Content-Type", ctype)])


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
