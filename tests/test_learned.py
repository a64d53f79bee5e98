"""Per-host learned boilerplate: pure learning, its Elasticsearch store, and the pipeline forgetting an outlet's widget."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pytest_httpserver import HTTPServer

from akhbar import pipeline
from akhbar.config import Settings
from akhbar.extract import line_key
from akhbar.index import Store
from akhbar.learned import HostBoilerplate, LearnRules, Sighting, learn
from akhbar.urls import url_id
from conftest import GOLDEN, make_ctx

WIDGET = "انضم إلى أكثر من خمسين ألف قارئ يتابعون الوسط يومياً"
RULES = LearnRules(min_pages=3)


def sighting(host: str, page: str, *lines: str) -> Sighting:
    return Sighting(host, page, {line_key(line): line for line in lines})


def test_line_on_enough_pages_of_one_host_is_learned() -> None:
    seen = [sighting("a.example", f"p{i}", WIDGET, f"سطر خاص بالصفحة رقم {i}") for i in range(3)]
    assert learn(seen, RULES) == {"a.example": frozenset({line_key(WIDGET)})}
    assert learn(seen[:2], RULES) == {}


def test_lines_are_counted_per_host_and_per_distinct_page() -> None:
    seen = [sighting("a.example", "p1", WIDGET), sighting("b.example", "p2", WIDGET), sighting("c.example", "p3", WIDGET)]
    assert learn(seen, RULES) == {}
    assert learn([sighting("a.example", "p1", WIDGET)] * 3, RULES) == {}


def test_a_recurring_sentence_is_never_learned() -> None:
    sentence = "وكانت الوزارة قد أعلنت في وقت سابق أنها ستواصل العمل على تنفيذ الخطة."
    seen = [sighting("a.example", f"p{i}", sentence) for i in range(5)]
    assert learn(seen, RULES) == {}


def test_store_learns_across_batches_and_rewrites_nothing_on_rerun(store: Store) -> None:
    learner = HostBoilerplate(store, RULES)
    when = datetime(2026, 11, 21, 12, tzinfo=UTC)
    first = [sighting("a.example", f"p{i}", WIDGET) for i in range(2)]
    assert learner.observe(first, when) == {}
    assert learner.observe([sighting("a.example", "p2", WIDGET)], when) == {"a.example": frozenset({line_key(WIDGET)})}
    [doc] = learner.lines("a.example")
    assert doc["line"] == WIDGET and doc["page_count"] == 3 and doc["pages"] == ["p0", "p1", "p2"]
    before = store.es.search(index=store.alias("boilerplate"), query={"match_all": {}}, version=True)["hits"]["hits"]
    learner.observe(first + [sighting("a.example", "p2", WIDGET)], when)
    store.refresh("boilerplate")
    after = store.es.search(index=store.alias("boilerplate"), query={"match_all": {}}, version=True)["hits"]["hits"]
    assert [(h["_id"], h["_version"]) for h in before] == [(h["_id"], h["_version"]) for h in after]


def test_one_off_lines_are_forgotten_learned_lines_kept(store: Store) -> None:
    learner = HostBoilerplate(store, RULES)
    day = datetime(2026, 10, 1, tzinfo=UTC)
    learner.observe([sighting("a.example", f"p{i}", WIDGET, f"عنوان فرعي رقم {i}") for i in range(3)], day)
    store.refresh("boilerplate")
    assert store.count("boilerplate") == 4
    later = datetime(2026, 11, 21, tzinfo=UTC)
    learner.observe([sighting("b.example", "q1", "سطر آخر")], later)
    store.refresh("boilerplate")
    keys = {h["_source"]["key"] for h in store.es.search(index=store.alias("boilerplate"), query={"match_all": {}})["hits"]["hits"]}
    assert keys == {line_key(WIDGET), line_key("سطر آخر")}


def serve_wasat(httpserver: HTTPServer, names: list[str], tmp_path: Path, feed: str) -> Path:
    """Golden pages of one outlet on the loopback server, listed by an RSS feed."""
    items = []
    for name in names:
        expected = json.loads((GOLDEN / "expected" / f"{name}.json").read_text(encoding="utf-8"))
        httpserver.expect_request(f"/{name}.html").respond_with_data(
            (GOLDEN / "pages" / f"{name}.html").read_bytes(), content_type="text/html; charset=utf-8"
        )
        items.append(f"<item><title>{expected['title']}</title><link>{httpserver.url_for(f'/{name}.html')}</link></item>")
    rss = f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>الوسط</title>{"".join(items)}</channel></rss>'
    httpserver.expect_request(f"/{feed}").respond_with_data(rss.encode(), content_type="application/rss+xml")
    path = tmp_path / f"{feed}.yaml"
    path.write_text(yaml.safe_dump({"allow_private_networks": True, "feeds": [{"name": "wasat", "url": httpserver.url_for(f"/{feed}"), "outlet": "الوسط"}]}), encoding="utf-8")
    return path


def test_pipeline_drops_an_outlet_widget_after_a_few_pages(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    first = serve_wasat(httpserver, ["wasat-1", "wasat-2"], tmp_path, "feed-1.xml")
    counts = pipeline.run_once(settings, make_ctx(settings, "run-1"), first)
    assert counts["indexed"] == 2
    for name in ("wasat-1", "wasat-2"):
        doc = store.get("articles", url_id(httpserver.url_for(f"/{name}.html")))
        assert WIDGET in doc["text"], "two pages are not yet enough to call a line boilerplate"
    second = serve_wasat(httpserver, ["wasat-3", "wasat-4", "wasat-5"], tmp_path, "feed-2.xml")
    counts = pipeline.run_once(settings, make_ctx(settings, "run-2"), second)
    assert counts["indexed"] == 3
    for name in ("wasat-3", "wasat-4", "wasat-5"):
        doc = store.get("articles", url_id(httpserver.url_for(f"/{name}.html")))
        assert WIDGET not in doc["text"]
        expected = json.loads((GOLDEN / "expected" / f"{name}.json").read_text(encoding="utf-8"))
        for line in expected["content"]:
            assert line in doc["text"]
    lines = HostBoilerplate(store, RULES).lines(urlsplit(httpserver.url_for("/")).hostname)
    assert WIDGET in [d["line"] for d in lines]
    assert all(line_key(d["line"]) == d["key"] for d in lines)


def test_cli_lists_learned_lines(settings: Settings, store: Store) -> None:
    from click.testing import CliRunner

    from akhbar.cli import main

    HostBoilerplate(store, RULES).observe([sighting("a.example", f"p{i}", WIDGET) for i in range(3)], datetime(2026, 11, 21, tzinfo=UTC))
    result = CliRunner().invoke(main, ["boilerplate", "www.a.example", "--json"])
    assert result.exit_code == 0, result.output
    assert [d["line"] for d in json.loads(result.stdout)] == [WIDGET]
