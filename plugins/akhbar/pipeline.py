"""The ingestion cycle as stage functions: the DAG's tasks and `akhbar run-once` call exactly these.

Each stage reads the previous stage's batch from staging, writes its own batch and its counts, and
returns a reference (the batch's path as a string), so tasks pass references, never payloads.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import multiprocessing
import os
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from upath import UPath

from akhbar import alerts as alerts_mod
from akhbar import dedup, feedstate, robotscache, staging, stories
from akhbar.config import Feed, Settings, load_feeds
from akhbar.dates import localize
from akhbar.extract import ExtractError, ParsedPage, candidate_lines, finish_article, load_boilerplate, parse_page, valid_date
from akhbar.feeds import FeedError, Item, PollResult, poll_feed
from akhbar.fetch import Fetcher, FetchError, decode_body, garbled_reason, link_canonical
from akhbar.fields import extract_fields, load_gazetteer
from akhbar.index import Store
from akhbar.language import detect, is_kept
from akhbar.learned import HostBoilerplate, LearnRules, Sighting
from akhbar.normalize import search_form
from akhbar.polite import HostScheduler, Outcome
from akhbar.urls import canonical_url

log = logging.getLogger(__name__)

STAGES = ("poll", "fetch", "extract", "index", "alerts", "deliver")
COUNT_KEYS = (
    "feeds_polled", "feeds_failed", "feeds_not_modified", "feeds_skipped", "feed_errors", "items_seen", "items_repeated", "already_seen",
    "pages_fetched", "extracted", "non_arabic", "duplicates", "indexed", "updated", "alerts", "alerts_updated", "alerts_delivered",
    "delivery_failed", "errors",
)
# Where each distinct item of a run ends; `unaccounted` checks that these add up to items_seen.
ITEM_OUTCOMES = ("already_seen", "indexed", "updated", "duplicates", "non_arabic")


class PartialRunError(RuntimeError):
    """A stage wrote what it could but some documents failed; the task must fail so Airflow shows it."""


@dataclass(frozen=True)
class RunContext:
    """Identity and staging root of one ingestion cycle; logical_date stands in for 'now' in all logic."""

    run_id: str
    logical_date: datetime
    base: UPath

    @property
    def dir(self) -> UPath:
        """This run's staging directory."""
        return self.base / staging.safe_name(self.run_id)

    def batch(self, stage: str) -> UPath:
        """Path of a stage's output batch."""
        return self.dir / f"{stage}.jsonl.gz"

    def rejects(self, stage: str) -> UPath:
        """Path of a stage's rejected records (errors, non-Arabic pages)."""
        return self.dir / f"{stage}.rejects.jsonl.gz"

    def counts_path(self, stage: str) -> UPath:
        """Path of a stage's counts."""
        return self.dir / f"{stage}.counts.json"


