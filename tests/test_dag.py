"""DAG integrity (DagBag imports cleanly, policy) and an end-to-end dag.test() against the real node."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from akhbar.config import Settings
from akhbar.index import Store

DAGS = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dagbag_imports_cleanly(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert "akhbar_ingest" in dagbag.dags


def test_dag_policy(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.max_active_runs == 1
        assert dag.catchup is False
        assert dag.doc_md
        for task in dag.tasks:
            assert task.retries >= 2, f"{dag_id}.{task.task_id} retries {task.retries}"
            assert task.retry_exponential_backoff


def test_dag_shape(dagbag) -> None:
    dag = dagbag.dags["akhbar_ingest"]
    assert {t.task_id for t in dag.tasks} == {"poll", "fetch", "extract", "index", "alerts", "deliver"}
    assert dag.get_task("fetch").upstream_task_ids == {"poll"}
    assert dag.get_task("alerts").upstream_task_ids == {"index"}
    assert dag.get_task("deliver").upstream_task_ids == {"alerts"}


def test_dag_file_parses_without_heavy_imports() -> None:
    code = (
        "import sys, runpy; runpy.run_path(sys.argv[1]);"
        "heavy = [m for m in ('akhbar.pipeline', 'trafilatura', 'elasticsearch', 'feedparser', 'langdetect') if m in sys.modules];"
        "print(','.join(heavy)); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(DAGS / "akhbar_ingest.py")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"heavy modules imported at parse time: {proc.stdout} {proc.stderr[-500:]}"


def test_dag_test_end_to_end(dagbag, settings: Settings, sample_feeds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AKHBAR_FEEDS", str(sample_feeds))
    dag = dagbag.dags["akhbar_ingest"]
    run = dag.test(logical_date=datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    assert str(run.state) in ("success", "DagRunState.SUCCESS"), run.state
    store = Store.from_settings(settings)
    store.refresh("articles")
    assert store.count("articles") >= 4
    assert store.count("rejects", {"term": {"kind": "language"}}) >= 1
