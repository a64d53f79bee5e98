"""The `akhbar` command: local Elasticsearch, one ingestion cycle, search, the demo."""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
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


@es.command("setup", help="Create or update templates, lifecycle policies, aliases and first indices under AKHBAR_INDEX_PREFIX (idempotent; every stage also does it before writing), then show them.")
def es_setup() -> None:
    from akhbar.index import KINDS, Store

    store = Store.from_settings(_settings())
    try:
        store.ensure()
    except Exception as exc:  # noqa: BLE001 - one line for any cluster refusal
        _fail(f"{type(exc).__name__}: {exc}")
    caps = store.capabilities()
    click.echo(f"analysis: {store.analysis_variant()}  lifecycle: {'ILM' if store.uses_ilm() else 'rollover API'}  (cluster: analysis-common={caps['arabic_analysis']}, ILM={caps['ilm']})")
    for kind in KINDS:
        indices, write_index = store.indices(kind)
        click.echo(f"{store.alias(kind)} -> write {write_index}; {len(indices)} index(es); rollover when {store.lifecycle.conditions(kind) or 'never'}")


@es.command("rollover", help="The lifecycle maintenance step: roll each kind's write alias over when a configured condition is met (config/index/lifecycle.yaml); with --prune, delete rolled-over indices past their retention.")
@click.option("--kind", "kinds", multiple=True, help="Only this kind (repeatable); default: every kind.")
@click.option("--force", is_flag=True, help="Roll over now, whatever the conditions.")
@click.option("--prune", is_flag=True, help="Also delete rolled-over indices older than the kind's delete_after (manual lifecycle only; ILM deletes by itself).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome per kind as JSON.")
def es_rollover(kinds: tuple[str, ...], force: bool, prune: bool, as_json: bool) -> None:
    from akhbar.index import KINDS, Store

    unknown = set(kinds) - set(KINDS)
    if unknown:
        _fail(f"unknown kind(s) {sorted(unknown)}; kinds are {', '.join(KINDS)}")
    store = Store.from_settings(_settings())
    store.ensure()
    now = datetime.now(UTC)
    out: dict[str, Any] = {}
    for kind in kinds or KINDS:
        resp = store.rollover(kind, force=force)
        rolled = bool(resp.get("rolled_over"))
        out[kind] = {"rolled_over": rolled, "old_index": resp.get("old_index") if rolled else None, "new_index": resp.get("new_index") if rolled else None, "conditions": resp.get("conditions", {})}
        if prune:
            out[kind]["deleted"] = store.prune(kind, now)
    if as_json:
        click.echo(json.dumps(out, sort_keys=True))
        return
    for kind, info in out.items():
        state = f"rolled over {info['old_index']} -> {info['new_index']}" if info["rolled_over"] else "no rollover due"
        click.echo(f"{store.alias(kind)}: {state}" + (f"; deleted {info['deleted']}" if info.get("deleted") else ""))


@es.command("templates", help="Print the index templates and ILM policies as JSON, e.g. to review or apply by hand on a full cluster.")
@click.option("--variant", type=click.Choice(["portable", "full"]), default="full", show_default=True, help="full: Elasticsearch's Arabic analysis (needs analysis-common); portable: what the local node takes.")
@click.option("--ilm/--no-ilm", default=True, show_default=True, help="Include the ILM settings and policies.")
def es_templates(variant: str, ilm: bool) -> None:
    from akhbar.index import KINDS, Store, client_from_settings

    settings = _settings()
    store = Store(client_from_settings(settings), settings.index_prefix, settings.tunables.get("index", {}))
    out = {
        "index_templates": {store.alias(k): store.index_template(k, variant=variant, ilm=ilm) for k in KINDS},
        "ilm_policies": {store.alias(k): {"policy": store.lifecycle.policy(k)} for k in KINDS} if ilm else {},
    }
    click.echo(json.dumps(out, ensure_ascii=False, indent=1))


