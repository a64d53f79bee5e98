"""Helpers for tests that serve feeds and article pages from real loopback servers."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from pathlib import Path
from typing import Any

import yaml

PARAGRAPHS = [
    "أعلنت وزارة الدفاع صباح اليوم عن خطة جديدة لإعادة تنظيم الوحدات العسكرية في المنطقة الشمالية من البلاد.",
    "وقال المتحدث باسم الوزارة في مؤتمر صحفي إن الخطة تشمل تعزيز نقاط المراقبة على الحدود وتحسين التنسيق بين الأجهزة الأمنية.",
    "وأضاف أن العمل بالخطة سيبدأ خلال الأسابيع المقبلة بعد استكمال الترتيبات الإدارية واللوجستية اللازمة لذلك.",
    "من جهتهم رحب عدد من أعضاء البرلمان بالقرار واعتبروه خطوة مهمة نحو تعزيز الاستقرار في المحافظات الحدودية.",
]


BASE_TEXTS = sorted((Path(__file__).parent / "data" / "nearcopy" / "base").glob("*.txt"))


def distinct_paragraphs(title: str) -> list[str]:
    """Paragraphs of one of the labelled set's base articles, chosen by the title, so that pages with
    different titles are different texts (not near-copies of each other, which dedup would fold)."""
    pick = BASE_TEXTS[int(hashlib.sha1(title.encode("utf-8")).hexdigest(), 16) % len(BASE_TEXTS)]
    return [p.strip() for p in pick.read_text(encoding="utf-8").split("\n\n")[1:] if p.strip()]


def article_html(title: str, paragraphs: list[str] | None = None, *, charset: str | None = "utf-8", canonical: str | None = None) -> str:
    """A plausible Arabic article page (its body chosen by its title unless paragraphs are given)."""
    meta = f'<meta charset="{charset}">' if charset else ""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    lead = f"وفي تفاصيل الخبر، {title} وفق ما نقلته مصادر مطلعة لمراسلنا."
    body = "\n".join(f"<p>{p}</p>" for p in [lead, *(paragraphs or distinct_paragraphs(title))])
    return (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head>{meta}<title>{title}</title>{link}</head>'
        f'<body><main><article><h1>{title}</h1>{body}</article></main></body></html>'
    )


def rss(items: list[tuple[str, str]], *, encoding: str = "utf-8", dated: bool = True) -> str:
    """An RSS 2.0 feed of (title, link) items."""
    entries = "".join(
        f"<item><title>{title}</title><link>{link.replace('&', '&amp;')}</link>"
        + (f"<pubDate>Sat, 21 Nov 2026 {10 - i % 10:02d}:00:00 +0000</pubDate>" if dated else "")
        + f"<guid>{link.replace('&', '&amp;')}</guid></item>"
        for i, (title, link) in enumerate(items)
    )
    return f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>أخبار</title><link>http://x/</link>{entries}</channel></rss>'


def feeds_file(path: Path, feeds: list[dict[str, Any]], allow: Any = True) -> Path:
    """Write a feeds file for loopback feeds."""
    path.write_text(yaml.safe_dump({"allow_private_networks": allow, "feeds": feeds}, allow_unicode=True), encoding="utf-8")
    return path


class TrickleServer:
    """A raw HTTP server on a loopback address that sends a response one byte at a time, slowly (or headers slowly)."""

    def __init__(self, host: str = "127.0.0.2", *, every_s: float = 0.2, slow_headers: bool = False) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.every_s = every_s
        self.slow_headers = slow_headers
        self.most_sent = 0
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            request = conn.recv(65536)
            if b"/robots.txt" in request.split(b"\r\n", 1)[0]:
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"
            slow = head if self.slow_headers else b"<" * 100000
            if not self.slow_headers:
                conn.sendall(head)
            sent = 0
            try:
                for byte in slow:
                    if self._stop.is_set():
                        break
                    conn.sendall(bytes([byte]))
                    sent += 1
                    self.most_sent = max(self.most_sent, sent)
                    time.sleep(self.every_s)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
