"""akhbar_ingest: poll Arabic feeds, fetch, extract, dedup and index articles, raise and deliver deployment alerts.

Wiring only: every task calls a function of the `akhbar` package, imported inside the task so that
parsing this file stays cheap.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task

DOC = """
### Akhbar ingest
One ingestion cycle: **poll** the feeds of `AKHBAR_FEEDS` that are due (conditional GET, adaptive
intervals, feed state in `<prefix>-feeds`) → **fetch** the article pages not yet indexed (robots.txt,
at most 2 connections and 1 s between requests per host) → **extract** (trafilatura, Arabic boilerplate
removal, language, fields, deployment detection) → **index** (exact and near-copy dedup, story
grouping, bulk write to `<prefix>-articles`) → **alerts** (one per story in `<prefix>-alerts`) →
**deliver** (Airflow notifiers: webhook, Slack, e-mail; failed deliveries retried on later runs, each
recorded on the alert).
Tasks pass references to staged batches (`AKHBAR_STAGING_URL`), never payloads. Reruns of the same
run are idempotent: document ids are deterministic and writes are create-or-skip.
"""

default_args = {
    "owner": "akhbar",
    "retries": int(os.environ.get("AKHBAR_TASK_RETRIES", "3")),
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=30),
}


@dag(
    dag_id="akhbar_ingest",
    schedule=os.environ.get("AKHBAR_SCHEDULE", "*/10 * * * *"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["akhbar", "ingest", "arabic"],
    doc_md=DOC,
)
def akhbar_ingest() -> None:
    @task
    def poll() -> str:
        from akhbar import tasks

        return tasks.poll(get_current_context())

    @task
    def fetch(items_ref: str) -> str:
        from akhbar import tasks

        return tasks.fetch(items_ref, get_current_context())

    @task
    def extract(pages_ref: str) -> str:
        from akhbar import tasks

        return tasks.extract(pages_ref, get_current_context())

    @task
    def index(articles_ref: str) -> str:
        from akhbar import tasks

        return tasks.index(articles_ref, get_current_context())

    @task
    def alerts(indexed_ref: str) -> str:
        from akhbar import tasks

        return tasks.alerts(indexed_ref, get_current_context())

    @task
    def deliver(alerts_ref: str) -> dict[str, int]:
        from akhbar import tasks

        return tasks.deliver(get_current_context())

    deliver(alerts(index(extract(fetch(poll())))))


akhbar_ingest()
