"""Adaptive polling decisions: pure functions of the stored state and the run's logical date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from akhbar.config import Feed, load_tunables
from akhbar.feedstate import FeedState, Policy, after_failure, after_success, is_due, publish_gap, state_for, unpark

AT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FEED = Feed("f", "https://outlet.example/rss", "المنفذ")
POLICY = Policy.from_tunables(load_tunables())


def dated(every: timedelta, n: int = 10) -> list[str]:
    return [(AT - every * i).isoformat() for i in range(n)]


def ids(prefix: str, n: int = 10) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def test_policy_from_tunables_has_the_issue_bounds() -> None:
    assert POLICY.min_interval_s == 300 and POLICY.max_interval_s == 86_400


def test_interval_follows_publishing_rate_within_bounds() -> None:
    two_hourly = after_success(FeedState.fresh(FEED), AT, POLICY, run_id="r", http_status=200, item_ids=ids("a"), item_dates=dated(timedelta(hours=2)))
    assert two_hourly.interval_s == 3600 and two_hourly.publish_gap_s == 7200
    assert two_hourly.next_poll == (AT + timedelta(hours=1)).isoformat()
    busy = after_success(FeedState.fresh(FEED), AT, POLICY, run_id="r", http_status=200, item_ids=ids("b"), item_dates=dated(timedelta(minutes=1)))
    assert busy.interval_s == 300
    weekly = after_success(FeedState.fresh(FEED), AT, POLICY, run_id="r", http_status=200, item_ids=ids("c"), item_dates=dated(timedelta(days=7)))
    assert weekly.interval_s == 86_400


def test_no_dates_new_items_shorten_and_quiet_polls_lengthen() -> None:
    first = after_success(FeedState.fresh(FEED), AT, POLICY, run_id="r1", http_status=200, item_ids=ids("a"), item_dates=[None] * 10)
    assert first.interval_s == POLICY.initial_interval_s and first.items_seen == 10
    quiet = after_success(first, AT + timedelta(minutes=15), POLICY, run_id="r2", http_status=200, item_ids=ids("a"), item_dates=[None] * 10)
    assert quiet.interval_s == int(POLICY.initial_interval_s * 1.5) and quiet.last_new_items == 0 and quiet.items_seen == 10
    busy = after_success(quiet, AT + timedelta(hours=1), POLICY, run_id="r3", http_status=200, item_ids=ids("z", 3) + ids("a"), item_dates=[None] * 13)
    assert busy.interval_s == quiet.interval_s // 2 and busy.last_new_items == 3 and busy.items_seen == 13


def test_not_modified_keeps_validators_and_slows_down() -> None:
    ok = after_success(FeedState.fresh(FEED), AT, POLICY, run_id="r1", http_status=200, item_ids=ids("a"), item_dates=[None] * 10, etag='"v1"', last_modified="Sat, 21 Nov 2026 11:00:00 GMT")
    assert ok.validators() == {"If-None-Match": '"v1"', "If-Modified-Since": "Sat, 21 Nov 2026 11:00:00 GMT"}
    same = after_success(ok, AT + timedelta(hours=1), POLICY, run_id="r2", http_status=304)
    assert same.status == "not_modified" and same.etag == '"v1"' and same.last_items == 10
    assert same.interval_s > ok.interval_s and same.recent_ids == ok.recent_ids


def test_errors_back_off_then_park_with_reason_and_probe_daily() -> None:
    state = FeedState.fresh(FEED)
    when = AT
    intervals = []
    for _ in range(POLICY.park_after_failures):
        state = after_failure(state, when, POLICY, run_id="r", reason="HTTP 503", http_status=503)
        intervals.append(state.interval_s)
        when += timedelta(seconds=state.interval_s)
    assert intervals[:5] == [300, 600, 1200, 2400, 4800]
    assert state.parked and state.status == "parked" and "HTTP 503" in state.parked_reason and "6 consecutive" in state.parked_reason
    assert intervals[-1] == POLICY.park_probe_s
    parked_at = datetime.fromisoformat(state.last_polled)
    assert not is_due(state, parked_at + timedelta(hours=1), POLICY)
    assert is_due(state, parked_at + timedelta(days=1), POLICY)
    recovered = after_success(state, parked_at + timedelta(days=1), POLICY, run_id="r", http_status=200, item_ids=ids("a"), item_dates=[None] * 10)
    assert not recovered.parked and recovered.consecutive_failures == 0 and recovered.status == "ok"


def test_unpark_makes_due_at_once() -> None:
    state = FeedState.fresh(FEED)
    for _ in range(POLICY.park_after_failures):
        state = after_failure(state, AT, POLICY, run_id="r", reason="HTTP 500")
    again = unpark(state, AT + timedelta(minutes=1))
    assert not again.parked and again.consecutive_failures == 0 and is_due(again, AT + timedelta(minutes=1), POLICY)


def test_due_with_slack_and_changed_url_starts_afresh() -> None:
    state = after_success(FeedState.fresh(FEED), AT, POLICY, run_id="r", http_status=200, item_ids=ids("a"), item_dates=dated(timedelta(hours=2)))
    assert not is_due(state, AT + timedelta(minutes=30), POLICY)
    assert is_due(state, AT + timedelta(minutes=59, seconds=30), POLICY)
    assert state_for(FEED, state.to_doc()).etag == state.etag
    moved = state_for(Feed("f", "https://outlet.example/new-rss"), state.to_doc())
    assert moved.status == "new" and moved.next_poll is None and is_due(moved, AT, POLICY)


def test_publish_gap_needs_three_dates() -> None:
    assert publish_gap([AT.isoformat(), None], 20) is None
    assert publish_gap(dated(timedelta(minutes=30), 5), 20) == 1800
