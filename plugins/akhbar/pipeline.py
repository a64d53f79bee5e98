"""The ingestion cycle as stage functions: the DAG's tasks and `akhbar run-once` call exactly these.

Each stage reads the previous stage's batch from staging, writes its own batch and its counts, and
returns a reference (the batch's path as a string), so tasks pass references, never payloads.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from upath import UPath

from akhbar import alerts as alerts_mod
from akhbar import dedup, staging
from akhbar import feedstate, robotscache
from akhbar.config import Feed, Settings, load_feeds
from akhbar.extract import ExtractError, extract_article, load_boilerplate
from akhbar.feeds import FeedError, Item, PollResult, poll_feed
from akhbar.fetch import Fetcher, FetchError, decode_body, garbled_reason, link_canonical
from akhbar.fields import extract_fields, load_gazetteer
from akhbar.index import Store
from akhbar.language import detect, is_kept
from akhbar.normalize import search_form
from akhbar.polite import HostScheduler, Outcome
from akhbar.urls import canonical_url

log = logging.getLogger(__name__)

STAGES = ("poll", "fetch", "extract", "index", "alerts")
COUNT_KEYS = (
    "feeds_polled", "feeds_failed", "feeds_not_modified", "feeds_skipped", "items_seen", "already_seen", "pages_fetched", "extracted",
    "non_arabic", "duplicates", "indexed", "alerts", "errors",
)


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
            counts["errors"] += 1
            rejects.append(_reject(ctx, "poll", "error", problem, feed=feed.name, outlet=feed.outlet, url=f"{feed.url}#{problem}"))
        for item in result.items:
            counts["items_seen"] += 1
            items.setdefault(item.id, item)
    staging.write_jsonl(ctx.batch("poll"), (item.to_dict() for item in sorted(items.values(), key=lambda i: i.id)))
    _finish(ctx, "poll", counts, rejects)
    failed = feedstate.save(store, updated)
    if failed:
        log.error("%d feed states could not be saved (first: %s); those feeds are polled again next run", len(failed), failed[0]["reason"])
    return str(ctx.batch("poll"))


def _already_processed(store: Store, items: list[dict[str, Any]]) -> set[str]:
    """Ids of items whose page was processed before: indexed (under its URL or as a page's rel=canonical), recorded
    as a copy, rejected for its language, or recorded as another URL of an indexed page."""
    by_reject = {reject_id(kind, stage, i["canonical_url"]): i["id"] for i in items for kind, stage in (("language", "extract"), ("canonical", "fetch"))}
    known = store.existing_ids("articles", [i["id"] for i in items])
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


def fetch_stage(settings: Settings, ctx: RunContext, items_ref: str, feeds_path: Path | str | None = None) -> str:
    """Fetch, politely and concurrently across hosts, the article pages not processed before."""
    feeds_file = load_feeds(feeds_path or settings.feeds_path)
    items = list(staging.read_jsonl(items_ref))
    store = Store.from_settings(settings)
    store.ensure()
    known = _already_processed(store, items) if items else set()
    counts: Counter[str] = Counter()
    rejects: list[dict[str, Any]] = []
    todo = [item for item in items if item["id"] not in known]
    counts["already_seen"] = len(items) - len(todo)
    with Fetcher(settings.tunables, feeds_file.allow_private_networks) as fetcher:
        outcomes = _run_politely(settings, ctx, store, fetcher, [(item["url"], partial(_fetch_page, fetcher, item)) for item in todo])
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
    staging.write_jsonl(ctx.batch("fetch"), pages)
    _finish(ctx, "fetch", counts, rejects + same)
    return str(ctx.batch("fetch"))


def build_article(page: dict[str, Any], ctx: RunContext, settings: Settings) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Turn one fetched page into an article document, or a reject (error or non-Arabic)."""
    lang_cfg = settings.tunables.get("language", {})
    try:
        article = extract_article(
            page["html"], page["final_url"], reference=ctx.logical_date, rules=load_boilerplate(),
            min_chars=int(settings.tunables.get("extract", {}).get("min_chars", 80)),
        )
    except ExtractError as exc:
        return None, _reject(ctx, "extract", "error", str(exc), url=page["canonical_url"], feed=page["feed"], outlet=page["outlet"])
    # What would be indexed must be clean text: no replacement characters, no mojibake.
    garbled = garbled_reason(f"{article.title}\n{article.text}")
    if garbled:
        reason = f"text cannot be decoded cleanly (decoded as {page.get('encoding', '?')}): {garbled}"
        return None, _reject(ctx, "extract", "error", reason, url=page["canonical_url"], feed=page["feed"], outlet=page["outlet"])
    lang = detect(article.text, sample_chars=int(lang_cfg.get("sample_chars", 3000)), seed=int(lang_cfg.get("seed", 0)))
    if not is_kept(lang, tuple(lang_cfg.get("keep", ["ar"]))):
        return None, _reject(
            ctx, "extract", "language", f"language {lang.lang} (p={lang.prob}), declared {article.declared_language or 'none'}",
            url=page["canonical_url"], feed=page["feed"], outlet=page["outlet"], language=lang.lang,
        )
    title = article.title or page.get("title", "")
    fields = extract_fields(article.text, title, load_gazetteer())
    deployment = alerts_mod.detect_deployment(title, article.text, fields)
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
        "published": article.published or page.get("published"),
        "feed_published": page.get("published"),
        "first_seen": ctx.logical_date.isoformat(),
        "run_id": ctx.run_id,
        "content_hash": dedup.content_hash(article.text),
        "word_count": len(article.text.split()),
        "language": {"detected": lang.lang, "declared": article.declared_language or None, "probability": lang.prob, "arabic_ratio": round(lang.arabic_ratio, 4)},
        **fields,
        "deployment": deployment.to_dict(),
        "copies": [],
    }
    return doc, None


