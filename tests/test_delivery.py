"""Alerts once per story and their delivery through Airflow notifiers, against the real Elasticsearch and
real loopback webhooks (pytest-httpserver): failures are recorded and retried on later runs until the
channel accepts, and an accepted alert is never sent again."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from akhbar import pipeline, staging
from akhbar.alerts import detect_deployment
from akhbar.config import Settings
from akhbar.fields import extract_fields
from akhbar.index import Store
from akhbar.urls import url_id
from conftest import make_ctx

ANNOUNCEMENT = "أعلن وزير الدفاع الأمريكي إرسال 560 جنديا إضافيا إلى قاعدة القيارة جنوب الموصل لدعم القوات العراقية."


def article(url: str, outlet: str, text: str, published: str = "2026-11-21T09:00:00+03:00", story_id: str | None = None, title: str = "") -> dict[str, Any]:
    """An extracted article as the extract stage stages it (fields and deployment from the real detector)."""
    fields = extract_fields(text, title)
    doc = {
        "id": url_id(url), "url": url, "canonical_url": url, "outlet": outlet, "title": title or text[:60], "text": text,
        "published": published, "first_seen": "2026-11-21T12:00:00+00:00", "content_hash": url_id(text),
        **fields, "deployment": detect_deployment(title, text, fields).to_dict(),
    }
    if story_id:
        doc["story_id"] = story_id
    return doc


def cycle(settings: Settings, run_id: str, articles: list[dict[str, Any]], when: datetime | None = None) -> dict[str, int]:
    """The alerts and deliver stages of one run over a staged batch of articles."""
    ctx = make_ctx(settings, run_id, when)
    staging.write_jsonl(ctx.batch("extract"), articles)
    pipeline.alerts_stage(settings, ctx, str(ctx.batch("extract")))
    pipeline.deliver_stage(settings, ctx)
    return pipeline.summarize(ctx)


def all_alerts(store: Store) -> list[dict[str, Any]]:
    store.refresh("alerts")
    return [src for _, src in store.find("alerts", {"match_all": {}}, size=100)]


class Hook:
    """A loopback webhook whose answer can be switched between failing and accepting."""

    def __init__(self, server: HTTPServer, path: str = "/hook") -> None:
        self.status = 500
        self.requests: list[dict[str, Any]] = []
        server.expect_request(path, method="POST").respond_with_handler(self.handle)
        self.url = server.url_for(path)

    def handle(self, request: Request) -> Response:
        self.requests.append({"status": self.status, "key": request.headers.get("Idempotency-Key"), "body": json.loads(request.get_data())})
        return Response("ok" if self.status == 200 else "down for maintenance", status=self.status)

    def accepted(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["status"] == 200]


@pytest.fixture
def hook(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Hook:
    """The webhook channel's Airflow connection pointed at a loopback server (AIRFLOW_CONN_*)."""
    h = Hook(httpserver)
    monkeypatch.setenv("AIRFLOW_CONN_AKHBAR_ALERTS_WEBHOOK", json.dumps({"conn_type": "http", "host": h.url}))
    return h


def test_failed_delivery_is_retried_on_later_runs_then_never_resent(settings: Settings, store: Store, hook: Hook) -> None:
    batch = [article("https://a.example/1", "A", ANNOUNCEMENT)]
    counts = cycle(settings, "run-1", batch)
    assert counts["alerts"] == 1 and counts["delivery_failed"] == 1 and counts["alerts_delivered"] == 0
    [alert] = all_alerts(store)
    assert alert["delivery"]["state"] == "failed" and alert["delivery"]["attempts"] == 1
    assert "HTTP 500" in alert["delivery"]["last_error"]
    assert alert["delivery"]["channels"][0]["name"] == "webhook" and alert["delivery"]["channels"][0]["state"] == "failed"

    counts = cycle(settings, "run-2", [])  # still down: retried, still recorded, nothing lost
    assert counts["delivery_failed"] == 1
    assert all_alerts(store)[0]["delivery"]["attempts"] == 2

    hook.status = 200
    counts = cycle(settings, "run-3", [])
    assert counts["alerts_delivered"] == 1
    [alert] = all_alerts(store)
    assert alert["delivery"]["state"] == "delivered" and alert["delivery"]["attempts"] == 3
    assert alert["delivery"]["channels"][0]["delivered_at"].startswith("2026-11-21")

    cycle(settings, "run-4", batch)  # the same article again and a later run: nothing is sent twice
    cycle(settings, "run-5", [])
    assert len(hook.requests) == 3 and len(hook.accepted()) == 1
    sent = hook.accepted()[0]
    assert sent["key"] == sent["body"]["id"]
    assert sent["body"]["kind"] == "deploy" and sent["body"]["size"] == 560 and sent["body"]["destination"] == "قاعدة القيارة"
    assert sent["body"]["evidence"] == ANNOUNCEMENT and "delivery" not in sent["body"]


