"""Index lifecycle, idempotent writes across rolled-over indices, dead letters and bulk retries, on the real node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from akhbar import pipeline, staging
from akhbar.config import ConfigError, Settings
from akhbar.index import KINDS, MAX_CHUNK_BYTES, MAX_CHUNK_DOCS, IndexError_, Store, client_from_settings, load_lifecycle
from akhbar.urls import url_id
from conftest import make_ctx
from es_proxy import ESProxy

FAST = {"bulk_initial_backoff_s": 0.05, "bulk_max_backoff_s": 0.2, "bulk_max_retries": 6}


def tiny_lifecycle(**kinds: Any) -> Any:
    """A lifecycle that rolls over after two documents, with per-kind overrides."""
    return load_lifecycle({"mode": "auto", "default": {"rollover": {"max_docs": 2}}, "kinds": kinds})


def reject(n: int, reason: str = "r") -> tuple[str, dict[str, Any]]:
    return f"id-{n}", {"run_id": "t", "stage": "fetch", "kind": "error", "reason": f"{reason}{n}", "url": f"https://x.example/{n}"}


def test_ensure_creates_alias_per_kind_idempotently(settings: Settings) -> None:
    store = Store.from_settings(settings)
    store.ensure()
    Store.from_settings(settings).ensure()
    for kind in KINDS:
        indices, write_index = store.indices(kind)
        assert indices == [f"{settings.index_prefix}-{kind}-000001"] and write_index == indices[0]
        mapping = store.es.indices.get_mapping(index=store.alias(kind))[write_index]["mappings"]
        assert mapping["dynamic"] == "strict"
        assert mapping["_meta"]["akhbar"] == {"kind": kind, "analysis": "portable"}


def test_local_node_capabilities_pick_portable_analysis_and_manual_rollover(store: Store) -> None:
    assert store.capabilities() == {"arabic_analysis": False, "ilm": False}
    assert store.analysis_variant() == "portable" and not store.uses_ilm()


def test_forcing_full_analysis_or_ilm_on_the_local_node_fails_clearly(settings: Settings) -> None:
    client = client_from_settings(settings)
    with pytest.raises(IndexError_, match="analysis-common"):
        Store(client, settings.index_prefix, {"analysis": "full"}).ensure()
    with pytest.raises(IndexError_, match="no ILM"):
        Store(client, settings.index_prefix, {}, load_lifecycle({"mode": "ilm", "default": {"rollover": {"max_age": "1d"}}})).ensure()


def test_rollover_when_condition_met_and_only_then(settings: Settings) -> None:
    store = Store(client_from_settings(settings), settings.index_prefix, FAST, tiny_lifecycle())
    store.ensure()
    assert not store.rollover("rejects")["rolled_over"]
    store.write("rejects", [reject(1), reject(2), reject(3)])
    store.refresh("rejects")
    resp = store.rollover("rejects")
    assert resp["rolled_over"] and resp["new_index"] == f"{store.alias('rejects')}-000002"
    assert store.indices("rejects")[1] == resp["new_index"]
    assert not store.rollover("rejects")["rolled_over"]  # the new index is empty: nothing to do


def test_writes_stay_idempotent_across_rolled_over_indices(settings: Settings) -> None:
    store = Store(client_from_settings(settings), settings.index_prefix, FAST, tiny_lifecycle())
    store.ensure()
    first = store.write("rejects", [reject(1), reject(2), reject(3)])
    assert first.written == 3
    old = store.indices("rejects")[1]
    assert store.rollover("rejects", force=True)["rolled_over"]
    new = store.indices("rejects")[1]
    # create: ids held by the old index are "already there", never created again in the new write index
    again = store.write("rejects", [reject(1), reject(2), reject(3), reject(4)], op="create")
    assert (again.written, again.already_present, again.failed) == (1, 3, [])
    # index and update reach the concrete index that holds the document
    assert store.write("rejects", [reject(1, "newer")], op="index").written == 1
    assert store.write("rejects", [("id-2", {"reason": "updated"})], op="update").written == 1
    located = store.locate("rejects", ["id-1", "id-2", "id-4"])
    assert {k: v[0] for k, v in located.items()} == {"id-1": old, "id-2": old, "id-4": new}
    assert store.get("rejects", "id-1")["reason"] == "newer1" and store.get("rejects", "id-2")["reason"] == "updated"
    store.refresh("rejects")
    assert store.count("rejects") == 4
    assert store.existing_ids("rejects", ["id-1", "id-4", "id-9"]) == {"id-1", "id-4"}


def test_pipeline_rerun_after_rollover_duplicates_nothing(settings: Settings, store: Store, sample_server, sample_feeds) -> None:
    from test_pipeline import snapshot

    pipeline.run_once(settings, make_ctx(settings, "run-a"), sample_feeds)
    before = snapshot(store)
    for kind in ("articles", "rejects", "alerts"):
        assert store.rollover(kind, force=True)["rolled_over"]
    pipeline.run_once(settings, make_ctx(settings, "run-a"), sample_feeds)
    assert snapshot(store) == before
    counts = pipeline.run_once(settings, make_ctx(settings, "run-b"), sample_feeds)
    assert counts["indexed"] == 0 and snapshot(store)["articles"] == before["articles"]
    # a fresh index under the write alias holds nothing: every document stayed where it was first written
    for kind in ("articles", "rejects", "alerts"):
        store.refresh(kind)
        assert store.es.count(index=store.indices(kind)[1])["count"] == 0, kind
    # search spans every index behind the alias, once per article
    ids = [h["id"] for h in store.search_articles("بالموصل", 50)]
    assert url_id(f"{sample_server.base}/pages/wasat-1.html") in ids and len(ids) == len(set(ids))


def test_copies_found_after_rollover_update_the_article_in_its_old_index(settings: Settings, store: Store, sample_feeds) -> None:
    ctx = make_ctx(settings, "run-1")
    extracted = pipeline.extract_stage(settings, ctx, pipeline.fetch_stage(settings, ctx, pipeline.poll_stage(settings, ctx, sample_feeds), sample_feeds))
    indexed = pipeline.index_stage(settings, ctx, extracted)
    outcome = list(staging.read_jsonl(indexed))
    has_copies = {a["copy_of"] for a in outcome if a.get("copy_of")}
    canonical_id = next(a["id"] for a in outcome if not a.get("copy_of") and a["id"] not in has_copies)
    canonical = next(a for a in staging.read_jsonl(extracted) if a["id"] == canonical_id)  # the full article (the index batch is slim)
    old_index = store.indices("articles")[1]
    assert store.rollover("articles", force=True)["rolled_over"]
    copy = {**canonical, "id": "copy-1", "url": "https://other.example/copy", "canonical_url": "https://other.example/copy",
            "outlet": "نسخة", "published": "2099-01-01T00:00:00+00:00"}
    ctx2 = make_ctx(settings, "run-2")
    staging.write_jsonl(ctx2.batch("extract"), [copy])
    pipeline.index_stage(settings, ctx2, str(ctx2.batch("extract")))
    where, doc = store.locate("articles", [canonical["id"]])[canonical["id"]]
    assert where == old_index
    assert doc["copy_count"] == 1 and [c["url"] for c in doc["copies"]] == [copy["url"]]
    store.refresh("articles")
    assert store.es.count(index=store.indices("articles")[1])["count"] == 0
    assert store.copied_urls([copy["canonical_url"]]) == {copy["canonical_url"]}


def test_prune_deletes_rolled_over_indices_past_retention(settings: Settings) -> None:
    lifecycle = tiny_lifecycle(rejects={"rollover": {"max_docs": 2}, "delete_after": "1d"})
    store = Store(client_from_settings(settings), settings.index_prefix, FAST, lifecycle)
    store.write("rejects", [reject(1)])
    old = store.rollover("rejects", force=True)["old_index"]
    now = datetime.now(UTC)  # Elasticsearch stamps rollover with its clock; compare with the same clock
    assert store.prune("rejects", now) == []
    assert store.prune("rejects", now + timedelta(days=2)) == [old]
    assert store.indices("rejects")[0] == [f"{store.alias('rejects')}-000002"]
    assert store.prune("articles", now + timedelta(days=3650)) == []  # no retention: kept for ever


def test_mapping_rejected_items_go_to_dead_letters_and_the_rest_is_written(store: Store) -> None:
    good = [reject(1), reject(2)]
    bad = ("id-bad", {**reject(3)[1], "unexpected_field": "drift"})
    result = store.write("rejects", [good[0], bad, good[1]], op="index", context={"run_id": "run-x", "stage": "index", "at": "2026-11-21T12:00:00+00:00"})
    assert result.written == 2 and len(result.failed) == 1 and result.dead_lettered == 1
    store.refresh("deadletters")
    hits = store.es.search(index=store.alias("deadletters"), query={"match_all": {}})["hits"]["hits"]
    assert len(hits) == 1
    letter = hits[0]["_source"]
    assert letter["target_kind"] == "rejects" and letter["doc_id"] == "id-bad" and letter["status"] == 400
    assert letter["error_type"] == "strict_dynamic_mapping_exception" and "unexpected_field" in letter["reason"]
    assert letter["source"] == bad[1] and letter["run_id"] == "run-x" and letter["at"].startswith("2026-11-21")


def test_index_stage_writes_what_it_can_then_fails_partial(settings: Settings, store: Store, sample_feeds) -> None:
    ctx = make_ctx(settings, "run-partial")
    extracted = pipeline.extract_stage(settings, ctx, pipeline.fetch_stage(settings, ctx, pipeline.poll_stage(settings, ctx, sample_feeds), sample_feeds))
    articles = list(staging.read_jsonl(extracted))
    # An article outside the sample's near-copy pair (its copy would be a second, separate error).
    articles.sort(key=lambda a: a["canonical_url"].endswith(("/wasat-1.html", "/rafidain-1.html")))
    articles[0] = {**articles[0], "sentiment": "drift"}  # a field the strict mapping does not know
    staging.write_jsonl(ctx.batch("extract"), articles)
    with pytest.raises(pipeline.PartialRunError, match="deadletters"):
        pipeline.index_stage(settings, ctx, str(ctx.batch("extract")))
    counts = json.loads(ctx.counts_path("index").read_text())
    assert counts["errors"] == 1 and counts["indexed"] >= 1
    assert store.get("articles", articles[0]["id"]) is None
    assert store.get("articles", articles[1]["id"]) is not None
    store.refresh("deadletters")
    letter = store.es.search(index=store.alias("deadletters"), query={"term": {"doc_id": articles[0]["id"]}})["hits"]["hits"][0]["_source"]
    assert letter["run_id"] == "run-partial" and letter["stage"] == "index" and letter["source"]["sentiment"] == "drift"
    assert letter["source"]["text"] == articles[0]["text"]


def test_copies_of_a_failed_canonical_are_recorded_not_upserted(settings: Settings, store: Store, sample_server, sample_feeds) -> None:
    ctx = make_ctx(settings, "run-orphans")
    extracted = pipeline.extract_stage(settings, ctx, pipeline.fetch_stage(settings, ctx, pipeline.poll_stage(settings, ctx, sample_feeds), sample_feeds))
    articles = list(staging.read_jsonl(extracted))
    pair = {f"{sample_server.base}/pages/{name}" for name in ("wasat-1.html", "rafidain-1.html")}
    canonical = min((a for a in articles if a["canonical_url"] in pair), key=lambda a: a["published"])
    articles = [{**a, "sentiment": "drift"} if a["id"] == canonical["id"] else a for a in articles]
    staging.write_jsonl(ctx.batch("extract"), articles)
    with pytest.raises(pipeline.PartialRunError):
        pipeline.index_stage(settings, ctx, str(ctx.batch("extract")))
    assert store.get("articles", canonical["id"]) is None, "no partial document upserted by the copies update"
    store.refresh("rejects")
    orphan = store.es.search(index=store.alias("rejects"), query={"term": {"stage": "index"}})["hits"]["hits"]
    assert len(orphan) == 1 and "could not be indexed" in orphan[0]["_source"]["reason"]


def _proxied_store(settings: Settings, proxy: ESProxy, **bulk: Any) -> Store:
    client = Elasticsearch(proxy.url, request_timeout=30, max_retries=3, retry_on_timeout=True)
    return Store(client, settings.index_prefix, {**FAST, **bulk})


def _actions_in(body: bytes) -> int:
    return sum(1 for line in body.splitlines() if line.strip()) // 2


def test_bulk_requests_are_bounded_in_documents_and_bytes(settings: Settings, base_settings: Settings) -> None:
    with ESProxy(base_settings.es_url) as proxy:
        store = _proxied_store(settings, proxy)
        assert store.write("rejects", [reject(n) for n in range(1203)]).written == 1203
        assert len(proxy.bulk_bodies) == 3
        assert all(_actions_in(b) <= MAX_CHUNK_DOCS for b in proxy.bulk_bodies)
        assert all(len(b) <= MAX_CHUNK_BYTES for b in proxy.bulk_bodies)
        proxy.bulk_bodies.clear()
        small = _proxied_store(settings, proxy, bulk_chunk_bytes=200_000)
        big = [(f"big-{n}", {**reject(n)[1], "reason": "س" * 20_000}) for n in range(60)]  # ~40 kB each
        assert small.write("rejects", big).written == 60
        assert len(proxy.bulk_bodies) >= 12 and all(len(b) <= 200_000 for b in proxy.bulk_bodies)


def test_bulk_chunk_limits_cannot_be_raised_past_the_bounds(settings: Settings) -> None:
    client = client_from_settings(settings)
    with pytest.raises(ConfigError):
        Store(client, settings.index_prefix, {"bulk_chunk_docs": 501})
    with pytest.raises(ConfigError):
        Store(client, settings.index_prefix, {"bulk_chunk_bytes": MAX_CHUNK_BYTES + 1})


def test_bulk_retries_429_with_backoff(settings: Settings, base_settings: Settings) -> None:
    state = {"left": 2}

    def too_many(path: str, body: bytes) -> int | None:
        if "/_bulk" in path and state["left"]:
            state["left"] -= 1
            return 429
        return None

    with ESProxy(base_settings.es_url, too_many) as proxy:
        store = _proxied_store(settings, proxy)
        store.ensure()
        result = store.write("rejects", [reject(n) for n in range(10)])
    assert (result.written, result.failed, proxy.faults_injected) == (10, [], 2)
    store.refresh("rejects")
    assert store.count("rejects") == 10


def test_bulk_retries_connection_errors_and_loses_nothing(settings: Settings, base_settings: Settings) -> None:
    state = {"left": 6}  # more than the client's own 3 immediate retries: the store's backoff loop is needed

    def drop(path: str, body: bytes) -> str | None:
        if "/_bulk" in path and state["left"]:
            state["left"] -= 1
            return "drop"
        return None

    with ESProxy(base_settings.es_url, drop) as proxy:
        store = _proxied_store(settings, proxy)
        store.ensure()
        result = store.write("rejects", [reject(n) for n in range(700)], op="create")
    assert proxy.faults_injected == 6 and result.failed == []
    assert result.written + result.already_present == 700
    store.refresh("rejects")
    assert store.count("rejects") == 700


def test_bulk_gives_up_after_its_retries_with_a_clear_error(settings: Settings, base_settings: Settings) -> None:
    from akhbar.index import WriteFailed

    with ESProxy(base_settings.es_url, lambda path, body: "drop" if "/_bulk" in path else None) as proxy:
        store = _proxied_store(settings, proxy, bulk_max_retries=1)
        store.ensure()
        with pytest.raises(WriteFailed, match=r"1 document\(s\) not sent, 0 written"):
            store.write("rejects", [reject(1)])


def test_lifecycle_config_is_validated() -> None:
    with pytest.raises(ConfigError, match="unknown rollover"):
        load_lifecycle({"default": {"rollover": {"max_pages": 3}}})
    with pytest.raises(ConfigError, match="duration"):
        load_lifecycle({"default": {"rollover": {"max_age": "1d"}}, "kinds": {"rejects": {"delete_after": "soon"}}})
    with pytest.raises(ConfigError, match="mode"):
        load_lifecycle({"mode": "sometimes", "default": {"rollover": {"max_age": "1d"}}})
    shipped = load_lifecycle()
    assert shipped.conditions("articles") and shipped.delete_after("articles") is None
    assert shipped.conditions("some-future-kind") == shipped.conditions("articles")


def test_ilm_policy_follows_the_config() -> None:
    lifecycle = load_lifecycle()
    policy = lifecycle.policy("rejects")
    assert policy["phases"]["hot"]["actions"]["rollover"] == lifecycle.conditions("rejects")
    assert policy["phases"]["delete"] == {"min_age": "180d", "actions": {"delete": {}}}
    assert "delete" not in lifecycle.policy("articles")["phases"]


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AKHBAR_INDEX_PREFIX": settings.index_prefix}
    return subprocess.run([sys.executable, "-m", "akhbar.cli", *args], capture_output=True, text=True, env=env, timeout=300)


def test_cli_rollover_maintenance_step(settings: Settings) -> None:
    setup = _cli(settings, "es", "setup")
    assert setup.returncode == 0 and "analysis: portable" in setup.stdout and "rollover API" in setup.stdout
    quiet = _cli(settings, "es", "rollover", "--json")
    assert quiet.returncode == 0 and not any(v["rolled_over"] for v in json.loads(quiet.stdout).values())
    forced = _cli(settings, "es", "rollover", "--kind", "rejects", "--force", "--json")
    out = json.loads(forced.stdout)
    assert out["rejects"]["rolled_over"] and out["rejects"]["new_index"].endswith("-rejects-000002")
    assert _cli(settings, "es", "rollover", "--kind", "nope").returncode == 1


def test_cli_templates_offer_the_full_variant_and_ilm(settings: Settings) -> None:
    proc = _cli(settings, "es", "templates", "--variant", "full")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    articles = out["index_templates"][f"{settings.index_prefix}-articles"]["template"]
    assert articles["mappings"]["properties"]["text"]["analyzer"] == "akhbar_arabic"
    assert articles["settings"]["index.lifecycle.rollover_alias"] == f"{settings.index_prefix}-articles"
    assert set(out["ilm_policies"]) == {f"{settings.index_prefix}-{k}" for k in KINDS}
