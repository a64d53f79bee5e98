"""Copies: exact (canonical URL, normalised-text hash) and near (MinHash over word shingles, LSH bands in Elasticsearch)."""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from datasketch import MinHash

from akhbar.normalize import normalize


@dataclass(frozen=True)
class DedupParams:
    """MinHash/LSH parameters, tuned on tests/data/nearcopy (see docs/dedup.md)."""

    shingle: int = 3
    num_perm: int = 128
    bands: int = 42
    threshold: float = 0.3

    @property
    def rows(self) -> int:
        return self.num_perm // self.bands


@dataclass(frozen=True)
class Signature:
    """An article's MinHash signature, its shingle count and its LSH band keys."""

    hashvalues: np.ndarray
    size: int
    bands: tuple[str, ...]

    def encode(self) -> str:
        """The signature as compact base64, for the index."""
        return base64.b64encode(self.hashvalues.astype("<u4").tobytes()).decode("ascii")

    @staticmethod
    def decode(value: str, size: int = 0) -> Signature:
        """Rebuild a signature from its base64 form (band keys are not needed to compare)."""
        return Signature(np.frombuffer(base64.b64decode(value), dtype="<u4").astype(np.uint64), size, ())


def content_hash(text: str) -> str:
    """SHA-1 of the normalised text, so spelling and punctuation variants of one text hash alike."""
    return hashlib.sha1(normalize(text, strip_punct=True).encode("utf-8")).hexdigest()


def shingles(text: str, k: int) -> set[bytes]:
    """Word k-shingles of the normalised text (lower-cased, punctuation dropped)."""
    words = normalize(text, strip_punct=True).lower().split()
    if len(words) < k:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + k]).encode("utf-8") for i in range(len(words) - k + 1)}


@lru_cache(maxsize=4)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """The MinHash permutations, generated once per process."""
    return MinHash(num_perm=num_perm, seed=1).permutations


def signature(text: str, params: DedupParams = DedupParams()) -> Signature:
    """MinHash signature and LSH band keys of a text."""
    grams = shingles(text, params.shingle)
    mh = MinHash(num_perm=params.num_perm, seed=1, permutations=_permutations(params.num_perm), scheme="affine32")
    if grams:
        mh.update_batch(list(grams))
    values = mh.hashvalues
    rows = params.rows
    bands = tuple(
        f"{b}:{hashlib.blake2b(struct.pack(f'<{rows}I', *values[b * rows : (b + 1) * rows].astype('<u4')), digest_size=8).hexdigest()}"
        for b in range(params.bands)
    ) if grams else ()
    return Signature(values, len(grams), bands)


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(a.hashvalues == b.hashvalues)) / len(a.hashvalues)


def is_near_copy(a: Signature, b: Signature, params: DedupParams = DedupParams()) -> bool:
    """True when two texts are near-copies."""
    return similarity(a, b) >= params.threshold


def canonical_order(article: dict[str, Any]) -> tuple[str, str, str]:
    """Sort key choosing the canonical copy: earliest published, then first seen, then smallest id."""
    return (article.get("published") or "9999", article.get("first_seen") or "9999", article["id"])


class _UnionFind:
    """Disjoint sets over article ids."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.parent = {i: i for i in ids}

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def cluster_batch(articles: Sequence[dict[str, Any]], sigs: dict[str, Signature], params: DedupParams = DedupParams()) -> list[list[dict[str, Any]]]:
    """Group a batch into copy clusters (same hash, or near-copies via shared LSH bands), independent of order."""
    uf = _UnionFind(a["id"] for a in articles)
    by_key: dict[str, list[str]] = {}
    for article in articles:
        by_key.setdefault("h:" + article["content_hash"], []).append(article["id"])
        for band in sigs[article["id"]].bands:
            by_key.setdefault(band, []).append(article["id"])
    checked: set[tuple[str, str]] = set()
    for key, ids in by_key.items():
        members = sorted(set(ids))
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if (a, b) in checked or uf.find(a) == uf.find(b):
                    continue
                checked.add((a, b))
                if key.startswith("h:") or is_near_copy(sigs[a], sigs[b], params):
                    uf.union(a, b)
    groups: dict[str, list[dict[str, Any]]] = {}
    for article in articles:
        groups.setdefault(uf.find(article["id"]), []).append(article)
    return sorted((sorted(g, key=canonical_order) for g in groups.values()), key=lambda g: g[0]["id"])


def decide(
    batch: Sequence[dict[str, Any]],
    sigs: dict[str, Signature],
    candidates: dict[str, list[dict[str, Any]]],
    params: DedupParams = DedupParams(),
) -> tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any], float]]]:
    """Split a batch into articles to index and (canonical id, copy, similarity), whatever the batch order.

    `candidates` maps a batch article's id to indexed articles sharing its content hash or an LSH band
    (each with id, content_hash, minhash, published, first_seen). An indexed match is canonical for the
    whole cluster; otherwise the cluster's earliest published, then first seen, then smallest id.
    """
    keep: list[dict[str, Any]] = []
    copies: list[tuple[str, dict[str, Any], float]] = []
    for cluster in cluster_batch(batch, sigs, params):
        confirmed: dict[str, dict[str, Any]] = {}
        for member in cluster:
            for cand in candidates.get(member["id"], []):
                if cand["id"] in confirmed or any(cand["id"] == m["id"] for m in cluster):
                    continue
                if cand.get("content_hash") == member["content_hash"] or (
                    cand.get("minhash") and is_near_copy(sigs[member["id"]], Signature.decode(cand["minhash"]), params)
                ):
                    confirmed[cand["id"]] = cand
        if confirmed:
            canonical = min(confirmed.values(), key=canonical_order)
            reference = Signature.decode(canonical["minhash"]) if canonical.get("minhash") else None
            for member in cluster:
                sim = 1.0 if member["content_hash"] == canonical.get("content_hash") or reference is None else similarity(sigs[member["id"]], reference)
                copies.append((canonical["id"], member, sim))
            continue
        head, *rest = cluster
        keep.append(head)
        for member in rest:
            sim = 1.0 if member["content_hash"] == head["content_hash"] else similarity(sigs[member["id"]], sigs[head["id"]])
            copies.append((head["id"], member, sim))
    return keep, copies


def signature_of(article: dict[str, Any]) -> Signature:
    """The signature stored on an article document."""
    return Signature(Signature.decode(article["minhash"]).hashvalues, int(article.get("shingle_count", 0)), tuple(article.get("lsh", [])))


def copy_record(article: dict[str, Any], similarity_value: float = 1.0) -> dict[str, Any]:
    """What a canonical article keeps about one of its copies."""
    return {
        "outlet": article.get("outlet"),
        "url": article.get("url"),
        "canonical_url": article.get("canonical_url"),
        "published": article.get("published"),
        "similarity": round(similarity_value, 4),
    }


def load_params(tunables: dict[str, Any] | None = None) -> DedupParams:
    """Dedup parameters from config/tunables.yaml."""
    from akhbar.config import load_tunables

    cfg = (tunables if tunables is not None else load_tunables()).get("dedup", {})
    return DedupParams(
        shingle=int(cfg.get("shingle", 3)),
        num_perm=int(cfg.get("num_perm", 128)),
        bands=int(cfg.get("bands", 42)),
        threshold=float(cfg.get("threshold", 0.3)),
    )
