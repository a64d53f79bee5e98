"""Precision and recall of deployment detection and troop counts on a labelled set of passages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from akhbar.alerts import Deployment, detect_deployment

KINDS = ("deploy", "withdraw", "redeploy")
ATTRIBUTES = ("actor", "destination", "status")
_BATCH = re.compile(r"[a-z]+")


@dataclass
class Score:
    """Counts and the rates they give."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """Share of predictions that are right (1.0 when nothing was predicted)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of gold items found (1.0 when there were none)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def to_dict(self) -> dict[str, float | int]:
        """Counts and rates, rounded."""
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 3), "recall": round(self.recall, 3)}


def load_passages(path: Path) -> list[dict[str, Any]]:
    """The labelled passages of a YAML file."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["passages"]


def batch_of(passage: dict[str, Any]) -> str:
    """The batch a passage belongs to: the letters its id starts with ("u" for u17)."""
    match = _BATCH.match(str(passage["id"]))
    return match.group(0) if match else ""


def predict(passage: dict[str, Any]) -> Deployment:
    """The detector's decision on one passage (the passage is the article body, with its title if any)."""
    return detect_deployment(passage.get("title", ""), passage["text"])


def evaluate(passages: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Scores per kind, for any announcement, and for the troop count; plus the passages got wrong."""
    kinds = {k: Score() for k in KINDS}
    detection, troops = Score(), Score()
    # actor, destination and status where a passage labels them: right / labelled, on the passages found
    attributes = {a: [0, 0] for a in ATTRIBUTES}
    errors: list[dict[str, Any]] = []
    for passage in passages:
        gold, gold_size = passage["label"], passage.get("size")
        dep = predict(passage)
        pred = dep.kind if dep.is_deployment else "none"
        for kind, score in kinds.items():
            score.tp += gold == kind and pred == kind
            score.fp += pred == kind and gold != kind
            score.fn += gold == kind and pred != kind
        detection.tp += gold != "none" and pred != "none"
        detection.fp += gold == "none" and pred != "none"
        detection.fn += gold != "none" and pred == "none"
        pred_size = dep.size if pred != "none" and dep.size_unit == "personnel" else None
        troops.tp += gold_size is not None and pred_size == gold_size
        troops.fp += pred_size is not None and pred_size != gold_size
        troops.fn += gold_size is not None and pred_size != gold_size
        wrong = []
        for attribute in ATTRIBUTES:
            if passage.get(attribute) is None or (gold != "none" and pred == "none"):
                continue
            attributes[attribute][1] += 1
            right = getattr(dep, attribute) == passage[attribute]
            attributes[attribute][0] += right
            if not right:
                wrong.append(f"{attribute}: {getattr(dep, attribute)!r} != {passage[attribute]!r}")
        if pred != gold or pred_size != gold_size or wrong:
            errors.append({"id": passage["id"], "gold": gold, "pred": pred, "gold_size": gold_size, "pred_size": pred_size, "status": dep.status,
                           **({"attributes": wrong} if wrong else {}), "text": passage["text"]})
    report = {"passages": len(passages), "detection": detection.to_dict(), "troop_count": troops.to_dict(), **{k: s.to_dict() for k, s in kinds.items()}}
    labelled = {a: {"right": r, "labelled": n, "accuracy": round(r / n, 3)} for a, (r, n) in attributes.items() if n}
    if labelled:
        report["attributes"] = labelled
    return report, errors
