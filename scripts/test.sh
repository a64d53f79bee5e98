#!/usr/bin/env bash
# The whole suite: install, start the local Elasticsearch if none answers, run pytest, stop what was started.
set -uo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/bootstrap.sh || exit 1
started=0
if [ -z "${AKHBAR_ES_URL:-}" ] && ! akhbar es status >/dev/null 2>&1; then
  akhbar es start || exit 1
  started=1
fi
cleanup() { if [ "$started" = 1 ]; then akhbar es stop; fi; }
trap cleanup EXIT
python -m pytest "$@"
