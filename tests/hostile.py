"""Hostile and broken payloads for feeds and pages, served by a real loopback server."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path
from collections.abc import Iterator

from werkzeug import Request, Response

LOL = "".join(
    f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(2, 10)
)
BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol1 "lol">{LOL}]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>ضحك &lol9;</title><link>{{base}}/pages/none-bl.html</link></item></channel></rss>"""
QUADRATIC = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + "B" * 50_000 + '">]>'
    '<rss version="2.0"><channel><title>q</title><item><title>' + "&a;" * 2_000 + "</title><link>{base}/pages/none-q.html</link></item></channel></rss>"
)
XXE_FILE = """<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title><item><title>&x;</title><link>{base}/pages/xxe.html</link><description>&x;</description></item></channel></rss>"""
XXE_HTTP = """<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://169.254.169.254/latest/meta-data/">]>
<rss version="2.0"><channel><title>x</title><item><title>&x;</title><link>http://169.254.169.254/latest/meta-data/</link></item></channel></rss>"""
MALFORMED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>مكسور</title>
<item><title>خبر & رمز</title><link>{base}/pages/malformed-ok.html</link><pubDate>not a date</pubDate></item>
<item><title>من المستقبل</title><link>{base}/pages/future.html</link><pubDate>Fri, 01 Jan 2100 00:00:00 +0000</pubDate></item>
<item><title>عنوان بلا إغلاق<link>{base}/pages/none-m.html</link></item>
</channel>"""
SCRIPT_FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>s</title>
<item><title>&lt;script&gt;alert(1)&lt;/script&gt;عنوان</title><link>{base}/pages/xss.html</link>
<description>&lt;img src=x onerror=alert(1)&gt;</description></item></channel></rss>"""

PARAGRAPH = (
    "أعلنت الحكومة العراقية اليوم عن خطة جديدة لإعادة إعمار المناطق المتضررة في محافظة نينوى، "
    "وقال المتحدث باسمها إن الخطة تشمل بناء المدارس والمستشفيات وشبكات المياه خلال العامين المقبلين."
)


BASE_TEXTS = Path(__file__).parent / "data" / "nearcopy" / "base"


def article(title: str, extra: str = "", attrs: str = "", text: str = "b01") -> str:
    """An Arabic article page whose body is one of the labelled set's base articles."""
    body = (BASE_TEXTS / f"{text}.txt").read_text(encoding="utf-8").split("\n", 1)[1]
    paras = "".join(f"<p>{p.strip()}</p>" for p in body.split("\n\n") if p.strip())
    return f'<html lang="ar"><head><meta charset="utf-8"><title>{title}</title></head><body {attrs}><article><h1>{title}</h1>{paras}{extra}</article></body></html>'


def nested_divs(depth: int = 10_000) -> str:
    return "<html><body>" + "<div>" * depth + PARAGRAPH + "</div>" * depth + "</body></html>"


def huge_script(mb: int = 20) -> str:
    return "<html><body><script>" + "var a=1;" * (mb * 1024 * 1024 // 8) + "</script><p>" + PARAGRAPH + "</p></body></html>"


def gzip_bomb(mb: int = 64) -> bytes:
    return gzip.compress(b"\0" * (mb * 1024 * 1024), compresslevel=9)


def trickle(_request: Request) -> Response:
    """One byte a second, forever (the fetcher's deadline must cut it)."""

    def gen() -> Iterator[bytes]:
        for _ in range(3600):
            yield b"<"
            time.sleep(1)

    return Response(gen(), content_type="application/rss+xml")


def endless(_request: Request) -> Response:
    """A chunked body that never ends."""

    def gen() -> Iterator[bytes]:
        chunk = b"<p>" + ("لا نهاية " * 1000).encode() + b"</p>"
        while True:
            yield chunk

    return Response(gen(), content_type="text/html; charset=utf-8")


def binary(_request: Request) -> Response:
    return Response(os.urandom(200_000), content_type="text/html")

