"""The whole cycle against the real local Elasticsearch and the sample outlets on a real loopback server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer

from akhbar import pipeline
from akhbar.config import Settings
from akhbar.index import Store
from akhbar.samples import SAMPLES_DIR
from akhbar.urls import url_id
from conftest import make_ctx

LATER = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
MANIFEST = yaml.safe_load((SAMPLES_DIR / "manifest.yaml").read_text(encoding="utf-8"))
ARABIC_PAGES = [p for p in MANIFEST["pages"] if p["lang"] == "ar"]


def snapshot(store: Store) -> dict[str, Any]:
    """Every document of every kind, by id, for comparing index states."""
    state = {}
    for kind in ("articles", "rejects", "alerts"):
        store.refresh(kind)
        resp = store.es.search(index=store.alias(kind), query={"match_all": {}}, size=1000)
        state[kind] = {h["_id"]: h["_source"] for h in resp["hits"]["hits"]}
    return state


def article_for(store: Store, base: str, file: str) -> dict[str, Any] | None:
    return store.get("articles", url_id(f"{base}/pages/{file}"))


def test_cycle_counts_and_clean_articles(settings: Settings, store: Store, sample_server, sample_feeds: Path) -> None:
    counts = pipeline.run_once(settings, make_ctx(settings), sample_feeds)
    assert counts["feeds_polled"] == 4 and counts["feeds_failed"] == 0
    assert counts["items_seen"] == len(MANIFEST["pages"])
    assert counts["pages_fetched"] == len(MANIFEST["pages"])
    assert counts["non_arabic"] == 2
    assert counts["extracted"] == len(ARABIC_PAGES)
    assert counts["indexed"] + counts["duplicates"] == len(ARABIC_PAGES)
    assert counts["errors"] == 0
    assert counts["duplicates"] == sum(1 for p in ARABIC_PAGES if p["near_copy_of"]) // 2
    for page in ARABIC_PAGES:
        doc = article_for(store, sample_server.base, page["file"])
        if doc is None and page["near_copy_of"]:
            continue  # recorded as a copy of its pair (test_near_copy_recorded_on_canonical)
        assert doc is not None, page["file"]
        assert doc["title"] == page["title"], page["file"]
        assert doc["published"][:16] == page["published"][:16], page["file"]
        assert doc["language"]["detected"] == "ar"
        for sentence in page["content_sample"]:
            assert sentence in doc["text"], (page["file"], sentence)
        for junk in page["boilerplate"]:
            assert junk not in doc["text"], (page["file"], junk)
        assert "\ufffd" not in doc["text"]


def test_near_copy_recorded_on_canonical(settings: Settings, store: Store, sample_server, sample_feeds: Path) -> None:
    pipeline.run_once(settings, make_ctx(settings), sample_feeds)
    pair = [p for p in ARABIC_PAGES if p["near_copy_of"]]
    docs = {p["file"]: article_for(store, sample_server.base, p["file"]) for p in pair}
    indexed = [f for f, d in docs.items() if d is not None]
    assert len(indexed) == 1, docs.keys()
    canonical = docs[indexed[0]]
    (copy_file,) = [f for f in docs if f not in indexed]
    assert [c["url"].rsplit("/", 1)[-1] for c in canonical["copies"]] == [copy_file]
    assert 0.3 <= canonical["copies"][0]["similarity"] < 1.0
    earliest = min(pair, key=lambda p: p["published"])["file"]
    assert indexed[0] == earliest, "the canonical copy is the earliest published"


def test_non_arabic_pages_recorded_with_language(settings: Settings, store: Store, sample_feeds: Path) -> None:
    pipeline.run_once(settings, make_ctx(settings), sample_feeds)
    store.refresh("rejects")
    hits = store.es.search(index=store.alias("rejects"), query={"term": {"kind": "language"}}, size=10)["hits"]["hits"]
    assert sorted(h["_source"]["language"] for h in hits) == ["en", "fa"]
    assert all(h["_source"]["reason"].startswith("language ") for h in hits)


def test_rerun_of_same_run_leaves_index_as_it_was(settings: Settings, store: Store, sample_feeds: Path) -> None:
    pipeline.run_once(settings, make_ctx(settings, "run-a"), sample_feeds)
    before = snapshot(store)
    pipeline.run_once(settings, make_ctx(settings, "run-a"), sample_feeds)
    assert snapshot(store) == before
    assert len(before["articles"]) == len(ARABIC_PAGES) - 1  # one near-copy pair
    assert len(before["rejects"]) == 2 and len(before["alerts"]) >= 1


def test_second_cycle_fetches_and_indexes_nothing(settings: Settings, store: Store, sample_feeds: Path) -> None:
    pipeline.run_once(settings, make_ctx(settings, "run-1"), sample_feeds)
    before = snapshot(store)["articles"]
    # A day later every feed is due again; the sample server sends no validators, so the feeds come back whole.
    counts = pipeline.run_once(settings, make_ctx(settings, "run-2", LATER), sample_feeds)
    assert counts["feeds_polled"] == 4 and counts["feeds_skipped"] == 0
    assert counts["pages_fetched"] == 0 and counts["indexed"] == 0
    assert counts["already_seen"] == len(MANIFEST["pages"])
    assert snapshot(store)["articles"] == before


@pytest.mark.parametrize("query", ["موصل", "الموصل", "الْمَوْصِل", "بالموصل"])
def test_search_finds_mosul_article_in_every_form(settings: Settings, store: Store, sample_server, sample_feeds: Path, query: str) -> None:
    pipeline.run_once(settings, make_ctx(settings), sample_feeds)
    ids = {hit["id"] for hit in store.search_articles(query, 20)}
    mosul = url_id(f"{sample_server.base}/pages/wasat-1.html")
    assert mosul in ids


def test_spelling_variants_match(settings: Settings, store: Store, sample_feeds: Path) -> None:
    pipeline.run_once(settings, make_ctx(settings), sample_feeds)
    assert {h["id"] for h in store.search_articles("أمريكي")} == {h["id"] for h in store.search_articles("أميركي")} != set()
    assert {h["id"] for h in store.search_articles("إرسال")} == {h["id"] for h in store.search_articles("ارسال")} != set()


def test_one_broken_feed_does_not_stop_the_others(settings: Settings, store: Store, sample_server, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/missing.xml").respond_with_data("not found", status=404)
    httpserver.expect_request("/broken.xml").respond_with_data("<html><body>maintenance</body></html>", content_type="text/html")
    feeds = {
        "allow_private_networks": True,
        "feeds": [
            {"name": "broken", "url": httpserver.url_for("/broken.xml")},
            {"name": "missing", "url": httpserver.url_for("/missing.xml")},
            {"name": "wasat", "url": f"{sample_server.base}/feeds/wasat.xml"},
        ],
    }
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump(feeds), encoding="utf-8")
    counts = pipeline.run_once(settings, make_ctx(settings), path)
    assert counts["feeds_failed"] == 2 and counts["errors"] == 2
    assert counts["indexed"] >= 2
    store.refresh("rejects")
    reasons = {h["_source"]["feed"]: h["_source"]["reason"] for h in store.es.search(index=store.alias("rejects"), query={"term": {"stage": "poll"}})["hits"]["hits"]}
    assert "HTML page" in reasons["broken"] and "HTTP 404" in reasons["missing"]


def test_alert_recorded_once_with_every_source(settings: Settings, store: Store, sample_server, sample_feeds: Path) -> None:
    pipeline.run_once(settings, make_ctx(settings, "run-1"), sample_feeds)
    pipeline.run_once(settings, make_ctx(settings, "run-2", LATER), sample_feeds)
    store.refresh("alerts")
    hits = store.es.search(index=store.alias("alerts"), query={"term": {"size": 560}})["hits"]["hits"]
    assert len(hits) == 1
    alert = hits[0]["_source"]
    assert alert["kind"] == "deploy" and alert["destination"] == "قاعدة القيارة"
    assert {s["url"].rsplit("/", 1)[-1] for s in alert["sources"]} >= {"wasat-1.html", "rafidain-1.html"}


def test_cli_run_once_json(settings: Settings, sample_feeds: Path) -> None:
    env = {**os.environ, "AKHBAR_INDEX_PREFIX": settings.index_prefix, "AKHBAR_STAGING_URL": settings.staging_url}
    proc = subprocess.run([sys.executable, "-m", "akhbar.cli", "run-once", "--feeds", str(sample_feeds), "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    counts = json.loads(proc.stdout)
    assert set(pipeline.COUNT_KEYS) <= set(counts) and counts["indexed"] >= 6


def test_cli_fails_with_one_line_when_es_unreachable(sample_feeds: Path, tmp_path: Path) -> None:
    env = {**os.environ, "AKHBAR_ES_URL": "http://127.0.0.1:9", "AKHBAR_STAGING_URL": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "akhbar.cli", "run-once", "--feeds", str(sample_feeds)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode != 0
    assert "Elasticsearch unreachable" in proc.stderr and proc.stdout == ""