@es.command("setup-security", help="On a security-enabled cluster: create the role <prefix>_indexer and an API key limited to <prefix>-* indices, and the read-only Kibana role <prefix>_analyst. Connect as a user with manage_security (AKHBAR_ES_USER/AKHBAR_ES_PASSWORD).")
@click.option("--key-name", help="Name of the API key (default: <prefix>-indexer).")
@click.option("--key-expiration", help="Expiry of the API key, e.g. 90d (default: none).")
@click.option("--no-key", is_flag=True, help="Only create or update the roles.")
@click.option("--dry-run", is_flag=True, help="Print the requests as JSON and send nothing.")
def es_setup_security(key_name: str | None, key_expiration: str | None, no_key: bool, dry_run: bool) -> None:
    from akhbar.index import client_from_settings
    from akhbar.security import SecurityError, SecurityPlan, setup_security

    settings = _settings()
    plan = SecurityPlan(settings.index_prefix, key_name, key_expiration)
    if dry_run:
        click.echo(json.dumps(plan.requests(with_key=not no_key), ensure_ascii=False, indent=1))
        return
    try:
        made = setup_security(client_from_settings(settings), settings.es_url, plan, with_key=not no_key)
    except SecurityError as exc:
        _fail(str(exc))
    click.echo(f"role {made['indexer_role']} (write {plan.pattern}) and role {made['analyst_role']} (read {plan.pattern}, Kibana read-only) set up as {made['as_user']}")
    if "encoded" in made:
        click.echo(f"API key {made['api_key_name']} (id {made['api_key_id']}); it is shown once, put it in AKHBAR_ES_API_KEY:")
        click.echo(made["encoded"])


@main.group(help="Kibana saved objects: the data views, saved searches and dashboard in docker/kibana/.")
def kibana() -> None:
    pass


@kibana.command("import", help="Load docker/kibana/*.ndjson into Kibana through its saved objects API (overwriting), for AKHBAR_INDEX_PREFIX. Credentials: KIBANA_API_KEY, or KIBANA_USER and KIBANA_PASSWORD; KIBANA_CA_CERTS for a private CA.")
@click.option("--url", envvar="KIBANA_URL", required=True, help="Kibana's base URL (KIBANA_URL).")
@click.option("--space", envvar="KIBANA_SPACE", default=None, help="Kibana space (KIBANA_SPACE; default: the default space).")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False, exists=True), default=None, help="Folder of the NDJSON files (default: docker/kibana).")
def kibana_import(url: str, space: str | None, directory: Path | None) -> None:
    import os

    from akhbar import kibana as kb

    settings = _settings()
    try:
        objects = kb.load_objects(settings.index_prefix, directory or kb.KIBANA_DIR)
        result = kb.import_objects(
            url, objects, space=space, user=os.environ.get("KIBANA_USER"), password=os.environ.get("KIBANA_PASSWORD"),
            api_key=os.environ.get("KIBANA_API_KEY"), ca_certs=os.environ.get("KIBANA_CA_CERTS"),
        )
    except kb.KibanaError as exc:
        _fail(str(exc))
    click.echo(f"imported {result.get('successCount', len(objects))} saved objects into {url} for {settings.index_prefix}-*")


def _cycle(feeds: Path | None, run_id: str | None, all_feeds: bool = False) -> dict[str, int]:
    """Run one ingestion cycle with run id and logical date taken at the command's edge."""
    from akhbar import notify, pipeline  # noqa: F401 - notify loads Airflow's SDK, which installs log handlers

    _configure_logging(bool((click.get_current_context().find_root().obj or {}).get("verbose")))
    settings = _settings()
    now = datetime.now(UTC).replace(microsecond=0)
    ctx = pipeline.make_context(settings, run_id or f"cli__{now:%Y%m%dT%H%M%SZ}", now)
    return pipeline.run_once(settings, ctx, feeds, all_feeds=all_feeds)


@main.command("run-once", help="Run one full ingestion cycle in-process: poll, fetch, extract, language, dedup, fields, index, alerts.")
@click.option("--feeds", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="Feeds file (default: AKHBAR_FEEDS or config/feeds.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Print the run's counts per stage as JSON.")
@click.option("--run-id", help="Run id (default: cli__<UTC time>); reusing one reruns that cycle idempotently.")
@click.option("--all-feeds", is_flag=True, help="Poll every feed now, parked ones too, whatever their next poll time (still conditionally).")
def run_once(feeds: Path | None, as_json: bool, run_id: str | None, all_feeds: bool) -> None:
    from elasticsearch import ConnectionError as ESConnectionError

    from akhbar.index import WriteFailed
    from akhbar.pipeline import PartialRunError

    try:
        counts = _cycle(feeds, run_id, all_feeds)
    except (ConfigError, PartialRunError, WriteFailed) as exc:
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


