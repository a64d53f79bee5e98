"""Alert delivery through Airflow notifiers: a generic webhook, Slack and e-mail on Airflow connections.

Every channel is an Airflow `BaseNotifier`; `notify(context)` is called directly with the alert in the
context, so the same code runs inside a DAG task and in `akhbar run-once` (connections then come from
AIRFLOW_CONN_* variables or a secrets backend; nothing needs a running Airflow).
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from airflow.sdk import BaseNotifier

from akhbar.config import CONFIG_DIR, ConfigError, _read_yaml

log = logging.getLogger(__name__)

CHANNEL_TYPES = ("webhook", "slack", "email")
KIND_LABELS = {"deploy": "نشر / تعزيز", "withdraw": "سحب / تقليص", "redeploy": "إعادة انتشار"}


class DeliveryError(RuntimeError):
    """A channel did not accept an alert."""


@dataclass(frozen=True)
class Channel:
    """One configured delivery channel."""

    name: str
    type: str
    conn_id: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertConfig:
    """Grouping and delivery settings from config/alerts.yaml."""

    merge_window_days: float
    size_tolerance: float
    channels: tuple[Channel, ...]
    timeout_s: float
    max_per_run: int


@lru_cache(maxsize=2)
def load_alert_config(path: Path = CONFIG_DIR / "alerts.yaml") -> AlertConfig:
    """Parse and validate config/alerts.yaml."""
    data = _read_yaml(path)
    channels = []
    for i, raw in enumerate(data.get("channels") or []):
        if not isinstance(raw, dict) or raw.get("type") not in CHANNEL_TYPES or not raw.get("conn_id"):
            raise ConfigError(f"{path}: channel #{i + 1} needs a type ({', '.join(CHANNEL_TYPES)}) and a conn_id")
        extra = {k: v for k, v in raw.items() if k not in ("name", "type", "conn_id")}
        channels.append(Channel(str(raw.get("name") or raw["type"]), raw["type"], str(raw["conn_id"]), extra))
    if len({c.name for c in channels}) != len(channels):
        raise ConfigError(f"{path}: channel names must be unique")
    return AlertConfig(
        merge_window_days=float(data.get("merge_window_days", 4)),
        size_tolerance=float(data.get("size_tolerance", 0.2)),
        channels=tuple(channels),
        timeout_s=float(data.get("timeout_s", 10)),
        max_per_run=int(data.get("max_per_run", 200)),
    )


def _connection(conn_id: str) -> Any | None:
    """The Airflow connection, or None when it is not defined anywhere Airflow looks."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    except Exception as exc:  # noqa: BLE001 - an unreachable metadata DB means "not configured here", said loudly
        log.warning("connection %s could not be looked up: %s", conn_id, exc)
        return None


def active_channels(config: AlertConfig) -> list[Channel]:
    """The configured channels whose Airflow connection exists."""
    return [c for c in config.channels if _connection(c.conn_id) is not None]


def webhook_url(conn: Any) -> str:
    """The URL of an http/https connection: host may carry the scheme; schema is the path."""
    host = (conn.host or "").strip()
    if "://" in host:
        base = host.rstrip("/")
    else:
        scheme = conn.conn_type if conn.conn_type in ("http", "https") else (conn.extra_dejson.get("scheme") or "https")
        base = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
    path = (conn.schema or "").strip("/")
    return f"{base}/{path}" if path else base


class WebhookNotifier(BaseNotifier):
    """POST an alert as JSON to a webhook; any non-2xx answer or transport error is a DeliveryError.

    The alert id goes in an Idempotency-Key header, so a receiver can drop a repeat of an alert whose
    acknowledgement was lost.
    """

    template_fields = ()

    def __init__(self, *, conn_id: str, timeout: float = 10.0) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.timeout = timeout

    def notify(self, context: dict[str, Any]) -> None:
        """Send context['alert'] (with its id in context['alert_id'])."""
        conn = _connection(self.conn_id)
        if conn is None:
            raise DeliveryError(f"connection {self.conn_id} is not defined")
        headers = {"Content-Type": "application/json", "Idempotency-Key": context["alert_id"], "User-Agent": "Akhbar-alerts/0.1"}
        headers.update(conn.extra_dejson.get("headers") or {})
        if conn.password and not conn.extra_dejson.get("headers", {}).get("Authorization"):
            headers["Authorization"] = f"Bearer {conn.password}"
        body = json.dumps(context["alert"], ensure_ascii=False).encode("utf-8")
        try:
            resp = httpx.post(webhook_url(conn), content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= resp.status_code < 300:
            raise DeliveryError(f"HTTP {resp.status_code}: {resp.text[:200]}")


def summary(alert: dict[str, Any]) -> str:
    """One line for humans: what, who, where, how many, how many sources."""
    size = f" — {alert['size']} ({alert.get('size_unit', '')})" if alert.get("size") else ""
    where = f" → {alert['destination']}" if alert.get("destination") else ""
    return f"[{KIND_LABELS.get(alert.get('kind', ''), alert.get('kind', ''))}] {alert.get('actor') or '?'}{where}{size} · {alert.get('status', '')} · {len(alert.get('sources', []))} source(s)"


def _slack_notifier(channel: Channel, alert: dict[str, Any]) -> BaseNotifier:
    """A Slack incoming-webhook notifier for one alert."""
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

    links = "\n".join(f"• <{s['url']}|{s.get('outlet') or s['url']}>" for s in alert.get("sources", []))
    text = f"*{summary(alert)}*\n{alert.get('evidence', '')}\n{links}"
    return SlackWebhookNotifier(slack_webhook_conn_id=channel.conn_id, text=text, unfurl_links=False, unfurl_media=False)


def _email_notifier(channel: Channel, alert: dict[str, Any]) -> BaseNotifier:
    """An SMTP notifier for one alert; recipients from the connection's extra 'to' (or the channel's 'to')."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    conn = _connection(channel.conn_id)
    to = channel.options.get("to") or (conn.extra_dejson.get("to") if conn else None)
    if not to:
        raise DeliveryError(f"no recipients: set 'to' in the extra of connection {channel.conn_id}")
    sources = "".join(f'<li><a href="{html.escape(s["url"])}">{html.escape(s.get("outlet") or s["url"])}</a></li>' for s in alert.get("sources", []))
    body = f'<div dir="rtl"><p><b>{html.escape(summary(alert))}</b></p><p>{html.escape(alert.get("evidence", ""))}</p><ul>{sources}</ul></div>'
    from_email = (conn.extra_dejson.get("from_email") if conn else None) or channel.options.get("from_email") or "akhbar-alerts@localhost"
    return SmtpNotifier(to=to, from_email=from_email, subject=f"Akhbar: {summary(alert)}", html_content=body, smtp_conn_id=channel.conn_id)


def send(channel: Channel, alert_id: str, alert: dict[str, Any], timeout: float = 10.0) -> None:
    """Deliver one alert on one channel through its Airflow notifier; raises DeliveryError on failure."""
    if channel.type == "webhook":
        notifier: BaseNotifier = WebhookNotifier(conn_id=channel.conn_id, timeout=timeout)
    elif channel.type == "slack":
        notifier = _slack_notifier(channel, alert)
    else:
        notifier = _email_notifier(channel, alert)
    try:
        # notify() directly: article text must never go through Jinja templating.
        notifier.notify({"alert": alert, "alert_id": alert_id})
    except DeliveryError:
        raise
    except Exception as exc:  # noqa: BLE001 - provider notifiers raise their own exception types
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
