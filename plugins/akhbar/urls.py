"""URL canonicalisation and deterministic ids derived from URLs."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|ref_src|at_medium|at_campaign|ocid|cmpid)$", re.I)
_AMP_PATH = re.compile(r"(/amp/?$|^/amp/|\.amp(?=\.html?$)|/amp(?=/))")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """Canonical form of an article URL: lower-case scheme and host, no default port, fragment, tracking or AMP marks."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("amp."):
        host = host[4:]
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" + ("" if port in (None, _DEFAULT_PORTS.get(scheme)) else f":{port}")
    path = _AMP_PATH.sub(lambda m: "/" if m.group(0).startswith("/") else "", parts.path) or "/"
    if path != "/" and path.endswith("/") and parts.path.endswith("/amp/"):
        path = path.rstrip("/") or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k) and k.lower() != "amp"]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def url_id(url: str) -> str:
    """Deterministic document id of an article: SHA-1 of its canonical URL."""
    return hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()