def extract_stage(settings: Settings, ctx: RunContext, pages_ref: str) -> str:
    """Extract, clean, identify the language of and annotate every fetched page."""
    counts: Counter[str] = Counter()
    rejects: list[dict[str, Any]] = []
    articles: list[dict[str, Any]] = []
    for page in staging.read_jsonl(pages_ref):
        try:
            doc, reject = build_article(page, ctx, settings)
        except Exception as exc:  # noqa: BLE001 - one broken page never stops the run
            log.exception("unexpected failure on %s", page.get("url"))
            doc, reject = None, _reject(ctx, "extract", "error", f"{type(exc).__name__}: {exc}", url=page.get("canonical_url"), feed=page.get("feed"))
        if reject is not None:
            rejects.append(reject)
            counts["non_arabic" if reject["kind"] == "language" else "errors"] += 1
        else:
            counts["extracted"] += 1
            articles.append(doc)
    staging.write_jsonl(ctx.batch("extract"), articles)
    _finish(ctx, "extract", counts, rejects)
    return str(ctx.batch("extract"))


def _all_rejects(ctx: RunContext) -> list[dict[str, Any]]:
    """Rejects every earlier stage of this run staged."""
    out: list[dict[str, Any]] = []
    for stage in ("poll", "fetch", "extract"):
        if ctx.rejects(stage).exists():
            out.extend(staging.read_jsonl(ctx.rejects(stage)))
    return out


def index_stage(settings: Settings, ctx: RunContext, articles_ref: str) -> str:
    """Drop exact copies, index new articles, record copies on their canonical article, and store the rejects."""
    store = Store.from_settings(settings)
    store.ensure()
    articles = list(staging.read_jsonl(articles_ref))
    indexed_hashes = store.ids_with_hash(a["content_hash"] for a in articles)
    keep, copies = dedup.group_copies(articles, indexed_hashes)
    counts: Counter[str] = Counter(duplicates=len(copies))
    result = store.write("articles", ((a.pop("id"), a) for a in [dict(a) for a in keep]), op="create")
    counts["indexed"] = result.written
    counts["already_seen"] += result.already_present
    failures = list(result.failed)
    if copies:
        store.refresh("articles")
        by_canonical: dict[str, list[dict[str, Any]]] = {}
        for canonical_id, copy in copies:
            by_canonical.setdefault(canonical_id, []).append(dedup.copy_record(copy))
        updates = []
        for canonical_id, records in sorted(by_canonical.items()):
            existing = (store.get("articles", canonical_id) or {}).get("copies", [])
            merged = {c["url"]: c for c in existing} | {c["url"]: c for c in records}
            updates.append((canonical_id, {"copies": sorted(merged.values(), key=lambda c: c["url"])}))
        failures += store.write("articles", updates, op="update").failed
    rejects = [_reject(ctx, "index", "error", f"HTTP {f['status']}: {f['reason']}", url=f["source"].get("canonical_url"), feed=f["source"].get("feed"), source=f["source"]) for f in failures]
    reject_docs = [(r.pop("id"), r) for r in [dict(r) for r in _all_rejects(ctx) + rejects]]
    reject_result = store.write("rejects", reject_docs, op="index")
    counts["errors"] += len(failures)
    store.refresh("articles")
    store.refresh("rejects")
    staging.write_jsonl(ctx.batch("index"), ({"id": a["id"], "content_hash": a["content_hash"]} for a in keep))
    staging.write_json(ctx.counts_path("index"), dict(counts))
    if failures or reject_result.failed:
        raise PartialRunError(f"{len(failures)} article writes and {len(reject_result.failed)} reject writes failed; the rest were indexed")
    log.info("stage index of %s: %s", ctx.run_id, dict(counts))
    return str(ctx.batch("index"))


