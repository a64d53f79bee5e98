"""Dedup cost per article with N signatures already indexed (synthetic signatures, real probe texts).

    python bench/dedup_cost.py --sizes 10000 100000 1000000
Loads N synthetic article signatures under a throw-away prefix on the local node, then times the
index stage's dedup step (candidate multi-search + in-batch clustering + confirmation) for batches
of real texts from tests/data/nearcopy. Deletes its indices afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from pathlib import Path

import numpy as np
from elasticsearch.helpers import streaming_bulk

from akhbar.config import Settings
from akhbar.dedup import Signature, content_hash, decide, load_params, signature
from akhbar.index import Store

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "data" / "nearcopy" / "pairs.jsonl"


def synthetic_docs(n: int, params, rng: np.random.Generator):
    """N articles carrying only random (non-matching) dedup fields."""
    rows = params.rows
    for i in range(n):
        values = rng.integers(0, 2**32, size=params.num_perm, dtype=np.uint64)
        sig = Signature(values, 300, tuple(f"{b}:{int(values[b * rows]) ^ int(values[b * rows + 1]):016x}" for b in range(params.bands)))
        yield {"_index": None, "_id": f"syn-{i}", "_source": {"content_hash": f"{i:040x}", "minhash": sig.encode(), "lsh": list(sig.bands), "published": "2026-11-01T00:00:00+00:00"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    params = load_params()
    texts = [p[k] for p in (json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()) for k in ("a", "b")]
    probes = []
    for i, text in enumerate(texts[: args.batch]):
        sig = signature(text, params)
        probes.append(({"id": f"probe-{i}", "content_hash": content_hash(text), "lsh": list(sig.bands), "published": None, "first_seen": None}, sig))
    base = Settings.from_env()
    store = Store(Store.from_settings(base).es, f"akhbar-bench-{uuid.uuid4().hex[:8]}")
    store.ensure()
    rng = np.random.default_rng(7)
    loaded = 0
    print(f"batch of {args.batch} real texts; params {params}")
    print("stored      ms/article (median of 5)   max of 5   candidates/article")
    try:
        for size in sorted(args.sizes):
            docs = synthetic_docs(size - loaded, params, rng)
            for ok, item in streaming_bulk(store.es, ({**d, "_index": store.alias("articles")} for d in docs), chunk_size=2000, raise_on_error=True):
                pass
            loaded = size
            store.refresh("articles")
            store.es.options(request_timeout=1800).indices.forcemerge(index=store.alias("articles"), max_num_segments=1)
            timings, cands = [], 0
            for _ in range(5):
                start = time.perf_counter()
                candidates = store.copy_candidates([p for p, _ in probes], 20)
                decide([p for p, _ in probes], {p["id"]: s for p, s in probes}, candidates, params)
                timings.append((time.perf_counter() - start) * 1000 / len(probes))
                cands = sum(len(v) for v in candidates.values()) / len(probes)
            print(f"{size:9d}   {statistics.median(timings):8.3f}                  {max(timings):6.3f}  {cands:.2f}")
    finally:
        store.delete_all()


if __name__ == "__main__":
    main()
