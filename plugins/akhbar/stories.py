"""Stories: independently written articles about one event share a story_id."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from akhbar.normalize import normalize, search_form

_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class StoryParams:
    """Story grouping thresholds, tuned on tests/data/nearcopy/stories.jsonl (see docs/dedup.md)."""

    window_hours: int = 72
    numbers_min: float = 0.5
    numbers_terms_min: float = 0.12
    entities_min: float = 0.5
    entities_terms_min: float = 0.25


def story_numbers(text: str) -> list[int]:
    """Salient numbers of a text: 10 and above, years left out."""
    values = {int(n) for n in _NUMBER.findall(normalize(text).replace(",", "")) if len(n) < 12}
    return sorted(v for v in values if v >= 10 and not 1900 <= v <= 2100)


def story_terms(title: str, text: str) -> list[str]:
    """The distinct stemmed content words of an article."""
    return sorted(set(search_form(f"{title}\n{text}").split()))


def _jaccard(a: set[Any], b: set[Any]) -> float:
    """Jaccard similarity of two sets (0 when both are empty)."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def _when(article: dict[str, Any]) -> datetime | None:
    """Publication (or first-seen) time of an article."""
    value = article.get("published") or article.get("first_seen")
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def same_story(a: dict[str, Any], b: dict[str, Any], params: StoryParams = StoryParams()) -> bool:
    """True when two articles report the same event: same numbers or entities, similar words, close in time."""
    ta, tb = _when(a), _when(b)
    if ta and tb:
        if (ta.tzinfo is None) != (tb.tzinfo is None):
            ta, tb = ta.replace(tzinfo=None), tb.replace(tzinfo=None)
        if abs(ta - tb) > timedelta(hours=params.window_hours):
            return False
    terms = _jaccard(set(a.get("story_terms", [])), set(b.get("story_terms", [])))
    numbers = _jaccard(set(a.get("story_numbers", [])), set(b.get("story_numbers", [])))
    entities = _jaccard(
        set(a.get("place_names", [])) | set(a.get("organisations", [])),
        set(b.get("place_names", [])) | set(b.get("organisations", [])),
    )
    return (numbers >= params.numbers_min and terms >= params.numbers_terms_min) or (
        entities >= params.entities_min and terms >= params.entities_terms_min
    )


def _candidate_pairs(batch: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """Pairs of batch articles sharing a salient number, a place or an organisation (the only ones that can match)."""
    by_key: dict[str, list[str]] = {}
    for article in batch:
        keys = {f"n:{n}" for n in article.get("story_numbers", [])}
        keys |= {f"p:{p}" for p in article.get("place_names", [])} | {f"o:{o}" for o in article.get("organisations", [])}
        for key in keys:
            by_key.setdefault(key, []).append(article["id"])
    pairs: set[tuple[str, str]] = set()
    for members in by_key.values():
        members.sort()
        pairs.update((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
    return pairs


def assign_stories(
    batch: Sequence[dict[str, Any]], candidates: dict[str, list[dict[str, Any]]], params: StoryParams = StoryParams()
) -> dict[str, str]:
    """Story id of each batch article: an indexed match's story, else the earliest member's id; order-independent."""
    from akhbar.dedup import _UnionFind, canonical_order

    ids = sorted(a["id"] for a in batch)
    uf = _UnionFind(ids)
    by_id = {a["id"]: a for a in batch}
    for a_id, b_id in sorted(_candidate_pairs(batch)):
        if uf.find(a_id) != uf.find(b_id) and same_story(by_id[a_id], by_id[b_id], params):
            uf.union(a_id, b_id)
    groups: dict[str, list[dict[str, Any]]] = {}
    for article in batch:
        groups.setdefault(uf.find(article["id"]), []).append(article)
    out: dict[str, str] = {}
    for members in groups.values():
        matched = [
            c for m in members for c in candidates.get(m["id"], []) if c.get("story_id") and same_story(m, c, params)
        ]
        if matched:
            story = min(matched, key=canonical_order)["story_id"]
        else:
            story = min(members, key=canonical_order)["id"]
        for member in members:
            out[member["id"]] = story
    return out