def _timed(stage: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Record a stage's wall time in the run's staging directory (<stage>.seconds.json), for operators and benchmarks."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(settings: Settings, ctx: RunContext, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(settings, ctx, *args, **kwargs)
            finally:
                staging.write_json(ctx.dir / f"{stage}.seconds.json", round(time.perf_counter() - start, 4))

        return timed

    return wrap


def make_context(settings: Settings, run_id: str, logical_date: datetime, base: UPath | None = None) -> RunContext:
    """A run context on the configured staging root (or the one given, e.g. an ObjectStoragePath)."""
    return RunContext(run_id, logical_date, base if base is not None else staging.base_path(settings.staging_url))


def reject_id(kind: str, stage: str, key: str) -> str:
    """Deterministic id of a reject: its kind, stage and URL (or feed)."""
    return hashlib.sha1(f"{kind}|{stage}|{key}".encode()).hexdigest()


def _reject(ctx: RunContext, stage: str, kind: str, reason: str, **extra: Any) -> dict[str, Any]:
    """A reject record with a deterministic id."""
    doc_id = reject_id(kind, stage, extra.get("url") or extra.get("feed") or reason)
    return {"id": doc_id, "run_id": ctx.run_id, "at": ctx.logical_date.isoformat(), "stage": stage, "kind": kind, "reason": reason, **extra}


def _finish(ctx: RunContext, stage: str, counts: Counter[str], rejects: list[dict[str, Any]]) -> None:
    """Persist a stage's rejects and counts."""
    staging.write_jsonl(ctx.rejects(stage), rejects)
    staging.write_json(ctx.counts_path(stage), dict(counts))
    log.info("stage %s of %s: %s", stage, ctx.run_id, dict(counts))


def _run_politely(settings: Settings, ctx: RunContext, store: Store, fetcher: Fetcher, jobs: list[tuple[str, Any]]) -> list[Outcome[Any]]:
    """Run fetch jobs through the per-host scheduler, with robots.txt files kept from earlier stages and runs."""
    ttl = int(settings.tunables.get("polite", {}).get("robots_ttl_s", 86_400))
    if fetcher.robots is not None and jobs:
        fetcher.robots.seed(robotscache.load(store, (url for url, _job in jobs), ctx.logical_date, ttl))
    outcomes = HostScheduler.from_tunables(settings.tunables, fetcher).map(jobs)
    if fetcher.robots is not None:
        robotscache.save(store, fetcher.robots.fetched(), ctx.logical_date)
    return outcomes


def _poll_one(fetcher: Fetcher, feed: Feed, state: feedstate.FeedState, max_items: int) -> PollResult:
    """Poll one feed conditionally with its stored validators."""
    return poll_feed(fetcher, feed, max_items, state.validators())


@_timed("poll")
def poll_stage(settings: Settings, ctx: RunContext, feeds_path: Path | str | None = None, *, all_feeds: bool = False) -> str:
    """Poll the feeds that are due (every feed with all_feeds), conditionally and politely; one failing feed is
    recorded and the others go on.

    A rerun of a run whose poll finished returns the same batch: feed states have moved on since, and
    polling again would lose the items the first attempt found.
    """
    if ctx.counts_path("poll").exists() and ctx.batch("poll").exists():
        log.info("poll of %s already done; reusing its batch", ctx.run_id)
        return str(ctx.batch("poll"))
    feeds_file = load_feeds(feeds_path or settings.feeds_path)
    max_items = int(settings.tunables.get("fetch", {}).get("max_items_per_feed", 200))
    policy = feedstate.Policy.from_tunables(settings.tunables)
    store = Store.from_settings(settings)
    store.ensure()
    states = feedstate.load(store, feeds_file.feeds)
    counts: Counter[str] = Counter()
    rejects: list[dict[str, Any]] = []
    items: dict[str, Item] = {}
    due = [f for f in feeds_file.feeds if all_feeds or feedstate.is_due(states[f.name], ctx.logical_date, policy)]
    counts["feeds_skipped"] = len(feeds_file.feeds) - len(due)
    with Fetcher(settings.tunables, feeds_file.allow_private_networks) as fetcher:
        outcomes = _run_politely(settings, ctx, store, fetcher, [(f.url, partial(_poll_one, fetcher, f, states[f.name], max_items)) for f in due])
    updated: list[feedstate.FeedState] = []
    for feed, outcome in zip(due, outcomes, strict=True):
        state = states[feed.name]
        counts["feeds_polled"] += 1
        if outcome.error is not None:
            exc = outcome.error
            reason = str(exc) if isinstance(exc, FeedError) else f"{type(exc).__name__}: {exc}"
            counts["feeds_failed"] += 1
            counts["feed_errors"] += 1
            counts["errors"] += 1
            rejects.append(_reject(ctx, "poll", "error", reason, feed=feed.name, outlet=feed.outlet, url=feed.url))
            log.warning("feed %s failed: %s", feed.name, reason)
            updated.append(feedstate.after_failure(state, ctx.logical_date, policy, run_id=ctx.run_id, reason=reason, http_status=getattr(exc, "http_status", None)))
            continue
        result = outcome.value
        if result.not_modified:
            counts["feeds_not_modified"] += 1
            updated.append(feedstate.after_success(state, ctx.logical_date, policy, run_id=ctx.run_id, http_status=304))
            continue
        updated.append(feedstate.after_success(
            state, ctx.logical_date, policy, run_id=ctx.run_id, http_status=result.status,
            item_ids=[i.id for i in result.items], item_dates=[i.published for i in result.items],
            etag=result.etag, last_modified=result.last_modified,
        ))
        for problem in result.problems:
            counts["feed_errors"] += 1
            counts["errors"] += 1
            rejects.append(_reject(ctx, "poll", "error", problem, feed=feed.name, outlet=feed.outlet, url=f"{feed.url}#{problem}"))
        for item in result.items:
            if item.id in items:
                counts["items_repeated"] += 1
            else:
                counts["items_seen"] += 1
                items[item.id] = item
    staging.write_jsonl(ctx.batch("poll"), (item.to_dict() for item in sorted(items.values(), key=lambda i: i.id)))
    _finish(ctx, "poll", counts, rejects)
    failed = feedstate.save(store, updated)
    if failed:
        log.error("%d feed states could not be saved (first: %s); those feeds are polled again next run", len(failed), failed[0]["reason"])
    return str(ctx.batch("poll"))


def _newer(item_date: str | None, stored: str | None) -> bool:
    """True when the feed dates an item later than the version already indexed."""
    if not item_date or not stored:
        return False
    try:
        return datetime.fromisoformat(item_date) > datetime.fromisoformat(stored)
    except (TypeError, ValueError):
        return False


def _already_processed(store: Store, items: list[dict[str, Any]]) -> set[str]:
    """Ids of items whose page was processed before: indexed (under its URL or as a page's rel=canonical), recorded
    as a copy, rejected for its language, or recorded as another URL of an indexed page; updates excepted."""
    by_reject = {reject_id(kind, stage, i["canonical_url"]): i["id"] for i in items for kind, stage in (("language", "extract"), ("canonical", "fetch"))}
    dates = store.feed_dates(i["id"] for i in items)
    known = {i["id"] for i in items if i["id"] in dates and not _newer(i.get("published"), dates[i["id"]])}
    known |= {by_reject[r] for r in store.existing_ids("rejects", by_reject)}
    urls = [i["canonical_url"] for i in items]
    copied = store.copied_urls(urls) | store.values_present("articles", "page_canonical_url", urls)
    return known | {i["id"] for i in items if i["canonical_url"] in copied}


def _fetch_page(fetcher: Fetcher, item: dict[str, Any]) -> dict[str, Any]:
    """Fetch and decode one article page; raise FetchError with the reason."""
    resp = fetcher.get(item["url"], accept="text/html,application/xhtml+xml", html_only=True)
    if resp.status != 200:
        raise FetchError(f"HTTP {resp.status}")
    html, encoding = decode_body(resp.body, resp.headers.get("content-type", ""))
    link = link_canonical(html, resp.final_url)
    page_canonical = canonical_url(link) if link else None
    if page_canonical and urlsplit(page_canonical).path in ("", "/") and urlsplit(item["canonical_url"]).path not in ("", "/"):
        page_canonical = None  # a site-wide canonical to the home page is a CMS mistake, not this article's URL
    return {**item, "final_url": resp.final_url, "html": html, "encoding": encoding, "page_canonical_url": page_canonical}


def _same_page_rejects(ctx: RunContext, store: Store, pages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split fetched pages into those to extract and rejects for pages whose rel=canonical is already indexed or
    is shared with another page of this batch (kept: the page at its canonical URL, else the smallest id)."""
    declared = {p["page_canonical_url"] for p in pages if p.get("page_canonical_url") and p["page_canonical_url"] != p["canonical_url"]}
    indexed = store.values_present("articles", "page_canonical_url", declared) | store.values_present("articles", "canonical_url", declared) if declared else set()
    keep: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    claimed: set[str] = set()
    def preference(page: dict[str, Any]) -> tuple[bool, str]:
        return (page.get("page_canonical_url") or page["canonical_url"]) != page["canonical_url"], page["id"]

    for page in sorted(pages, key=preference):
        key = page.get("page_canonical_url") or page["canonical_url"]
        if key != page["canonical_url"] and key in indexed:
            reason = f"same page as the indexed {key} (rel=canonical)"
        elif key in claimed:
            reason = f"same page as {key} (rel=canonical), fetched through another URL in this run"
        else:
            claimed.add(key)
            claimed.add(page["canonical_url"])
            keep.append(page)
            continue
        rejects.append(_reject(ctx, "fetch", "canonical", reason, url=page["canonical_url"], feed=page["feed"], outlet=page["outlet"], page_canonical_url=key))
    return keep, rejects


@_timed("fetch")
def fetch_stage(settings: Settings, ctx: RunContext, items_ref: str, feeds_path: Path | str | None = None) -> str:
    """Fetch, politely and concurrently across hosts, the article pages not processed before, and parse each one
    (trafilatura, metadata) in worker processes while the per-host delays run."""
    feeds_file = load_feeds(feeds_path or settings.feeds_path)
    items = list(staging.read_jsonl(items_ref))
    store = Store.from_settings(settings)
    store.ensure()
    known = _already_processed(store, items) if items else set()
    counts: Counter[str] = Counter()
    rejects: list[dict[str, Any]] = []
    todo = [item for item in items if item["id"] not in known]
    counts["already_seen"] = len(items) - len(todo)
    # Each fetched page is spilled to a local file with its parse, so memory holds no batch of HTML.
    with (
        tempfile.TemporaryDirectory(prefix="akhbar-fetch-") as spill,
        _Parsers(settings, len(todo), ctx.logical_date) as parsers,
        Fetcher(settings.tunables, feeds_file.allow_private_networks) as fetcher,
    ):
        jobs = [(item["url"], partial(_fetch_and_spill, fetcher, item, Path(spill), parsers)) for item in todo]
        outcomes = _run_politely(settings, ctx, store, fetcher, jobs)
        parsers.wait()
        fetched: list[dict[str, Any]] = []
        for item, outcome in zip(todo, outcomes, strict=True):
            if outcome.error is not None:
                exc = outcome.error
                reason = str(exc) if isinstance(exc, FetchError) else f"{type(exc).__name__}: {exc}"
                counts["errors"] += 1
                rejects.append(_reject(ctx, "fetch", "error", reason, url=item["canonical_url"], feed=item["feed"], outlet=item["outlet"]))
                continue
            counts["pages_fetched"] += 1
            fetched.append(outcome.value)
        pages, same = _same_page_rejects(ctx, store, fetched)
        counts["already_seen"] += len(same)
        staging.write_jsonl(ctx.batch("fetch"), (_unspill(stub) for stub in pages))
    _finish(ctx, "fetch", counts, rejects + same)
    return str(ctx.batch("fetch"))


class _Parsers:
    """Parse fetched pages in worker processes while fetching goes on; each parse is written into its page's spill file.

    Workers are forked before any fetching thread starts. At most `window` pages wait for a worker, so a fast
    fetch cannot pile up HTML in memory. Small batches (or `extract.workers: 1`) leave pages unparsed: the
    extract stage parses them. A page whose parse could not run (a worker died) keeps its HTML for the same reason.
    """

    def __init__(self, settings: Settings, pages: int, reference: datetime) -> None:
        cfg = settings.tunables.get("extract", {})
        wanted = cfg.get("workers", "auto")
        self.count = (os.cpu_count() or 1) if wanted in (None, "auto") else int(wanted)
        self.enabled = self.count > 1 and pages >= int(cfg.get("parallel_min_pages", 40))
        self.reference = reference
        self.window = threading.BoundedSemaphore(16 * max(1, self.count))
        self.pending: set[Future[Any]] = set()
        self.lock = threading.Lock()
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Parsers:
        if self.enabled:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            self.pool = ProcessPoolExecutor(max_workers=self.count, mp_context=multiprocessing.get_context(method))
            for fut in [self.pool.submit(os.getpid) for _ in range(self.count)]:
                fut.result()  # start every worker now, before the fetching threads exist
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, page: dict[str, Any], path: Path) -> None:
        """Write the page to path, parsed in a worker when parsing here is on (the write happens when the parse is done)."""
        if self.pool is None:
            path.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
            return
        self.window.acquire()
        fut = self.pool.submit(_parse_page, ({k: page[k] for k in ("id", "html", "final_url", "canonical_url")}, self.reference))
        with self.lock:
            self.pending.add(fut)
        fut.add_done_callback(partial(self._done, page, path))

    def _done(self, page: dict[str, Any], path: Path, fut: Future[Any]) -> None:
        """Store the parse with the page (without its HTML); keep the HTML if the parse could not run."""
        try:
            error = fut.exception()
            if error is None:
                _id, parsed, sighting, ms = fut.result()
                lines = sighting.lines if sighting is not None else {}
                page = {k: v for k, v in page.items() if k != "html"} | {"parsed": parsed, "lines": lines, "parse_ms": ms}
            else:
                log.warning("parse of %s could not run (%s); the extract stage parses it", page.get("url"), error)
            path.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
        finally:
            with self.lock:
                self.pending.discard(fut)
            self.window.release()

    def wait(self) -> None:
        """Return when every submitted parse has been written."""
        with self.lock:
            pending = list(self.pending)
        futures_wait(pending)
        while True:  # callbacks run just after their future completes
            with self.lock:
                if not self.pending:
                    return
            time.sleep(0.01)


def _fetch_and_spill(fetcher: Fetcher, item: dict[str, Any], spill: Path, parsers: _Parsers) -> dict[str, Any]:
    """Fetch one page and keep it (parsed, when parsing runs here) on local disk; return the page without its HTML, plus where it is."""
    page = _fetch_page(fetcher, item)
    path = spill / f"{item['id']}.json"
    parsers.submit(page, path)
    return {k: v for k, v in page.items() if k != "html"} | {"_spill": str(path)}


def _unspill(stub: dict[str, Any]) -> dict[str, Any]:
    """The full page of a spilled stub (its file is read once, then removed)."""
    path = Path(stub["_spill"])
    page = json.loads(path.read_text(encoding="utf-8"))
    path.unlink()
    return page


def page_host(page: dict[str, Any]) -> str:
    """The outlet host a page belongs to, for per-host learning (www. dropped)."""
    host = (urlsplit(page["canonical_url"]).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def build_article(
    page: dict[str, Any], ctx: RunContext, settings: Settings, *, parsed: ParsedPage | ExtractError | None = None,
    learned: frozenset[str] = frozenset(), timings: dict[str, float] | None = None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Turn one fetched page (or its parse, when given) into an article document, or a reject (error or non-Arabic)."""
    lang_cfg = settings.tunables.get("language", {})
    clock = _Clock(timings)
    try:
        if isinstance(parsed, ExtractError):
            raise parsed
        if parsed is None:
            parsed = parse_page(page["html"], page["final_url"], reference=ctx.logical_date)
        article = finish_article(parsed, rules=load_boilerplate(), min_chars=int(settings.tunables.get("extract", {}).get("min_chars", 80)), learned=learned)
    except ExtractError as exc:
        return None, _reject(ctx, "extract", "error", str(exc), url=page["canonical_url"], feed=page["feed"], outlet=page["outlet"])
    # What would be indexed must be clean text: no replacement characters, no mojibake.
    garbled = garbled_reason(f"{article.title}\n{article.text}")
    if garbled:
        reason = f"text cannot be decoded cleanly (decoded as {page.get('encoding', '?')}): {garbled}"
        return None, _reject(ctx, "extract", "error", reason, url=page["canonical_url"], feed=page["feed"], outlet=page["outlet"])
    clock.lap("clean_ms")
    lang = detect(article.text, sample_chars=int(lang_cfg.get("sample_chars", 3000)), seed=int(lang_cfg.get("seed", 0)))
    clock.lap("language_ms")
    if not is_kept(lang, tuple(lang_cfg.get("keep", ["ar"]))):
        return None, _reject(
            ctx, "extract", "language", f"language {lang.lang} (p={lang.prob}), declared {article.declared_language or 'none'}",
            url=page["canonical_url"], feed=page["feed"], outlet=page["outlet"], language=lang.lang,
            language_declared=article.declared_language or None,
        )
    title = article.title or page.get("title", "")
    fields = extract_fields(article.text, title, load_gazetteer())
    deployment = alerts_mod.detect_deployment(title, article.text, fields)
    clock.lap("fields_ms")
    signature_fields = _dedup_fields(title, article.text, settings)
    clock.lap("signature_ms")
    doc = {
        "id": page["id"],
        "url": page["url"],
        "canonical_url": page["canonical_url"],
        "page_canonical_url": page.get("page_canonical_url") or (canonical_url(article.canonical_url) if article.canonical_url else None),
        "feed": page["feed"],
        "outlet": page["outlet"],
        "country": page.get("country") or None,
        "host": urlsplit(page["canonical_url"]).hostname,
        "title": title,
        "title_search": search_form(title),
        "text": article.text,
        "text_search": search_form(article.text),
        "description": article.description or None,
        "authors": article.authors,
        "sitename": article.sitename or None,
        "image": article.image or None,
        "categories": article.categories,
        "tags": article.tags,
        "published": localize(article.published, page.get("country")) or valid_date(page.get("published"), ctx.logical_date),
        "modified": localize(article.modified, page.get("country")),
        "feed_published": valid_date(page.get("published"), ctx.logical_date),
        "first_seen": ctx.logical_date.isoformat(),
        "run_id": ctx.run_id,
        "content_hash": dedup.content_hash(article.text),
        **signature_fields,
        "word_count": len(article.text.split()),
        "language": {"detected": lang.lang, "declared": article.declared_language or None, "probability": lang.prob, "arabic_ratio": round(lang.arabic_ratio, 4)},
        **fields,
        "deployment": deployment.to_dict(),
        "copies": [],
        "copy_count": 0,
    }
    return doc, None


def _dedup_fields(title: str, text: str, settings: Settings) -> dict[str, Any]:
    """Near-copy signature and story features stored on an article."""
    sig = dedup.signature(text, dedup.load_params(settings.tunables))
    return {
        "minhash": sig.encode(),
        "lsh": list(sig.bands),
        "shingle_count": sig.size,
        "story_numbers": stories.story_numbers(f"{title}\n{text}"),
        "story_terms": stories.story_terms(title, text),
    }


class _Clock:
    """Milliseconds spent per step, recorded into a dict (or nowhere)."""

    def __init__(self, into: dict[str, float] | None) -> None:
        self.into = into
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        if self.into is not None:
            self.into[name] = round((now - self.last) * 1000, 3)
        self.last = now


def _parse_page(job: tuple[dict[str, Any], datetime]) -> tuple[str, dict[str, Any] | str, Sighting | None, float]:
    """One page's parse as a dict (or the reason it failed), the short lines it shows, and the time taken."""
    page, reference = job
    start = time.perf_counter()
    try:
        parsed = parse_page(page["html"], page["final_url"], reference=reference)
    except Exception as exc:  # noqa: BLE001 - recorded as this page's reject in build_article
        reason = str(exc) if isinstance(exc, ExtractError) else f"{type(exc).__name__}: {exc}"
        return page["id"], reason, None, (time.perf_counter() - start) * 1000
    sighting = Sighting(page_host(page), page["id"], candidate_lines(parsed.raw_text, load_boilerplate()))
    return page["id"], parsed.to_dict(), sighting, (time.perf_counter() - start) * 1000


def _first_pass(pmap: Callable[..., Iterable[Any]], pages_ref: str, reference: datetime) -> Iterator[tuple[str, dict[str, Any] | str, Sighting | None, float]]:
    """_parse_page's result for every staged page, in order: the fetch stage's parse where it made one, else made now."""
    unparsed = ((page, reference) for page in staging.read_jsonl(pages_ref) if "parsed" not in page)
    fresh = iter(pmap(_parse_page, unparsed))
    for page in staging.read_jsonl(pages_ref):
        if "parsed" in page:
            sighting = Sighting(page_host(page), page["id"], page["lines"]) if not isinstance(page["parsed"], str) else None
            yield page["id"], page["parsed"], sighting, float(page.get("parse_ms", 0.0))
        else:
            yield next(fresh)


def _build_one(job: tuple[dict[str, Any], RunContext, Settings, dict[str, Any] | str, frozenset[str]]) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, float]]:
    """build_article for one parsed page in a worker, never raising: an unexpected failure becomes the page's reject."""
    page, ctx, settings, parsed, learned = job
    timings: dict[str, float] = {}
    try:
        pre = ExtractError(parsed) if isinstance(parsed, str) else ParsedPage.from_dict(parsed)
        article, reject = build_article(page, ctx, settings, parsed=pre, learned=learned, timings=timings)
    except Exception as exc:  # noqa: BLE001 - one broken page never stops the run
        log.exception("unexpected failure on %s", page.get("url"))
        article, reject = None, _reject(ctx, "extract", "error", f"{type(exc).__name__}: {exc}", url=page.get("canonical_url"), feed=page.get("feed"))
    return article, reject, timings


