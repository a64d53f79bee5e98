"""URL canonicalisation and ids."""

from __future__ import annotations

import pytest

from akhbar.urls import canonical_url, url_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://Example.COM:80/a/b.html#frag", "http://example.com/a/b.html"),
        ("https://example.com:443/a?utm_source=rss&utm_medium=feed&id=3", "https://example.com/a?id=3"),
        ("https://example.com/a?fbclid=abc&b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://amp.example.com/news/1/amp/", "https://example.com/news/1"),
        ("https://example.com/news/1.amp.html", "https://example.com/news/1.html"),
        ("http://127.0.0.1:8765/pages/x.html?utm_campaign=y", "http://127.0.0.1:8765/pages/x.html"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_url_id_is_deterministic_and_ignores_tracking() -> None:
    assert url_id("https://example.com/a?utm_source=x") == url_id("https://EXAMPLE.com/a#top")
    assert len(url_id("https://example.com/a")) == 40
    assert url_id("https://example.com/a") != url_id("https://example.com/b")
