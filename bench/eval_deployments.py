"""Precision and recall of deployment detection per kind and of troop counts, per file and per batch.

With no PATH: the labelled set (tests/data/deployments.yaml, pinned by tests/test_fields_rich.py) and
the held-out batches (tests/data/deployments_holdout.yaml, see docs/fields-and-alerts.md for their history).
A batch is the letters a passage id starts with (u17 is batch u); each file is also reported per batch.
Where passages label actor, destination and status, their accuracy on the passages found is reported too.

Usage: python bench/eval_deployments.py [--errors] [--no-batches] [PATH]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from akhbar.evaluation import batch_of, evaluate, load_passages

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
DEFAULTS = (DATA / "deployments.yaml", DATA / "deployments_holdout.yaml")


def main(argv: list[str]) -> int:
    """Print the report as JSON (and the misclassified passages with --errors)."""
    show_errors = "--errors" in argv
    paths = [a for a in argv if not a.startswith("--")]
    reports = {}
    for path in [Path(p) for p in paths] or DEFAULTS:
        passages = load_passages(path)
        report, errors = evaluate(passages)
        if "--no-batches" not in argv:
            batches = sorted({batch_of(p) for p in passages})
            if len(batches) > 1:
                report["batches"] = {b: evaluate([p for p in passages if batch_of(p) == b])[0] for b in batches}
        reports[path.name] = report
        if show_errors:
            for error in errors:
                print(json.dumps({"file": path.name, **error}, ensure_ascii=False), file=sys.stderr)
    print(json.dumps(reports if len(reports) > 1 else next(iter(reports.values())), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