@contextmanager
def _workers(settings: Settings, pages: int) -> Iterator[Callable[..., Iterable[Any]]]:
    """A map over worker processes for CPU-bound page work (inline for small batches or workers: 1)."""
    cfg = settings.tunables.get("extract", {})
    wanted = cfg.get("workers", "auto")
    count = (os.cpu_count() or 1) if wanted in (None, "auto") else int(wanted)
    if count <= 1 or pages < int(cfg.get("parallel_min_pages", 40)):
        yield map
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context(method)) as pool:
        yield partial(_bounded_map, pool, window=16 * count)


def _bounded_map(pool: ProcessPoolExecutor, fn: Callable[[Any], Any], items: Iterable[Any], window: int) -> Iterator[Any]:
    """pool.map in order, with at most `window` items in flight (Executor.map would take the whole batch at once)."""
    pending: deque[Any] = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


@_timed("extract")
def extract_stage(settings: Settings, ctx: RunContext, pages_ref: str) -> str:
    """Extract, clean (fixed rules and the lines learned per host), identify the language of and annotate every fetched page.

    The page work runs in worker processes (`extract.workers`, one per core by default), in two passes over
    the staged batch: the first takes the fetch stage's parse of each page (parsing those it has none for),
    and feeds per-host learning; the second cleans and annotates. The parses wait in a local file and the
    articles stream to the staged batch, so memory holds neither the batch's pages nor its texts.
    """
    counts: Counter[str] = Counter()
    rejects: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    pages_count = sum(1 for _ in staging.read_jsonl(pages_ref))
    with _workers(settings, pages_count) as pmap, tempfile.TemporaryDirectory(prefix="akhbar-extract-") as tmp:
        parsed_path = Path(tmp) / "parsed.jsonl"
        sightings: list[Sighting] = []
        parse_ms: dict[str, float] = {}
        with parsed_path.open("w", encoding="utf-8") as out:
            for page_id, parsed, sighting, ms in _first_pass(pmap, pages_ref, ctx.logical_date):
                out.write(json.dumps({"id": page_id, "parsed": parsed}, ensure_ascii=False) + "\n")
                parse_ms[page_id] = ms
                if sighting is not None:
                    sightings.append(sighting)
        learner = HostBoilerplate(Store.from_settings(settings), LearnRules.from_tunables(settings.tunables))
        learned = learner.observe(sightings, ctx.logical_date)
        del sightings
        # Pass 2: clean with what was learned, identify the language, annotate; articles stream to the staged batch.
        def jobs() -> Iterator[tuple[dict[str, Any], RunContext, Settings, dict[str, Any] | str, frozenset[str]]]:
            with parsed_path.open(encoding="utf-8") as fh:
                for page, line in zip(staging.read_jsonl(pages_ref), fh, strict=True):
                    record = json.loads(line)
                    for key in ("html", "parsed", "lines", "parse_ms"):
                        page.pop(key, None)
                    yield page, ctx, settings, record["parsed"], learned.get(page_host(page), frozenset())

        def articles() -> Iterator[dict[str, Any]]:
            for article, reject, step_ms in pmap(_build_one, jobs()):
                if reject is not None:
                    rejects.append(reject)
                    counts["non_arabic" if reject["kind"] == "language" else "errors"] += 1
                else:
                    counts["extracted"] += 1
                    timings.append({"id": article["id"], "parse_ms": parse_ms.get(article["id"], 0.0), **step_ms})
                    yield article

        staging.write_jsonl(ctx.batch("extract"), articles())
    staging.write_jsonl(ctx.dir / "extract.timings.jsonl.gz", timings)
    _finish(ctx, "extract", counts, rejects)
    return str(ctx.batch("extract"))


