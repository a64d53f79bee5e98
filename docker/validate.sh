#!/usr/bin/env bash
# Offline validation of docker/compose.yaml: no Docker engine is needed (none runs on
# the build machines), only a compose client, which `config` runs without an engine.
#
#   1. `compose --env-file .env.example -f compose.yaml config` must succeed;
#   2. every ${VAR} that compose.yaml interpolates must be listed in .env.example;
#   3. leaving out any one credential must make `config` fail (the ${VAR:?} guards).
#
# Uses `docker compose` (v2 plugin) if present, else `docker-compose`; if neither is
# there, installs Debian's docker-compose package. Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "${here}"

COMPOSE=()
find_compose() {
    if docker compose version >/dev/null 2>&1; then
        COMPOSE=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1; then
        COMPOSE=(docker-compose)
    else
        return 1
    fi
}

if ! find_compose; then
    echo "validate.sh: no compose client; installing Debian's docker-compose" >&2
    sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq docker-compose >/dev/null
    find_compose || { echo "validate.sh: FAIL: docker-compose still not available" >&2; exit 1; }
fi
echo "validate.sh: using $("${COMPOSE[@]}" version 2>/dev/null | head -n1)"

# Run compose with none of .env.example's variables inherited from this shell, so the
# result depends on the env file alone.
unset_args=()
while IFS= read -r name; do
    unset_args+=(-u "${name}")
done < <(sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' .env.example)
compose_config() {  # $1: env file
    env "${unset_args[@]}" "${COMPOSE[@]}" --env-file "$1" -f compose.yaml config
}

failures=0
tmpdir="$(mktemp -d)"
trap 'rm -rf "${tmpdir}"' EXIT

# 1. The file is valid with the example settings.
if compose_config .env.example >"${tmpdir}/config.out" 2>"${tmpdir}/config.err"; then
    echo "ok: config with .env.example"
else
    echo "FAIL: config with .env.example:" >&2
    cat "${tmpdir}/config.err" >&2
    failures=$((failures + 1))
fi

# 2. Every interpolated variable has an example value ($${VAR} is a container-side variable).
missing=()
while IFS= read -r name; do
    grep -q "^${name}=" .env.example || missing+=("${name}")
done < <(grep -vE '^[[:space:]]*#' compose.yaml | grep -oE '(^|[^$])\$\{[A-Za-z_][A-Za-z0-9_]*' | sed -E 's/.*\$\{//' | sort -u)
if ((${#missing[@]})); then
    echo "FAIL: used in compose.yaml but missing from .env.example: ${missing[*]}" >&2
    failures=$((failures + 1))
else
    echo "ok: every interpolated variable is in .env.example"
fi

# 3. Credentials are required: config fails without each one.
credentials=(
    ELASTIC_PASSWORD KIBANA_PASSWORD
    KIBANA_SECURITY_ENCRYPTION_KEY KIBANA_SAVED_OBJECTS_ENCRYPTION_KEY KIBANA_REPORTING_ENCRYPTION_KEY
    POSTGRES_USER POSTGRES_PASSWORD AIRFLOW_ADMIN_USERNAME AIRFLOW_ADMIN_PASSWORD
    AIRFLOW__CORE__FERNET_KEY AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY
    AKHBAR_ES_API_KEY
)
unguarded=0
for name in "${credentials[@]}"; do
    grep -v "^${name}=" .env.example >"${tmpdir}/partial.env"
    if compose_config "${tmpdir}/partial.env" >/dev/null 2>"${tmpdir}/partial.err"; then
        echo "FAIL: config succeeds without ${name}: it is not guarded by \${${name}:?...}" >&2
        unguarded=$((unguarded + 1))
    elif ! grep -q "${name}" "${tmpdir}/partial.err"; then
        echo "FAIL: config without ${name} failed for another reason:" >&2
        cat "${tmpdir}/partial.err" >&2
        unguarded=$((unguarded + 1))
    fi
done
failures=$((failures + unguarded))
if ((unguarded == 0)); then
    echo "ok: each of ${#credentials[@]} credentials is required"
fi

if ((failures)); then
    echo "validate.sh: FAILED (${failures} problem(s))" >&2
    exit 1
fi
echo "validate.sh: compose.yaml is valid"
