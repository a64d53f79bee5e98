"""A burst of loopback outlets for the load test: many hosts, many feeds, every item's fate known in advance.

Each distinct item `u` lives on host `u % hosts` and has one planned outcome: an original Arabic article, a
near-copy or an exact copy of an original on another host, a page in English, or a page that cannot
become an article (404, 503, a binary body, too little text). Feeds overlap: each feed's last entry is the
first entry of the next feed. The server logs when
each request arrived and how many were in flight per host, to check politeness from the outlet's side.
"""

from __future__ import annotations

import multiprocessing
import random
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROSE = ROOT / "tests" / "data" / "nearcopy"
ENGLISH = (
    "The ministry said the new programme would start next month in three provinces.",
    "Officials met on Tuesday to discuss the budget and the timetable for the elections.",
    "Analysts expect prices to rise again before the end of the year, according to the report.",
    "The company announced that it had signed an agreement with several regional partners.",
    "Residents of the city complained about power cuts that lasted for more than ten hours.",
    "The committee will publish its findings after hearing from experts and local officials.",
)
ERROR_KINDS = ("missing", "unavailable", "binary", "short")
COPY_OFFSET = 980  # a copy's original is this many items earlier, on another host (hosts does not divide it)


def plan(u: int) -> str:
    """The planned outcome of distinct item u."""
    r = u % 100
    if r in (1, 51):
        return "english"
    if r in (2, 3, 4, 5):
        return ERROR_KINDS[r - 2]
    if u >= COPY_OFFSET and 20 <= r <= 24:
        return "exact_copy"
    if u >= COPY_OFFSET and (10 <= r <= 19 or 25 <= r <= 29):
        return "near_copy"
    return "original"


@dataclass
class LoadWeb:
    """Feeds and pages of `hosts` outlets with `feeds_per_host` feeds of `items_per_feed` entries each."""

    hosts: int = 100
    feeds_per_host: int = 5
    items_per_feed: int = 50
    start: datetime = field(default_factory=lambda: datetime(2026, 11, 1))
    seed: int = 11

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.sentences, self.vocabulary = _prose()
        self.per_feed = self.items_per_feed - 1  # distinct items per feed; the last entry repeats the next feed's first
        self.distinct = self.hosts * self.feeds_per_host * self.per_feed
        self.plans = [plan(u) for u in range(self.distinct)]
        self._texts: dict[int, tuple[str, ...]] = {}

    def host(self, h: int) -> str:
        """Loopback address of host h."""
        return f"127.0.{4 + h // 250}.{h % 250 + 1}"

    def url(self, u: int, port: int) -> str:
        """The article URL of distinct item u."""
        return f"http://{self.host(u % self.hosts)}:{port}/news/{u}.html"

    def published(self, u: int) -> datetime:
        """Publication time of item u (copies are later than their originals)."""
        return self.start + timedelta(seconds=20 * u)

    def source(self, u: int) -> int:
        """The original an item copies (itself for anything else)."""
        return u - COPY_OFFSET if self.plans[u] in ("exact_copy", "near_copy") else u

    def paragraphs(self, u: int) -> tuple[str, ...]:
        """An original's paragraphs: real sentences with every third word drawn afresh, so no two originals are alike."""
        if u not in self._texts:
            rng = random.Random(self.seed * 1_000_003 + u)
            paras = []
            for sentence in rng.sample(self.sentences, rng.randint(3, 4)):
                words = sentence.split()
                paras.append(" ".join(rng.choice(self.vocabulary) if i % 3 == 2 else w for i, w in enumerate(words)))
            self._texts[u] = tuple(paras)
        return self._texts[u]

    def body(self, u: int) -> tuple[str, str, int]:
        """(content type, body, status) of item u's page."""
        kind = self.plans[u]
        if kind == "missing":
            return "text/html; charset=utf-8", "<html><body><h1>404</h1></body></html>", 404
        if kind == "unavailable":
            return "text/html; charset=utf-8", "<html><body><h1>503</h1></body></html>", 503
        if kind == "binary":
            return "application/octet-stream", "\x00\x01PK\x03\x04" * 64, 200
        if kind == "short":
            return "text/html; charset=utf-8", _page(f"خبر {u}", ("قريباً.",), self.published(u)), 200
        if kind == "english":
            rng = random.Random(u)
            paras = tuple(" ".join(rng.sample(ENGLISH, 4)) + f" Report {u}." for _ in range(4))
            return "text/html; charset=utf-8", _page(f"News item {u}", paras, self.published(u), lang="en"), 200
        paras = self.paragraphs(self.source(u))
        if kind == "near_copy":
            paras = tuple(p.replace("أن ", "ان ").replace("إلى", "الى").replace("،", ",") for p in paras[:-1])
        return "text/html; charset=utf-8", _page(f"عنوان الخبر رقم {u}", paras, self.published(u)), 200

    def feed_items(self, h: int, k: int) -> list[int]:
        """Distinct items listed by feed k of host h, in entry order; the last is the next feed's first (on the next host
        when each host has one feed), as section feeds and aggregators list each other's stories."""
        following = (h * self.feeds_per_host + k + 1) % (self.hosts * self.feeds_per_host)
        nh, nk = divmod(following, self.feeds_per_host)
        own = [(k * self.per_feed + j) * self.hosts + h for j in range(self.per_feed)]
        return [*own, nk * self.per_feed * self.hosts + nh]

    def feed(self, h: int, k: int, port: int) -> str:
        """The RSS feed k of host h."""
        entries = "".join(
            f"<item><title>عنوان الخبر رقم {u}</title><link>{self.url(u, port)}</link>"
            f"<pubDate>{format_datetime(self.published(u))}</pubDate></item>"
            for u in self.feed_items(h, k)
        )
        return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>منفذ {h} قسم {k}</title>{entries}</channel></rss>'

    def feeds_yaml(self, port: int) -> dict[str, object]:
        """The feeds file listing every feed."""
        feeds = [
            {"name": f"load-{h}-{k}", "url": f"http://{self.host(h)}:{port}/feed/{k}.xml", "outlet": f"منفذ {h}", "country": "IQ"}
            for h in range(self.hosts) for k in range(self.feeds_per_host)
        ]
        return {"allow_private_networks": ["127.0.0.0/8"], "feeds": feeds}


