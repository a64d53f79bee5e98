"""Faults survived and nothing lost: Elasticsearch down or refusing, the worker killed, reruns and backfills.

Every case runs against the real local node (through a fault-injecting loopback proxy where a fault
is needed) and the sample outlets on a real loopback server.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from elasticsearch import ConnectionError as ESConnectionError
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from akhbar import pipeline, staging
from akhbar.config import Settings
from akhbar.index import Store, WriteFailed
from conftest import make_ctx
from es_proxy import ESProxy
from test_pipeline import ARABIC_PAGES, MANIFEST, snapshot

FAST_BULK = {"bulk_max_retries": 2, "bulk_initial_backoff_s": 0.05, "bulk_max_backoff_s": 0.2}


def via(settings: Settings, url: str) -> Settings:
    """The same settings pointed at another Elasticsearch URL, with fast bulk retries."""
    tunables = {**settings.tunables, "index": {**settings.tunables.get("index", {}), **FAST_BULK}}
    return dataclasses.replace(settings, es_url=url, tunables=tunables)


def staged_until_index(settings: Settings, ctx: pipeline.RunContext, feeds: Path) -> str:
    """Run poll, fetch and extract; return the staged extract batch."""
    return pipeline.extract_stage(settings, ctx, pipeline.fetch_stage(settings, ctx, pipeline.poll_stage(settings, ctx, feeds), feeds))


def article_ids(store: Store) -> list[str]:
    store.refresh("articles")
    return sorted(h["_id"] for h in store.es.search(index=store.alias("articles"), size=1000, source=False)["hits"]["hits"])


def test_es_unreachable_then_back_staged_batch_indexed_on_retry(settings: Settings, store: Store, sample_feeds: Path) -> None:
    ctx = make_ctx(settings, "retry-run")
    extracted = staged_until_index(settings, ctx, sample_feeds)
    down = via(settings, "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(ESConnectionError):
        pipeline.index_stage(down, ctx, extracted)
    assert Path(extracted).exists(), "the staged batch is kept for the retry"
    pipeline.index_stage(settings, ctx, extracted)  # Airflow's retry of the same task
    assert len(article_ids(store)) == len(ARABIC_PAGES) - 1


def test_es_gone_in_the_middle_of_a_bulk_write_then_back(settings: Settings, store: Store, base_settings: Settings, sample_feeds: Path) -> None:
    ctx = make_ctx(settings, "mid-bulk")
    extracted = staged_until_index(settings, ctx, sample_feeds)
    staged = [a["id"] for a in staging.read_jsonl(extracted)]
    seen = {"bulks": 0}

    def die_after_first_bulk(path: str, body: bytes) -> str | None:
        if "/_bulk" in path:
            seen["bulks"] += 1
            return "drop" if seen["bulks"] > 1 else None
        return None

    with ESProxy(base_settings.es_url, die_after_first_bulk) as proxy:
        with pytest.raises(WriteFailed, match="not sent"):
            pipeline.index_stage(via(settings, proxy.url), ctx, extracted)
    assert proxy.faults_injected >= 1
    pipeline.index_stage(settings, ctx, extracted)  # the node is back: rerun the task
    pipeline.index_stage(settings, ctx, extracted)  # and once more: still exactly once
    ids = article_ids(store)
    assert len(ids) == len(set(ids)) == len(staged) - 1  # reconciled against the staged batch (one near-copy)
    assert set(ids) <= set(staged)
    canonical = [store.get("articles", i) for i in ids]
    assert sum(len(a.get("copies", [])) for a in canonical) == 1


def test_persistent_429_fails_clearly_with_the_count_then_succeeds_when_lifted(settings: Settings, store: Store, base_settings: Settings, sample_feeds: Path) -> None:
    ctx = make_ctx(settings, "throttled")
    extracted = staged_until_index(settings, ctx, sample_feeds)
    with ESProxy(base_settings.es_url, lambda path, body: 429 if "/_bulk" in path else None) as proxy:
        with pytest.raises(WriteFailed, match=rf"{len(ARABIC_PAGES) - 1} document\(s\) not sent"):
            pipeline.index_stage(via(settings, proxy.url), ctx, extracted)
    assert proxy.faults_injected >= 3, "backed off and retried before giving up"
    assert article_ids(store) == []
    pipeline.index_stage(settings, ctx, extracted)
    assert len(article_ids(store)) == len(ARABIC_PAGES) - 1


def _slow_pages(httpserver: HTTPServer, sample_server) -> Path:
    """A feed of the sample pages whose pages take half a second each, through a loopback relay."""
    import urllib.request

    def relay(request: Request) -> Response:
        time.sleep(0.5)
        with urllib.request.urlopen(f"{sample_server.base}{request.path}") as resp:
            return Response(resp.read(), content_type=resp.headers["content-type"])

    items = "".join(
        f"<item><title>{p['title']}</title><link>{httpserver.url_for('/pages/' + p['file'])}</link></item>" for p in MANIFEST["pages"]
    )
    httpserver.expect_request("/slow.xml").respond_with_data(f'<rss version="2.0"><channel><title>s</title>{items}</channel></rss>', content_type="application/rss+xml")
    httpserver.expect_request("/pages/", method="GET").respond_with_handler(relay)
    for page in MANIFEST["pages"]:
        httpserver.expect_request(f"/pages/{page['file']}").respond_with_handler(relay)
    return Path()


def test_worker_killed_mid_run_next_run_loses_nothing(settings: Settings, store: Store, sample_server, httpserver: HTTPServer, tmp_path: Path) -> None:
    _slow_pages(httpserver, sample_server)
    feeds = tmp_path / "slow.yaml"
    feeds.write_text(yaml.safe_dump({"allow_private_networks": True, "feeds": [{"name": "slow", "url": httpserver.url_for("/slow.xml")}]}), encoding="utf-8")
    env = {**os.environ, "AKHBAR_INDEX_PREFIX": settings.index_prefix, "AKHBAR_STAGING_URL": settings.staging_url}
    cmd = [sys.executable, "-m", "akhbar.cli", "run-once", "--feeds", str(feeds), "--json", "--run-id", "killed"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(4)  # in the middle of fetching (10 pages at 0.5 s each, after start-up)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    counts = json.loads(again.stdout)
    assert counts["indexed"] + counts["duplicates"] == len(ARABIC_PAGES) and counts["non_arabic"] == 2
    assert len(article_ids(store)) == len(ARABIC_PAGES) - 1
    later = subprocess.run([*cmd[:-1], "after-kill"], env=env, capture_output=True, text=True, timeout=300)
    assert json.loads(later.stdout)["indexed"] == 0


def test_same_interval_twice_and_backfill_leave_identical_state(settings: Settings, store: Store, sample_feeds: Path) -> None:
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    pipeline.run_once(settings, make_ctx(settings, "scheduled__2026-11-21T12:00", now), sample_feeds)
    first = snapshot(store)
    pipeline.run_once(settings, make_ctx(settings, "scheduled__2026-11-21T12:00", now), sample_feeds)
    assert snapshot(store) == first
    backfill = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    pipeline.run_once(settings, make_ctx(settings, "backfill__2026-11-20T12:00", backfill), sample_feeds)
    assert snapshot(store)["articles"] == first["articles"]
    assert snapshot(store)["alerts"] == first["alerts"]
