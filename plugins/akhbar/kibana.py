"""Kibana saved objects (docker/kibana/*.ndjson): load them for a prefix and import them through Kibana's API."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx

from akhbar.config import ROOT

log = logging.getLogger(__name__)

KIBANA_DIR = ROOT / "docker" / "kibana"
DEFAULT_PREFIX = "akhbar"


class KibanaError(RuntimeError):
    """Kibana could not be reached or refused some objects; the message says which and why."""


def load_objects(prefix: str = DEFAULT_PREFIX, directory: Path = KIBANA_DIR) -> list[dict[str, Any]]:
    """Every saved object of the NDJSON files, ids and data-view patterns moved to the prefix."""
    objects: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.ndjson")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    objects.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise KibanaError(f"{path.name}:{number}: not JSON: {exc}") from exc
    return [_with_prefix(obj, prefix) for obj in objects] if prefix != DEFAULT_PREFIX else objects


def _moved(value: str, prefix: str) -> str:
    """An id or index pattern under the default prefix, renamed for another."""
    return f"{prefix}-{value[len(DEFAULT_PREFIX) + 1:]}" if value.startswith(f"{DEFAULT_PREFIX}-") else value


def _with_prefix(obj: dict[str, Any], prefix: str) -> dict[str, Any]:
    """One object rewritten for another index prefix (ids, references, data-view titles)."""
    obj = json.loads(json.dumps(obj))
    obj["id"] = _moved(obj["id"], prefix)
    for ref in obj.get("references", []):
        ref["id"] = _moved(ref["id"], prefix)
    if obj["type"] == "index-pattern":
        obj["attributes"]["title"] = _moved(obj["attributes"]["title"], prefix)
    return obj


def import_objects(
    url: str, objects: list[dict[str, Any]], *, space: str | None = None, user: str | None = None, password: str | None = None,
    api_key: str | None = None, ca_certs: str | None = None, timeout: float = 60,
) -> dict[str, Any]:
    """POST the objects to Kibana's saved objects import API (overwriting), or KibanaError with every refusal."""
    base = url.rstrip("/") + (f"/s/{space}" if space and space != "default" else "")
    headers = {"kbn-xsrf": "akhbar"}
    auth = None
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    elif user:
        auth = (user, password or "")
    body = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects).encode("utf-8")
    try:
        with httpx.Client(timeout=timeout, verify=ca_certs or True, auth=auth) as client:
            resp = client.post(f"{base}/api/saved_objects/_import", params={"overwrite": "true"}, headers=headers,
                               files={"file": ("akhbar.ndjson", body, "application/ndjson")})
    except httpx.HTTPError as exc:
        raise KibanaError(f"Kibana unreachable at {url}: {exc}") from exc
    if resp.status_code != 200:
        raise KibanaError(f"Kibana answered HTTP {resp.status_code}: {resp.text[:300]}")
    result = resp.json()
    if not result.get("success"):
        problems = "; ".join(f"{e.get('type')} {e.get('id')}: {e.get('error', {}).get('type')}" for e in result.get("errors", []))
        raise KibanaError(f"Kibana imported {result.get('successCount', 0)} of {len(objects)} objects; refused: {problems}")
    return result
