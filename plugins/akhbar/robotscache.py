"""robots.txt files kept in Elasticsearch for a day, so stages, runs and workers do not each fetch them again."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from akhbar.fetch import Robots
from akhbar.index import Store

log = logging.getLogger(__name__)

KIND = "robots"


def doc_id(origin: str) -> str:
    """Deterministic id of an origin's robots.txt document."""
    return hashlib.sha1(origin.encode("utf-8")).hexdigest()


def load(store: Store, urls: Iterable[str], at: datetime, ttl_s: int) -> dict[str, str | None]:
    """robots.txt bodies (None: the origin has none) read less than ttl_s before `at`, by origin, for the urls' origins."""
    origins = {Robots.origin(url) for url in urls}
    docs = store.get_many(KIND, [doc_id(o) for o in origins])
    fresh: dict[str, str | None] = {}
    for doc in docs.values():
        if at - datetime.fromisoformat(doc["fetched_at"]) < timedelta(seconds=ttl_s):
            fresh[doc["origin"]] = doc.get("body") if doc.get("found") else None
    return fresh


def save(store: Store, fetched: dict[str, str | None], at: datetime) -> None:
    """Keep robots.txt bodies read at `at` (a failed write only means they are read again next time)."""
    if not fetched:
        return
    docs = ((doc_id(o), {"origin": o, "found": body is not None, "body": body, "fetched_at": at.isoformat()}) for o, body in fetched.items())
    failed = store.write(KIND, docs, op="index").failed
    if failed:
        log.warning("%d robots.txt records could not be kept: %s", len(failed), failed[0]["reason"])
