"""Hostile and broken input: one cycle over every kind at once, in a separate process with bounds.

Each case must end as a clear per-item (or per-feed) error or be handled harmlessly; the worker
finishes within bounded time and memory; the good feed's articles are all indexed; no payload content
reaches the index.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Response

import hostile
from akhbar.config import Settings, load_tunables
from akhbar.index import Store
from akhbar.samples import SampleServer

TIME_BOUND_S = 120
MEMORY_BOUND_MB = 1024


def rss(base: str, *pages: str) -> str:
    items = "".join(f"<item><title>خبر {p}</title><link>{base}/pages/{p}</link></item>" for p in pages)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>h</title>{items}</channel></rss>'


@pytest.fixture
def hostile_world(httpserver: HTTPServer, tmp_path: Path) -> tuple[Path, Path, str]:
    """Feeds and pages of every hostile kind, a good sample feed, tight tunables."""
    base = httpserver.url_for("").rstrip("/")
    feeds = {
        "billion-laughs": hostile.BILLION_LAUGHS.replace("{base}", base),
        "quadratic": hostile.QUADRATIC.replace("{base}", base),
        "xxe-file": hostile.XXE_FILE.replace("{base}", base),
        "xxe-http": hostile.XXE_HTTP,
        "malformed": hostile.MALFORMED.replace("{base}", base),
        "script": hostile.SCRIPT_FEED.replace("{base}", base),
        "pages": rss(base, "gzip-bomb.html", "huge-script.html", "endless.html", "nested.html", "binary.html", "over-cap.html"),
    }
    for name, body in feeds.items():
        httpserver.expect_request(f"/feeds/{name}.xml").respond_with_data(body, content_type="application/rss+xml")
    httpserver.expect_request("/feeds/empty.xml").respond_with_data("", content_type="application/rss+xml")
    httpserver.expect_request("/feeds/html.xml").respond_with_data("<html><body><h1>صيانة</h1></body></html>", content_type="text/html")
    httpserver.expect_request("/feeds/trickle.xml").respond_with_handler(hostile.trickle)
    httpserver.expect_request("/pages/xxe.html").respond_with_data(hostile.article("صفحة عادية بعد XXE", text="b02"), content_type="text/html")
    httpserver.expect_request("/pages/malformed-ok.html").respond_with_data(hostile.article("خبر سليم من خلاصة مكسورة", text="b03"), content_type="text/html")
    httpserver.expect_request("/pages/future.html").respond_with_data(hostile.article("خبر بتاريخ من المستقبل", text="b04"), content_type="text/html")
    httpserver.expect_request("/pages/xss.html").respond_with_data(
        hostile.article("عنوان <script>alert(1)</script> سليم", '<img src="x" onerror="alert(1)"><script>document.cookie</script>', 'onload="alert(2)"', text="b05"),
        content_type="text/html",
    )
    httpserver.expect_request("/pages/gzip-bomb.html").respond_with_response(
        Response(hostile.gzip_bomb(), headers={"Content-Encoding": "gzip", "Content-Type": "text/html"})
    )
    httpserver.expect_request("/pages/huge-script.html").respond_with_data(hostile.huge_script(), content_type="text/html")
    httpserver.expect_request("/pages/endless.html").respond_with_handler(hostile.endless)
    httpserver.expect_request("/pages/nested.html").respond_with_data(hostile.nested_divs(), content_type="text/html")
    httpserver.expect_request("/pages/binary.html").respond_with_handler(hostile.binary)
    httpserver.expect_request("/pages/over-cap.html").respond_with_data("<p>" + "ن" * 3_000_000 + "</p>", content_type="text/html")
    names = [*feeds, "empty", "html", "trickle"]
    return base, tmp_path, names  # type: ignore[return-value]


@pytest.fixture
def silent_host() -> Iterator[str]:
    """A loopback port that accepts connections (in the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/feed.xml"
    sock.close()


def test_hostile_cycle(settings: Settings, hostile_world, silent_host: str, tmp_path: Path) -> None:
    base, _tmp, names = hostile_world
    tunables = load_tunables()
    tunables = {**tunables, "fetch": {**tunables["fetch"], "total_deadline_s": 3, "read_timeout_s": 2, "max_body_bytes": 2 * 1024 * 1024}}
    tunables_path = tmp_path / "tunables.yaml"
    tunables_path.write_text(yaml.safe_dump(tunables, allow_unicode=True), encoding="utf-8")
    with SampleServer() as samples:
        feeds = [{"name": n, "url": f"{base}/feeds/{n}.xml"} for n in names]
        feeds.append({"name": "good", "url": f"{samples.base}/feeds/wasat.xml"})
        feeds.append({"name": "silent", "url": silent_host})
        feeds_path = tmp_path / "feeds.yaml"
        feeds_path.write_text(yaml.safe_dump({"allow_private_networks": ["127.0.0.0/8"], "feeds": feeds}), encoding="utf-8")
        env = {**os.environ, "AKHBAR_INDEX_PREFIX": settings.index_prefix, "AKHBAR_STAGING_URL": settings.staging_url, "AKHBAR_TUNABLES": str(tunables_path)}
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "akhbar.cli", "run-once", "--feeds", str(feeds_path), "--json"], capture_output=True, text=True, env=env, timeout=TIME_BOUND_S * 2)
        elapsed = time.monotonic() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"hostile cycle: {elapsed:.1f} s, peak RSS of the worker {peak_mb:.0f} MB")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert elapsed < TIME_BOUND_S, elapsed
    assert peak_mb < MEMORY_BOUND_MB, peak_mb
    counts = json.loads(proc.stdout)

    store = Store.from_settings(settings)
    store.refresh("articles")
    store.refresh("rejects")
    rejects = [h["_source"] for h in store.es.search(index=store.alias("rejects"), size=200)["hits"]["hits"]]
    by_url = {r["url"].rsplit("/", 1)[-1]: r for r in rejects}
    feed_errors = {r["feed"]: r["reason"] for r in rejects if r["stage"] == "poll" and r.get("feed")}

    assert "empty body" in feed_errors["empty"]
    assert "HTML page" in feed_errors["html"]
    assert "deadline" in feed_errors["trickle"] or "timeout" in feed_errors["trickle"]
    assert "timeout" in feed_errors["silent"]
    assert "cap" in by_url["gzip-bomb.html"]["reason"]
    assert "cap" in by_url["huge-script.html"]["reason"]
    assert "cap" in by_url["over-cap.html"]["reason"]
    assert "cap" in by_url["endless.html"]["reason"] or "deadline" in by_url["endless.html"]["reason"]
    assert "binary" in by_url["binary.html"]["reason"]
    metadata = [r for r in rejects if "169.254.169.254" in (r.get("url") or "")]
    assert metadata and all("non-public" in r["reason"] for r in metadata)  # the XXE feed's link

    articles = [h["_source"] for h in store.es.search(index=store.alias("articles"), size=200)["hits"]["hits"]]
    titles = {a["title"] for a in articles}
    assert {"صفحة عادية بعد XXE", "خبر سليم من خلاصة مكسورة", "خبر بتاريخ من المستقبل"} <= titles
    good = sum(1 for a in articles if a["feed"] == "good")
    assert good == 2, "the good feed's two articles are indexed"
    future = next(a for a in articles if a["title"] == "خبر بتاريخ من المستقبل")
    assert future["published"] is None and future["feed_published"] is None
    shown = json.dumps([{k: a.get(k) for k in ("title", "text", "description", "authors")} for a in articles], ensure_ascii=False)
    for payload in ("root:", "/bin/bash", "lollol", "BBBBBBBB", "<script", "<img", "onerror", "onload", "javascript:", "document.cookie", "\x00"):
        assert payload not in shown, payload
    assert counts["errors"] >= 9
    assert counts["feeds_polled"] == len(names) + 2
