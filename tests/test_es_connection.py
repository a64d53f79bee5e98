"""Cluster credentials from an Airflow connection (AKHBAR_ES_CONN_ID), read through Airflow's own secrets lookup."""

from __future__ import annotations

import json

import pytest

from akhbar.config import Settings
from akhbar.tasks import settings_from_connection


def test_api_key_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "generic", "host": "es01", "port": 9200, "schema": "https", "extra": {"api_key": "ZW5jb2RlZA==", "ca_certs": "/opt/airflow/es-ca/ca.crt"}}
    monkeypatch.setenv("AIRFLOW_CONN_AKHBAR_ES_TEST", json.dumps(conn))
    settings = settings_from_connection(Settings.from_env({}), "akhbar_es_test")
    assert settings.es_url == "https://es01:9200" and settings.es_api_key == "ZW5jb2RlZA==" and settings.es_user is None
    assert settings.es_ca_certs == "/opt/airflow/es-ca/ca.crt" and settings.es_external


def test_password_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "generic", "host": "es.example.org", "login": "akhbar_writer", "password": "s3cret-pass"}
    monkeypatch.setenv("AIRFLOW_CONN_AKHBAR_ES_TEST", json.dumps(conn))
    settings = settings_from_connection(Settings.from_env({}), "akhbar_es_test")
    assert settings.es_url == "https://es.example.org:9200"
    assert (settings.es_user, settings.es_password, settings.es_api_key) == ("akhbar_writer", "s3cret-pass", None)
