"""Per-host boilerplate learned from the pages the pipeline has seen, persisted in Elasticsearch.

A short line (by its normalised key) that appears on at least `min_pages` different pages of one host
is that host's boilerplate: a widget, a slogan, a follow prompt no fixed list knows. Each (host, line)
is one document of `<prefix>-boilerplate` holding the ids of the pages it was seen on (capped); merging
is a set union, so rerunning a batch writes nothing new. Learning only ever removes whole short lines.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from akhbar.index import Store

log = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"[.!?؟]\s*$")


@dataclass(frozen=True)
class LearnRules:
    """Thresholds of per-host learning (tunables.yaml, learned_boilerplate)."""

    min_pages: int = 3
    max_pages_kept: int = 20
    max_sentence_words: int = 8
    forget_after_days: int = 30

    @classmethod
    def from_tunables(cls, tunables: dict[str, Any]) -> LearnRules:
        """Rules from the tunables mapping."""
        cfg = tunables.get("learned_boilerplate", {})
        return cls(
            int(cfg.get("min_pages", 3)), int(cfg.get("max_pages_kept", 20)),
            int(cfg.get("max_sentence_words", 8)), int(cfg.get("forget_after_days", 30)),
        )


@dataclass(frozen=True)
class Sighting:
    """The short lines of one page: its host, id and {key: line as printed}."""

    host: str
    page_id: str
    lines: dict[str, str]


def learnable(key: str, line: str, rules: LearnRules) -> bool:
    """Lines that read like a sentence of prose are never learned, however often they recur."""
    return not (len(key.split()) >= rules.max_sentence_words and _SENTENCE_END.search(line))


def line_id(host: str, key: str) -> str:
    """Deterministic id of a (host, line) document."""
    return hashlib.sha1(f"{host}|{key}".encode()).hexdigest()


def learn(sightings: Iterable[Sighting], rules: LearnRules, known: dict[tuple[str, str], set[str]] | None = None) -> dict[str, frozenset[str]]:
    """Pure learning: per host, the keys seen on at least min_pages distinct pages (known adds earlier sightings)."""
    pages: dict[tuple[str, str], set[str]] = {k: set(v) for k, v in (known or {}).items()}
    for sighting in sightings:
        for key, line in sighting.lines.items():
            if learnable(key, line, rules):
                pages.setdefault((sighting.host, key), set()).add(sighting.page_id)
    learned: dict[str, set[str]] = {}
    for (host, key), ids in pages.items():
        if len(ids) >= rules.min_pages:
            learned.setdefault(host, set()).add(key)
    return {host: frozenset(keys) for host, keys in learned.items()}


class HostBoilerplate:
    """Reads and updates the learned lines of the hosts in a batch through the Store."""

    def __init__(self, store: Store, rules: LearnRules) -> None:
        self.store = store
        self.rules = rules

    def observe(self, sightings: list[Sighting], when: datetime) -> dict[str, frozenset[str]]:
        """Record this batch's sightings and return, per host, the keys now known to be boilerplate."""
        self.store.ensure()
        wanted: dict[str, tuple[str, str, str]] = {}
        batch: dict[str, set[str]] = {}
        for sighting in sightings:
            for key, line in sighting.lines.items():
                if not learnable(key, line, self.rules):
                    continue
                doc_id = line_id(sighting.host, key)
                wanted.setdefault(doc_id, (sighting.host, key, line))
                batch.setdefault(doc_id, set()).add(sighting.page_id)
        existing = self.store.get_many("boilerplate", wanted)
        stamp = when.isoformat()
        updates: list[tuple[str, dict[str, Any]]] = []
        learned: dict[str, set[str]] = {}
        for doc_id, (host, key, line) in wanted.items():
            old = existing.get(doc_id, {})
            old_pages = old.get("pages", [])
            pages = sorted(set(old_pages) | batch[doc_id])
            if len(old_pages) >= self.rules.max_pages_kept:
                pages = old_pages
            pages = pages[: self.rules.max_pages_kept]
            is_learned = len(pages) >= self.rules.min_pages
            if is_learned:
                learned.setdefault(host, set()).add(key)
            doc = {
                "host": host, "key": key, "line": old.get("line", line), "pages": pages, "page_count": len(pages),
                "learned": is_learned,
                "first_seen": min(filter(None, [old.get("first_seen"), stamp])),
                "last_seen": max(filter(None, [old.get("last_seen"), stamp])),
            }
            if doc != old:
                updates.append((doc_id, doc))
        if updates:
            result = self.store.write("boilerplate", updates, op="index")
            if result.failed:
                log.warning("%d learned-boilerplate writes failed (first: %s)", len(result.failed), result.failed[0]["reason"])
        forgotten = self.forget(when)
        log.info(
            "learned boilerplate: %d lines observed, %d updated, %d forgotten, %d hosts with learned lines",
            len(wanted), len(updates), forgotten, len(learned),
        )
        return {host: frozenset(keys) for host, keys in learned.items()}

    def forget(self, when: datetime) -> int:
        """Drop lines seen on too few pages and not seen for forget_after_days before when (one-off lines)."""
        cutoff = (when - timedelta(days=self.rules.forget_after_days)).isoformat()
        return self.store.delete_where(
            "boilerplate", {"bool": {"filter": [{"term": {"learned": False}}, {"range": {"last_seen": {"lt": cutoff}}}]}}
        )

    def lines(self, host: str, size: int = 1000) -> list[dict[str, Any]]:
        """The learned lines of a host (for inspection and tests)."""
        self.store.refresh("boilerplate")
        resp = self.store.es.search(
            index=self.store.alias("boilerplate"),
            query={"bool": {"filter": [{"term": {"host": host}}, {"term": {"learned": True}}]}},
            size=size,
            sort=[{"page_count": "desc"}, {"key": "asc"}],
        )
        return [h["_source"] for h in resp["hits"]["hits"]]
