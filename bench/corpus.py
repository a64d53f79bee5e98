"""A synthetic Arabic news web for benchmarks: N article pages of many outlets, their feeds, on loopback.

Real Arabic prose (the project's labelled articles and sample pages, recombined), five page templates with
the boilerplate real outlets carry (navigation, tickers, related blocks, comment forms, share prompts,
scripts), and a configurable share of near-copies (the same wire story with light edits on another
outlet). Each outlet is its own host: 127.0.0.2, 127.0.0.3, … so per-host politeness applies as it
would across real outlets.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROSE_DIRS = [ROOT / "tests" / "data" / "nearcopy" / d for d in ("base", "events", "followups")]
SECTIONS = ["الرئيسية", "العراق", "سوريا", "لبنان", "الخليج", "مصر", "المغرب العربي", "العالم", "اقتصاد", "رياضة", "ثقافة", "تكنولوجيا", "صحة", "رأي", "فيديو"]
TEMPLATES = ("wordpress", "iraqi", "levant", "egypt", "gulf")


@dataclass(frozen=True)
class Article:
    """One generated article page."""

    outlet: int
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    copy_of: str | None = None


@dataclass
class Corpus:
    """Pages and feeds by (host, path)."""

    outlets: int
    items_per_feed: int
    articles: list[Article] = field(default_factory=list)
    bodies: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def host(self, outlet: int) -> str:
        """Loopback address of an outlet."""
        n = outlet + 2
        return f"127.0.{n // 250}.{n % 250 + 2}" if n >= 250 else f"127.0.0.{n}"

    def feed_urls(self, port: int) -> list[str]:
        """Every outlet's feed URL."""
        return [f"http://{self.host(o)}:{port}/feed.xml" for o in range(self.outlets)]


def _prose() -> tuple[list[str], list[str]]:
    """Headlines and paragraphs of the project's own Arabic articles."""
    headlines, paragraphs = [], []
    for folder in PROSE_DIRS:
        for path in sorted(folder.glob("*.txt")):
            parts = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
            headlines.append(parts[0])
            paragraphs.extend(p for p in parts[1:] if len(p.split()) >= 20)
    return headlines, paragraphs


_SWAPS = [("أمريكي", "أميركي"), ("أميركي", "أمريكي"), ("،", ","), ("«", '"'), ("»", '"'), ("إلى", "الى"), ("أن ", "ان ")]


def _edit(paragraphs: tuple[str, ...], rng: random.Random) -> tuple[str, ...]:
    """A syndicated copy: spelling and punctuation variants, maybe one paragraph dropped."""
    out = list(paragraphs)
    if len(out) > 3 and rng.random() < 0.5:
        out.pop(rng.randrange(1, len(out)))
    for a, b in rng.sample(_SWAPS, 3):
        out = [p.replace(a, b) for p in out]
    return tuple(out)


def _links(rng: random.Random, headlines: list[str], n: int, prefix: str) -> str:
    return "".join(f'<li><a href="/{prefix}/{rng.randrange(10**6)}">{rng.choice(headlines)}</a></li>' for _ in range(n))


