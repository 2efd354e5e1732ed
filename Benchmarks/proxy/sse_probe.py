#!/usr/bin/env python3
"""Per-chunk streaming delay probe for scripts/bench-proxy.sh (standard library only).

  sse_probe.py serve --port P --fixture chat-stream.sse --interval-ms 10
      An OpenAI-like upstream that answers any POST with the fixture's SSE events, one
      HTTP chunk per event, `interval-ms` apart (as a model generating tokens would). It
      notes when it wrote each event (CLOCK_MONOTONIC, shared by every process on the
      host) under the request's X-Probe-Id; GET /times/ID returns and forgets them.

  sse_probe.py measure --direct URL --proxied URL --body request.json --requests N
      Sends N streaming requests to each URL, alternating, one at a time. For every event
      it takes the time from the server's write to the moment the event is complete at the
      client: the event's one-way latency. Prints one JSON object with, per event index,
      the median over the requests of proxied − direct latency (what the proxy adds to each
      chunk), and the medians of the latencies themselves. A proxy that held chunks back
      (buffering, batching, waiting for the end) would add up to the whole stream's length
      to the early events; one that forwards each chunk as it arrives adds the same small
      constant to all of them.

Only loopback URLs are used by the benchmark.
"""
import argparse
import http.client
import json
import socket
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(args):
    with open(args.fixture, "rb") as f:
        events = [e + b"\n\n" for e in f.read().split(b"\n\n") if e.strip()]
    interval = args.interval_ms / 1000.0
    written = {}
    lock = threading.Lock()

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
            probe_id = self.headers.get("X-Probe-Id", "")
            times = []
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            for i, event in enumerate(events):
                if i:
                    time.sleep(interval)
                times.append(time.monotonic_ns())
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            with lock:  # before the stream's end, which is when the client asks for them
                written[probe_id] = times
            self.wfile.write(b"0\r\n\r\n")

        def do_GET(self):
            if self.path.startswith("/times/"):
                with lock:
                    times = written.pop(self.path[len("/times/"):], None)
                body = json.dumps(times).encode()
            else:
                body = b"ok\n"
            self.send_response(200 if body != b"null" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def connection(url):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn, u.path + ("?" + u.query if u.query else "")


def one_request(url, body, times_url):
    """Per-event latency in ms: server write → event complete at this client."""
    probe_id = uuid.uuid4().hex
    conn, path = connection(url)
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Bearer sk-bench-0000000000000000000000000000000000000002",
        "api-key": "sk-bench-0000000000000000000000000000000000000002",
        "X-Bench-Fixture": "stream",
        "X-Probe-Id": probe_id,
    }
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        raise SystemExit(f"{url}: HTTP {response.status}: {response.read()[:300]!r}")
    arrivals, buffered, seen = [], b"", 0
    while True:
        data = response.read1(65536)
        if not data:
            break
        now = time.monotonic_ns()
        buffered += data
        complete = buffered.count(b"\n\n")
        arrivals.extend([now] * (complete - seen))
        seen = complete
    conn.close()
    conn, path = connection(times_url + probe_id)
    conn.request("GET", path)
    reply = conn.getresponse()
    written = json.loads(reply.read())
    conn.close()
    if reply.status != 200 or len(written) != len(arrivals):
        raise SystemExit(f"{url}: the server wrote {written and len(written)} events, the client saw {len(arrivals)}")
    return [(a - w) / 1e6 for a, w in zip(arrivals, written)]


def measure(args):
    with open(args.body, "rb") as f:
        body = f.read()
    u = urllib.parse.urlsplit(args.direct)
    times_url = f"http://{u.netloc}/times/"
    for _ in range(2):  # warm-up: first connections, the agent's first stream
        one_request(args.direct, body, times_url)
        one_request(args.proxied, body, times_url)
    direct_runs, proxied_runs = [], []
    for _ in range(args.requests):  # alternate, so drifting machine load hits both alike
        direct_runs.append(one_request(args.direct, body, times_url))
        proxied_runs.append(one_request(args.proxied, body, times_url))
    events = len(direct_runs[0])
    if any(len(r) != events for r in direct_runs + proxied_runs):
        raise SystemExit("event counts differ between requests")
    direct = [statistics.median(r[k] for r in direct_runs) for k in range(events)]
    proxied = [statistics.median(r[k] for r in proxied_runs) for k in range(events)]
    added = [p - d for p, d in zip(proxied, direct)]
    print(json.dumps({
        "requests": args.requests,
        "events": events,
        "latency_median_ms_direct": round(statistics.median(direct), 3),
        "latency_median_ms_proxied": round(statistics.median(proxied), 3),
        "added_first_event_ms": round(added[0], 3),
        "added_median_ms": round(statistics.median(added), 3),
        "added_max_ms": round(max(added), 3),
        "added_last_event_ms": round(added[-1], 3),
        "added_ms": [round(x, 3) for x in added],
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
