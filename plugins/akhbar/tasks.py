"""Adapters from an Airflow task context to the pipeline's stage functions (imported inside tasks only)."""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime
from typing import Any

from akhbar import pipeline
from akhbar.config import Settings


def context_for(airflow_context: dict[str, Any]) -> tuple[Settings, pipeline.RunContext]:
    """Settings and run context of the running DAG run; staging under an Airflow ObjectStoragePath."""
    from airflow.sdk import ObjectStoragePath

    settings = Settings.from_env()
    if os.environ.get("AKHBAR_ES_CONN_ID"):
        settings = settings_from_connection(settings, os.environ["AKHBAR_ES_CONN_ID"])
    dag_run = airflow_context["dag_run"]
    when: datetime = airflow_context.get("logical_date") or dag_run.run_after
    url = settings.staging_url if "://" in settings.staging_url else f"file://{settings.staging_url}"
    base = ObjectStoragePath(url)
    base.mkdir(parents=True, exist_ok=True)
    return settings, pipeline.make_context(settings, dag_run.run_id, when, base)


def settings_from_connection(settings: Settings, conn_id: str) -> Settings:
    """Settings whose cluster and credentials come from an Airflow connection (host, port, schema = http/https,
    login/password, or extra api_key; extra ca_certs), so they live in Airflow's secrets, not in code."""
    from airflow.sdk import Connection

    conn = Connection.get(conn_id)
    extra = conn.extra_dejson
    scheme = conn.schema or extra.get("scheme") or "https"
    return dataclasses.replace(
        settings,
        es_url=f"{scheme}://{conn.host}:{conn.port or 9200}",
        es_api_key=extra.get("api_key") or None,
        es_user=None if extra.get("api_key") else conn.login or None,
        es_password=None if extra.get("api_key") else conn.password or None,
        es_ca_certs=extra.get("ca_certs") or settings.es_ca_certs,
        es_external=True,
    )


def poll(airflow_context: dict[str, Any]) -> str:
    """The poll task."""
    settings, ctx = context_for(airflow_context)
    return pipeline.poll_stage(settings, ctx)


def fetch(items_ref: str, airflow_context: dict[str, Any]) -> str:
    """The fetch task."""
    settings, ctx = context_for(airflow_context)
    return pipeline.fetch_stage(settings, ctx, items_ref)


def extract(pages_ref: str, airflow_context: dict[str, Any]) -> str:
    """The extract task (extraction, cleaning, language, fields)."""
    settings, ctx = context_for(airflow_context)
    return pipeline.extract_stage(settings, ctx, pages_ref)


def index(articles_ref: str, airflow_context: dict[str, Any]) -> str:
    """The index task (near-copy dedup, stories, bulk write)."""
    settings, ctx = context_for(airflow_context)
    return pipeline.index_stage(settings, ctx, articles_ref)


def alerts(indexed_ref: str, airflow_context: dict[str, Any]) -> str:
    """The alerts task: one alert per story in the alerts index."""
    settings, ctx = context_for(airflow_context)
    return pipeline.alerts_stage(settings, ctx, indexed_ref)


def deliver(airflow_context: dict[str, Any]) -> dict[str, int]:
    """The deliver task (Airflow notifiers); returns the run's counts, which Airflow shows as its XCom."""
    settings, ctx = context_for(airflow_context)
    pipeline.deliver_stage(settings, ctx)
    return pipeline.summarize(ctx)
