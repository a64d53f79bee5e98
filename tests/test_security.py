"""`akhbar es setup-security`: the requests it builds, and a clear refusal on a cluster without security.

The local node runs with security disabled, so creating the roles and the key is not exercised here;
the request bodies are checked against Elasticsearch's documented privilege names instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from akhbar.config import Settings
from akhbar.index import client_from_settings
from akhbar.security import SecurityError, SecurityPlan, check_security, setup_security

# Elasticsearch 8.19 reference, "Security privileges" (security-privileges.html).
DOCUMENTED_CLUSTER = {
    "all", "cancel_task", "create_snapshot", "grant_api_key", "manage", "manage_api_key", "manage_ccr", "manage_enrich",
    "manage_ilm", "manage_index_templates", "manage_ingest_pipelines", "manage_logstash_pipelines", "manage_ml",
    "manage_own_api_key", "manage_pipeline", "manage_rollup", "manage_security", "manage_slm", "manage_token",
    "manage_transform", "manage_watcher", "monitor", "monitor_ml", "monitor_snapshot", "monitor_transform", "monitor_watcher",
    "read_ccr", "read_ilm", "read_pipeline", "read_security", "read_slm",
}
DOCUMENTED_INDEX = {
    "all", "auto_configure", "create", "create_doc", "create_index", "delete", "delete_index", "index", "maintenance",
    "manage", "manage_follow_index", "manage_ilm", "manage_leader_index", "monitor", "read", "read_cross_cluster",
    "view_index_metadata", "write",
}
POWERFUL_CLUSTER = {"all", "manage", "manage_security", "manage_api_key", "grant_api_key", "manage_own_api_key"}


def test_indexer_is_limited_to_the_prefix() -> None:
    plan = SecurityPlan("news")
    role = plan.indexer_role()
    assert set(role["cluster"]) <= DOCUMENTED_CLUSTER and not set(role["cluster"]) & POWERFUL_CLUSTER
    assert [grant["names"] for grant in role["indices"]] == [["news-*"]]
    assert all(set(grant["privileges"]) <= DOCUMENTED_INDEX and "all" not in grant["privileges"] for grant in role["indices"])
    assert all(grant["allow_restricted_indices"] is False for grant in role["indices"])
    key = plan.api_key_request()
    assert key["name"] == "news-indexer" and key["role_descriptors"] == {"news_indexer": role}
    assert "expiration" not in key and SecurityPlan("news", "k", "90d").api_key_request()["expiration"] == "90d"


def test_analyst_reads_only() -> None:
    role = SecurityPlan("news").analyst_role()
    assert role["cluster"] == []
    assert role["indices"] == [{"names": ["news-*"], "privileges": ["read", "view_index_metadata"], "allow_restricted_indices": False}]
    (kibana,) = role["applications"]
    assert kibana["application"] == "kibana-.kibana"
    assert kibana["privileges"] and all(p.startswith("feature_") and p.endswith(".read") for p in kibana["privileges"])


def test_requests_in_order() -> None:
    reqs = SecurityPlan("news").requests()
    assert [(r["method"], r["path"]) for r in reqs] == [
        ("PUT", "/_security/role/news_indexer"), ("PUT", "/_security/role/news_analyst"), ("POST", "/_security/api_key"),
    ]
    assert len(SecurityPlan("news").requests(with_key=False)) == 2


def test_refuses_clearly_on_a_cluster_without_security(base_settings: Settings) -> None:
    es = client_from_settings(base_settings)
    with pytest.raises(SecurityError, match="security disabled"):
        check_security(es, base_settings.es_url)
    with pytest.raises(SecurityError):
        setup_security(es, base_settings.es_url, SecurityPlan("akhbar-test-security"))


def test_cli_refusal_and_dry_run(base_settings: Settings) -> None:
    env = {**os.environ, "AKHBAR_INDEX_PREFIX": "newsroom"}
    proc = subprocess.run([sys.executable, "-m", "akhbar.cli", "es", "setup-security"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1 and "security disabled" in proc.stderr.splitlines()[-1] and proc.stdout == ""
    dry = subprocess.run([sys.executable, "-m", "akhbar.cli", "es", "setup-security", "--dry-run"], capture_output=True, text=True, env={**env, "AKHBAR_ES_URL": "http://127.0.0.1:9"}, timeout=120)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == SecurityPlan("newsroom").requests()
