"""Bench: poll N loopback feeds of M items each through the real poll stage (feed states in the real Elasticsearch).

    python bench/poll_feeds.py [--feeds 500] [--items 50] [--hosts 50] [--delay SECONDS] [--workers N]

The feeds are served by a separate process from --hosts loopback addresses (127.0.1.1, 127.0.1.2, ...), with
ETag support, so the second poll (a day later) is all conditional requests answered 304. Prints, for each poll:
wall time, peak memory of the polling process, and requests per host per second as the servers saw them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import resource
import socket
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from akhbar import fetch, pipeline, staging  # noqa: E402
from akhbar.config import Settings  # noqa: E402
from akhbar.index import Store  # noqa: E402

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def feed_body(host: str, port: int, feed: int, items: int) -> bytes:
    """An RSS feed of `items` Arabic entries, one an hour."""
    entries = []
    for i in range(items):
        when = format_datetime(T0 - timedelta(hours=i))
        link = f"http://{host}:{port}/a/{feed}/{i}?utm_source=rss"
        entries.append(f"<item><title>خبر رقم {i} من المصدر {feed}</title><link>{link.replace('&', '&amp;')}</link><pubDate>{when}</pubDate><guid>{link}</guid></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>مصدر {feed}</title>' + "".join(entries) + "</channel></rss>").encode()


def serve(hosts: list[str], port: int, feeds_per_host: dict[str, list[int]], items: int, ready: Any, stop: Any, out: Any) -> None:
    """Child process: one threaded HTTP server per loopback host; logs (host, time) per request."""
    log: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    bodies = {(h, f): feed_body(h, port, f, items) for h in hosts for f in feeds_per_host[h]}

    def handler_for(host: str) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/robots.txt":
                    status, body, headers = 404, b"", {}
                else:
                    feed = int(self.path.rsplit("/", 1)[-1].split(".")[0])
                    etag = f'"{host}-{feed}"'
                    if self.headers.get("If-None-Match") == etag:
                        status, body, headers = 304, b"", {"ETag": etag}
                    else:
                        status, body, headers = 200, bodies[(host, feed)], {"ETag": etag, "Content-Type": "application/rss+xml"}
                with lock:
                    log.append((host, time.monotonic(), status if self.path != "/robots.txt" else 0))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    servers = []
    for host in hosts:
        httpd = ThreadingHTTPServer((host, port), handler_for(host))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
    ready.set()
    while True:
        cmd = stop.recv()
        with lock:
            out.send(list(log))
            log.clear()
        if cmd == "quit":
            break
    for httpd in servers:
        httpd.shutdown()


def free_port(hosts: list[str]) -> int:
    """A port free on every bench host."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
        try:
            for host in hosts[1:]:
                with socket.socket() as s:
                    s.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no common free port")


def host_rates(log: list[tuple[str, float, int]]) -> dict[str, float]:
    """Feed requests per host per second (robots.txt left out): mean over hosts of count/span, and the most
    requests any host got within one second."""
    by_host: dict[str, list[float]] = defaultdict(list)
    for host, when, status in log:
        if status:
            by_host[host].append(when)
    means, peaks, gaps = [], [], []
    for times in by_host.values():
        times.sort()
        gaps.extend(b - a for a, b in zip(times, times[1:], strict=False))
        span = times[-1] - times[0]
        means.append((len(times) - 1) / span if span > 0 else float(len(times)))
        peak, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - 1.0:
                j += 1
            peak = max(peak, i - j + 1)
        peaks.append(peak)
    return {
        "mean_req_per_host_s": round(sum(means) / len(means), 3),
        "max_req_in_any_1s_window_one_host": max(peaks),
        "min_gap_between_requests_to_one_host_s": round(min(gaps), 3) if gaps else None,
        "hosts": len(by_host),
    }


SENDS: list[tuple[str, float, int]] = []
_pace = fetch.Fetcher._pace


def _logged_pace(self: fetch.Fetcher, url: str) -> float:
    """The fetcher's per-host gate, with the moment each request is let out recorded (client-side view)."""
    waited = _pace(self, url)
    SENDS.append((url.split("/")[2].split(":")[0], time.monotonic(), 0 if url.endswith("/robots.txt") else 1))
    return waited


fetch.Fetcher._pace = _logged_pace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--delay", type=float, default=None, help="per-host delay (default: tunables.yaml)")
    parser.add_argument("--workers", type=int, default=None, help="I/O threads (default: tunables.yaml)")
    args = parser.parse_args()

    hosts = [f"127.0.1.{i + 1}" for i in range(args.hosts)]
    port = free_port(hosts)
    feeds_per_host: dict[str, list[int]] = defaultdict(list)
    for n in range(args.feeds):
        feeds_per_host[hosts[n % len(hosts)]].append(n)
    ctx_mp = mp.get_context("spawn")
    ready, (stop_parent, stop_child), (out_parent, out_child) = ctx_mp.Event(), ctx_mp.Pipe(), ctx_mp.Pipe()
    proc = ctx_mp.Process(target=serve, args=(hosts, port, dict(feeds_per_host), args.items, ready, stop_child, out_child), daemon=True)
    proc.start()
    ready.wait(60)

    base = Settings.from_env()
    tunables = dict(base.tunables)
    polite = dict(tunables.get("polite", {}))
    if args.delay is not None:
        polite["host_delay_s"] = args.delay
    if args.workers is not None:
        polite["workers"] = args.workers
    tunables["polite"] = polite
    work = ROOT / ".cache" / "bench" / uuid.uuid4().hex[:8]
    settings = dataclasses.replace(base, index_prefix=f"akhbar-bench-{uuid.uuid4().hex[:8]}", staging_url=str(work / "staging"), tunables=tunables)
    feeds = [{"name": f"bench-{n}", "url": f"http://{hosts[n % len(hosts)]}:{port}/feeds/{n}.xml"} for n in range(args.feeds)]
    path = work / "feeds.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"allow_private_networks": ["127.0.0.0/8"], "feeds": feeds}), encoding="utf-8")
    store = Store.from_settings(settings)
    store.ensure()
    report: dict[str, Any] = {"feeds": args.feeds, "items_per_feed": args.items, "hosts": args.hosts, "host_delay_s": polite.get("host_delay_s"), "workers": polite.get("workers")}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        for label, when in (("first_poll", T0), ("second_poll_conditional", T0 + timedelta(days=1))):
            ctx = pipeline.make_context(settings, f"bench-{label}", when)
            start = time.perf_counter()
            pipeline.poll_stage(settings, ctx, path)
            wall = time.perf_counter() - start
            stop_parent.send("log")
            log = out_parent.recv()
            counts = staging.read_json(ctx.counts_path("poll"))
            client = host_rates([(h, t, 1) for h, t, _kind in SENDS])
            SENDS.clear()
            statuses: dict[str, int] = defaultdict(int)
            for _h, _t, status in log:
                statuses["robots.txt" if status == 0 else str(status)] += 1
            report[label] = {
                "wall_s": round(wall, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "requests": len(log),
                "statuses": dict(statuses),
                "counts": counts,
                "server_side": host_rates(log),
                "client_side_incl_robots": client,
            }
    finally:
        stop_parent.send("quit")
        out_parent.recv()
        proc.join(10)
        store.delete_all()
    report["rss_before_polls_mb"] = round(rss_before / 1024, 1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
