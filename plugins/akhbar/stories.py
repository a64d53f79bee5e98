"""Stories: independently written articles about one event share a story_id."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence, Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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


def _jaccard(a: AbstractSet[Any], b: AbstractSet[Any]) -> float:
    """Jaccard similarity of two sets (0 when both are empty)."""
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def article_time(article: dict[str, Any]) -> datetime | None:
    """When an article was first published (or first seen), timezone-aware (UTC when the value has no zone)."""
    for key in ("published", "first_seen"):
        value = article.get(key)
        if value:
            try:
                parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


@dataclass(frozen=True)
class _Features:
    """An article's story features as sets, computed once per article."""

    terms: frozenset[str]
    numbers: frozenset[int]
    entities: frozenset[str]
    when: datetime | None


def _features(article: dict[str, Any]) -> _Features:
    """The sets the story rule compares."""
    return _Features(
        frozenset(article.get("story_terms", [])),
        frozenset(article.get("story_numbers", [])),
        frozenset(article.get("place_names", [])) | frozenset(article.get("organisations", [])),
        article_time(article),
    )


def _same(a: _Features, b: _Features, params: StoryParams) -> bool:
    """The story rule on precomputed features."""
    if a.when and b.when and abs(a.when - b.when) > timedelta(hours=params.window_hours):
        return False
    numbers = _jaccard(a.numbers, b.numbers)
    entities = _jaccard(a.entities, b.entities)
    if numbers < params.numbers_min and entities < params.entities_min:
        return False
    terms = _jaccard(a.terms, b.terms)
    return (numbers >= params.numbers_min and terms >= params.numbers_terms_min) or (
        entities >= params.entities_min and terms >= params.entities_terms_min
    )


def _prefix_pairs(sets: dict[str, frozenset[Any]], threshold: float) -> set[tuple[str, str]]:
    """Pairs whose sets may reach Jaccard >= threshold: prefix filtering on the rarest elements (exact: no such pair missed)."""
    freq: dict[Any, int] = {}
    for members in sets.values():
        for x in members:
            freq[x] = freq.get(x, 0) + 1
    index: dict[Any, list[str]] = {}
    for doc_id, members in sets.items():
        if not members:
            continue
        ordered = sorted(members, key=lambda x: (freq[x], str(x)))
        keep = len(ordered) - math.ceil(threshold * len(ordered)) + 1
        for x in ordered[:keep]:
            index.setdefault(x, []).append(doc_id)
    pairs: set[tuple[str, str]] = set()
    for ids in index.values():
        ids.sort()
        pairs.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1 :])
    return pairs


def assign_stories(
    batch: Sequence[dict[str, Any]], candidates: dict[str, list[dict[str, Any]]], params: StoryParams = StoryParams()
) -> dict[str, str]:
    """Story id of each batch article: an indexed match's story, else the earliest member's id; order-independent."""
    from akhbar.dedup import _UnionFind, canonical_order

    ids = sorted(a["id"] for a in batch)
    uf = _UnionFind(ids)
    feats = {a["id"]: _features(a) for a in batch}
    pairs = _prefix_pairs({i: f.numbers for i, f in feats.items()}, params.numbers_min)
    pairs |= _prefix_pairs({i: f.entities for i, f in feats.items()}, params.entities_min)
    for a_id, b_id in sorted(pairs):
        if uf.find(a_id) != uf.find(b_id) and _same(feats[a_id], feats[b_id], params):
            uf.union(a_id, b_id)
    groups: dict[str, list[dict[str, Any]]] = {}
    for article in batch:
        groups.setdefault(uf.find(article["id"]), []).append(article)
    out: dict[str, str] = {}
    for members in groups.values():
        matched = [
            c for m in members for c in candidates.get(m["id"], []) if c.get("story_id") and _same(feats[m["id"]], _features(c), params)
        ]
        if matched:
            story = min(matched, key=canonical_order)["story_id"]
        else:
            story = min(members, key=canonical_order)["id"]
        for member in members:
            out[member["id"]] = story
    return out
