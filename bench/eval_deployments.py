"""Precision and recall of deployment detection per kind and of troop counts on tests/data/deployments.yaml.

Usage: python bench/eval_deployments.py [--errors] [PATH]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from akhbar.evaluation import evaluate, load_passages

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "data" / "deployments.yaml"


def main(argv: list[str]) -> int:
    """Print the report as JSON (and the misclassified passages with --errors)."""
    show_errors = "--errors" in argv
    paths = [a for a in argv if not a.startswith("--")]
    report, errors = evaluate(load_passages(Path(paths[0]) if paths else DEFAULT))
    print(json.dumps(report, ensure_ascii=False, indent=1))
    if show_errors:
        for error in errors:
            print(json.dumps(error, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
