"""Load: a burst of 500 feeds × 50 items through the whole pipeline (`akhbar run-once` in its own process).

Memory of the pipeline's process tree stays under a bound, per-host politeness holds as the outlets see it,
and every item is accounted for: each distinct item is indexed, recorded as a copy, or rejected with its
reason, exactly as planned, and the run's counts add up. The measured peak is in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
import yaml
from elasticsearch.helpers import scan

from akhbar import pipeline
from akhbar.config import Settings
from akhbar.index import Store
from akhbar.urls import canonical_url
from loadweb import LoadServerProcess, LoadWeb

pytestmark = pytest.mark.load

HOST_DELAY_S = 0.5  # long enough that scheduling noise on a busy 2-core machine is small beside it
MEMORY_BOUND_MB = 1536  # the pipeline's whole process tree (main process and extract workers)


def sample_tree(pid: int, stop: threading.Event, peak: dict[str, float]) -> None:
    """Record the largest summed RSS of a process and its children until stop is set."""
    parent = psutil.Process(pid)
    while not stop.is_set():
        try:
            procs = [parent, *parent.children(recursive=True)]
            peak["mb"] = max(peak["mb"], sum(p.memory_info().rss for p in procs) / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.1)


def stored(store: Store, kind: str, fields: list[str]) -> list[dict]:
    """Every document of one kind (all its indices), with some fields."""
    return [hit["_source"] | {"_id": hit["_id"]} for hit in scan(store.es, index=store.alias(kind), query={"query": {"match_all": {}}}, _source=fields, size=2000)]


def test_burst_of_500_feeds_by_50_items(settings: Settings, store: Store, tmp_path: Path) -> None:
    web = LoadWeb(hosts=500, feeds_per_host=1, items_per_feed=50)
    with LoadServerProcess(web) as server:
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(yaml.safe_dump(web.feeds_yaml(server.port), allow_unicode=True), encoding="utf-8")
        env = {**os.environ, "AKHBAR_INDEX_PREFIX": settings.index_prefix, "AKHBAR_STAGING_URL": settings.staging_url, "AKHBAR_HOST_DELAY_S": str(HOST_DELAY_S)}
        cmd = [sys.executable, "-m", "akhbar.cli", "run-once", "--feeds", str(feeds), "--json", "--run-id", "load"]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stop, peak = threading.Event(), {"mb": 0.0}
        sampler = threading.Thread(target=sample_tree, args=(proc.pid, stop, peak), daemon=True)
        sampler.start()
        out, err = proc.communicate(timeout=1800)
        stop.set()
        sampler.join()
        wall = time.monotonic() - started
    assert proc.returncode == 0, err[-3000:]
    counts = json.loads(out)
    print(f"\nload: {web.distinct} distinct items from 500 feeds in {wall:.0f} s, peak RSS of the pipeline tree {peak['mb']:.0f} MB; {counts}")

    # Memory stays bounded.
    assert 0 < peak["mb"] < MEMORY_BOUND_MB

    # Politeness as the outlets saw it: at most 2 requests in flight per host; starts the delay apart (the client
    # paces from when each request is written; the margin is for when a busy machine lets the outlet's server log
    # an arrival), and no faster than the delay over the whole run.
    assert len(server.arrivals) == web.hosts
    gaps_all = [b - a for times in server.arrivals.values() for a, b in zip(times, times[1:])]
    print(f"politeness: {len(gaps_all) + web.hosts} requests on {web.hosts} hosts; gap between starts min {min(gaps_all):.3f} s, "
          f"median {statistics.median(gaps_all):.3f} s (delay {HOST_DELAY_S} s); most in flight on one host {max(server.max_in_flight.values())}")
    for host, times in server.arrivals.items():
        assert server.max_in_flight[host] <= 2, host
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert min(gaps) >= HOST_DELAY_S * 0.5, (host, min(gaps))
        assert statistics.median(gaps) >= HOST_DELAY_S * 0.95, (host, statistics.median(gaps))
        assert (times[-1] - times[0]) >= HOST_DELAY_S * (len(times) - 1) * 0.95, host

    # The counts add up, to the plan.
    planned = Counter(web.plans)
    errors = sum(planned[k] for k in ("missing", "unavailable", "binary", "short"))
    assert counts["items_seen"] == web.distinct == 24_500
    assert counts["items_repeated"] == 500
    assert counts["feeds_polled"] == 500 and counts["feeds_failed"] == 0 and counts["feed_errors"] == 0
    assert counts["indexed"] == planned["original"]
    assert counts["duplicates"] == planned["exact_copy"] + planned["near_copy"]
    assert counts["non_arabic"] == planned["english"]
    assert counts["errors"] == errors
    assert counts["already_seen"] == 0 and counts["updated"] == 0
    assert pipeline.unaccounted(counts) == 0

    # Every item is accounted for in the index, item by item.
    fate: dict[str, list[str]] = {}
    for doc in stored(store, "articles", ["canonical_url", "copies.url"]):
        fate.setdefault(doc["canonical_url"], []).append("article")
        for copy in doc.get("copies", []):
            fate.setdefault(copy["url"], []).append("copy")
    reasons: dict[str, str] = {}
    for doc in stored(store, "rejects", ["url", "kind", "reason", "stage"]):
        fate.setdefault(doc["url"], []).append(doc["kind"])
        reasons[doc["url"]] = doc["reason"]
    expected = {"original": "article", "english": "language", "missing": "error", "unavailable": "error", "binary": "error", "short": "error"}
    for u, kind in enumerate(web.plans):
        url = canonical_url(web.url(u, server.port))
        got = fate.get(url)
        assert got is not None and len(got) == 1, (u, kind, got)
        if kind in ("exact_copy", "near_copy"):
            group = {got[0], fate[canonical_url(web.url(web.source(u), server.port))][0]}
            assert group == {"article", "copy"}, (u, kind, group)
        else:
            assert got[0] == expected[kind], (u, kind, got)
        if kind in ("missing", "unavailable"):
            assert ("404" if kind == "missing" else "503") in reasons[url]
    assert len(fate) == web.distinct
