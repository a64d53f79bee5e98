"""Precision and recall of deployment detection per kind and of troop counts.

With no PATH: the labelled set (tests/data/deployments.yaml, pinned by tests/test_fields_rich.py) and
the held-out batch (tests/data/deployments_holdout.yaml, see docs/fields-and-alerts.md for its history).

Usage: python bench/eval_deployments.py [--errors] [PATH]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from akhbar.evaluation import evaluate, load_passages

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
DEFAULTS = (DATA / "deployments.yaml", DATA / "deployments_holdout.yaml")


def main(argv: list[str]) -> int:
    """Print the report as JSON (and the misclassified passages with --errors)."""
    show_errors = "--errors" in argv
    paths = [a for a in argv if not a.startswith("--")]
    reports = {}
    for path in [Path(p) for p in paths] or DEFAULTS:
        report, errors = evaluate(load_passages(path))
        reports[path.name] = report
        if show_errors:
            for error in errors:
                print(json.dumps({"file": path.name, **error}, ensure_ascii=False), file=sys.stderr)
    print(json.dumps(reports if len(reports) > 1 else next(iter(reports.values())), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