def _all_rejects(ctx: RunContext) -> list[dict[str, Any]]:
    """Rejects every earlier stage of this run staged."""
    out: list[dict[str, Any]] = []
    for stage in ("poll", "fetch", "extract"):
        if ctx.rejects(stage).exists():
            out.extend(staging.read_jsonl(ctx.rejects(stage)))
    return out


# What the alerts stage reads of each article the index stage handled (the staged index batch is this slim).
_OUTCOME_KEYS = ("id", "url", "canonical_url", "title", "outlet", "feed", "country", "published", "first_seen", "story_id", "copy_of", "deployment", "places")


@_timed("index")
def index_stage(settings: Settings, ctx: RunContext, articles_ref: str) -> str:
    """Drop exact and near copies, group stories, index new and updated articles, record copies, store rejects.

    The batch is taken in chunks of `index.chunk_articles` in canonical order (earliest published first), each
    chunk deduplicated against itself and against what earlier chunks and runs indexed, so memory and the
    in-batch comparisons stay bounded however large the batch. Writes the handled articles (slim, with their
    `story_id`, and `copy_of` for copies) for the alerts stage. Items Elasticsearch refuses (a mapping error,
    say) go to the dead-letter index with the reason and the source; everything else is written, then the
    stage raises PartialRunError so the task shows as failed.
    """
    store = Store.from_settings(settings)
    store.ensure()
    chunk_size = max(1, int(settings.tunables.get("index", {}).get("chunk_articles", 2000)))
    counts: Counter[str] = Counter()
    outcome: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    index_rejects: list[dict[str, Any]] = []
    totals = {"dedup_s": 0.0, "dedup_articles": 0, "stories_s": 0.0, "bulk_s": 0.0, "bulk_docs": 0}
    run = {"run_id": ctx.run_id, "stage": "index", "at": ctx.logical_date.isoformat()}
    with tempfile.TemporaryDirectory(prefix="akhbar-index-") as tmp:
        for chunk in _canonical_chunks(articles_ref, chunk_size, Path(tmp)):
            _index_chunk(settings, ctx, store, chunk, run, counts, totals, outcome, failures, index_rejects)
    staging.write_json(ctx.dir / "index.timings.json", {k: round(v, 4) if isinstance(v, float) else v for k, v in totals.items()})
    reject_docs = [(r.pop("id"), r) for r in [dict(r) for r in _all_rejects(ctx) + index_rejects]]
    reject_result = store.write("rejects", reject_docs, op="index", context=run)
    store.refresh("rejects")
    staging.write_jsonl(ctx.batch("index"), sorted(outcome, key=lambda a: a["id"]))
    staging.write_json(ctx.counts_path("index"), dict(counts))
    if failures or reject_result.failed:
        raise PartialRunError(
            f"{len(failures)} article writes and {len(reject_result.failed)} reject writes failed and were recorded in "
            f"{store.alias('deadletters')} with their reasons; the rest were indexed"
        )
    log.info("stage index of %s: %s", ctx.run_id, dict(counts))
    return str(ctx.batch("index"))


