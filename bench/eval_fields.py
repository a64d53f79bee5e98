"""Precision and recall of field extraction (places, organisations, people, roles, counts) on
tests/data/fields.yaml.

Usage: python bench/eval_fields.py [--errors] [PATH]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from akhbar.evaluation import Score
from akhbar.fields import extract_fields

DEFAULT = Path(__file__).resolve().parents[1] / "tests" / "data" / "fields.yaml"


def _sets(passage: dict, fields: dict) -> dict[str, tuple[set, set]]:
    """(gold, predicted) per field."""
    return {
        "places": (set(passage.get("places", [])), set(fields["place_names"])),
        "organisations": (set(passage.get("organisations", [])), set(fields["organisations"])),
        "people": ({p["name"] for p in passage.get("people", [])}, {p["name"] for p in fields["people"]}),
        "roles": ({(p["name"], p.get("role")) for p in passage.get("people", []) if p.get("role")}, {(p["name"], p.get("role")) for p in fields["people"] if p.get("role")}),
        "troops": (set(passage.get("troops", [])), set(fields["troops"])),
        "aircraft": (set(passage.get("aircraft", [])), set(fields["aircraft"])),
        "ships": (set(passage.get("ships", [])), set(fields["ships"])),
    }


def main(argv: list[str]) -> int:
    """Print precision and recall per field as JSON; --errors lists the differences on stderr."""
    paths = [a for a in argv if not a.startswith("--")]
    passages = yaml.safe_load(Path(paths[0] if paths else DEFAULT).read_text(encoding="utf-8"))["passages"]
    scores: dict[str, Score] = {}
    for passage in passages:
        for name, (gold, pred) in _sets(passage, extract_fields(passage["text"])).items():
            score = scores.setdefault(name, Score())
            score.tp += len(gold & pred)
            score.fp += len(pred - gold)
            score.fn += len(gold - pred)
            if gold != pred and "--errors" in argv:
                print(json.dumps({"id": passage["id"], "field": name, "missed": sorted(map(str, gold - pred)), "extra": sorted(map(str, pred - gold))}, ensure_ascii=False), file=sys.stderr)
    print(json.dumps({"passages": len(passages), **{k: s.to_dict() for k, s in scores.items()}}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
