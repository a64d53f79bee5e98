#!/usr/bin/env bash
# Local Elasticsearch plus `airflow standalone` with the ingest DAG unpaused, on config/feeds.yaml.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/bootstrap.sh
akhbar es start
export AKHBAR_FEEDS="${AKHBAR_FEEDS:-$ROOT/config/feeds.yaml}"
airflow dags reserialize >/dev/null 2>&1 || true
echo "Airflow UI on http://localhost:8080 (credentials in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated)"
exec airflow standalone
