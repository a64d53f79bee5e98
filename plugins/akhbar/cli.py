"""The `akhbar` command: local Elasticsearch, one ingestion cycle, search, the demo."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from akhbar.config import ROOT, ConfigError, Settings

log = logging.getLogger("akhbar")


def _settings() -> Settings:
    """Settings from the environment, or a one-line error."""
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _fail(message: str) -> None:
    """Exit non-zero with a one-line reason."""
    click.echo(f"akhbar: {message.splitlines()[0] if message else 'failed'}", err=True)
    sys.exit(1)


def _configure_logging(verbose: bool) -> None:
    """Log to stderr only (stdout carries --json output), also after Airflow's SDK installed its handlers."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)


@click.group(help="Akhbar: Arabic news from RSS/Atom feeds to clean, searchable articles in Elasticsearch.")
@click.option("-v", "--verbose", is_flag=True, help="Log each stage's progress to stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    ctx.obj = {"verbose": verbose}
    _configure_logging(verbose)


@main.group(help="Manage the local single-node Elasticsearch (ignored when AKHBAR_ES_URL is set).")
def es() -> None:
    pass


@es.command("start", help="Fetch (once) and start the local node on 127.0.0.1, then wait until it answers.")
def es_start() -> None:
    from akhbar import es_local

    try:
        click.echo(es_local.start(_settings()))
    except (es_local.LocalESError, OSError) as exc:
        _fail(str(exc))


@es.command("stop", help="Stop the local node by its PID.")
def es_stop() -> None:
    from akhbar import es_local

    click.echo(es_local.stop(_settings()))


@es.command("status", help="Exit 0 when a node answers at AKHBAR_ES_URL, 1 otherwise.")
def es_status() -> None:
    from akhbar import es_local

    ok, line = es_local.status(_settings())
    click.echo(line)
    sys.exit(0 if ok else 1)


@es.command("reset", help="Delete every index and template under AKHBAR_INDEX_PREFIX.")
@click.confirmation_option(prompt="Delete all indices under the prefix?")
def es_reset() -> None:
    from akhbar.index import Store

    settings = _settings()
    Store.from_settings(settings).delete_all()
    click.echo(f"deleted indices and templates under {settings.index_prefix}-*")


def _cycle(feeds: Path | None, run_id: str | None) -> dict[str, int]:
    """Run one ingestion cycle with run id and logical date taken at the command's edge."""
    from akhbar import notify, pipeline  # noqa: F401 - notify loads Airflow's SDK, which installs log handlers

    _configure_logging(bool((click.get_current_context().find_root().obj or {}).get("verbose")))
    settings = _settings()
    now = datetime.now(UTC).replace(microsecond=0)
    ctx = pipeline.make_context(settings, run_id or f"cli__{now:%Y%m%dT%H%M%SZ}", now)
    return pipeline.run_once(settings, ctx, feeds)


@main.command("run-once", help="Run one full ingestion cycle in-process: poll, fetch, extract, language, dedup, fields, index, alerts.")
@click.option("--feeds", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="Feeds file (default: AKHBAR_FEEDS or config/feeds.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Print the run's counts per stage as JSON.")
@click.option("--run-id", help="Run id (default: cli__<UTC time>); reusing one reruns that cycle idempotently.")
def run_once(feeds: Path | None, as_json: bool, run_id: str | None) -> None:
    from elasticsearch import ConnectionError as ESConnectionError

    from akhbar.pipeline import PartialRunError

    try:
        counts = _cycle(feeds, run_id)
    except (ConfigError, PartialRunError) as exc:
        _fail(str(exc))
    except ESConnectionError as exc:
        _fail(f"Elasticsearch unreachable at {_settings().es_url}: {exc}")
    if as_json:
        click.echo(json.dumps(counts, sort_keys=True))
    else:
        click.echo("  ".join(f"{k}={v}" for k, v in counts.items()))


@main.command("deliver", help="Deliver the alerts not yet delivered (failed or pending) on every configured channel, without a full cycle.")
@click.option("--json", "as_json", is_flag=True, help="Print the delivery counts as JSON.")
def deliver(as_json: bool) -> None:
    from elasticsearch import ConnectionError as ESConnectionError

    from akhbar import notify, pipeline  # noqa: F401 - notify loads Airflow's SDK, which installs log handlers

    _configure_logging(bool((click.get_current_context().find_root().obj or {}).get("verbose")))
    settings = _settings()
    now = datetime.now(UTC).replace(microsecond=0)
    ctx = pipeline.make_context(settings, f"deliver__{now:%Y%m%dT%H%M%SZ}", now)
    try:
        pipeline.deliver_stage(settings, ctx)
    except ESConnectionError as exc:
        _fail(f"Elasticsearch unreachable at {settings.es_url}: {exc}")
    counts = {k: v for k, v in pipeline.summarize(ctx).items() if k in ("alerts_delivered", "delivery_failed")}
    click.echo(json.dumps(counts, sort_keys=True) if as_json else "  ".join(f"{k}={v}" for k, v in counts.items()))


@main.command("alerts", help="List recorded alerts, newest first, with their sources and delivery state.")
@click.option("--size", default=20, show_default=True, help="Number of alerts.")
@click.option("--undelivered", is_flag=True, help="Only alerts not yet delivered on every channel.")
@click.option("--json", "as_json", is_flag=True, help="Print the alerts as JSON.")
def list_alerts(size: int, undelivered: bool, as_json: bool) -> None:
    from elasticsearch import ConnectionError as ESConnectionError

    from akhbar.index import Store

    store = Store.from_settings(_settings())
    query = {"bool": {"must_not": [{"term": {"delivery.state": "delivered"}}]}} if undelivered else {"match_all": {}}
    try:
        store.ensure()
        found = store.find("alerts", query, size=size, sort=[{"first_published": "desc"}])
    except ESConnectionError as exc:
        _fail(f"Elasticsearch unreachable: {exc}")
    if as_json:
        click.echo(json.dumps([{"id": i, **a} for i, a in found], ensure_ascii=False, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for col in ("first published", "kind", "actor", "destination", "size", "status", "sources", "delivery"):
        table.add_column(col)
    for _, a in found:
        table.add_row((a.get("first_published") or "")[:16], a.get("kind") or "", a.get("actor") or "", a.get("destination") or "",
                      str(a.get("size") or ""), a.get("status") or "", str(a.get("source_count") or len(a.get("sources", []))),
                      f"{(a.get('delivery') or {}).get('state', '')} ({(a.get('delivery') or {}).get('attempts', 0)})")
    Console().print(table)


def _print_hits(hits: list[dict[str, Any]]) -> None:
    """Print search hits as a short table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for col in ("published", "outlet", "title", "places", "troops"):
        table.add_column(col)
    for hit in hits:
        table.add_row(
            (hit.get("published") or "")[:16],
            hit.get("outlet") or "",
            hit.get("title") or "",
            "، ".join(hit.get("place_names") or []),
            ", ".join(str(t) for t in hit.get("troops") or []),
        )
    Console().print(table)


@main.command("search", help="Search indexed articles (Arabic spelling variants, clitics and diacritics are normalised).")
@click.argument("query")
@click.option("--size", default=10, show_default=True, help="Number of hits.")
@click.option("--json", "as_json", is_flag=True, help="Print hits as JSON.")
def search(query: str, size: int, as_json: bool) -> None:
    from elasticsearch import ConnectionError as ESConnectionError

    from akhbar.index import Store

    try:
        hits = Store.from_settings(_settings()).search_articles(query, size)
    except ESConnectionError as exc:
        _fail(f"Elasticsearch unreachable: {exc}")
    if as_json:
        click.echo(json.dumps(hits, ensure_ascii=False, indent=1))
    else:
        click.echo(f"{len(hits)} hit(s) for {query!r}")
        _print_hits(hits)


@main.command("demo", help="Serve the bundled sample outlets on loopback, run one cycle on them, print what was indexed and a search.")
@click.option("--query", default="الموصل", show_default=True, help="The sample search.")
@click.option("--port", default=8765, show_default=True, envvar="AKHBAR_DEMO_PORT", help="Loopback port of the sample server (fixed, so article URLs and ids stay the same between demos).")
def demo(query: str, port: int) -> None:
    from akhbar import pipeline
    from akhbar.index import Store
    from akhbar.samples import SampleServer

    settings = _settings()
    now = datetime.now(UTC).replace(microsecond=0)
    with SampleServer(port=port) as server:
        feeds = server.write_feeds_file(ROOT / ".cache" / "demo" / "feeds.yaml")
        click.echo(f"serving {len(list((server.root / 'feeds').glob('*.xml')))} sample feeds at {server.base}")
        ctx = pipeline.make_context(settings, f"demo__{now:%Y%m%dT%H%M%SZ}", now)
        try:
            counts = pipeline.run_once(settings, ctx, feeds)
        except pipeline.PartialRunError as exc:
            _fail(str(exc))
    click.echo("counts: " + json.dumps(counts, sort_keys=True))
    store = Store.from_settings(settings)
    indexed = store.es.search(index=store.alias("articles"), query={"term": {"run_id": ctx.run_id}}, size=50, source=["title", "outlet", "published", "place_names", "troops", "copies"], sort=[{"published": "desc"}])
    click.echo(f"indexed in this run: {indexed['hits']['total']['value']} article(s); {store.count('articles')} in the index")
    for hit in indexed["hits"]["hits"]:
        src = hit["_source"]
        copies = f"  (+{len(src.get('copies') or [])} copies)" if src.get("copies") else ""
        click.echo(f"  - [{src.get('outlet')}] {src.get('title')}{copies}")
    hits = store.search_articles(query, 5)
    click.echo(f"search {query!r}: {len(hits)} hit(s)")
    _print_hits(hits)


if __name__ == "__main__":
    main()
