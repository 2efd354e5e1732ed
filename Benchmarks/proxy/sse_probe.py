#!/usr/bin/env python3
"""Per-chunk streaming delay probe for scripts/bench-proxy.sh (standard library only).

  sse_probe.py serve --port P --fixture chat-stream.sse --interval-ms 10
      An OpenAI-like upstream that answers any POST with the fixture's SSE events, one
      HTTP chunk per event, `interval-ms` apart (as a model generating tokens would).

  sse_probe.py measure --direct URL --proxied URL --body request.json --requests N
      Sends N streaming requests to each URL, alternating, one at a time, and records for
      every event when it was complete at the client (ms after the request was sent).
      Prints one JSON object: what the proxy added to each event's arrival (median over
      the requests, proxied − direct). A proxy that held chunks back would add the waiting
      time to the earlier events: the first one would arrive up to a whole stream late.

Only loopback URLs are used by the benchmark.
"""
import argparse
import http.client
import json
import socket
import statistics
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(args):
    with open(args.fixture, "rb") as f:
        events = [e + b"\n\n" for e in f.read().split(b"\n\n") if e.strip()]
    interval = args.interval_ms / 1000.0

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *a):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            for i, event in enumerate(events):
                if i:
                    time.sleep(interval)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def do_GET(self):
            body = b"ok\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def one_request(url, body):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    path = u.path + ("?" + u.query if u.query else "")
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Bearer sk-bench-0000000000000000000000000000000000000002",
        "api-key": "sk-bench-0000000000000000000000000000000000000002",
        "X-Bench-Fixture": "stream",
    }
    start = time.perf_counter()
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"{url}: HTTP {response.status}: {response.read()[:300]!r}")
    arrivals, buffered, seen = [], b"", 0
    while True:
        data = response.read1(65536)
        if not data:
            break
        now = (time.perf_counter() - start) * 1000
        buffered += data
        complete = buffered.count(b"\n\n")
        arrivals.extend([now] * (complete - seen))
        seen = complete
    conn.close()
    return arrivals


def medians(runs, url):
    counts = {len(r) for r in runs}
    if len(counts) != 1:
        raise SystemExit(f"{url}: event counts differ between requests: {sorted(counts)}")
    return [statistics.median(r[k] for r in runs) for k in range(len(runs[0]))]


def measure(args):
    with open(args.body, "rb") as f:
        body = f.read()
    for _ in range(2):  # warm-up: first connections, imports, the agent's first stream
        one_request(args.direct, body)
        one_request(args.proxied, body)
    direct_runs, proxied_runs = [], []
    for _ in range(args.requests):  # alternate, so drifting machine load hits both alike
        direct_runs.append(one_request(args.direct, body))
        proxied_runs.append(one_request(args.proxied, body))
    d, a = medians(direct_runs, args.direct), medians(proxied_runs, args.proxied)
    if len(d) != len(a):
        raise SystemExit(f"event counts differ: direct {len(d)}, proxied {len(a)}")
    added = [x - y for x, y in zip(a, d)]
    gaps_d = [d[k] - d[k - 1] for k in range(1, len(d))]
    gaps_a = [a[k] - a[k - 1] for k in range(1, len(a))]
    print(json.dumps({
        "requests": args.requests,
        "events": len(d),
        "stream_ms_direct": round(d[-1], 2),
        "stream_ms_proxied": round(a[-1], 2),
        "added_first_event_ms": round(added[0], 3),
        "added_median_ms": round(statistics.median(added), 3),
        "added_max_ms": round(max(added), 3),
        "added_last_event_ms": round(added[-1], 3),
        "median_gap_ms_direct": round(statistics.median(gaps_d), 3),
        "median_gap_ms_proxied": round(statistics.median(gaps_a), 3),
    }))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--fixture", required=True)
    s.add_argument("--interval-ms", type=float, default=10)
    m = sub.add_parser("measure")
    m.add_argument("--direct", required=True)
    m.add_argument("--proxied", required=True)
    m.add_argument("--body", required=True)
    m.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    {"serve": serve, "measure": measure}[args.command](args)


if __name__ == "__main__":
    main()
