#!/usr/bin/env bash
# Akhbar image entrypoint: writes a CA bundle of public roots plus the Elasticsearch
# cluster's CA, then hands over to the official Airflow entrypoint (/entrypoint).
#
# Why a bundle and not the cluster CA alone: httpx (SSL_CERT_FILE) and requests
# (REQUESTS_CA_BUNDLE) use that one file for every HTTPS request, so pointing them at
# the private CA alone would break fetching feeds from public HTTPS sites.
#
#   AKHBAR_ES_CA_CERTS  the cluster CA (es-ca volume), may be absent before es01 is up
#   SSL_CERT_FILE       where the bundle is written (REQUESTS_CA_BUNDLE names the same file)
set -euo pipefail

bundle="${SSL_CERT_FILE:-/tmp/akhbar-ca-bundle.pem}"
cluster_ca="${AKHBAR_ES_CA_CERTS:-}"

# Public roots from certifi, read without the variables this script is about to satisfy.
roots="$(env -u SSL_CERT_FILE -u REQUESTS_CA_BUNDLE python -c 'import certifi; print(certifi.where())')"

tmp="$(mktemp "${bundle}.XXXXXX")"
cat "${roots}" > "${tmp}"
if [[ -n "${cluster_ca}" && -r "${cluster_ca}" ]]; then
    printf '\n# Elasticsearch cluster CA (%s)\n' "${cluster_ca}" >> "${tmp}"
    cat "${cluster_ca}" >> "${tmp}"
else
    echo "akhbar-entrypoint: cluster CA '${cluster_ca}' not readable yet; ${bundle} holds public roots only" >&2
fi
chmod 0644 "${tmp}"
mv -f "${tmp}" "${bundle}"

exec /entrypoint "$@"
