"""Per-feed polling state in Elasticsearch: validators, health, adaptive interval, parking.

Every decision takes the run's logical date as "now", so a rerun of a run decides the same way.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from akhbar.config import Feed
from akhbar.index import Store

log = logging.getLogger(__name__)

KIND = "feeds"
MAX_RECENT_IDS = 500


@dataclass(frozen=True)
class Policy:
    """Polling bounds and backoff, from the `polling` section of tunables.yaml."""

    min_interval_s: int = 300
    max_interval_s: int = 86_400
    initial_interval_s: int = 900
    due_slack_s: int = 60
    gap_factor: float = 0.5
    quiet_growth: float = 1.5
    park_after_failures: int = 6
    park_probe_s: int = 86_400
    date_sample: int = 20

    @classmethod
    def from_tunables(cls, tunables: dict[str, Any]) -> Policy:
        """The policy configured in tunables.yaml (missing keys keep their defaults)."""
        raw = tunables.get("polling", {})
        known = {k: type(getattr(cls(), k))(v) for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def clamp(self, seconds: float) -> int:
        """An interval within the bounds."""
        return int(min(self.max_interval_s, max(self.min_interval_s, seconds)))


@dataclass(frozen=True)
class FeedState:
    """What is known about one feed between runs; stored as one document per feed, id = feed name."""

    feed: str
    url: str
    outlet: str = ""
    status: str = "new"
    etag: str | None = None
    last_modified: str | None = None
    last_polled: str | None = None
    last_success: str | None = None
    last_new_item: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    last_http_status: int | None = None
    consecutive_failures: int = 0
    interval_s: int = 0
    next_poll: str | None = None
    items_seen: int = 0
    last_items: int = 0
    last_new_items: int = 0
    publish_gap_s: float | None = None
    recent_ids: list[str] = field(default_factory=list)
    parked: bool = False
    parked_reason: str | None = None
    parked_at: str | None = None
    run_id: str | None = None

    @classmethod
    def fresh(cls, feed: Feed) -> FeedState:
        """The state of a feed never polled (or whose URL changed)."""
        return cls(feed=feed.name, url=feed.url, outlet=feed.outlet)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> FeedState:
        """A state from its stored document (unknown keys ignored)."""
        return cls(**{k: v for k, v in doc.items() if k in cls.__dataclass_fields__})

    def to_doc(self) -> dict[str, Any]:
        """The stored document."""
        return asdict(self)

    def validators(self) -> dict[str, str]:
        """Conditional-request headers from the stored ETag and Last-Modified."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def _iso(when: datetime) -> str:
    return when.isoformat()


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def state_for(feed: Feed, stored: dict[str, Any] | None) -> FeedState:
    """The state of a feed from its stored document; a changed URL starts afresh."""
    if not stored or stored.get("url") != feed.url:
        return FeedState.fresh(feed)
    return replace(FeedState.from_doc(stored), outlet=feed.outlet)


def is_due(state: FeedState, at: datetime, policy: Policy) -> bool:
    """True when the feed should be polled in a run at `at` (parked feeds only at their daily probe)."""
    next_poll = _parse(state.next_poll)
    return next_poll is None or next_poll <= at + timedelta(seconds=policy.due_slack_s)


def publish_gap(dates: Iterable[str | None], sample: int) -> float | None:
    """Median gap in seconds between the newest `sample` dated entries of a feed, or None if too few."""
    parsed = sorted((d for d in (_parse(x) for x in dates if x) if d is not None), reverse=True)[:sample]
    if len(parsed) < 3:
        return None
    gaps = [(a - b).total_seconds() for a, b in zip(parsed, parsed[1:], strict=False)]
    return max(0.0, statistics.median(gaps))


