"""Polling and fetching as a good citizen of the web: real loopback servers, real Elasticsearch."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from akhbar import feedstate, pipeline
from akhbar.config import Settings
from akhbar.index import Store
from akhbar.normalize import arabic_ratio
from akhbar.urls import url_id
from conftest import make_ctx
from web import TrickleServer, article_html, distinct_paragraphs, feeds_file, rss

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def requests_to(httpserver: HTTPServer, path: str) -> list[Request]:
    return [req for req, _resp in httpserver.log if req.path == path]


def reject_reasons(store: Store, stage: str) -> dict[str, str]:
    store.refresh("rejects")
    hits = store.es.search(index=store.alias("rejects"), query={"term": {"stage": stage}}, size=100)["hits"]["hits"]
    return {h["_source"].get("url") or h["_source"].get("feed"): h["_source"]["reason"] for h in hits}


def serve_pages(httpserver: HTTPServer, titles: dict[str, str]) -> list[tuple[str, str]]:
    items = []
    for path, title in titles.items():
        httpserver.expect_request(path).respond_with_data(article_html(title), content_type="text/html; charset=utf-8")
        items.append((title, httpserver.url_for(path)))
    return items


def test_second_poll_is_conditional_and_indexes_nothing(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    items = serve_pages(httpserver, {"/news/1": "الجيش يعزز مواقعه في الشمال", "/news/2": "البرلمان يناقش الموازنة العامة"})
    body = rss(items)
    etag, modified = '"feed-v1"', "Sat, 21 Nov 2026 11:00:00 GMT"

    def conditional(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag or request.headers.get("If-Modified-Since") == modified:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type="application/rss+xml", headers={"ETag": etag, "Last-Modified": modified})

    httpserver.expect_request("/rss").respond_with_handler(conditional)
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "cond", "url": httpserver.url_for("/rss")}])
    first = pipeline.run_once(settings, make_ctx(settings, "run-1", T0), path)
    assert first["indexed"] == 2 and first["feeds_not_modified"] == 0
    state = store.get("feeds", "cond")
    assert state["etag"] == etag and state["last_modified"] == modified and state["status"] == "ok"
    articles_before = store.count("articles")

    later = datetime.fromisoformat(state["next_poll"]) + timedelta(minutes=1)
    second = pipeline.run_once(settings, make_ctx(settings, "run-2", later), path)
    polls = requests_to(httpserver, "/rss")
    assert len(polls) == 2
    assert polls[1].headers["If-None-Match"] == etag and polls[1].headers["If-Modified-Since"] == modified
    assert second["feeds_not_modified"] == 1 and second["items_seen"] == 0
    assert second["pages_fetched"] == 0 and second["indexed"] == 0 and second["errors"] == 0
    assert store.count("articles") == articles_before
    assert len(requests_to(httpserver, "/news/1")) == 1
    state = store.get("feeds", "cond")
    assert state["status"] == "not_modified" and state["last_http_status"] == 304
    assert datetime.fromisoformat(state["next_poll"]) > later


def test_feed_not_due_is_not_requested(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/rss").respond_with_data(rss([]), content_type="application/rss+xml")
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "quiet", "url": httpserver.url_for("/rss")}])
    pipeline.poll_stage(settings, make_ctx(settings, "p1", T0), path)
    counts = pipeline.run_once(settings, make_ctx(settings, "p2", T0 + timedelta(minutes=2)), path)
    assert counts["feeds_skipped"] == 1 and counts["feeds_polled"] == 0
    assert len(requests_to(httpserver, "/rss")) == 1
    forced = pipeline.run_once(settings, make_ctx(settings, "p3", T0 + timedelta(minutes=3)), path, all_feeds=True)
    assert forced["feeds_polled"] == 1 and len(requests_to(httpserver, "/rss")) == 2


def test_rerun_of_a_poll_reuses_its_batch(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    items = serve_pages(httpserver, {"/news/1": "خبر أول"})
    httpserver.expect_request("/rss").respond_with_data(rss(items), content_type="application/rss+xml")
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "f", "url": httpserver.url_for("/rss")}])
    ctx = make_ctx(settings, "same-run", T0)
    first = pipeline.poll_stage(settings, ctx, path)
    again = pipeline.poll_stage(settings, ctx, path)
    assert first == again and len(requests_to(httpserver, "/rss")) == 1
    assert len(list(pipeline.staging.read_jsonl(again))) == 1


def test_failing_feed_backs_off_then_is_parked_with_reason(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/gone").respond_with_data("no", status=503)
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "down", "url": httpserver.url_for("/gone")}])
    when = T0
    policy = feedstate.Policy.from_tunables(settings.tunables)
    for run in range(policy.park_after_failures):
        pipeline.poll_stage(settings, make_ctx(settings, f"r{run}", when), path)
        state = store.get("feeds", "down")
        when = datetime.fromisoformat(state["next_poll"])
    assert state["parked"] and state["status"] == "parked" and "HTTP 503" in state["parked_reason"]
    assert state["consecutive_failures"] == policy.park_after_failures
    requests = len(requests_to(httpserver, "/gone"))
    # Parked: the next runs of the day leave it alone.
    for minutes in (10, 20, 60):
        pipeline.poll_stage(settings, make_ctx(settings, f"later-{minutes}", datetime.fromisoformat(state["last_polled"]) + timedelta(minutes=minutes)), path)
    assert len(requests_to(httpserver, "/gone")) == requests


def encoded_response(html: str, encoding: str, content_type: str) -> Response:
    return Response(html.encode(encoding), headers={"Content-Type": content_type})


def test_windows_1256_and_mislabelled_feeds_and_pages_index_as_arabic(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    titles = {"/cp1256": "القوات العراقية تتقدم نحو الحدود", "/mislabelled": "الحكومة اللبنانية تعلن خطة الطوارئ", "/undeclared": "وزير الخارجية يزور القاهرة"}
    httpserver.expect_request("/cp1256").respond_with_response(encoded_response(article_html(titles["/cp1256"], charset="windows-1256"), "cp1256", "text/html"))
    # Declared as Latin-1 in the header and the page, but the bytes are windows-1256.
    httpserver.expect_request("/mislabelled").respond_with_response(encoded_response(article_html(titles["/mislabelled"], charset="iso-8859-1"), "cp1256", "text/html; charset=ISO-8859-1"))
    httpserver.expect_request("/undeclared").respond_with_response(encoded_response(article_html(titles["/undeclared"], charset=None), "cp1256", "text/html"))
    items = [(t, httpserver.url_for(p)) for p, t in titles.items()]
    httpserver.expect_request("/rss-1256").respond_with_response(encoded_response(rss(items[:2], encoding="windows-1256"), "cp1256", "application/rss+xml"))
    httpserver.expect_request("/rss-bad-label").respond_with_response(encoded_response(rss(items[2:], encoding="iso-8859-1"), "cp1256", "text/xml; charset=iso-8859-1"))
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "a", "url": httpserver.url_for("/rss-1256")}, {"name": "b", "url": httpserver.url_for("/rss-bad-label")}])
    counts = pipeline.run_once(settings, make_ctx(settings, "enc", T0), path)
    assert counts["errors"] == 0 and counts["indexed"] == 3
    for page, title in titles.items():
        doc = store.get("articles", url_id(httpserver.url_for(page)))
        assert doc is not None, page
        assert doc["title"] == title
        assert distinct_paragraphs(title)[0] in doc["text"]
        assert "\ufffd" not in doc["text"] + doc["title"]
        assert arabic_ratio(doc["text"]) > 0.95 and arabic_ratio(doc["title"]) == 1.0


def test_mojibake_page_is_rejected_not_indexed(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    # A page whose UTF-8 bytes were once decoded as windows-1256 and saved again: mojibake in valid UTF-8.
    garbled = article_html("عنوان الخبر").encode("utf-8").decode("cp1256", errors="replace").replace("\ufffd", "")
    httpserver.expect_request("/moji").respond_with_data(garbled, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/rss").respond_with_data(rss([("خبر", httpserver.url_for("/moji"))]), content_type="application/rss+xml")
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "m", "url": httpserver.url_for("/rss")}])
    counts = pipeline.run_once(settings, make_ctx(settings, "moji", T0), path)
    assert counts["indexed"] == 0 and counts["errors"] == 1
    assert "mojibake" in reject_reasons(store, "extract")[httpserver.url_for("/moji")]


def test_stray_replacement_character_outside_the_text_does_not_reject_the_page(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    html = article_html("خبر سليم النص").replace("</head>", "<script>var s = '\ufffd';</script></head>")
    httpserver.expect_request("/p").respond_with_data(html, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/rss").respond_with_data(rss([("خبر", httpserver.url_for("/p"))]), content_type="application/rss+xml")
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "s", "url": httpserver.url_for("/rss")}])
    counts = pipeline.run_once(settings, make_ctx(settings, "stray", T0), path)
    assert counts["indexed"] == 1 and counts["errors"] == 0


def test_malformed_feed_keeps_its_valid_items(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    items = serve_pages(httpserver, {"/ok-1": "خبر سليم أول", "/ok-2": "خبر سليم ثان"})
    body = rss(items).replace("</channel>", "<item><title>عنوان & بلا رابط <b>مكسور</title></item></channel>")
    httpserver.expect_request("/bad.xml").respond_with_data(body, content_type="application/rss+xml")
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "bozo", "url": httpserver.url_for("/bad.xml")}])
    with caplog.at_level(logging.WARNING, logger="akhbar.feeds"):
        counts = pipeline.run_once(settings, make_ctx(settings, "bozo", T0), path)
    assert any("malformed" in r.getMessage() for r in caplog.records)
    assert counts["feeds_failed"] == 0 and counts["indexed"] == 2
    assert store.get("feeds", "bozo")["status"] == "ok"


@pytest.mark.parametrize(("body", "reason"), [("", "empty body"), ("<html><body><p>صيانة</p></body></html>", "HTML page")])
def test_html_or_empty_body_as_feed_is_a_per_feed_error(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path, body: str, reason: str) -> None:
    items = serve_pages(httpserver, {"/fine": "خبر من مصدر سليم"})
    httpserver.expect_request("/good.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    httpserver.expect_request("/broken.xml").respond_with_data(body, content_type="text/html")
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "broken", "url": httpserver.url_for("/broken.xml")}, {"name": "good", "url": httpserver.url_for("/good.xml")}])
    counts = pipeline.run_once(settings, make_ctx(settings, "bad", T0), path)
    assert counts["feeds_failed"] == 1 and counts["indexed"] == 1
    assert reason in reject_reasons(store, "poll")[httpserver.url_for("/broken.xml")]
    assert reason in store.get("feeds", "broken")["last_error"]


def test_trickle_and_oversized_are_cut_off_while_others_complete(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    fetch = {**settings.tunables["fetch"], "total_deadline_s": 1.5, "read_timeout_s": 1.0, "max_body_bytes": 200_000}
    tight = dataclasses.replace(settings, tunables={**settings.tunables, "fetch": fetch})
    slow_body, slow_head = TrickleServer("127.0.0.2", every_s=0.2), TrickleServer("127.0.0.3", every_s=0.2, slow_headers=True)
    try:
        items = serve_pages(httpserver, {"/fine": "خبر يصل في موعده"})
        httpserver.expect_request("/good.xml").respond_with_data(rss(items), content_type="application/rss+xml")

        def endless(_request: Request) -> Response:
            return Response((b"<" * 65536 for _ in range(1000)), content_type="application/rss+xml")  # 64 MB, chunked, no length

        httpserver.expect_request("/huge.xml").respond_with_handler(endless)
        path = feeds_file(tmp_path / "feeds.yaml", [
            {"name": "trickle-body", "url": f"{slow_body.url}/rss"},
            {"name": "trickle-headers", "url": f"{slow_head.url}/rss"},
            {"name": "huge", "url": httpserver.url_for("/huge.xml")},
            {"name": "good", "url": httpserver.url_for("/good.xml")},
        ])
        counts = pipeline.run_once(tight, make_ctx(tight, "bounds", T0), path)
    finally:
        slow_body.close()
        slow_head.close()
    assert counts["feeds_failed"] == 3 and counts["indexed"] == 1
    reasons = reject_reasons(store, "poll")
    assert "1.5s total deadline" in reasons[f"{slow_body.url}/rss"]
    assert "1.5s total deadline" in reasons[f"{slow_head.url}/rss"]
    assert "200000-byte cap" in reasons[httpserver.url_for("/huge.xml")]
    assert max(slow_body.most_sent, slow_head.most_sent) < 20  # cut off after ~1.5 s of a 100 000-byte trickle


def test_robots_txt_disallow_is_obeyed(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.robots_txt = "User-agent: *\nDisallow: /private/\n"
    items = serve_pages(httpserver, {"/public/1": "خبر متاح للجميع", "/private/2": "خبر محظور على الزواحف"})
    httpserver.expect_request("/rss").respond_with_data(rss(items), content_type="application/rss+xml")
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "r", "url": httpserver.url_for("/rss")}])
    counts = pipeline.run_once(settings, make_ctx(settings, "robots", T0), path)
    assert counts["indexed"] == 1 and counts["errors"] == 1
    assert requests_to(httpserver, "/private/2") == []
    assert "robots.txt" in reject_reasons(store, "fetch")[httpserver.url_for("/private/2")]
    # Read once for both stages; kept a day, then read again.
    assert len(requests_to(httpserver, "/robots.txt")) == 1
    pipeline.run_once(settings, make_ctx(settings, "robots-2", T0 + timedelta(hours=2)), path, all_feeds=True)
    assert len(requests_to(httpserver, "/robots.txt")) == 1
    httpserver.robots_txt = "User-agent: *\nDisallow: /\n"
    later = pipeline.run_once(settings, make_ctx(settings, "robots-3", T0 + timedelta(days=1, hours=1)), path, all_feeds=True)
    assert len(requests_to(httpserver, "/robots.txt")) == 2
    assert later["feeds_failed"] == 1 and "disallows" in store.get("feeds", "r")["last_error"]


def test_same_article_through_two_feeds_and_tracking_params_is_fetched_once(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    title = "وصول تعزيزات إلى القاعدة الجوية"
    httpserver.expect_request("/a").respond_with_data(article_html(title, canonical=httpserver.url_for("/a")), content_type="text/html")
    # The print version of the same article declares the article as its canonical page.
    httpserver.expect_request("/a-print").respond_with_data(article_html(title, canonical=httpserver.url_for("/a")), content_type="text/html")
    one = rss([(title, httpserver.url_for("/a") + "?utm_source=rss&utm_medium=feed")])
    two = rss([(title, httpserver.url_for("/a") + "?fbclid=XYZ#comments"), (title, httpserver.url_for("/a-print"))])
    httpserver.expect_request("/one.xml").respond_with_data(one, content_type="application/rss+xml")
    httpserver.expect_request("/two.xml").respond_with_data(two, content_type="application/rss+xml")
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "one", "url": httpserver.url_for("/one.xml")}, {"name": "two", "url": httpserver.url_for("/two.xml")}])
    first = pipeline.run_once(settings, make_ctx(settings, "dup-1", T0), path)
    assert first["indexed"] == 1 and first["errors"] == 0
    pipeline.run_once(settings, make_ctx(settings, "dup-2", T0 + timedelta(days=1)), path)
    assert len(requests_to(httpserver, "/a")) == 1
    assert len(requests_to(httpserver, "/a-print")) == 1  # fetched once to learn its canonical page, never again
    assert store.count("articles") == 1
    assert "rel=canonical" in reject_reasons(store, "fetch")[httpserver.url_for("/a-print")]


def test_one_broken_page_never_stops_the_others(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    items = serve_pages(httpserver, {"/ok": "خبر يصل سليما"})
    httpserver.expect_request("/pdf").respond_with_data(b"%PDF-1.4", content_type="application/pdf")
    httpserver.expect_request("/500").respond_with_data("boom", status=500)
    items += [("ملف", httpserver.url_for("/pdf")), ("خطأ", httpserver.url_for("/500"))]
    httpserver.expect_request("/rss").respond_with_data(rss(items), content_type="application/rss+xml")
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "mixed", "url": httpserver.url_for("/rss")}])
    counts = pipeline.run_once(settings, make_ctx(settings, "mixed", T0), path)
    assert counts["indexed"] == 1 and counts["errors"] == 2
    reasons = reject_reasons(store, "fetch")
    assert "not an HTML page" in reasons[httpserver.url_for("/pdf")] and "HTTP 500" in reasons[httpserver.url_for("/500")]


def test_article_urls_and_their_redirects_are_vetted(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    """Only 127.0.0.1 is allowed: articles on refused addresses, or redirecting to one, are refused, the rest indexed."""
    items = serve_pages(httpserver, {"/fine": "خبر من عنوان مسموح"})
    httpserver.expect_request("/hop").respond_with_data("", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    items += [("تحويل", f"http://127.0.0.1:{httpserver.port}/hop"), ("داخلي", "http://10.0.0.7/news/1"), ("ملف", "http://[::ffff:192.168.1.1]/x")]
    items = [(t, u.replace("localhost", "127.0.0.1")) for t, u in items]
    httpserver.expect_request("/rss").respond_with_data(rss(items), content_type="application/rss+xml")
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "v", "url": f"http://127.0.0.1:{httpserver.port}/rss"}], allow=["127.0.0.1/32"])
    counts = pipeline.run_once(settings, make_ctx(settings, "ssrf", T0), path)
    assert counts["indexed"] == 1 and counts["errors"] == 3
    reasons = reject_reasons(store, "fetch")
    assert "169.254.169.254" in reasons[f"http://127.0.0.1:{httpserver.port}/hop"]
    assert "non-public" in reasons["http://10.0.0.7/news/1"] and "non-public" in reasons["http://[::ffff:192.168.1.1]/x"]
