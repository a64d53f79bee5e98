"""Bounded, SSRF-guarded HTTP fetching with honest encoding detection."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import time
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from akhbar.normalize import arabic_ratio

log = logging.getLogger(__name__)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_\-.]+)["']""", re.I)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_REDIRECTS = {301, 302, 303, 307, 308}


class FetchError(Exception):
    """A URL could not be fetched; the message is the recorded reason."""


class BlockedAddress(FetchError):
    """A URL points at an address the SSRF guard refuses."""


@dataclass(frozen=True)
class Response:
    """A fetched body and what is known about it."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for loopback, private, link-local, CGNAT, ULA, multicast, unspecified and reserved addresses."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _forbidden(ip.ipv4_mapped)
    return not ip.is_global or ip.is_multicast


Allowance = bool | Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]


def _allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: Allowance) -> bool:
    """True when a non-public address is allowed: all of them (True) or those in the listed networks."""
    if isinstance(allow_private, bool):
        return allow_private
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in allow_private)


def vet_url(url: str, allow_private: Allowance) -> list[str]:
    """Check scheme and resolved addresses of url; return the addresses it may connect to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedAddress(f"scheme {parts.scheme or '(none)'!r} refused: only http and https are fetched")
    host = parts.hostname
    if not host:
        raise FetchError(f"no host in URL {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for addr in addresses:
        ip = ipaddress.ip_address(addr.split("%")[0])
        if _forbidden(ip) and not _allowed(ip, allow_private):
            raise BlockedAddress(f"{host} resolves to {addr}, a non-public address not allowed by allow_private_networks")
    return addresses


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Rewrite url to connect to the vetted address while keeping Host and TLS server name."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    ip_host = f"[{address}]" if ":" in address else address
    netloc = ip_host + (f":{parts.port}" if parts.port else "")
    headers = {"Host": parts.netloc.rsplit("@", 1)[-1]}
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), headers, extensions


class Fetcher:
    """An HTTP client with timeouts, a total deadline, a body cap, guarded redirects and a pinned address."""

    def __init__(self, tunables: dict[str, Any], allow_private: Allowance = False) -> None:
        fetch = tunables.get("fetch", {})
        self.allow_private = allow_private
        self.deadline_s = float(fetch.get("total_deadline_s", 30))
        self.max_bytes = int(fetch.get("max_body_bytes", 5 * 1024 * 1024))
        self.max_redirects = int(fetch.get("max_redirects", 5))
        agent = f"{fetch.get('user_agent', 'AkhbarBot/0.1')} contact: {fetch.get('contact', '')}".strip()
        timeout = httpx.Timeout(
            connect=float(fetch.get("connect_timeout_s", 5)),
            read=float(fetch.get("read_timeout_s", 10)),
            write=10.0,
            pool=10.0,
        )
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": agent, "Accept-Language": "ar,en;q=0.5"},
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, *, accept: str = "*/*", html_only: bool = False, headers: dict[str, str] | None = None) -> Response:
        """GET url following at most max_redirects guarded hops; raise FetchError with the reason."""
        start = time.monotonic()
        deadline = start + self.deadline_s
        current = url
        for _hop in range(self.max_redirects + 1):
            addresses = vet_url(current, self.allow_private)
            target, host_header, extensions = _pinned(current, addresses[0])
            req_headers = {"Accept": accept, **host_header, **(headers or {})}
            try:
                request = self._client.build_request("GET", target, headers=req_headers, extensions=extensions)
                resp = self._client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise FetchError(f"timeout connecting to {current}: {type(exc).__name__}") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"HTTP error for {current}: {type(exc).__name__}: {exc}") from exc
            try:
                if resp.status_code in _REDIRECTS and "location" in resp.headers:
                    current = urljoin(current, resp.headers["location"])
                    continue
                if html_only and resp.status_code == 200:
                    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                    if ctype and ctype not in _HTML_TYPES:
                        raise FetchError(f"not an HTML page: content-type {ctype!r}")
                body = self._read_bounded(resp, deadline, current)
                if html_only and looks_binary(body):
                    raise FetchError(f"binary content served as {resp.headers.get('content-type', 'HTML')!r}")
            finally:
                resp.close()
            return Response(
                url=url,
                final_url=current,
                status=resp.status_code,
                headers={k.lower(): v for k, v in resp.headers.items()},
                body=body,
                elapsed_ms=(time.monotonic() - start) * 1000,
            )
        raise FetchError(f"more than {self.max_redirects} redirects from {url}")

    def _read_bounded(self, resp: httpx.Response, deadline: float, url: str) -> bytes:
        """Read a streamed body, enforcing the size cap and the total deadline."""
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"body of {url} is {declared} bytes, over the {self.max_bytes}-byte cap")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise FetchError(f"body of {url} exceeds the {self.max_bytes}-byte cap")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise FetchError(f"{url} exceeded the {self.deadline_s:.0f}s total deadline")
        except httpx.TimeoutException as exc:
            raise FetchError(f"read timeout on {url}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"transfer error on {url}: {type(exc).__name__}: {exc}") from exc
        return b"".join(chunks)


_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f]")


def looks_binary(body: bytes) -> bool:
    """True for bodies that are not text: NUL bytes or many control characters near the start."""
    head = body[:8192]
    return b"\x00" in head or (len(head) > 0 and len(_CONTROL.findall(head)) / len(head) > 0.05)


def _charset_from_header(content_type: str) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", content_type, re.I)
    return match.group(1).lower() if match else None


def _try_decode(body: bytes, encoding: str) -> str | None:
    """Decode strictly, or None when the bytes are not in that encoding."""
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_body(body: bytes, content_type: str = "") -> tuple[str, str]:
    """Decode an HTML or XML body to text; return (text, encoding used).

    Order: BOM; then bytes that are valid UTF-8 with non-ASCII content are UTF-8 whatever the label
    (windows-1256 text is practically never valid UTF-8, while UTF-8 read as windows-1256 yields
    Arabic-looking mojibake); then the HTTP charset, <meta charset> or XML declaration, and
    windows-1256. A label whose decoding has little Arabic where windows-1256 gives Arabic is treated
    as wrong, since Arabic outlets often mislabel their pages.
    """
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace"), "utf-8"
    if not body.isascii():
        utf8 = _try_decode(body, "utf-8")
        if utf8 is not None:
            return utf8, "utf-8"
    head = body[:4096]
    declared = [_charset_from_header(content_type)]
    for pattern in (_XML_DECL, _META_CHARSET):
        match = pattern.search(head)
        if match:
            declared.append(match.group(1).decode("ascii", "ignore").lower())
    candidates = [c for c in declared if c and c.replace("-", "") != "utf8"] + ["windows-1256"]
    decoded: list[tuple[str, str]] = []
    for enc in dict.fromkeys(candidates):
        text = _try_decode(body, enc)
        if text is not None:
            decoded.append((text, enc))
    if not decoded:
        return body.decode("utf-8", errors="replace"), "utf-8"
    first_text, first_enc = decoded[0]
    if arabic_ratio(first_text) >= 0.3:
        return first_text, first_enc
    best = max(decoded, key=lambda pair: arabic_ratio(pair[0]))
    return best if arabic_ratio(best[0]) > arabic_ratio(first_text) + 0.2 else (first_text, first_enc)