def _feeds_file(feeds: Path | None) -> Any:
    """The feeds file given, or AKHBAR_FEEDS / config/feeds.yaml, or a one-line error."""
    from akhbar.config import load_feeds

    try:
        return load_feeds(feeds or _settings().feeds_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _ago(value: str | None, now: datetime) -> str:
    """A stored time as 'YYYY-MM-DD HH:MM (in 12m / 3h ago)' for tables."""
    if not value:
        return "–"
    when = datetime.fromisoformat(value)
    seconds = int((when - now).total_seconds())
    span = abs(seconds)
    amount = f"{span // 86400}d" if span >= 86400 else f"{span // 3600}h" if span >= 3600 else f"{span // 60}m"
    rel = "now" if span < 60 else (f"in {amount}" if seconds > 0 else f"{amount} ago")
    return f"{when:%m-%d %H:%M} ({rel})"


_HEALTH = {"ok": "green", "not_modified": "green", "new": "yellow", "error": "red", "parked": "magenta"}


@main.group(help="Feed health, discovery and checks.")
def feeds() -> None:
    pass


@feeds.command("status", help="Every feed's health from the feed states in Elasticsearch, with when it will next be polled (all columns on terminals 150 wide or more; --json for every field).")
@click.option("--feeds", "feeds_path", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="Feeds file (default: AKHBAR_FEEDS or config/feeds.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Print the states as JSON.")
def feeds_status(feeds_path: Path | None, as_json: bool) -> None:
    from elasticsearch import ConnectionError as ESConnectionError
    from rich.console import Console
    from rich.table import Table

    from akhbar import feedstate
    from akhbar.index import Store

    feeds_file = _feeds_file(feeds_path)
    try:
        states = feedstate.load(Store.from_settings(_settings()), feeds_file.feeds)
    except ESConnectionError as exc:
        _fail(f"Elasticsearch unreachable: {exc}")
    if as_json:
        docs = [{k: v for k, v in s.to_doc().items() if k != "recent_ids"} for s in states.values()]
        click.echo(json.dumps(docs, ensure_ascii=False, indent=1))
        return
    now = datetime.now(UTC)
    console = Console()
    wide = console.width >= 150
    table = Table(title=f"{len(states)} feeds of {feeds_file.path} (times UTC)")
    columns = ["feed", "outlet", "health", "HTTP", "last success", "fails", "interval", "next poll", "new / in feed", "seen", "last error"]
    if not wide:
        columns = ["feed", "health", "fails", "next poll", "last error"]
    for col in columns:
        table.add_column(col, overflow="fold", no_wrap=col in ("feed", "last success", "next poll"))
    for st in states.values():
        health = "never polled" if st.status == "new" else st.status.replace("_", " ")
        style = _HEALTH.get(st.status, "")
        error = (st.parked_reason or st.last_error or "") if st.status in ("error", "parked") else ""
        cells = {
            "feed": st.feed,
            "outlet": st.outlet,
            "health": f"[{style}]{health}[/]" if style else health,
            "HTTP": str(st.last_http_status or "–"),
            "last success": _ago(st.last_success, now),
            "fails": str(st.consecutive_failures),
            "interval": f"{st.interval_s // 3600}h{st.interval_s % 3600 // 60:02d}m" if st.interval_s else "–",
            "next poll": _ago(st.next_poll, now) if st.next_poll else "next run",
            "new / in feed": f"{st.last_new_items} / {st.last_items}",
            "seen": str(st.items_seen),
            "last error": error[:120],
        }
        table.add_row(*(cells[c] for c in columns))
    console.print(table)
    counts = Counter(s.status for s in states.values())
    click.echo("  ".join(f"{k}={v}" for k, v in sorted(counts.items())))


@feeds.command("unpark", help="Make parked (or failing) feeds due at the next run, their failure count reset.")
@click.argument("names", nargs=-1)
@click.option("--all", "all_parked", is_flag=True, help="Every parked feed.")
@click.option("--feeds", "feeds_path", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="Feeds file (default: AKHBAR_FEEDS or config/feeds.yaml).")
def feeds_unpark(names: tuple[str, ...], all_parked: bool, feeds_path: Path | None) -> None:
    from akhbar import feedstate
    from akhbar.index import Store

    feeds_file = _feeds_file(feeds_path)
    store = Store.from_settings(_settings())
    states = feedstate.load(store, feeds_file.feeds)
    unknown = set(names) - set(states)
    if unknown:
        _fail(f"no such feed in {feeds_file.path}: {', '.join(sorted(unknown))}")
    chosen = [s for s in states.values() if s.feed in names or (all_parked and s.parked)]
    now = datetime.now(UTC).replace(microsecond=0)
    failed = feedstate.save(store, [feedstate.unpark(s, now) for s in chosen])
    if failed:
        _fail(f"{len(failed)} feed states could not be saved: {failed[0]['reason']}")
    click.echo(f"unparked {len(chosen)} feed(s): {', '.join(s.feed for s in chosen) or '–'}")


@feeds.command("discover", help="Propose a site's feed URLs: the feeds its page links to (trafilatura), else common feed paths; each is polled once to confirm.")
@click.argument("site_url")
@click.option("--allow-private-networks", is_flag=True, help="Allow loopback/private addresses (testing only).")
@click.option("--json", "as_json", is_flag=True, help="Print the candidates as JSON.")
def feeds_discover(site_url: str, allow_private_networks: bool, as_json: bool) -> None:
    from dataclasses import asdict

    from akhbar.feeds import FeedError, discover_feeds
    from akhbar.fetch import Fetcher

    settings = _settings()
    with Fetcher(settings.tunables, allow_private_networks) as fetcher:
        try:
            found = discover_feeds(fetcher, site_url, list(settings.tunables.get("discover", {}).get("probe_paths", [])))
        except FeedError as exc:
            _fail(str(exc))
    if as_json:
        click.echo(json.dumps([asdict(c) for c in found], ensure_ascii=False, indent=1))
        return
    good = [c for c in found if c.ok]
    for c in found:
        state = f"OK  {c.items} items, newest {c.newest or '?'}  {c.title}" if c.ok else f"no  {c.reason}"
        click.echo(f"{c.url}  [{c.found_by}]  {state}")
    if not good:
        _fail(f"no working feed found for {site_url}")
    click.echo("\nfor config/feeds.yaml:")
    for c in good:
        click.echo(f"  - {{name: CHANGE-ME, url: \"{c.url}\", outlet: \"{c.title or 'CHANGE-ME'}\", country: CHANGE-ME}}")


@feeds.command("check", help="Poll every feed of the feeds file once (no conditional request, no state change) and report what answers.")
@click.option("--feeds", "feeds_path", type=click.Path(path_type=Path, exists=True, dir_okay=False), help="Feeds file (default: AKHBAR_FEEDS or config/feeds.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Print one result per feed as JSON.")
def feeds_check(feeds_path: Path | None, as_json: bool) -> None:
    from functools import partial

    from rich.console import Console
    from rich.table import Table

    from akhbar.feeds import FeedError, poll_feed
    from akhbar.fetch import Fetcher
    from akhbar.polite import HostScheduler

    settings = _settings()
    feeds_file = _feeds_file(feeds_path)
    with Fetcher(settings.tunables, feeds_file.allow_private_networks) as fetcher:
        scheduler = HostScheduler.from_tunables(settings.tunables, fetcher)
        outcomes = scheduler.map([(f.url, partial(poll_feed, fetcher, f)) for f in feeds_file.feeds])
    rows = []
    for feed, outcome in zip(feeds_file.feeds, outcomes, strict=True):
        if outcome.error is None:
            items = outcome.value.items
            dates = sorted((i.published for i in items if i.published), reverse=True)
            rows.append({"feed": feed.name, "url": feed.url, "ok": True, "items": len(items), "newest": dates[0] if dates else None, "problems": len(outcome.value.problems), "reason": ""})
        else:
            reason = str(outcome.error) if isinstance(outcome.error, FeedError) else f"{type(outcome.error).__name__}: {outcome.error}"
            rows.append({"feed": feed.name, "url": feed.url, "ok": False, "items": 0, "newest": None, "problems": 0, "reason": reason})
    answering = sum(r["ok"] for r in rows)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        table = Table(title=f"{answering} of {len(rows)} feeds answer")
        for col in ("feed", "answers", "items", "newest", "reason"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(r["feed"], "[green]yes[/]" if r["ok"] else "[red]no[/]", str(r["items"]), r["newest"] or "–", r["reason"][:160])
        Console().print(table)
    sys.exit(0 if answering == len(rows) else 1)


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


@main.command("boilerplate", help="List the lines learned as an outlet's boilerplate (seen on enough of its pages), by host.")
@click.argument("host")
@click.option("--json", "as_json", is_flag=True, help="Print the learned lines as JSON.")
def boilerplate(host: str, as_json: bool) -> None:
    from elasticsearch import ConnectionError as ESConnectionError

    from akhbar.index import Store
    from akhbar.learned import HostBoilerplate, LearnRules

    settings = _settings()
    try:
        store = Store.from_settings(settings)
        store.ensure()
        lines = HostBoilerplate(store, LearnRules.from_tunables(settings.tunables)).lines(host.lower().removeprefix("www."))
    except ESConnectionError as exc:
        _fail(f"Elasticsearch unreachable: {exc}")
    if as_json:
        click.echo(json.dumps(lines, ensure_ascii=False, indent=1))
        return
    click.echo(f"{len(lines)} learned line(s) for {host}")
    for doc in lines:
        click.echo(f"{doc['page_count']:>4} pages  {doc['line']}")


@main.command("extract", help="Extract one saved HTML page and show its clean text, metadata, language and the lines removed.")
@click.argument("page", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--url", default="https://example.invalid/page.html", show_default=True, help="The page's URL (resolves relative links).")
@click.option("--reference", help="ISO date standing in for the run's logical date (dates after it are dropped); default: now.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def extract(page: Path, url: str, reference: str | None, as_json: bool) -> None:
    import dataclasses

    from akhbar.extract import ExtractError, extract_article
    from akhbar.fetch import decode_body
    from akhbar.language import detect

    html, encoding = decode_body(page.read_bytes(), "text/html")
    when = datetime.fromisoformat(reference) if reference else datetime.now(UTC)
    try:
        article = extract_article(html, url, reference=when)
    except ExtractError as exc:
        _fail(f"{page}: {exc}")
    lang = detect(article.text)
    result = {**dataclasses.asdict(article), "encoding": encoding, "language": {"detected": lang.lang, "probability": lang.prob, "declared": article.declared_language or None}}
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    for key in ("title", "authors", "published", "modified", "sitename", "canonical_url", "image", "categories", "tags", "description", "encoding", "language"):
        click.echo(f"{key:>13}: {result[key]}")
    click.echo("\n" + article.text)
    click.echo("\nremoved:\n" + "\n".join(f"  - {line}" for line in article.removed_lines))


@main.command("demo", help="Serve the bundled sample outlets on loopback, run one cycle on them, print what was indexed and a search.")
@click.option("--query", default="الموصل", show_default=True, help="The sample search.")
@click.option("--port", default=8765, show_default=True, envvar="AKHBAR_DEMO_PORT", help="Loopback port of the sample server (fixed, so article URLs and ids stay the same between demos).")
def demo(query: str, port: int) -> None:
    from akhbar import pipeline
    from akhbar.index import Store
    from akhbar.samples import SampleServer

    import dataclasses
    import os

    settings = _settings()
    if not os.environ.get("AKHBAR_HOST_DELAY_S"):
        # The demo's only host is its own loopback sample server: no need to wait a second between its pages.
        tunables = {**settings.tunables, "polite": {**settings.tunables.get("polite", {}), "host_delay_s": 0.05}}
        settings = dataclasses.replace(settings, tunables=tunables)
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
