"""Near-copy detection on the labelled pairs: precision, recall, F1 for MinHash/LSH parameter choices.

    python bench/nearcopy_eval.py            # the configured parameters
    python bench/nearcopy_eval.py --sweep    # a grid of shingle sizes, permutations, bands and thresholds
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from akhbar.dedup import DedupParams, content_hash, is_near_copy, load_params, signature

PAIRS = Path(__file__).resolve().parents[1] / "tests" / "data" / "nearcopy" / "pairs.jsonl"


def evaluate(params: DedupParams, pairs: list[dict]) -> dict[str, float]:
    """Precision, recall and F1 of the detector (LSH candidate step included) on labelled pairs."""
    tp = fp = fn = tn = 0
    misses: Counter[str] = Counter()
    for pair in pairs:
        a, b = signature(pair["a"], params), signature(pair["b"], params)
        candidate = content_hash(pair["a"]) == content_hash(pair["b"]) or bool(set(a.bands) & set(b.bands))
        predicted = candidate and (content_hash(pair["a"]) == content_hash(pair["b"]) or is_near_copy(a, b, params))
        if predicted and pair["label"]:
            tp += 1
        elif predicted:
            fp += 1
            misses["fp:" + pair["kind"]] += 1
        elif pair["label"]:
            fn += 1
            misses["fn:" + pair["kind"]] += 1
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "tn": tn, "errors": dict(misses)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true")
    args = parser.parse_args()
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
    grid = [load_params()]
    if args.sweep:
        grid = [
            DedupParams(shingle=k, num_perm=n, bands=b, threshold=t)
            for k in (2, 3, 4, 5)
            for n, b in ((64, 16), (128, 32), (128, 42), (128, 64))
            for t in (0.2, 0.3, 0.4, 0.5)
        ]
    print(f"{len(pairs)} pairs ({sum(p['label'] for p in pairs)} positive)")
    print("shingle perm bands thr   precision recall  f1     ms/sig  errors")
    for params in grid:
        start = time.perf_counter()
        result = evaluate(params, pairs)
        ms = (time.perf_counter() - start) * 1000 / (2 * len(pairs))
        print(f"{params.shingle:7d} {params.num_perm:4d} {params.bands:5d} {params.threshold:.2f}  {result['precision']:.4f}    {result['recall']:.4f}  {result['f1']:.4f} {ms:6.2f}  {result['errors']}")


if __name__ == "__main__":
    main()
