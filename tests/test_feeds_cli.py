"""`akhbar feeds status|unpark|discover|check` against real loopback servers and the real Elasticsearch; the outlets file."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from akhbar import feedstate, pipeline
from akhbar.cli import main
from akhbar.config import CONFIG_DIR, Settings, load_feeds
from akhbar.index import Store
from conftest import make_ctx
from web import feeds_file, rss


def test_status_shows_health_and_next_poll(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/ok.xml").respond_with_data(rss([("خبر", "http://outlet.example/1")]), content_type="application/rss+xml")
    httpserver.expect_request("/down.xml").respond_with_data("down", status=503)
    path = feeds_file(tmp_path / "feeds.yaml", [
        {"name": "healthy", "url": httpserver.url_for("/ok.xml")},
        {"name": "failing", "url": httpserver.url_for("/down.xml")},
        {"name": "fresh", "url": httpserver.url_for("/never.xml")},
    ])
    when = datetime.now(UTC).replace(microsecond=0)
    feeds = load_feeds(path)
    pipeline.poll_stage(settings, make_ctx(settings, "s1", when), path)
    # "fresh" was polled too (and 500'd by the test server); make it look never polled by removing its state.
    store.es.delete(index=store.alias("feeds"), id="fresh", refresh=True)
    result = CliRunner().invoke(main, ["feeds", "status", "--feeds", str(path), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["feed"]: r for r in json.loads(result.stdout)}
    assert rows["healthy"]["status"] == "ok" and rows["healthy"]["next_poll"] > when.isoformat()
    assert rows["failing"]["status"] == "error" and "HTTP 503" in rows["failing"]["last_error"]
    assert rows["failing"]["next_poll"] == (when + timedelta(minutes=5)).isoformat()
    assert rows["fresh"]["status"] == "new" and rows["fresh"]["next_poll"] is None
    assert feeds.feeds[0].name == "healthy"
    table = CliRunner().invoke(main, ["feeds", "status", "--feeds", str(path)], env={"COLUMNS": "220"})
    assert table.exit_code == 0
    assert "next poll" in table.output and "healthy" in table.output and "never polled" in table.output
    assert "(in 4m)" in table.output or "(in 5m)" in table.output


def test_unpark_makes_a_parked_feed_due(settings: Settings, store: Store, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/down.xml").respond_with_data("down", status=503)
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "down", "url": httpserver.url_for("/down.xml")}])
    feed = load_feeds(path).feeds[0]
    policy = feedstate.Policy.from_tunables(settings.tunables)
    state = feedstate.FeedState.fresh(feed)
    for _ in range(policy.park_after_failures):
        state = feedstate.after_failure(state, datetime(2026, 11, 21, tzinfo=UTC), policy, run_id="r", reason="HTTP 503")
    feedstate.save(store, [state])
    result = CliRunner().invoke(main, ["feeds", "unpark", "--all", "--feeds", str(path)])
    assert result.exit_code == 0 and "unparked 1 feed(s): down" in result.output
    assert store.get("feeds", "down")["parked"] is False
    assert CliRunner().invoke(main, ["feeds", "unpark", "nosuch", "--feeds", str(path)]).exit_code == 1


def test_discover_finds_linked_feeds(httpserver: HTTPServer) -> None:
    page = (
        '<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
        '<link rel="alternate" type="application/atom+xml" href="/broken.xml"></head><body>الرئيسية</body></html>'
    )
    httpserver.expect_request("/").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/rss.xml").respond_with_data(rss([("خبر", "http://outlet.example/1"), ("خبر آخر", "http://outlet.example/2")]), content_type="application/rss+xml")
    httpserver.expect_request("/broken.xml").respond_with_data("<html><body>404</body></html>", content_type="text/html")
    result = CliRunner().invoke(main, ["feeds", "discover", httpserver.url_for("/"), "--allow-private-networks", "--json"])
    assert result.exit_code == 0, result.output
    found = {c["url"]: c for c in json.loads(result.stdout)}
    assert found[httpserver.url_for("/rss.xml")]["ok"] and found[httpserver.url_for("/rss.xml")]["items"] == 2
    assert found[httpserver.url_for("/rss.xml")]["title"] == "أخبار"
    assert not found[httpserver.url_for("/broken.xml")]["ok"]
    text = CliRunner().invoke(main, ["feeds", "discover", httpserver.url_for("/"), "--allow-private-networks"])
    assert "for config/feeds.yaml" in text.output and httpserver.url_for("/rss.xml") in text.output


def test_discover_falls_back_to_common_paths_and_refuses_private_sites(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/").respond_with_data("<html><body>لا روابط هنا</body></html>", content_type="text/html")
    httpserver.expect_request("/feed").respond_with_data(rss([("خبر", "http://outlet.example/1")]), content_type="application/rss+xml")
    result = CliRunner().invoke(main, ["feeds", "discover", httpserver.url_for("/"), "--allow-private-networks", "--json"])
    good = [c for c in json.loads(result.stdout) if c["ok"]]
    assert [(c["url"], c["found_by"]) for c in good] == [(httpserver.url_for("/feed"), "common path")]
    refused = CliRunner().invoke(main, ["feeds", "discover", httpserver.url_for("/")])
    assert refused.exit_code == 1 and "non-public" in refused.output


def test_check_reports_what_answers(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/ok.xml").respond_with_data(rss([("خبر", "http://outlet.example/1")]), content_type="application/rss+xml")
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=410)
    path = feeds_file(tmp_path / "feeds.yaml", [{"name": "ok", "url": httpserver.url_for("/ok.xml")}, {"name": "gone", "url": httpserver.url_for("/gone.xml")}])
    result = CliRunner().invoke(main, ["feeds", "check", "--feeds", str(path), "--json"])
    assert result.exit_code == 1
    rows = {r["feed"]: r for r in json.loads(result.stdout)}
    assert rows["ok"]["ok"] and rows["ok"]["items"] == 1 and rows["ok"]["newest"]
    assert not rows["gone"]["ok"] and "HTTP 410" in rows["gone"]["reason"]
    table = CliRunner().invoke(main, ["feeds", "check", "--feeds", str(path)], env={"COLUMNS": "200"})
    assert "1 of 2 feeds answer" in table.output


def test_real_outlets_file_covers_the_region() -> None:
    feeds = load_feeds(CONFIG_DIR / "feeds.yaml")
    assert feeds.allow_private_networks is False
    assert len(feeds.feeds) >= 15
    regions = {
        "pan-Arab": {"QA", "AE", "SA", "GB"}, "Iraq": {"IQ"}, "Levant": {"LB", "SY", "JO", "PS"}, "Gulf": {"AE", "SA", "KW", "BH", "OM"},
        "Egypt": {"EG"}, "North Africa": {"MA", "DZ", "TN", "LY"}, "international": {"INT"},
    }
    countries = {f.country for f in feeds.feeds}
    assert all(countries & codes for codes in regions.values())
    raw = yaml.safe_load((CONFIG_DIR / "feeds.yaml").read_text(encoding="utf-8"))["feeds"]
    for entry in raw:
        assert entry["url"].startswith("https://") or entry["url"].startswith("http://"), entry
        host = entry["url"].split("/")[2]
        try:
            ipaddress.ip_address(host)
            raise AssertionError(f"{entry['name']} uses an address, not the outlet's host name")
        except ValueError:
            pass
        assert any("\u0600" <= ch <= "\u06ff" for ch in entry["outlet"]), entry