def _prose() -> tuple[list[str], list[str]]:
    """Sentences and the vocabulary of the project's own Arabic articles."""
    sentences: set[str] = set()
    for path in sorted(PROSE.glob("*/*.txt")):
        for sentence in re.split(r"(?<=[.؟!])\s+", path.read_text(encoding="utf-8")):
            if len(sentence.split()) >= 6:
                sentences.add(sentence.strip())
    ordered = sorted(sentences)
    vocabulary = sorted({w for s in ordered for w in s.split() if re.fullmatch(r"[\u0621-\u064A]{3,}", w)})
    return ordered, vocabulary


def _page(title: str, paragraphs: tuple[str, ...], published: datetime, lang: str = "ar") -> str:
    """An article page with the boilerplate outlets wrap around it."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta property="article:published_time" content="{published.isoformat()}"></head><body>'
        '<nav><a href="/">الرئيسية</a> <a href="/s/1">سياسة</a> <a href="/s/2">اقتصاد</a></nav>'
        f"<article><h1>{title}</h1>{body}"
        '<div class="share"><p>شارك هذا الخبر</p></div><div id="comments"><h3>التعليقات</h3><p>أضف تعليقاً</p></div></article>'
        "<footer><p>جميع الحقوق محفوظة</p></footer></body></html>"
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def server_bind(self) -> None:
        """Bind without a reverse DNS look-up of the address."""
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LoadServer:
    """Serve a LoadWeb on every host address (one threaded server each, same port); log arrivals per host."""

    def __init__(self, web: LoadWeb) -> None:
        self.web = web
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = defaultdict(int)
        lock = threading.Lock()
        server = self
        feed_path = re.compile(r"/feed/(\d+)\.xml")
        news_path = re.compile(r"/news/(\d+)\.html")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                host = self.server.server_address[0]
                with lock:
                    server.arrivals[host].append(time.monotonic())
                    server.in_flight[host] += 1
                    server.max_in_flight[host] = max(server.max_in_flight[host], server.in_flight[host])
                try:
                    self._answer(host)
                finally:
                    with lock:
                        server.in_flight[host] -= 1

            def _answer(self, host: str) -> None:
                h = server.hosts[host]
                path = self.path.split("?")[0]
                status, ctype, body = 404, "text/plain", ""
                if m := feed_path.fullmatch(path):
                    status, ctype, body = 200, "application/rss+xml", web.feed(h, int(m.group(1)), server.port)
                elif (m := news_path.fullmatch(path)) and int(m.group(1)) % web.hosts == h and int(m.group(1)) < web.distinct:
                    ctype, body, status = web.body(int(m.group(1)))
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.hosts = {web.host(h): h for h in range(web.hosts)}
        first = _Server((web.host(0), 0), Handler)
        self.port = first.server_address[1]
        self.servers = [first] + [_Server((web.host(h), self.port), Handler) for h in range(1, web.hosts)]

    def __enter__(self) -> LoadServer:
        for s in self.servers:
            threading.Thread(target=s.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        stoppers = [threading.Thread(target=s.shutdown) for s in self.servers]
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()
        for s in self.servers:
            s.server_close()


def _serve_in_child(web: LoadWeb, conn: Any) -> None:
    """Child process: serve until told to stop, then send back the arrival log."""
    with LoadServer(web) as server:
        conn.send(server.port)
        conn.recv()
        conn.send((dict(server.arrivals), dict(server.max_in_flight)))


class LoadServerProcess:
    """A LoadServer in its own process, so its clock readings do not wait on the test process's threads."""

    def __init__(self, web: LoadWeb) -> None:
        self.web = web
        self.arrivals: dict[str, list[float]] = {}
        self.max_in_flight: dict[str, int] = {}

    def __enter__(self) -> LoadServerProcess:
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve_in_child, args=(self.web, child), daemon=True)
        self._proc.start()
        self.port = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self.arrivals, self.max_in_flight = self._conn.recv()
        self._proc.join(timeout=30)
