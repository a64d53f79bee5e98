"""Feed polling: fetch each feed through the guarded fetcher and turn its entries into items."""

from __future__ import annotations

import calendar
import io
import logging
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from akhbar.config import Feed
from akhbar.fetch import Fetcher, FetchError, decode_body, garbled_reason
from akhbar.urls import canonical_url, url_id

log = logging.getLogger(__name__)

_XML_ENCODING = re.compile(r"""(<\?xml[^>]*encoding\s*=\s*["'])[^"']*(["'])""")
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"


class FeedError(Exception):
    """A feed could not be polled or parsed; the message is the recorded reason."""

    def __init__(self, reason: str, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.http_status = http_status


@dataclass(frozen=True)
class Item:
    """One feed entry pointing at an article page."""

    id: str
    url: str
    canonical_url: str
    feed: str
    outlet: str
    country: str
    title: str
    published: str | None
    guid: str

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for staging."""
        return asdict(self)


def _entry_date(entry: Any) -> str | None:
    """The entry's published (or updated) time as ISO 8601 UTC, or None."""
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC).isoformat()
            except (OverflowError, ValueError, TypeError):
                return None
    return None


def _clean_title(entry: Any, problems: list[str]) -> str:
    """The entry's title, or "" when it holds undecodable characters (the page's own title is used then)."""
    title = (entry.get("title") or "").strip()
    if "\ufffd" in title:
        problems.append(f"entry {entry.get('link')!r} has an undecodable title; the page's title is used")
        return ""
    return title


def parse_feed(body: bytes, feed: Feed, content_type: str = "", max_items: int = 200) -> tuple[list[Item], list[str]]:
    """Parse a feed body into items; return (items, per-entry problems). Raises FeedError if nothing usable."""
    if not body.strip():
        raise FeedError("empty body served as a feed")
    text, _encoding = decode_body(body, content_type)
    # Re-encoded as UTF-8 with a matching declaration; a stream, so feedparser never treats it as a URL or path.
    utf8 = _XML_ENCODING.sub(r"\1utf-8\2", text, count=1).encode("utf-8")
    parsed = feedparser.parse(
        io.BytesIO(utf8),
        response_headers={"content-type": "application/xml; charset=utf-8", "content-location": feed.url},
    )
    version = parsed.get("version", "")
    if not version and not parsed.entries:
        looks_html = "<html" in text[:2048].lower()
        reason = "an HTML page, not a feed" if looks_html else f"not a feed ({parsed.get('bozo_exception', 'unrecognised format')})"
        raise FeedError(reason)
    if parsed.get("bozo"):
        log.warning("feed %s is malformed (%s); keeping its valid entries", feed.name, parsed.get("bozo_exception"))
    titles = "\n".join(str(e.get("title") or "") for e in parsed.entries[:max_items])
    garbled = garbled_reason(titles.replace("\ufffd", ""))
    if garbled:
        raise FeedError(f"feed text cannot be decoded cleanly: {garbled}")
    items: list[Item] = []
    problems: list[str] = []
    for entry in parsed.entries[:max_items]:
        link = entry.get("link") or ""
        if not link.startswith(("http://", "https://")):
            problems.append(f"entry {entry.get('id') or entry.get('title', '?')!r} has no usable link")
            continue
        canon = canonical_url(link)
        items.append(
            Item(
                id=url_id(canon),
                url=link,
                canonical_url=canon,
                feed=feed.name,
                outlet=feed.outlet,
                country=feed.country,
                title=_clean_title(entry, problems),
                published=_entry_date(entry),
                guid=str(entry.get("id") or link),
            )
        )
    return items, problems


@dataclass(frozen=True)
class PollResult:
    """One poll of a feed: its items, or nothing new (HTTP 304), and the validators to send next time."""

    status: int
    items: list[Item]
    problems: list[str]
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def poll_feed(fetcher: Fetcher, feed: Feed, max_items: int = 200, validators: dict[str, str] | None = None) -> PollResult:
    """Fetch (conditionally, when validators are given) and parse one feed; raise FeedError with the reason when it fails."""
    try:
        resp = fetcher.get(feed.url, accept=FEED_ACCEPT, headers=validators or None)
    except FetchError as exc:
        raise FeedError(str(exc)) from exc
    if resp.status == 304 and validators:
        return PollResult(304, [], [], resp.headers.get("etag"), resp.headers.get("last-modified"))
    if resp.status != 200:
        raise FeedError(f"HTTP {resp.status}", resp.status)
    items, problems = parse_feed(resp.body, feed, resp.headers.get("content-type", ""), max_items)
    return PollResult(200, items, problems, resp.headers.get("etag"), resp.headers.get("last-modified"))


@dataclass(frozen=True)
class Candidate:
    """A feed URL proposed for a site, and what polling it once gave."""

    url: str
    found_by: str
    ok: bool
    title: str = ""
    items: int = 0
    newest: str | None = None
    reason: str = ""


def _probe(fetcher: Fetcher, url: str, found_by: str, max_items: int) -> Candidate:
    """Poll a candidate feed URL once and say whether it is a usable feed."""
    feed = Feed(name="candidate", url=url)
    try:
        resp = fetcher.get(url, accept=FEED_ACCEPT)
        if resp.status != 200:
            raise FeedError(f"HTTP {resp.status}")
        items, _problems = parse_feed(resp.body, feed, resp.headers.get("content-type", ""), max_items)
        title = feedparser.parse(io.BytesIO(resp.body)).feed.get("title", "")
    except (FetchError, FeedError) as exc:
        return Candidate(url, found_by, False, reason=str(exc))
    dates = sorted((i.published for i in items if i.published), reverse=True)
    return Candidate(url, found_by, True, title=str(title).strip(), items=len(items), newest=dates[0] if dates else None)


def discover_feeds(fetcher: Fetcher, site_url: str, probe_paths: list[str], max_candidates: int = 10) -> list[Candidate]:
    """Feed URLs of a site: the <link rel=alternate> feeds and feed-like links trafilatura finds on its page, else
    common feed paths; each candidate is polled once (through the same guards) to confirm it is a feed."""
    from trafilatura.feeds import FeedParameters, determine_feed

    parts = urlsplit(site_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedError(f"not a site URL: {site_url!r}")
    base = f"{parts.scheme}://{parts.netloc}"
    try:
        resp = fetcher.get(site_url, accept="text/html,application/xhtml+xml")
    except FetchError as exc:
        raise FeedError(f"cannot fetch {site_url}: {exc}") from exc
    if resp.status != 200:
        raise FeedError(f"cannot fetch {site_url}: HTTP {resp.status}")
    html, _encoding = decode_body(resp.body, resp.headers.get("content-type", ""))
    domain = (parts.hostname or "").removeprefix("www.")
    found = determine_feed(html, FeedParameters(base, domain, site_url))
    sources = {url: "page links" for url in found}
    if not found:
        sources = {urljoin(base + "/", path.lstrip("/")): "common path" for path in probe_paths}
    return [_probe(fetcher, url, how, 200) for url, how in list(sources.items())[:max_candidates]]
