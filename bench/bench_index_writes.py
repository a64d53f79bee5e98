"""Bulk write throughput on the local node, with 0 and N rolled-over indices behind the alias.

With older indices, every chunk first looks its ids up in them (mget) so create-if-absent holds across
rollover; this measures what that costs. Run: python bench/bench_index_writes.py [--docs 5000] [--older 12]
"""

from __future__ import annotations

import argparse
import time
import uuid

from akhbar.config import Settings
from akhbar.index import Store


def docs(n: int, tag: str) -> list[tuple[str, dict]]:
    return [(f"{tag}-{i}", {"run_id": "bench", "stage": "fetch", "kind": "error", "reason": "سبب " * 40, "url": f"https://x.example/{tag}/{i}"}) for i in range(n)]


def timed(store: Store, batch: list[tuple[str, dict]], op: str) -> float:
    start = time.perf_counter()
    result = store.write("rejects", batch, op=op)
    elapsed = time.perf_counter() - start
    assert not result.failed
    return len(batch) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--older", type=int, default=12)
    args = parser.parse_args()
    store = Store.from_settings(Settings.from_env({"AKHBAR_INDEX_PREFIX": f"akhbar-bench-{uuid.uuid4().hex[:8]}"}))
    try:
        store.ensure()
        print(f"create, 1 index:            {timed(store, docs(args.docs, 'a'), 'create'):8.0f} docs/s")
        print(f"create again (all 409s):    {timed(store, docs(args.docs, 'a'), 'create'):8.0f} docs/s")
        for n in range(args.older):
            store.write("rejects", docs(50, f"old{n}"))
            store.rollover("rejects", force=True)
        print(f"create, {args.older} older indices:  {timed(store, docs(args.docs, 'b'), 'create'):8.0f} docs/s")
        print(f"create again, found in older: {timed(store, docs(args.docs, 'a'), 'create'):6.0f} docs/s")
        print(f"update, in older indices:   {timed(store, [(d, {'reason': 'x'}) for d, _ in docs(args.docs, 'a')], 'update'):8.0f} docs/s")
    finally:
        store.delete_all()


if __name__ == "__main__":
    main()
