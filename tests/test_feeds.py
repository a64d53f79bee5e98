"""Feed parsing with real feedparser, polled from a real loopback server."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from akhbar.config import Feed, load_tunables
from akhbar.feeds import FeedError, parse_feed, poll_feed
from akhbar.fetch import Fetcher

FEED = Feed(name="t", url="http://outlet.example/rss", outlet="المنفذ")


def rss(items: str, encoding: str = "utf-8") -> str:
    return f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>أخبار</title>{items}</channel></rss>'


ITEM = "<item><title>{title}</title><link>{link}</link><pubDate>Wed, 18 Nov 2026 09:30:00 +0300</pubDate><guid>{link}</guid></item>"


def test_items_parsed_with_canonical_ids() -> None:
    body = rss(ITEM.format(title="خبر عاجل", link="http://outlet.example/a?utm_source=rss") + ITEM.format(title="خبر ثان", link="http://outlet.example/b"))
    items, problems = parse_feed(body.encode(), FEED)
    assert problems == []
    assert [i.canonical_url for i in items] == ["http://outlet.example/a", "http://outlet.example/b"]
    assert items[0].title == "خبر عاجل" and items[0].published == "2026-11-18T06:30:00+00:00"
    assert items[0].outlet == "المنفذ" and len(items[0].id) == 40


def test_windows_1256_feed() -> None:
    body = rss(ITEM.format(title="القوات العراقية تتقدم", link="http://outlet.example/c"), encoding="windows-1256").encode("cp1256")
    items, _ = parse_feed(body, FEED)
    assert items[0].title == "القوات العراقية تتقدم"


def test_malformed_feed_keeps_valid_items() -> None:
    body = rss(ITEM.format(title="خبر سليم", link="http://outlet.example/ok") + "<item><title>بلا رابط & خطأ</title></item>")
    items, problems = parse_feed(body.encode(), FEED)
    assert [i.title for i in items] == ["خبر سليم"]
    assert len(problems) == 1 and "no usable link" in problems[0]


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"", "empty body"), (b"   \n", "empty body"), (b"<html><body><h1>Welcome</h1></body></html>", "HTML page")],
)
def test_not_a_feed_is_a_clear_error(body: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        parse_feed(body, FEED)


def test_poll_feed_over_http(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/rss").respond_with_data(rss(ITEM.format(title="خبر", link="http://outlet.example/a")), content_type="application/rss+xml")
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    with Fetcher(load_tunables(), allow_private=True) as fetcher:
        result = poll_feed(fetcher, Feed("t", httpserver.url_for("/rss")))
        assert len(result.items) == 1 and result.status == 200
        with pytest.raises(FeedError, match="HTTP 404"):
            poll_feed(fetcher, Feed("t", httpserver.url_for("/gone")))


def test_feed_url_on_loopback_refused_by_default(httpserver: HTTPServer) -> None:
    with Fetcher(load_tunables(), allow_private=False) as fetcher, pytest.raises(FeedError, match="non-public"):
        poll_feed(fetcher, Feed("t", httpserver.url_for("/rss")))


def test_undecodable_title_is_dropped_and_mojibake_feed_refused() -> None:
    body = rss(ITEM.format(title="خبر \ufffd تالف", link="http://outlet.example/x") + ITEM.format(title="خبر سليم", link="http://outlet.example/y"))
    items, problems = parse_feed(body.encode(), FEED)
    assert [i.title for i in items] == ["", "خبر سليم"] and "undecodable title" in problems[0]
    moji = rss("".join(ITEM.format(title="القوات العراقية تتقدم نحو الحدود", link=f"http://outlet.example/{n}") for n in range(5)))
    garbled = moji.encode("utf-8").decode("cp1256", errors="ignore").encode("utf-8")
    with pytest.raises(FeedError, match="mojibake"):
        parse_feed(garbled, FEED)