def alerts_stage(settings: Settings, ctx: RunContext, articles_ref: str) -> str:
    """Record one alert per announced deployment; later carriers of it are added to its sources."""
    store = Store.from_settings(settings)
    store.ensure()
    rules = alerts_mod.load_rules()
    counts: Counter[str] = Counter()
    grouped: dict[str, list[dict[str, Any]]] = {}
    for article in staging.read_jsonl(articles_ref):
        dep = alerts_mod.Deployment(**{"is_deployment": False, **article.get("deployment", {})})
        if alerts_mod.should_alert(dep, rules):
            grouped.setdefault(alerts_mod.alert_key(dep), []).append(article)
    new_alerts, updates = [], []
    for key, members in sorted(grouped.items()):
        members.sort(key=dedup.canonical_order)
        sources = [{"article_id": a["id"], "outlet": a["outlet"], "url": a["url"], "published": a.get("published")} for a in members]
        existing = store.get("alerts", key)
        if existing is None:
            first = members[0]
            dep = first["deployment"]
            new_alerts.append((key, {
                "story_key": key, "kind": dep.get("kind"), "actor": dep.get("actor"), "destination": dep.get("destination"),
                "size": dep.get("size"), "evidence": dep.get("evidence"), "confidence": dep.get("confidence"),
                "title": first.get("title"), "first_article": first["id"], "sources": sources,
                "created": ctx.logical_date.isoformat(), "run_id": ctx.run_id,
                "delivery": {"state": "pending", "attempts": 0},
            }))
        else:
            merged = {s["url"]: s for s in existing.get("sources", [])} | {s["url"]: s for s in sources}
            if len(merged) != len(existing.get("sources", [])):
                updates.append((key, {"sources": sorted(merged.values(), key=lambda s: s["url"])}))
    created = store.write("alerts", new_alerts, op="create")
    counts["alerts"] = created.written
    failed = created.failed + store.write("alerts", updates, op="update").failed
    store.refresh("alerts")
    staging.write_json(ctx.counts_path("alerts"), dict(counts))
    if failed:
        raise PartialRunError(f"{len(failed)} alert writes failed")
    return str(ctx.dir / "alerts.counts.json")


def summarize(ctx: RunContext) -> dict[str, int]:
    """The run's counts per stage, added up, with every known key present."""
    total: Counter[str] = Counter({key: 0 for key in COUNT_KEYS})
    for stage in STAGES:
        path = ctx.counts_path(stage)
        if path.exists():
            total.update(staging.read_json(path))
    return {key: int(total[key]) for key in COUNT_KEYS}


def run_once(settings: Settings, ctx: RunContext, feeds_path: Path | str | None = None, *, all_feeds: bool = False) -> dict[str, int]:
    """One full ingestion cycle in-process, through the same stage functions the DAG's tasks call."""
    items = poll_stage(settings, ctx, feeds_path, all_feeds=all_feeds)
    pages = fetch_stage(settings, ctx, items, feeds_path)
    articles = extract_stage(settings, ctx, pages)
    index_stage(settings, ctx, articles)
    alerts_stage(settings, ctx, articles)
    return summarize(ctx)