def after_success(
    state: FeedState,
    at: datetime,
    policy: Policy,
    *,
    run_id: str,
    http_status: int,
    item_ids: list[str] | None = None,
    item_dates: list[str | None] | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FeedState:
    """The state after a successful poll: 200 with items (item_ids given) or 304 Not Modified (item_ids None).

    The interval follows how often the feed publishes: half the median gap between its entries' dates when they
    have dates, else halved when new entries appeared and grown by quiet_growth when none did; within the bounds.
    """
    not_modified = item_ids is None
    recent = set(state.recent_ids)
    new_ids = [] if not_modified else [i for i in item_ids if i not in recent]
    first_poll = state.last_success is None
    gap = state.publish_gap_s if not_modified else publish_gap(item_dates or [], policy.date_sample)
    previous = state.interval_s or policy.initial_interval_s
    if new_ids and not first_poll:
        interval = policy.clamp(gap * policy.gap_factor if gap is not None else previous / 2)
    elif first_poll:
        interval = policy.clamp(gap * policy.gap_factor if gap is not None else policy.initial_interval_s)
    else:
        interval = policy.clamp(max(previous * policy.quiet_growth, (gap or 0) * policy.gap_factor))
    kept_ids = state.recent_ids if not_modified else list(dict.fromkeys([*item_ids, *state.recent_ids]))[:MAX_RECENT_IDS]
    return replace(
        state,
        status="not_modified" if not_modified else "ok",
        etag=state.etag if not_modified else etag,
        last_modified=state.last_modified if not_modified else last_modified,
        last_polled=_iso(at),
        last_success=_iso(at),
        last_new_item=_iso(at) if new_ids else state.last_new_item,
        last_http_status=http_status,
        consecutive_failures=0,
        interval_s=interval,
        next_poll=_iso(at + timedelta(seconds=interval)),
        items_seen=state.items_seen + len(new_ids),
        last_items=state.last_items if not_modified else len(item_ids),
        last_new_items=len(new_ids),
        publish_gap_s=gap,
        recent_ids=kept_ids,
        parked=False,
        parked_reason=None,
        parked_at=None,
        run_id=run_id,
    )


def after_failure(state: FeedState, at: datetime, policy: Policy, *, run_id: str, reason: str, http_status: int | None = None) -> FeedState:
    """The state after a failed poll: exponential backoff from the minimum interval, parked after repeated failures."""
    failures = state.consecutive_failures + 1
    parked = failures >= policy.park_after_failures
    if parked:
        interval = policy.park_probe_s
    else:
        interval = policy.clamp(policy.min_interval_s * 2 ** (failures - 1))
    if parked and not state.parked:
        log.warning("feed %s parked after %d consecutive failures: %s", state.feed, failures, reason)
    return replace(
        state,
        status="parked" if parked else "error",
        last_polled=_iso(at),
        last_error=reason,
        last_error_at=_iso(at),
        last_http_status=http_status,
        consecutive_failures=failures,
        interval_s=interval,
        next_poll=_iso(at + timedelta(seconds=interval)),
        parked=parked,
        parked_reason=f"{failures} consecutive failures, last: {reason}" if parked else None,
        parked_at=(state.parked_at or _iso(at)) if parked else None,
        run_id=run_id,
    )


def unpark(state: FeedState, at: datetime) -> FeedState:
    """A parked feed made due at `at` again, its failure count reset (an operator's decision)."""
    return replace(state, parked=False, parked_reason=None, parked_at=None, consecutive_failures=0, status="error" if state.last_error else state.status, next_poll=_iso(at))


def load(store: Store, feeds: Iterable[Feed]) -> dict[str, FeedState]:
    """The state of every feed, by feed name (fresh for feeds never polled)."""
    feeds = list(feeds)
    stored = store.get_many(KIND, [f.name for f in feeds])
    return {f.name: state_for(f, stored.get(f.name)) for f in feeds}


def save(store: Store, states: Iterable[FeedState]) -> list[dict[str, Any]]:
    """Write states (whole documents, the latest run wins); return the failed writes."""
    result = store.write(KIND, ((s.feed, s.to_doc()) for s in states), op="index")
    store.refresh(KIND)
    return result.failed