def test_alerts_wait_pending_until_a_channel_is_configured(settings: Settings, store: Store, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_AKHBAR_ALERTS_WEBHOOK", raising=False)
    cycle(settings, "run-1", [article("https://a.example/1", "A", ANNOUNCEMENT)])
    [alert] = all_alerts(store)
    assert alert["delivery"]["state"] == "pending" and alert["delivery"]["attempts"] == 0
    h = Hook(httpserver)
    h.status = 200
    monkeypatch.setenv("AIRFLOW_CONN_AKHBAR_ALERTS_WEBHOOK", json.dumps({"conn_type": "http", "host": h.url}))
    counts = cycle(settings, "run-2", [])
    assert counts["alerts_delivered"] == 1 and len(h.accepted()) == 1
    assert all_alerts(store)[0]["delivery"]["state"] == "delivered"


def test_one_alert_per_story_id_and_per_announcement(settings: Settings, store: Store, hook: Hook) -> None:
    hook.status = 200
    other = "قررت بريطانيا سحب 400 جندي من قاعدة عين الأسد في الأنبار خلال الأسابيع المقبلة."
    batch = [
        article("https://a.example/1", "A", ANNOUNCEMENT, story_id="story-1"),
        # same story (issue 5 grouped it) although the wording gives another size and place
        article("https://b.example/1", "B", "البنتاغون: نحو 600 عسكري أمريكي إلى الموصل قريبا.", published="2026-11-21T10:00:00+03:00", story_id="story-1"),
        # no story id: joined by its announcement (same kind, actor, destination country, size)
        article("https://c.example/1", "C", "واشنطن ترسل 560 جنديا إلى العراق لتعزيز قاعدة القيارة.", published="2026-11-21T11:00:00+03:00"),
        article("https://d.example/1", "D", other, published="2026-11-21T11:30:00+03:00"),
    ]
    counts = cycle(settings, "run-1", batch)
    assert counts["alerts"] == 2 and counts["alerts_delivered"] == 2
    alerts = {a["kind"]: a for a in all_alerts(store)}
    assert {s["outlet"] for s in alerts["deploy"]["sources"]} == {"A", "B", "C"}
    assert alerts["deploy"]["story_ids"] == ["story-1"] and alerts["deploy"]["source_count"] == 3
    assert alerts["withdraw"]["actor"] == "بريطانيا" and alerts["withdraw"]["size"] == 400 and alerts["withdraw"]["status"] == "planned"
    # a later article of the same story, days later, updates the sources and sends nothing
    late = article("https://e.example/1", "E", "وصول الدفعة الأولى من الجنود الأمريكيين إلى قاعدة القيارة.", published="2026-11-23T08:00:00+03:00", story_id="story-1")
    counts = cycle(settings, "run-2", [late], when=datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    assert counts["alerts"] == 0 and counts["alerts_updated"] == 1 and counts["alerts_delivered"] == 0
    assert {s["outlet"] for s in {a["kind"]: a for a in all_alerts(store)}["deploy"]["sources"]} == {"A", "B", "C", "E"}
    assert len(hook.accepted()) == 2


def test_a_similar_announcement_weeks_later_is_a_new_alert(settings: Settings, store: Store, hook: Hook) -> None:
    hook.status = 200
    cycle(settings, "run-1", [article("https://a.example/1", "A", ANNOUNCEMENT)])
    later = article("https://a.example/2", "A", ANNOUNCEMENT, published="2026-12-20T09:00:00+03:00")
    cycle(settings, "run-2", [later], when=datetime(2026, 12, 20, 12, 0, tzinfo=UTC))
    assert len(all_alerts(store)) == 2 and len(hook.accepted()) == 2


def test_switched_off_kind_raises_no_alert(settings: Settings, store: Store, hook: Hook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from akhbar import alerts as alerts_mod

    rules = yaml.safe_load((alerts_mod.CONFIG_DIR / "deployment.yaml").read_text(encoding="utf-8"))
    rules["alert_kinds"]["withdraw"] = False
    path = tmp_path / "deployment.yaml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    compile_rules = alerts_mod.load_rules.__wrapped__
    monkeypatch.setattr(alerts_mod, "load_rules", lambda: compile_rules(path))
    hook.status = 200
    cycle(settings, "run-1", [article("https://d.example/1", "D", "قررت بريطانيا سحب 400 جندي من قاعدة عين الأسد في الأنبار.")])
    assert all_alerts(store) == [] and hook.requests == []


def test_slack_channel_through_airflow_provider(settings: Settings, store: Store, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[dict[str, Any]] = []

    def slack(request: Request) -> Response:
        received.append(json.loads(request.get_data()))
        return Response("ok", status=200)

    httpserver.expect_request("/services/T0/B0/X", method="POST").respond_with_handler(slack)
    monkeypatch.delenv("AIRFLOW_CONN_AKHBAR_ALERTS_WEBHOOK", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_AKHBAR_ALERTS_SLACK", json.dumps({"conn_type": "slackwebhook", "password": httpserver.url_for("/services/T0/B0/X")}))
    counts = cycle(settings, "run-1", [article("https://a.example/1", "الوسط", ANNOUNCEMENT)])
    assert counts["alerts_delivered"] == 1 and len(received) == 1
    assert "560" in received[0]["text"] and "https://a.example/1" in received[0]["text"]
    [alert] = all_alerts(store)
    assert alert["delivery"]["channels"] == [{**alert["delivery"]["channels"][0], "name": "slack", "type": "slack", "state": "delivered"}]


def test_conditional_update_refuses_a_stale_claim(store: Store) -> None:
    store.write("alerts", [("a1", {"kind": "deploy", "delivery": {"state": "pending", "attempts": 0}})], op="create")
    _, seq_no, term = store.get_versioned("alerts", "a1")
    assert store.update_if("alerts", "a1", {"delivery": {"state": "sending", "attempts": 1}}, seq_no, term) is not None
    assert store.update_if("alerts", "a1", {"delivery": {"state": "sending", "attempts": 1}}, seq_no, term) is None




def test_cli_deliver_and_alerts_without_airflow_running(settings: Settings, store: Store, hook: Hook) -> None:
    import os
    import subprocess
    import sys

    cycle(settings, "run-1", [article("https://a.example/1", "A", ANNOUNCEMENT)])
    hook.status = 200
    env = {**os.environ, "AKHBAR_INDEX_PREFIX": settings.index_prefix, "AKHBAR_STAGING_URL": settings.staging_url}
    proc = subprocess.run([sys.executable, "-m", "akhbar.cli", "deliver", "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"alerts_delivered": 1, "delivery_failed": 0}
    proc = subprocess.run([sys.executable, "-m", "akhbar.cli", "alerts", "--json"], capture_output=True, text=True, env=env, timeout=300)
    [listed] = json.loads(proc.stdout)
    assert listed["delivery"]["state"] == "delivered" and listed["size"] == 560
    assert len(hook.accepted()) == 1


def test_email_channel_through_airflow_smtp_provider(settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from email import message_from_bytes
    from email.policy import default

    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
            self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default)))
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.delenv("AIRFLOW_CONN_AKHBAR_ALERTS_WEBHOOK", raising=False)
        conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": port,
                "extra": {"disable_ssl": True, "disable_tls": True, "to": "desk@example.org", "from_email": "akhbar@example.org"}}
        monkeypatch.setenv("AIRFLOW_CONN_AKHBAR_ALERTS_SMTP", json.dumps(conn))
        counts = cycle(settings, "run-1", [article("https://a.example/1", "الوسط", ANNOUNCEMENT)])
        assert counts["alerts_delivered"] == 1, all_alerts(store)[0]["delivery"]
        [(rcpt, message)] = inbox.messages
        assert rcpt == ["desk@example.org"] and "560" in message["Subject"]
        html = message.get_body(("html",)).get_content()
        assert "https://a.example/1" in html and "قاعدة القيارة" in html
        cycle(settings, "run-2", [])
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_a_delivery_interrupted_after_the_claim_is_resent_with_the_same_idempotency_key(settings: Settings, store: Store, hook: Hook) -> None:
    hook.status = 200
    cycle(settings, "run-1", [article("https://a.example/1", "A", ANNOUNCEMENT)])
    [(alert_id, alert)] = store.find("alerts", {"match_all": {}})
    # what a process killed between the channel's answer and the record would leave behind
    interrupted = {**alert["delivery"], "state": "failed", "channels": [{**alert["delivery"]["channels"][0], "state": "sending"}]}
    _, seq_no, term = store.get_versioned("alerts", alert_id)
    assert store.update_if("alerts", alert_id, {"delivery": interrupted}, seq_no, term) is not None
    counts = cycle(settings, "run-2", [])
    assert counts["alerts_delivered"] == 1
    assert [r["key"] for r in hook.accepted()] == [alert_id, alert_id]  # at least once; the key lets the receiver drop the repeat
    assert all_alerts(store)[0]["delivery"]["state"] == "delivered"