def _canonical_chunks(articles_ref: str, size: int, tmp: Path) -> Iterator[list[dict[str, Any]]]:
    """The staged articles in chunks of `size`, in canonical order; spread over local files when there are several."""
    order = sorted((dedup.canonical_order(a), a["id"]) for a in staging.read_jsonl(articles_ref))
    if len(order) <= size:
        articles = list(staging.read_jsonl(articles_ref))
        if articles:
            yield articles
        return
    chunk_of = {doc_id: pos // size for pos, (_key, doc_id) in enumerate(order)}
    paths = [tmp / f"chunk-{n}.jsonl" for n in range(-(-len(order) // size))]
    handles = [path.open("w", encoding="utf-8") for path in paths]
    try:
        for article in staging.read_jsonl(articles_ref):
            handles[chunk_of[article["id"]]].write(json.dumps(article, ensure_ascii=False) + "\n")
    finally:
        for handle in handles:
            handle.close()
    del chunk_of, order
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            chunk = [json.loads(line) for line in fh]
        path.unlink()
        yield chunk


def _index_chunk(
    settings: Settings, ctx: RunContext, store: Store, articles: list[dict[str, Any]], run: dict[str, Any], counts: Counter[str],
    totals: dict[str, Any], outcome: list[dict[str, Any]], failures: list[dict[str, Any]], index_rejects: list[dict[str, Any]],
) -> None:
    """Deduplicate, group and write one chunk of articles; add its counts, slim outcome, failures and rejects."""
    params = dedup.load_params(settings.tunables)
    dedup_cfg = settings.tunables.get("dedup", {})
    existing = store.existing_ids("articles", [a["id"] for a in articles])
    updated = [a for a in articles if a["id"] in existing]
    fresh = [a for a in articles if a["id"] not in existing]
    dedup_start = time.perf_counter()
    sigs = {a["id"]: dedup.signature_of(a) for a in fresh}
    candidates = store.copy_candidates(fresh, int(dedup_cfg.get("max_candidates", 20)))
    keep, copies = dedup.decide(fresh, sigs, candidates, params)
    stories_start = time.perf_counter()
    totals["dedup_s"] += stories_start - dedup_start
    story_params = stories.StoryParams(window_hours=int(dedup_cfg.get("story_window_hours", 72)))
    story_of = stories.assign_stories(keep, store.story_candidates(keep, story_params.window_hours), story_params)
    for article in keep:
        article["story_id"] = story_of[article["id"]]
    totals["stories_s"] += time.perf_counter() - stories_start
    totals["dedup_articles"] += len(fresh)
    counts["duplicates"] += len(copies)
    bulk_start = time.perf_counter()
    result = store.write("articles", ((a["id"], _source(a)) for a in keep), op="create", context=run)
    totals["bulk_s"] += time.perf_counter() - bulk_start
    totals["bulk_docs"] += len(keep)
    counts["indexed"] += result.written
    counts["already_seen"] += result.already_present
    chunk_failures = list(result.failed)
    replacements = []
    stored_updated = store.get_many("articles", [a["id"] for a in updated]) if updated else {}
    for article in updated:
        previous = stored_updated.get(article["id"]) or {}
        kept = {k: previous[k] for k in ("first_seen", "copies", "story_id") if k in previous}
        replacements.append((article["id"], {**_source(article), **kept}))
        article["story_id"] = kept.get("story_id", article["id"])
    replaced = store.write("articles", replacements, op="index", context=run)
    counts["updated"] += replaced.written
    chunk_failures += replaced.failed
    store.refresh("articles")
    canonical_story: dict[str, str] = {a["id"]: a["story_id"] for a in keep}
    failed_ids = {f["id"] for f in chunk_failures}
    orphans = [(c, copy) for c, copy, _sim in copies if c in failed_ids]
    copies = [(c, copy, sim) for c, copy, sim in copies if c not in failed_ids]
    index_rejects += [
        _reject(ctx, "index", "error", f"its canonical article {c} could not be indexed (see dead letters)", url=copy["canonical_url"], feed=copy.get("feed"), outlet=copy.get("outlet"))
        for c, copy in orphans
    ]
    counts["duplicates"] -= len(orphans)
    counts["errors"] += len(orphans) + len(chunk_failures)
    if copies:
        by_canonical: dict[str, list[dict[str, Any]]] = {}
        for canonical_id, copy, sim in copies:
            by_canonical.setdefault(canonical_id, []).append(dedup.copy_record(copy, sim))
        updates = []
        stored = store.get_many("articles", by_canonical)
        for canonical_id, records in sorted(by_canonical.items()):
            current = stored.get(canonical_id, {})
            canonical_story.setdefault(canonical_id, current.get("story_id") or canonical_id)
            merged = {c["url"]: c for c in current.get("copies", [])} | {c["url"]: c for c in records}
            updates.append((canonical_id, {"copies": sorted(merged.values(), key=lambda c: c["url"]), "copy_count": len(merged)}))
        unrecorded = store.write("articles", updates, op="update", context=run).failed
        # Copies whose canonical could not take the record are errors, not duplicates: the next run fetches them again.
        lost = sum(len(by_canonical[f["id"]]) for f in unrecorded if f["id"] in by_canonical)
        counts["duplicates"] -= lost
        counts["errors"] += lost
        chunk_failures += unrecorded
        for canonical_id, copy, _sim in copies:
            copy["copy_of"] = canonical_id
            copy["story_id"] = canonical_story[canonical_id]
        store.refresh("articles")
    failures += chunk_failures
    outcome += [{k: a[k] for k in _OUTCOME_KEYS if k in a} for a in keep + updated + [c for _id, c, _sim in copies]]


def _source(article: dict[str, Any]) -> dict[str, Any]:
    """An article's document source: everything but its id and batch-only keys."""
    return {k: v for k, v in article.items() if k not in ("id", "copy_of")}


def _same_announcement(alert: dict[str, Any], dep: dict[str, Any], when: datetime | None, window_days: float, tolerance: float) -> bool:
    """True when an article's deployment is the announcement an alert is about."""
    if alert.get("kind") != dep.get("kind"):
        return False
    actor_a, actor_b = alert.get("actor") or "", dep.get("actor") or ""
    where_a = alert.get("destination_country") or alert.get("destination") or ""
    where_b = dep.get("destination_country") or dep.get("destination") or ""
    agree = [a == b for a, b in ((actor_a, actor_b), (where_a, where_b)) if a and b]
    if not agree or not all(agree):
        return False  # at least one of actor and destination must be known on both sides, and none may differ
    if not alerts_mod.sizes_compatible(alert.get("size"), dep.get("size"), tolerance):
        return False
    first = stories.article_time({"published": alert.get("first_published")})
    return first is None or when is None or abs((when - first).total_seconds()) <= window_days * 86400


def _alert_source(article: dict[str, Any], ctx: RunContext) -> dict[str, Any]:
    """What an alert keeps about one carrier of its announcement."""
    return {"article_id": article["id"], "outlet": article.get("outlet"), "url": article["url"], "title": article.get("title"), "published": article.get("published"), "run_id": ctx.run_id}


def _new_alert(article: dict[str, Any], key: str, ctx: RunContext) -> dict[str, Any]:
    """An alert document for the first carrier of an announcement."""
    dep = article["deployment"]
    place = next((p for p in article.get("places", []) if p.get("name") == dep.get("destination")), None)
    return {
        "story_key": key,
        "story_ids": [article["story_id"]] if article.get("story_id") else [],
        **{k: dep.get(k) for k in ("kind", "actor", "destination", "destination_country", "size", "size_unit", "share", "force_type", "status", "evidence", "confidence")},
        "location": place["location"] if place else None,
        "title": article.get("title"),
        "first_article": article["id"],
        "first_published": (stories.article_time(article) or ctx.logical_date).isoformat(),
        "sources": [],
        "source_count": 0,
        "created": ctx.logical_date.isoformat(),
        "updated": ctx.logical_date.isoformat(),
        "run_id": ctx.run_id,
        "delivery": {"state": "pending", "attempts": 0, "channels": []},
    }


def _add_source(alert: dict[str, Any], article: dict[str, Any], ctx: RunContext) -> None:
    """Add an article to an alert's sources (and its story id), marking the alert changed if it was new."""
    story = article.get("story_id")
    if story and story not in alert.setdefault("story_ids", []):
        alert["story_ids"] = sorted({*alert["story_ids"], story})
        alert["_dirty"] = True
    if article["url"] not in {s["url"] for s in alert.get("sources", [])}:
        alert["sources"] = sorted([*alert.get("sources", []), _alert_source(article, ctx)], key=lambda s: (s.get("published") or "", s["url"]))
        alert["source_count"] = len(alert["sources"])
        alert["_dirty"] = True


def _story_alert(store: Store, touched: dict[str, dict[str, Any]], by_story: dict[str, str], story: str | None, preloaded: set[str]) -> str | None:
    """Id of the alert that already lists a story (this batch first, then the index unless preloaded)."""
    if not story:
        return None
    key = by_story.get(story)
    if key is None and story not in preloaded:
        hits = store.find("alerts", {"term": {"story_ids": story}}, size=1)
        if hits:
            key = hits[0][0]
            touched.setdefault(key, hits[0][1])
            _index_stories(by_story, key, touched[key])
    return key


def _index_stories(by_story: dict[str, str], key: str, alert: dict[str, Any]) -> None:
    """Remember which alert lists each of an alert's stories (the first alert to list one keeps it)."""
    for story in alert.get("story_ids", []):
        by_story.setdefault(story, key)


def _preload_story_alerts(store: Store, touched: dict[str, dict[str, Any]], stories: set[str]) -> set[str]:
    """Load, in a few requests, the alerts that list any of these stories (most stories have none); return the stories looked up."""
    known = {story for alert in touched.values() for story in alert.get("story_ids", [])}
    wanted = sorted(stories - known)
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        for key, alert in store.find("alerts", {"terms": {"story_ids": chunk}}, size=1000):
            touched.setdefault(key, alert)
    return set(wanted)


def _announcement_alert(store: Store, touched: dict[str, dict[str, Any]], dep: dict[str, Any], when: datetime | None, window: float, tolerance: float) -> str | None:
    """Id of an alert about the same announcement (this batch first, then the index within the window)."""
    key = next((k for k, a in touched.items() if _same_announcement(a, dep, when, window, tolerance)), None)
    if key is not None:
        return key
    query: dict[str, Any] = {"bool": {"filter": [{"term": {"kind": dep["kind"]}}]}}
    if when is not None:
        span = timedelta(days=window)
        query["bool"]["filter"].append({"range": {"first_published": {"gte": (when - span).isoformat(), "lte": (when + span).isoformat()}}})
    for key, alert in store.find("alerts", query, size=200, sort=[{"first_published": "asc"}]):
        if _same_announcement(alert, dep, when, window, tolerance):
            touched.setdefault(key, alert)
            return key
    return None


def _new_alert_key(store: Store, article: dict[str, Any], when: datetime | None, ctx: RunContext, window: float, tolerance: float) -> tuple[str, dict[str, Any] | None]:
    """A fresh alert id for an announcement no alert covers, and the document already under it (if any)."""
    dep, story = article["deployment"], article.get("story_id")
    anchor = (when or ctx.logical_date).date().isoformat()
    announcement = alerts_mod.Deployment(**{"is_deployment": True, **dep})
    key = alerts_mod.alert_key(announcement, story, anchor)
    existing = store.get("alerts", key)
    if existing is not None and not _same_announcement(existing, dep, when, window, tolerance):
        key = alerts_mod.alert_key(announcement, story, f"{anchor}|{dep.get('size') or ''}")  # same day, another size
        existing = store.get("alerts", key)
    return key, existing


@_timed("alerts")
def alerts_stage(settings: Settings, ctx: RunContext, articles_ref: str) -> str:
    """Record one alert per story: a new announcement creates an alert, later carriers join its sources.

    A carrier joins an alert of the same story (issue 5's `story_id`, when articles carry one) or,
    failing that, of the same announcement (kind, actor, destination, size, within the merge window),
    looked up first in this batch, then in the index. Articles of a known story that announce nothing
    themselves join its alert too.
    """
    from akhbar.notify import load_alert_config

    store = Store.from_settings(settings)
    store.ensure()
    rules = alerts_mod.load_rules()
    config = load_alert_config()
    window, tolerance = config.merge_window_days, config.size_tolerance
    candidates, followers = [], []
    for article in staging.read_jsonl(articles_ref):
        dep = alerts_mod.Deployment(**{"is_deployment": False, **article.get("deployment", {})})
        if alerts_mod.should_alert(dep, rules):
            candidates.append(article)
        elif article.get("story_id"):
            followers.append(article)
    touched: dict[str, dict[str, Any]] = {}
    created: set[str] = set()
    preloaded = _preload_story_alerts(store, touched, {a["story_id"] for a in candidates + followers if a.get("story_id")})
    by_story: dict[str, str] = {}
    for key, alert in touched.items():
        _index_stories(by_story, key, alert)
    for article in sorted(candidates, key=dedup.canonical_order):
        dep, when = article["deployment"], stories.article_time(article)
        key = _story_alert(store, touched, by_story, article.get("story_id"), preloaded) or _announcement_alert(store, touched, dep, when, window, tolerance)
        if key is None:
            key, existing = _new_alert_key(store, article, when, ctx, window, tolerance)
            if existing is None:
                created.add(key)
                existing = {**_new_alert(article, key, ctx), "_dirty": True}
            touched.setdefault(key, existing)
        _add_source(touched[key], article, ctx)
        _index_stories(by_story, key, touched[key])
    for article in sorted(followers, key=dedup.canonical_order):
        key = by_story.get(article["story_id"])
        if key is not None:
            _add_source(touched[key], article, ctx)
    new_docs, updates = [], []
    for key, alert in sorted(touched.items()):
        if not alert.pop("_dirty", False):
            continue
        if key in created:
            new_docs.append((key, alert))
        else:
            updates.append((key, {"sources": alert["sources"], "source_count": len(alert["sources"]), "story_ids": alert.get("story_ids", []), "updated": ctx.logical_date.isoformat()}))
    run = {"run_id": ctx.run_id, "stage": "alerts", "at": ctx.logical_date.isoformat()}
    result = store.write("alerts", new_docs, op="create", context=run)
    counts: Counter[str] = Counter(alerts=result.written, alerts_updated=len(updates))
    failed = result.failed + store.write("alerts", updates, op="update", context=run).failed
    store.refresh("alerts")
    staging.write_json(ctx.counts_path("alerts"), dict(counts))
    if failed:
        raise PartialRunError(f"{len(failed)} alert writes failed and were recorded in {store.alias('deadletters')}")
    return str(ctx.dir / "alerts.counts.json")


def _delivery_state(channels: list[dict[str, Any]], active: list[str]) -> str:
    """Overall state of an alert: delivered once every active channel has it."""
    states = {c["name"]: c["state"] for c in channels}
    if not active:
        return "pending"
    if all(states.get(name) == "delivered" for name in active):
        return "delivered"
    return "failed" if any(states.get(name) in ("failed", "sending") for name in active) else "pending"


def _payload(alert_id: str, alert: dict[str, Any]) -> dict[str, Any]:
    """What a channel receives: the alert without its delivery bookkeeping."""
    return {"id": alert_id, **{k: v for k, v in alert.items() if k != "delivery" and v not in (None, [], "")}}


def _deliver_on(store: Store, alert_id: str, channel: Any, active: list[str], ctx: RunContext, timeout: float) -> str:
    """Deliver one alert on one channel: claim it, send, record the outcome. Returns what happened:
    'done' (delivered before), 'busy' (someone else holds it), 'delivered' or 'failed'."""
    from akhbar.notify import DeliveryError, send

    current = store.get_versioned("alerts", alert_id)
    if current is None:
        return "busy"
    alert, seq_no, term = current
    delivery = alert.get("delivery") or {}
    records = {c["name"]: c for c in delivery.get("channels", [])}
    record = records.get(channel.name, {"name": channel.name, "type": channel.type, "state": "pending", "attempts": 0})
    if record["state"] == "delivered":
        return "done"
    now = ctx.logical_date.isoformat()
    records[channel.name] = {**record, "state": "sending", "attempts": int(record.get("attempts", 0)) + 1, "last_attempt": now, "run_id": ctx.run_id}
    claim = {**delivery, "channels": sorted(records.values(), key=lambda c: c["name"]), "attempts": int(delivery.get("attempts", 0)) + 1, "last_attempt": now}
    version = store.update_if("alerts", alert_id, {"delivery": claim}, seq_no, term)
    if version is None:
        log.info("alert %s changed under us; another run is delivering it", alert_id)
        return "busy"
    try:
        send(channel, alert_id, _payload(alert_id, alert), timeout=timeout)
    except DeliveryError as exc:
        records[channel.name] = {**records[channel.name], "state": "failed", "last_error": str(exc)[:1000]}
        log.warning("alert %s not delivered on %s: %s", alert_id, channel.name, exc)
        outcome = "failed"
    else:
        records[channel.name] = {k: v for k, v in records[channel.name].items() if k != "last_error"} | {"state": "delivered", "delivered_at": now}
        outcome = "delivered"
    done = sorted(records.values(), key=lambda c: c["name"])
    state = _delivery_state(done, active)
    result = {**claim, "channels": done, "state": state, "last_error": records[channel.name].get("last_error")}
    if state == "delivered":
        result["delivered_at"] = now
    store.update_if("alerts", alert_id, {"delivery": result}, *version)
    return outcome


@_timed("deliver")
def deliver_stage(settings: Settings, ctx: RunContext) -> str:
    """Deliver every alert not yet delivered on every active channel, and record each attempt.

    Each channel is claimed with a conditional update before sending (two runs never send the same
    alert on the same channel), marked delivered after its notifier returns, and retried on later runs
    after a failure. A delivery failure is recorded on the alert, never raised: the rest goes on.
    """
    from akhbar.notify import active_channels, load_alert_config

    store = Store.from_settings(settings)
    store.ensure()
    config = load_alert_config()
    channels = active_channels(config)
    active = [c.name for c in channels]
    counts: Counter[str] = Counter()
    store.refresh("alerts")
    waiting = store.find("alerts", {"bool": {"must_not": [{"term": {"delivery.state": "delivered"}}]}}, size=config.max_per_run, sort=[{"created": "asc"}, {"first_published": "asc"}])
    if waiting and not channels:
        log.warning("%d alert(s) wait for delivery but no channel is configured (config/alerts.yaml)", len(waiting))
    for alert_id, _ in waiting:
        for channel in channels:
            outcome = _deliver_on(store, alert_id, channel, active, ctx, config.timeout_s)
            if outcome == "busy":
                break
            if outcome == "delivered":
                counts["alerts_delivered"] += 1
            elif outcome == "failed":
                counts["delivery_failed"] += 1
    store.refresh("alerts")
    staging.write_json(ctx.counts_path("deliver"), dict(counts))
    return str(ctx.counts_path("deliver"))


def summarize(ctx: RunContext) -> dict[str, int]:
    """The run's counts per stage, added up, with every known key present."""
    total: Counter[str] = Counter({key: 0 for key in COUNT_KEYS})
    for stage in STAGES:
        path = ctx.counts_path(stage)
        if path.exists():
            total.update(staging.read_json(path))
    return {key: int(total[key]) for key in COUNT_KEYS}


def unaccounted(counts: dict[str, int]) -> int:
    """Distinct items of a run that no outcome counts (0 when every item was indexed, copied, skipped or rejected)."""
    item_errors = counts.get("errors", 0) - counts.get("feed_errors", 0)
    return counts.get("items_seen", 0) - sum(counts.get(k, 0) for k in ITEM_OUTCOMES) - item_errors


def run_once(settings: Settings, ctx: RunContext, feeds_path: Path | str | None = None, *, all_feeds: bool = False) -> dict[str, int]:
    """One full ingestion cycle in-process, through the same stage functions the DAG's tasks call."""
    items = poll_stage(settings, ctx, feeds_path, all_feeds=all_feeds)
    pages = fetch_stage(settings, ctx, items, feeds_path)
    articles = extract_stage(settings, ctx, pages)
    indexed = index_stage(settings, ctx, articles)
    alerts_stage(settings, ctx, indexed)
    deliver_stage(settings, ctx)
    counts = summarize(ctx)
    missing = unaccounted(counts)
    if missing:
        log.warning("run %s: %d items are not accounted for by any outcome: %s", ctx.run_id, missing, counts)
    return counts
