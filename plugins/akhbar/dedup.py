"""Duplicate detection: exact copies by canonical URL and by a hash of the normalised text."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from akhbar.normalize import normalize


def content_hash(text: str) -> str:
    """SHA-1 of the normalised text, so spelling and punctuation variants of one text hash alike."""
    return hashlib.sha1(normalize(text, strip_punct=True).encode("utf-8")).hexdigest()


def canonical_order(article: dict[str, Any]) -> tuple[str, str, str]:
    """Sort key choosing the canonical copy: earliest published, then first seen, then smallest id."""
    return (article.get("published") or "9999", article.get("first_seen") or "9999", article["id"])


def group_copies(articles: Sequence[dict[str, Any]], indexed: dict[str, str]) -> tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]:
    """Split a batch into articles to index and (canonical id, copy) pairs, independent of batch order.

    `indexed` maps content hashes already in the index to their article id.
    """
    by_hash: dict[str, list[dict[str, Any]]] = {}
    for article in articles:
        by_hash.setdefault(article["content_hash"], []).append(article)
    keep: list[dict[str, Any]] = []
    copies: list[tuple[str, dict[str, Any]]] = []
    for digest in sorted(by_hash):
        group = sorted(by_hash[digest], key=canonical_order)
        canonical_id = indexed.get(digest)
        if canonical_id is None:
            keep.append(group[0])
            canonical_id, rest = group[0]["id"], group[1:]
        else:
            rest = [a for a in group if a["id"] != canonical_id]
        copies.extend((canonical_id, a) for a in rest)
    return keep, copies


def copy_record(article: dict[str, Any]) -> dict[str, Any]:
    """What a canonical article keeps about one of its copies."""
    return {
        "outlet": article.get("outlet"),
        "url": article.get("url"),
        "canonical_url": article.get("canonical_url"),
        "published": article.get("published"),
        "similarity": 1.0,
    }
