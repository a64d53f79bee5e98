"""Per-host politeness: connection cap, delay between requests, Crawl-delay, and hosts served concurrently."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from functools import partial

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from akhbar.config import load_tunables
from akhbar.fetch import Fetcher, RobotsDisallowed
from akhbar.polite import HostScheduler, host_key


class Recorder:
    """A handler that records when each request started and ended, and how many ran at once."""

    def __init__(self, sleep_s: float = 0.0) -> None:
        self.sleep_s = sleep_s
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    def __call__(self, _request: Request) -> Response:
        with self._lock:
            self.starts.append(time.monotonic())
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        time.sleep(self.sleep_s)
        with self._lock:
            self.active -= 1
            self.ends.append(time.monotonic())
        return Response("<html><body>ok</body></html>", content_type="text/html")


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A loopback server that answers requests concurrently (the shared httpserver answers one at a time)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.expect_request("/robots.txt").respond_with_data("", status=404)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def second_host() -> Iterator[HTTPServer]:
    """Another loopback host (127.0.0.2), so politeness budgets are separate."""
    server = HTTPServer(host="127.0.0.2", port=0)
    server.expect_request("/robots.txt").respond_with_data("", status=404)
    server.start()
    yield server
    server.clear()
    server.stop()


def fetch_all(fetcher: Fetcher, scheduler: HostScheduler, urls: list[str]) -> list[object]:
    return [o.error or o.value.status for o in scheduler.map([(u, partial(fetcher.get, u)) for u in urls])]


def test_host_key_ignores_port_and_case() -> None:
    assert host_key("http://Example.COM:8080/a") == host_key("https://example.com/b") == "example.com"


def test_at_most_two_connections_per_host(threaded_server: HTTPServer) -> None:
    slow = Recorder(sleep_s=0.3)
    threaded_server.expect_request("/slow").respond_with_handler(slow)
    with Fetcher(load_tunables(), allow_private=True) as fetcher:
        results = fetch_all(fetcher, HostScheduler(workers=8, per_host=2, delay_s=0.0), [threaded_server.url_for(f"/slow?n={i}") for i in range(6)])
    assert results == [200] * 6
    assert slow.most_active == 2


def test_delay_between_requests_to_one_host(httpserver: HTTPServer) -> None:
    rec = Recorder()
    httpserver.expect_request("/p").respond_with_handler(rec)
    with Fetcher(load_tunables(), allow_private=True) as fetcher:
        fetch_all(fetcher, HostScheduler(workers=8, per_host=2, delay_s=0.25), [httpserver.url_for(f"/p?n={i}") for i in range(4)])
    gaps = [b - a for a, b in zip(rec.starts, rec.starts[1:], strict=False)]
    assert len(gaps) == 3 and min(gaps) >= 0.2


def test_crawl_delay_is_honoured_and_capped(httpserver: HTTPServer) -> None:
    httpserver.robots_txt = "User-agent: *\nCrawl-delay: 120\n"
    rec = Recorder()
    httpserver.expect_request("/p").respond_with_handler(rec)
    tunables = {"fetch": {**load_tunables()["fetch"], "max_crawl_delay_s": 0.4}}
    with Fetcher(tunables, allow_private=True) as fetcher:
        scheduler = HostScheduler(workers=8, per_host=2, delay_s=0.0)
        scheduler.attach(fetcher)
        fetch_all(fetcher, scheduler, [httpserver.url_for(f"/p?n={i}") for i in range(4)])
        assert fetcher.crawl_delay(httpserver.url_for("/p")) == 0.4
    gaps = [b - a for a, b in zip(rec.starts, rec.starts[1:], strict=False)]
    # The first request reads robots.txt; from then on requests start Crawl-delay (capped at 0.4 s) apart.
    assert len(gaps) == 3 and min(gaps[1:]) >= 0.35


def test_slow_host_does_not_hold_the_others(httpserver: HTTPServer, second_host: HTTPServer) -> None:
    slow, fast = Recorder(sleep_s=0.8), Recorder()
    httpserver.expect_request("/slow").respond_with_handler(slow)
    second_host.expect_request("/fast").respond_with_handler(fast)
    urls = [httpserver.url_for(f"/slow?n={i}") for i in range(4)] + [second_host.url_for(f"/fast?n={i}") for i in range(4)]
    with Fetcher(load_tunables(), allow_private=True) as fetcher:
        results = fetch_all(fetcher, HostScheduler(workers=4, per_host=2, delay_s=0.0), urls)
    assert results == [200] * 8
    assert max(fast.ends) < max(slow.ends)
    assert max(fast.ends) < min(slow.ends) + 0.5  # the fast host finished while the slow one was still busy


def test_user_agent_names_project_and_contact(httpserver: HTTPServer) -> None:
    seen: list[str] = []
    httpserver.expect_request("/ua").respond_with_handler(lambda r: seen.append(r.headers["User-Agent"]) or Response("ok"))
    tunables = {"fetch": {**load_tunables()["fetch"], "contact": "desk@newsroom.example"}}
    with Fetcher(tunables, allow_private=True) as fetcher:
        fetcher.get(httpserver.url_for("/ua"))
    assert seen[0].startswith("AkhbarBot/") and "contact: desk@newsroom.example" in seen[0]


@pytest.mark.parametrize(
    ("status", "body", "allowed"),
    [(200, "User-agent: AkhbarBot\nDisallow: /\n", False), (200, "User-agent: OtherBot\nDisallow: /\n", True), (404, "", True), (503, "", False)],
)
def test_robots_rules_and_unreachable_robots(httpserver: HTTPServer, status: int, body: str, allowed: bool) -> None:
    httpserver.clear()
    httpserver.expect_request("/robots.txt").respond_with_data(body, status=status, content_type="text/plain")
    httpserver.expect_request("/page").respond_with_data("ok", content_type="text/html")
    with Fetcher(load_tunables(), allow_private=True) as fetcher:
        if allowed:
            assert fetcher.get(httpserver.url_for("/page")).status == 200
        else:
            with pytest.raises(RobotsDisallowed):
                fetcher.get(httpserver.url_for("/page"))


def test_contact_from_the_environment() -> None:
    from akhbar.config import Settings

    settings = Settings.from_env({"AKHBAR_CONTACT": "desk@outlet-watch.example"})
    with Fetcher(settings.tunables) as fetcher:
        assert fetcher.user_agent.endswith("contact: desk@outlet-watch.example") and "AkhbarBot" in fetcher.user_agent
