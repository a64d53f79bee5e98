"""Roles and an API key for a security-enabled cluster: an indexer limited to the prefix, read-only analysts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, AuthenticationException, AuthorizationException, Elasticsearch

log = logging.getLogger(__name__)

# Kibana features an analyst may open read-only (Kibana's application privileges in Elasticsearch roles).
ANALYST_KIBANA_FEATURES = ("discover", "dashboard", "visualize", "maps")


class SecurityError(RuntimeError):
    """The cluster cannot take the roles and key: security disabled, or the caller may not manage security."""


@dataclass(frozen=True)
class SecurityPlan:
    """The roles and API key `akhbar es setup-security` creates for one index prefix."""

    prefix: str
    key_name: str | None = None
    key_expiration: str | None = None

    @property
    def pattern(self) -> str:
        """Every index, alias and rolled-over index of the prefix."""
        return f"{self.prefix}-*"

    @property
    def indexer_role_name(self) -> str:
        return f"{self.prefix}_indexer"

    @property
    def analyst_role_name(self) -> str:
        return f"{self.prefix}_analyst"

    def indexer_role(self) -> dict[str, Any]:
        """What the pipeline needs: templates and ILM policies, and full use of the prefix's indices only."""
        return {
            # monitor: node modules (analysis-common, ILM) and rollover times; templates and policies are cluster-wide objects.
            "cluster": ["monitor", "manage_index_templates", "manage_ilm"],
            "indices": [{
                "names": [self.pattern],
                # manage: mappings, rollover, refresh, deleting indices past retention (within the pattern only).
                "privileges": ["create_index", "read", "write", "view_index_metadata", "manage"],
                "allow_restricted_indices": False,
            }],
            "metadata": {"application": "akhbar", "prefix": self.prefix},
        }

    def analyst_role(self) -> dict[str, Any]:
        """Analysts: read the prefix's indices and use Discover, dashboards, visualisations and maps read-only."""
        return {
            "cluster": [],
            "indices": [{"names": [self.pattern], "privileges": ["read", "view_index_metadata"], "allow_restricted_indices": False}],
            "applications": [{
                "application": "kibana-.kibana",
                "privileges": [f"feature_{feature}.read" for feature in ANALYST_KIBANA_FEATURES],
                "resources": ["*"],
            }],
            "metadata": {"application": "akhbar", "prefix": self.prefix},
        }

    def api_key_request(self) -> dict[str, Any]:
        """The indexer API key: its privileges are the indexer role's, whatever the creating user may do."""
        body: dict[str, Any] = {
            "name": self.key_name or f"{self.prefix}-indexer",
            "role_descriptors": {self.indexer_role_name: self.indexer_role()},
            "metadata": {"application": "akhbar", "prefix": self.prefix},
        }
        if self.key_expiration:
            body["expiration"] = self.key_expiration
        return body

    def requests(self, with_key: bool = True) -> list[dict[str, Any]]:
        """Every request setup-security sends, in order (what --dry-run prints)."""
        out = [
            {"method": "PUT", "path": f"/_security/role/{self.indexer_role_name}", "body": self.indexer_role()},
            {"method": "PUT", "path": f"/_security/role/{self.analyst_role_name}", "body": self.analyst_role()},
        ]
        if with_key:
            out.append({"method": "POST", "path": "/_security/api_key", "body": self.api_key_request()})
        return out


def check_security(es: Elasticsearch, url: str) -> str:
    """The authenticated user's name, or SecurityError when the cluster has security off or refuses us."""
    try:
        who = es.security.authenticate()
    except AuthenticationException as exc:
        raise SecurityError(f"{url} refused the credentials: set AKHBAR_ES_USER/AKHBAR_ES_PASSWORD (or AKHBAR_ES_API_KEY) of a user with manage_security") from exc
    except ApiError as exc:
        raise SecurityError(
            f"{url} has Elasticsearch security disabled (the security API answered HTTP {exc.meta.status}): "
            "there are no roles or API keys to create; enable xpack.security.enabled on the cluster first"
        ) from exc
    return str(who.get("username", "?"))


def setup_security(es: Elasticsearch, url: str, plan: SecurityPlan, with_key: bool = True) -> dict[str, Any]:
    """Create or update both roles and, unless told not to, a new indexer API key; return what was made."""
    user = check_security(es, url)
    try:
        es.security.put_role(name=plan.indexer_role_name, **plan.indexer_role())
        es.security.put_role(name=plan.analyst_role_name, **plan.analyst_role())
        key = es.security.create_api_key(**plan.api_key_request()) if with_key else None
    except AuthorizationException as exc:
        raise SecurityError(f"user {user!r} may not manage roles and API keys on {url} (needs manage_security): {exc.message}") from exc
    out: dict[str, Any] = {"indexer_role": plan.indexer_role_name, "analyst_role": plan.analyst_role_name, "as_user": user}
    if key is not None:
        out |= {"api_key_id": key["id"], "api_key_name": key["name"], "encoded": key["encoded"], "expiration": key.get("expiration")}
    return out
