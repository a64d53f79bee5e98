"""Shared fixtures: the real local Elasticsearch under a per-session prefix, and loopback servers."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug import Request, Response

from akhbar import es_local, pipeline
from akhbar.config import Settings
from akhbar.index import Store
from akhbar.samples import SampleServer

GOLDEN = Path(__file__).parent / "golden"
# A short per-host delay keeps the suite fast (subprocesses and the DAG test inherit it); politeness itself is
# tested with explicit delays.
os.environ.setdefault("AKHBAR_HOST_DELAY_S", "0.01")


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    """Settings for the real node; the suite fails, never skips, when no node answers."""
    settings = Settings.from_env()
    ok, line = es_local.status(settings)
    if not ok:
        pytest.fail(f"no Elasticsearch answers ({line}); run the suite with `make test`", pytrace=False)
    return settings


@pytest.fixture
def settings(base_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings isolated by a fresh index prefix and staging directory; the indices are deleted afterwards."""
    prefix = f"akhbar-test-{uuid.uuid4().hex[:10]}"
    staging = tmp_path / "staging"
    monkeypatch.setenv("AKHBAR_INDEX_PREFIX", prefix)
    monkeypatch.setenv("AKHBAR_STAGING_URL", str(staging))
    isolated = dataclasses.replace(base_settings, index_prefix=prefix, staging_url=str(staging))
    yield isolated
    Store.from_settings(isolated).delete_all()


@pytest.fixture
def store(settings: Settings) -> Store:
    """A store on the isolated prefix, with its indices created."""
    st = Store.from_settings(settings)
    st.ensure()
    return st


@pytest.fixture
def sample_server() -> Iterator[SampleServer]:
    """The bundled sample outlets on a loopback port."""
    with SampleServer() as server:
        yield server


@pytest.fixture
def sample_feeds(sample_server: SampleServer, tmp_path: Path) -> Path:
    """A feeds file pointing at the sample server."""
    return sample_server.write_feeds_file(tmp_path / "feeds.yaml")


def make_ctx(settings: Settings, run_id: str = "test-run", when: datetime | None = None) -> pipeline.RunContext:
    """A run context at a fixed logical date."""
    return pipeline.make_context(settings, run_id, when or datetime(2026, 11, 21, 12, 0, tzinfo=UTC))


@pytest.fixture(autouse=True)
def _loopback_robots_txt(request: pytest.FixtureRequest) -> None:
    """The loopback test server answers 404 for robots.txt (everything allowed) unless a test sets httpserver.robots_txt."""
    if "httpserver" not in request.fixturenames:
        return
    server = request.getfixturevalue("httpserver")
    server.robots_txt = None

    def robots(_request: Request) -> Response:
        if server.robots_txt is None:
            return Response("", status=404)
        return Response(server.robots_txt, content_type="text/plain")

    server.expect_request("/robots.txt").respond_with_handler(robots)
