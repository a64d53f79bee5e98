#!/usr/bin/env bash
# Install everything Akhbar needs on a fresh machine: uv, the locked Python environment, the Airflow metadata DB.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
fi
# Bytecode is compiled at install: environments that set PYTHONDONTWRITEBYTECODE would otherwise compile every module
# from source in every process (seconds per start of `akhbar`, of a task, of a worker).
uv sync --frozen --quiet --compile-bytecode
python -m compileall -q plugins dags >/dev/null || true
if [ ! -f "$AIRFLOW_HOME/.migrated" ] || [ "$AIRFLOW_HOME/.migrated" -ot uv.lock ]; then
  mkdir -p "$AIRFLOW_HOME"
  airflow db migrate >"$AIRFLOW_HOME/migrate.log" 2>&1 || { tail -20 "$AIRFLOW_HOME/migrate.log"; exit 1; }
  touch "$AIRFLOW_HOME/.migrated"
fi
