"""Page work in worker processes gives exactly what the in-process path gives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from akhbar import pipeline, staging
from akhbar.config import Settings
from conftest import make_ctx


def with_workers(settings: Settings, workers: int) -> Settings:
    extract = {**settings.tunables.get("extract", {}), "workers": workers, "parallel_min_pages": 1}
    return dataclasses.replace(settings, tunables={**settings.tunables, "extract": extract})


def test_worker_processes_match_in_process(settings: Settings, store, sample_feeds: Path) -> None:
    ctx = make_ctx(settings, "fetch-once")
    pages = pipeline.fetch_stage(settings, ctx, pipeline.poll_stage(settings, ctx, sample_feeds), sample_feeds)
    inline_ctx, pool_ctx = make_ctx(settings, "inline"), make_ctx(settings, "pool")
    inline = list(staging.read_jsonl(pipeline.extract_stage(with_workers(settings, 1), inline_ctx, pages)))
    pooled = list(staging.read_jsonl(pipeline.extract_stage(with_workers(settings, 2), pool_ctx, pages)))
    strip = lambda docs: [{k: v for k, v in d.items() if k != "run_id"} for d in docs]  # noqa: E731
    assert strip(pooled) == strip(inline) and len(pooled) >= 8
    assert pipeline.summarize(pool_ctx)["non_arabic"] == pipeline.summarize(inline_ctx)["non_arabic"] == 2
    timings = list(staging.read_jsonl(pool_ctx.dir / "extract.timings.jsonl.gz"))
    assert len(timings) == len(pooled)
    assert all(t["parse_ms"] > 0 and {"clean_ms", "language_ms", "fields_ms", "signature_ms"} <= set(t) for t in timings)
