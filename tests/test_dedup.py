"""Near-copies and stories: the labelled set, order independence, and dedup across runs in Elasticsearch."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer

from akhbar import pipeline
from akhbar.config import Settings
from akhbar.dedup import DedupParams, cluster_batch, content_hash, decide, load_params, signature
from akhbar.fields import extract_fields
from akhbar.index import Store
from akhbar.stories import assign_stories, story_numbers, story_terms
from akhbar.urls import url_id
from conftest import make_ctx

DATA = Path(__file__).parent / "data" / "nearcopy"
PAIRS = [json.loads(line) for line in (DATA / "pairs.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
STORIES = [json.loads(line) for line in (DATA / "stories.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def doc(doc_id: str, text: str, published: str | None = None) -> dict[str, Any]:
    """An article dict as the extract stage makes it (the fields dedup and stories read)."""
    fields = extract_fields(text)
    return {
        "id": doc_id,
        "content_hash": content_hash(text),
        "published": published,
        "first_seen": "2026-11-20T00:00:00+00:00",
        "story_numbers": story_numbers(text),
        "story_terms": story_terms("", text),
        "place_names": fields["place_names"],
        "organisations": fields["organisations"],
    }


def test_params_are_the_tuned_ones() -> None:
    assert load_params() == DedupParams(shingle=3, num_perm=128, bands=42, threshold=0.3)


def test_near_copy_precision_and_recall_on_labelled_pairs() -> None:
    params = load_params()
    tp = fp = fn = 0
    for pair in PAIRS:
        a, b = doc("a", pair["a"]), doc("b", pair["b"])
        sigs = {"a": signature(pair["a"], params), "b": signature(pair["b"], params)}
        together = len(cluster_batch([a, b], sigs, params)) == 1
        tp += together and pair["label"] == 1
        fp += together and pair["label"] == 0
        fn += (not together) and pair["label"] == 1
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert len(PAIRS) >= 200
    assert precision >= 0.99, precision
    assert recall >= 0.97, recall


def test_batch_result_does_not_depend_on_order() -> None:
    params = load_params()
    texts = {f"p{i:03d}{side}": pair[side] for i, pair in enumerate(PAIRS[:40]) for side in ("a", "b")}
    articles = [doc(k, v, f"2026-11-{10 + int(k[1:4]) % 9:02d}T08:00:00+00:00") for k, v in texts.items()]
    sigs = {k: signature(v, params) for k, v in texts.items()}
    results = []
    for seed in range(5):
        shuffled = articles[:]
        random.Random(seed).shuffle(shuffled)
        keep, copies = decide(shuffled, sigs, {}, params)
        results.append((sorted(a["id"] for a in keep), sorted((c, a["id"]) for c, a, _ in copies)))
    assert all(r == results[0] for r in results)
    assert results[0][1], "the first 40 pairs include near-copies"


def test_story_grouping_on_labelled_groups() -> None:
    articles = [doc(d["doc"], d["text"], "2026-11-18T10:00:00+00:00") for d in STORIES]
    story = assign_stories(articles, {})
    truth = {d["doc"]: d["story"] for d in STORIES}
    tp = fp = fn = 0
    for a, b in combinations(truth, 2):
        same_truth, same_found = truth[a] == truth[b], story[a] == story[b]
        tp += same_truth and same_found
        fp += same_found and not same_truth
        fn += same_truth and not same_found
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.95 and recall >= 0.9, (precision, recall)


def test_stories_respect_the_time_window() -> None:
    a_text, b_text = [d["text"] for d in STORIES if d["story"] == "e01"][:2]
    near = assign_stories([doc("a", a_text, "2026-11-18T10:00:00+00:00"), doc("b", b_text, "2026-11-19T10:00:00+00:00")], {})
    far = assign_stories([doc("a", a_text, "2026-11-01T10:00:00+00:00"), doc("b", b_text, "2026-11-19T10:00:00+00:00")], {})
    assert near["a"] == near["b"] and far["a"] != far["b"]


RSS_ITEM = "<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate></item>"


def _serve(httpserver: HTTPServer, feed: str, pages: dict[str, tuple[str, str]], date: str) -> None:
    """Serve one RSS feed listing the given pages, each (title, body paragraphs)."""
    items = "".join(RSS_ITEM.format(title=t, link=httpserver.url_for(f"/{name}"), date=date) for name, (t, _b) in pages.items())
    httpserver.expect_request(f"/{feed}").respond_with_data(
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>', content_type="application/rss+xml"
    )
    for name, (title, body) in pages.items():
        paras = "".join(f"<p>{p}</p>" for p in body.split("\n\n") if p.strip())
        html = f'<html lang="ar"><head><meta charset="utf-8"><title>{title}</title></head><body><article><h1>{title}</h1>{paras}</article></body></html>'
        httpserver.expect_request(f"/{name}").respond_with_data(html, content_type="text/html; charset=utf-8")


def _feeds_file(tmp_path: Path, httpserver: HTTPServer, *names: str) -> Path:
    path = tmp_path / f"feeds-{'-'.join(names)}.yaml"
    feeds = [{"name": n.split(".")[0], "url": httpserver.url_for(f"/{n}")} for n in names]
    path.write_text(yaml.safe_dump({"allow_private_networks": True, "feeds": feeds}), encoding="utf-8")
    return path


def _split(text: str) -> tuple[str, str]:
    head, _, body = text.partition("\n")
    return head.strip(), body.strip()


def test_near_copy_found_across_runs_in_elasticsearch(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    positive = next(p for p in PAIRS if p["label"] == 1 and content_hash(p["a"]) != content_hash(p["b"]) and "headline" not in p["kind"])
    _serve(httpserver, "one.xml", {"orig": _split(positive["a"])}, "Wed, 18 Nov 2026 09:00:00 +0000")
    _serve(httpserver, "two.xml", {"copy": _split(positive["b"])}, "Wed, 18 Nov 2026 11:00:00 +0000")
    first = pipeline.run_once(settings, make_ctx(settings, "r1"), _feeds_file(tmp_path, httpserver, "one.xml"))
    second = pipeline.run_once(settings, make_ctx(settings, "r2"), _feeds_file(tmp_path, httpserver, "two.xml"))
    assert first["indexed"] == 1 and second["indexed"] == 0 and second["duplicates"] == 1
    canonical = store.get("articles", url_id(httpserver.url_for("/orig")))
    assert canonical is not None and store.get("articles", url_id(httpserver.url_for("/copy"))) is None
    assert [c["url"] for c in canonical["copies"]] == [httpserver.url_for("/copy")]
    next_day = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the feed is due again
    third = pipeline.run_once(settings, make_ctx(settings, "r3", next_day), _feeds_file(tmp_path, httpserver, "two.xml"))
    assert third["pages_fetched"] == 0 and third["already_seen"] == 1


def test_updated_article_from_same_url_replaces_it(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    base = next(d["text"] for d in STORIES if d["doc"] == "e02_a")
    title, body = _split(base)
    _serve(httpserver, "f.xml", {"story": (title, body)}, "Wed, 18 Nov 2026 09:00:00 +0000")
    pipeline.run_once(settings, make_ctx(settings, "r1"), _feeds_file(tmp_path, httpserver, "f.xml"))
    first = store.get("articles", url_id(httpserver.url_for("/story")))
    httpserver.clear()
    update = body + "\n\nوفي تطور لاحق، أكدت المصادر وصول الرتل الأخير إلى وجهته مساء اليوم دون حوادث تذكر، بحسب ما أفاد به مراسلون في المنطقة."
    _serve(httpserver, "f.xml", {"story": (title, update)}, "Wed, 18 Nov 2026 15:00:00 +0000")
    later = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    counts = pipeline.run_once(settings, make_ctx(settings, "r2", later), _feeds_file(tmp_path, httpserver, "f.xml"))
    assert counts["updated"] == 1 and counts["indexed"] == 0
    second = store.get("articles", url_id(httpserver.url_for("/story")))
    assert "الرتل الأخير" in second["text"] and "الرتل الأخير" not in first["text"]
    assert second["first_seen"] == first["first_seen"] and store.count("articles") == 1


def test_independent_articles_of_one_event_share_a_story(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    versions = {d["doc"]: _split(d["text"]) for d in STORIES if d["story"] == "e01"}
    names = sorted(versions)
    _serve(httpserver, "a.xml", {names[0]: versions[names[0]]}, "Wed, 18 Nov 2026 09:00:00 +0000")
    _serve(httpserver, "b.xml", {n: versions[n] for n in names[1:]}, "Wed, 18 Nov 2026 10:00:00 +0000")
    pipeline.run_once(settings, make_ctx(settings, "r1"), _feeds_file(tmp_path, httpserver, "a.xml"))
    counts = pipeline.run_once(settings, make_ctx(settings, "r2"), _feeds_file(tmp_path, httpserver, "b.xml"))
    assert counts["indexed"] == 2, "independently written articles are both indexed"
    stories = {store.get("articles", url_id(httpserver.url_for(f"/{n}")))["story_id"] for n in names}
    assert len(stories) == 1