def _script(rng: random.Random, kb: int) -> str:
    """Inline JavaScript of about kb kilobytes, as analytics and ad code bloat real pages."""
    chunk = "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag('js',new Date());"
    return "<script>" + "".join(f"{chunk}var s{rng.randrange(10**6)}='{'x' * 40}';" for _ in range(kb * 1024 // 150)) + "</script>"


def render(article: Article, template: str, headlines: list[str], rng: random.Random) -> str:
    """The HTML page of an article in one outlet template, with that template's boilerplate."""
    name = f"منفذ {article.outlet}"
    date = article.published.isoformat()
    nav = "".join(f'<a href="/s/{i}">{s}</a>' for i, s in enumerate(SECTIONS))
    paras = [f"<p>{p}</p>" for p in article.paragraphs]
    related = f'<div class="box-{rng.randrange(9)}"><p>اقرأ أيضاً:</p><ul>{_links(rng, headlines, 3, "r")}</ul></div>'
    paras.insert(min(2, len(paras)), related)
    share = '<div class="sh"><p>شارك هذا الخبر</p><a href="#">فيسبوك</a> <a href="#">تويتر</a> <a href="#">واتساب</a></div>'
    comments = (
        '<div id="respond"><h3>التعليقات</h3><p>أضف تعليقاً</p><p>لن يتم نشر عنوان بريدك الإلكتروني. الحقول الإلزامية مشار إليها بـ *</p>'
        '<form><textarea name="comment"></textarea><input name="author"><input name="email"><button>إرسال</button></form></div>'
    )
    extra = {
        "wordpress": comments,
        "iraqi": '<p>المصدر: وكالة الأنباء العراقية</p><p>آخر تحديث: منذ ساعتين</p>',
        "levant": '<p>📢 تابعونا على تلغرام لمتابعة آخر الأخبار</p>',
        "egypt": f'<div class="rel"><h4>مواضيع ذات صلة</h4><ul>{_links(rng, headlines, 4, "m")}</ul></div>',
        "gulf": '<p>جميع الحقوق محفوظة © 2026</p>',
    }[template]
    ld = (
        '<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",'
        f'"headline":"{article.title}","datePublished":"{date}","publisher":{{"@type":"Organization","name":"{name}"}}}}</script>'
    )
    return (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{article.title} - {name}</title>'
        f'<meta property="og:title" content="{article.title}"><meta property="og:site_name" content="{name}">'
        f'<meta property="article:published_time" content="{date}"><meta name="description" content="{article.paragraphs[0][:150]}">'
        f'<link rel="stylesheet" href="/assets/app.{rng.randrange(10**6):x}.css">{ld}{_script(rng, 12)}</head>'
        f'<body class="t-{template}"><header><div class="logo">{name}</div><nav>{nav}</nav>'
        f'<div class="ticker"><span>عاجل</span><ul>{_links(rng, headlines, 5, "b")}</ul></div></header>'
        f'<main><article><h1>{article.title}</h1><div class="meta"><span>{name}</span> <time>{date}</time></div>'
        f'{share}<div class="entry">{"".join(paras)}</div>{extra}{share}</article>'
        f'<aside><h3>الأكثر قراءة</h3><ol>{_links(rng, headlines, 10, "p")}</ol></aside></main>'
        f'<footer><ul>{_links(rng, headlines, 12, "f")}</ul><p>جميع الحقوق محفوظة © 2026 {name}</p></footer>'
        f"{_script(rng, 20)}</body></html>"
    )


def build(pages: int, items_per_feed: int = 10, copy_share: float = 0.15, seed: int = 7, start: datetime | None = None) -> Corpus:
    """Generate the corpus deterministically."""
    rng = random.Random(seed)
    headlines, paragraphs = _prose()
    outlets = max(1, -(-pages // items_per_feed))
    corpus = Corpus(outlets, items_per_feed)
    start = start or datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    for i in range(pages):
        outlet = i % outlets
        when = start + timedelta(seconds=37 * i)
        if corpus.articles and rng.random() < copy_share:
            original = rng.choice(corpus.articles[-200:])
            article = Article(outlet, f"a{i}", rng.choice(headlines) + f" ({i})", _edit(original.paragraphs, rng), when, original.slug)
        else:
            body = tuple(rng.sample(paragraphs, rng.randint(4, 7)))
            article = Article(outlet, f"a{i}", rng.choice(headlines) + f" ({i})", body, when)
        corpus.articles.append(article)
        html = render(article, TEMPLATES[outlet % len(TEMPLATES)], headlines, rng)
        corpus.bodies[(corpus.host(outlet), f"/news/{article.slug}.html")] = html.encode("utf-8")
    for outlet in range(outlets):
        mine = [a for a in corpus.articles if a.outlet == outlet]
        corpus.bodies[(corpus.host(outlet), "/feed.xml")] = _feed(corpus.host(outlet), mine).encode("utf-8")
    return corpus


def _feed(host: str, articles: list[Article]) -> str:
    """An RSS feed listing an outlet's articles (the {port} is filled in when served)."""
    items = "".join(
        f"<item><title>{a.title}</title><link>http://{host}:{{port}}/news/{a.slug}.html</link>"
        f"<guid>{hashlib.sha1(a.slug.encode()).hexdigest()}</guid><pubDate>{format_datetime(a.published)}</pubDate></item>"
        for a in articles
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>منفذ</title>{items}</channel></rss>'


class _QuietServer(ThreadingHTTPServer):
    """A threaded server that does not print clients closing kept-alive connections."""

    daemon_threads = True

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS look-up of the address (slow when no resolver answers)."""
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class CorpusServer:
    """Serve a corpus on every outlet's loopback address, one threaded server per address, same port."""

    def __init__(self, corpus: Corpus, port: int = 0) -> None:
        self.corpus = corpus
        bodies = corpus.bodies
        served = {"count": 0}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                host = self.server.server_address[0]
                body = bodies.get((host, self.path.split("?")[0]))
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path.startswith("/feed.xml"):
                    body = body.replace(b"{port}", str(self.server.server_address[1]).encode())
                ctype = "application/rss+xml" if self.path.startswith("/feed") else "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with lock:
                    served["count"] += 1

        first = _QuietServer((corpus.host(0), port), Handler)
        self.port = first.server_address[1]
        self.servers = [first] + [_QuietServer((corpus.host(o), self.port), Handler) for o in range(1, corpus.outlets)]
        self.served = served

    def __enter__(self) -> CorpusServer:
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        # All at once: one after another, thousands of servers would each wait out their poll interval.
        stoppers = [threading.Thread(target=server.shutdown) for server in self.servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in self.servers:
            server.server_close()
