"""End-to-end benchmark: the whole pipeline over a synthetic Arabic news web on loopback, with two references.

    python bench/e2e.py --pages 2000            # what `make bench` runs
    python bench/e2e.py --pages 20000 --no-reference --no-floor
    python bench/e2e.py --pages 2000 --write-doc  # also rewrite the table in docs/performance.md

Runs `akhbar run-once` (poll → fetch → extract → clean → language → dedup → fields → index → alerts →
deliver) in its own process against the local Elasticsearch, sampling the memory of that process and its
workers; then, over the same pages, the straightforward loop a user would write (feedparser, then for each
item one fetch, `trafilatura.extract`, `langdetect.detect` and one index call) and the floor (lxml parsing
each page, nothing else). Prints pages per second, per-stage costs, bulk throughput, peak memory and ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus as corpus_mod  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


def machine() -> str:
    """One line about the machine the numbers come from."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    mem = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def pct(values: list[float], q: float) -> float:
    """The q-quantile of values (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_pipeline(feeds: Path, env: dict[str, str], staging: Path) -> dict[str, Any]:
    """Run one cycle in a child process; return its counts, wall time and peak memory of its process tree."""
    cmd = [sys.executable, "-m", "akhbar.cli", "run-once", "--feeds", str(feeds), "--json", "--run-id", "bench"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parent = psutil.Process(proc.pid)
    peak_tree = peak_single = 0
    while proc.poll() is None:
        try:
            procs = [parent, *parent.children(recursive=True)]
            rss = [p.memory_info().rss for p in procs if p.is_running()]
            peak_tree, peak_single = max(peak_tree, sum(rss)), max(peak_single, max(rss, default=0))
        except psutil.Error:
            pass
        time.sleep(0.1)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"pipeline failed ({proc.returncode}): {err[-2000:]}")
    run_dir = staging / "bench"
    seconds = {p.name.split(".")[0]: json.loads(p.read_text()) for p in run_dir.glob("*.seconds.json")}
    return {
        "counts": json.loads(out),
        "wall_s": wall,
        "peak_tree_mb": peak_tree / 2**20,
        "peak_process_mb": peak_single / 2**20,
        "stage_s": seconds,
        "extract_timings": _read_timings(run_dir / "extract.timings.jsonl.gz"),
        "index_timings": json.loads((run_dir / "index.timings.json").read_text()),
    }


def _read_timings(path: Path) -> list[dict[str, float]]:
    from akhbar import staging

    return list(staging.read_jsonl(str(path)))


def reference_loop(feed_urls: list[str], es_url: str, index: str) -> dict[str, Any]:
    """The straightforward loop: feedparser, then per item one fetch, trafilatura.extract, langdetect.detect, one index call."""
    import feedparser
    import httpx
    import langdetect
    import trafilatura
    from elasticsearch import Elasticsearch

    langdetect.DetectorFactory.seed = 0
    es = Elasticsearch(es_url)
    pages = indexed = 0
    start = time.perf_counter()
    with httpx.Client(timeout=30) as http:
        for url in feed_urls:
            feed = feedparser.parse(url)
            for entry in feed.entries:
                html = http.get(entry.link).text
                pages += 1
                text = trafilatura.extract(html, include_comments=False)
                if not text:
                    continue
                try:
                    lang = langdetect.detect(text)
                except langdetect.LangDetectException:
                    continue
                if lang == "ar":
                    doc_id = hashlib.sha1(entry.link.encode()).hexdigest()
                    es.index(index=index, id=doc_id, document={"url": entry.link, "title": entry.get("title"), "text": text})
                    indexed += 1
    wall = time.perf_counter() - start
    return {"pages": pages, "indexed": indexed, "wall_s": wall, "pages_per_s": pages / wall}


def floor(bodies: list[bytes]) -> dict[str, Any]:
    """lxml parsing each page and nothing else."""
    import lxml.html

    start = time.perf_counter()
    for body in bodies:
        lxml.html.fromstring(body)
    wall = time.perf_counter() - start
    return {"pages": len(bodies), "wall_s": wall, "pages_per_s": len(bodies) / wall}


def report(args: argparse.Namespace, result: dict[str, Any], ref: dict[str, Any] | None, low: dict[str, Any] | None) -> str:
    """The results as a Markdown table."""
    pipe = result["pipeline"]
    pages = args.pages
    et = pipe["extract_timings"]
    col = {k: [t.get(k, 0.0) for t in et] for k in ("parse_ms", "clean_ms", "language_ms", "fields_ms", "signature_ms")}
    extract_clean = [a + b for a, b in zip(col["parse_ms"], col["clean_ms"], strict=True)]
    idx = pipe["index_timings"]
    dedup_lookup_ms = 1000 * idx["dedup_s"] / max(1, idx["dedup_articles"])
    dedup_total = [s + dedup_lookup_ms for s in col["signature_ms"]]
    stage_s = pipe["stage_s"]
    pps = pages / pipe["wall_s"]
    rows = [
        ("poll (stage wall / page)", 1000 * stage_s.get("poll", 0) / pages, None),
        ("fetch (stage wall / page)", 1000 * stage_s.get("fetch", 0) / pages, None),
        ("extract + clean (trafilatura, metadata, rules)", statistics.median(extract_clean), pct(extract_clean, 0.95)),
        ("language (langdetect)", statistics.median(col["language_ms"]), pct(col["language_ms"], 0.95)),
        ("dedup (signature + ES lookup and decision)", statistics.median(dedup_total), pct(dedup_total, 0.95)),
        ("story grouping (ES candidates and rule, per article)", 1000 * idx.get("stories_s", 0.0) / max(1, idx["dedup_articles"]), None),
        ("fields + alert detection", statistics.median(col["fields_ms"]), pct(col["fields_ms"], 0.95)),
        ("index stage (stage wall / page)", 1000 * stage_s.get("index", 0) / pages, None),
        ("alerts + deliver (stage wall / page)", 1000 * (stage_s.get("alerts", 0) + stage_s.get("deliver", 0)) / pages, None),
    ]
    lines = [
        f"Machine: {machine()}; Elasticsearch on the same machine.",
        f"Command: `python bench/e2e.py --pages {pages}` ({args.items_per_feed} items per feed, {-(-pages // args.items_per_feed)} outlets on "
        f"loopback hosts, {args.copy_share:.0%} near-copies; indices set up before the timed cycle), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| pages end to end | {pages} in {pipe['wall_s']:.1f} s: **{pps:.1f} pages/s** |",
        f"| counts | {json.dumps(pipe['counts'], sort_keys=True)} |",
        f"| Elasticsearch bulk (articles) | {idx['bulk_docs']} docs in {idx['bulk_s']:.2f} s: {idx['bulk_docs'] / max(idx['bulk_s'], 1e-9):.0f} docs/s |",
        f"| peak memory, pipeline process tree (sum) | {pipe['peak_tree_mb']:.0f} MB (largest single process {pipe['peak_process_mb']:.0f} MB) |",
        f"| stage wall times (s) | {', '.join(f'{k} {v:.1f}' for k, v in sorted(stage_s.items(), key=lambda kv: ['poll', 'fetch', 'extract', 'index', 'alerts', 'deliver'].index(kv[0]) if kv[0] in ['poll', 'fetch', 'extract', 'index', 'alerts', 'deliver'] else 9))} |",
    ]
    if ref:
        lines.append(f"| straightforward loop (reference) | {ref['pages']} pages in {ref['wall_s']:.1f} s: {ref['pages_per_s']:.1f} pages/s — pipeline is **{pps / ref['pages_per_s']:.2f}×** |")
    if low:
        lines.append(f"| floor (lxml parse only) | {low['pages_per_s']:.0f} pages/s — pipeline reaches {pps / low['pages_per_s']:.1%} of it |")
    lines += ["", "| stage, per page | median ms | p95 ms |", "| --- | --- | --- |"]
    for name, med, p95 in rows:
        lines.append(f"| {name} | {med:.2f} | {'' if p95 is None else f'{p95:.2f}'} |")
    lines.append("")
    lines.append("Per-page step times are measured inside the extract stage's worker processes; dedup adds each batch's Elasticsearch candidate lookup and decision, spread over its articles; story grouping (issue 5's `story_id`, in the index stage) is reported on its own.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--items-per-feed", type=int, default=10)
    parser.add_argument("--copy-share", type=float, default=0.15)
    parser.add_argument("--host-delay", type=float, default=None, help="per-host politeness delay (default: the tunables', 1 s)")
    parser.add_argument("--no-reference", dest="reference", action="store_false")
    parser.add_argument("--no-floor", dest="floor", action="store_false")
    parser.add_argument("--write-doc", action="store_true", help="rewrite the generated section of docs/performance.md")
    args = parser.parse_args()

    from akhbar import es_local
    from akhbar.config import Settings
    from akhbar.index import Store

    settings = Settings.from_env()
    ok, line = es_local.status(settings)
    if not ok:
        raise SystemExit(f"no Elasticsearch: {line} (run `akhbar es start`)")
    prefix = f"akhbar-bench-{uuid.uuid4().hex[:8]}"
    corpus = corpus_mod.build(args.pages, args.items_per_feed, args.copy_share)
    result: dict[str, Any] = {"pages": args.pages, "machine": machine()}
    ref = low = None
    with tempfile.TemporaryDirectory(prefix="akhbar-bench-") as tmp, corpus_mod.CorpusServer(corpus) as server:
        feeds = Path(tmp) / "feeds.yaml"
        urls = corpus.feed_urls(server.port)
        feeds.write_text(yaml.safe_dump({"allow_private_networks": ["127.0.0.0/8"], "feeds": [{"name": f"outlet-{i}", "url": u} for i, u in enumerate(urls)]}), encoding="utf-8")
        env = {**os.environ, "AKHBAR_INDEX_PREFIX": prefix, "AKHBAR_STAGING_URL": str(Path(tmp) / "staging")}
        if args.host_delay is not None:
            env["AKHBAR_HOST_DELAY_S"] = str(args.host_delay)
        store = Store.from_settings(settings)
        try:
            # Templates, aliases and first indices exist before the timed cycle, as after `akhbar es setup` in production.
            Store(store.es, prefix).ensure()
            result["pipeline"] = run_pipeline(feeds, env, Path(tmp) / "staging")
            if args.reference:
                ref = reference_loop(urls, settings.es_url, f"{prefix}-reference")
                result["reference"] = ref
            if args.floor:
                low = floor([body for (host, path), body in corpus.bodies.items() if path.startswith("/news/")])
                result["floor"] = low
        finally:
            Store(store.es, prefix).delete_all()
            store.es.options(ignore_status=404).indices.delete(index=f"{prefix}-reference")
    text = report(args, result, ref, low)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"e2e-{args.pages}.json").write_text(json.dumps({k: v for k, v in result.items() if k != "pipeline"} | {"pipeline": {k: v for k, v in result["pipeline"].items() if k != "extract_timings"}}, indent=1, default=str))
    if args.write_doc:
        doc = ROOT / "docs" / "performance.md"
        current = doc.read_text(encoding="utf-8")
        marker_start, marker_end = f"<!-- e2e-{args.pages}:start -->", f"<!-- e2e-{args.pages}:end -->"
        block = f"{marker_start}\n{text}\n{marker_end}"
        if marker_start in current:
            before, rest = current.split(marker_start, 1)
            current = before + block + rest.split(marker_end, 1)[1]
        else:
            current = current.rstrip("\n") + f"\n\n### {args.pages} pages\n\n{block}\n"
        doc.write_text(current, encoding="utf-8")


if __name__ == "__main__":
    main()
