"""Bounded, SSRF-guarded HTTP fetching with honest encoding detection."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx
from protego import Protego

from akhbar.normalize import arabic_ratio

log = logging.getLogger(__name__)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_\-.]+)["']""", re.I)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_REDIRECTS = {301, 302, 303, 307, 308}
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.I)
_ATTR = re.compile(r"""([a-zA-Z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
# UTF-8 Arabic read as Latin-1/windows-1252 (Ø§Ù„) or as windows-1256 (ط§ظ„): the marks of mojibake.
_MOJIBAKE = re.compile("[\u00d8\u00d9][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]|[\u0637\u0638][\u00a0-\u00bf\u0152\u0153\u0192\u02c6\u2013-\u203a\u20ac\u2122\u067e\u0679\u0686\u0698\u0688\u06af\u06a9\u0691\u06ba\u06be\u06c1\u200c\u200d\u200e\u200f]")
_deadline = threading.local()
_pins = threading.local()
_ARABIC_RUN = re.compile("[\u0621-\u064a]")

Networks = bool | Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]


class FetchError(Exception):
    """A URL could not be fetched; the message is the recorded reason."""


class BlockedAddress(FetchError):
    """A URL points at an address the SSRF guard refuses."""


class RobotsDisallowed(FetchError):
    """The site's robots.txt does not let this crawler fetch the URL."""


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write is bounded by the request's total deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend with the total deadline of the calling thread's request enforced on every I/O."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None, socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        # Connections go to the address vet_url approved for this host in this request, never to a fresh lookup.
        address = getattr(_pins, "map", {}).get(host.lower().strip("[]"))
        if address is None:
            raise httpcore.ConnectError(f"{host} was not vetted for this request")
        return _DeadlineStream(self._inner.connect_tcp(address, port, _bounded(timeout, httpcore.ConnectTimeout), local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """The per-operation timeout shortened to what is left of the request's total deadline (a trickle cannot outlast it)."""
    end = getattr(_deadline, "at", None)
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("total deadline exceeded")
    return left if timeout is None else min(timeout, left)


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


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped, 6to4 or NAT64 (RFC 6052, last 32 bits)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for loopback, private, link-local, CGNAT, ULA, multicast, unspecified and reserved addresses, and for
    IPv6 addresses that embed one of those (IPv4-mapped, 6to4, NAT64)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and _forbidden(embedded):
            return True
        if ip.ipv4_mapped is not None:
            return False
    return not ip.is_global or ip.is_multicast


def parse_networks(value: object) -> Networks:
    """allow_private_networks from a feeds file: true/false, or a list of CIDR networks that are allowed."""
    if isinstance(value, bool):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(ipaddress.ip_network(v, strict=False) for v in value)
    raise ValueError("must be true, false or a list of CIDR networks")


def _allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: Networks) -> bool:
    """True when the address is public, or non-public but allowed by the feeds file."""
    if not _forbidden(ip):
        return True
    if isinstance(allow_private, bool):
        return allow_private
    plain = (_embedded_ipv4(ip) or ip) if isinstance(ip, ipaddress.IPv6Address) else ip
    return any(plain in net for net in allow_private)


def vet_url(url: str, allow_private: Networks) -> list[str]:
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
        if not _allowed(ipaddress.ip_address(addr.split("%")[0]), allow_private):
            raise BlockedAddress(f"{host} resolves to {addr}, a non-public address (not allowed by allow_private_networks)")
    return addresses


def _pin_map(url: str, address: str) -> dict[str, str]:
    """The vetted address of url's host, under the host's names as the socket backend may see them (IDNA too)."""
    host = (urlsplit(url).hostname or "").lower()
    names = {host}
    try:
        names.add(host.encode("idna").decode("ascii"))
    except UnicodeError:
        pass
    return dict.fromkeys(names, address)


class Robots:
    """robots.txt rules per origin, fetched once through the guarded fetcher and kept for the fetcher's life (RFC 9309).

    `seed` takes rules read earlier (the pipeline keeps them in Elasticsearch for a day); `fetched` gives the
    rules read during this fetcher's life, to be kept. Unreachable robots.txt files are not kept: retried next run.
    """

    def __init__(self, agent_token: str, max_crawl_delay_s: float = 30.0, max_bytes: int = 512_000) -> None:
        self.agent = agent_token
        self.max_crawl_delay_s = max_crawl_delay_s
        self.max_bytes = max_bytes
        self._rules: dict[str, Protego | str | None] = {}
        self._fetched: dict[str, str | None] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def seed(self, bodies: dict[str, str | None]) -> None:
        """Rules known already, by origin: a robots.txt body, or None for 'no robots.txt' (everything allowed)."""
        for origin, body in bodies.items():
            self._rules[origin] = Protego.parse(body) if body is not None else None

    def fetched(self) -> dict[str, str | None]:
        """robots.txt bodies (None: none there) read from the network by this fetcher, by origin."""
        return dict(self._fetched)

    @staticmethod
    def origin(url: str) -> str:
        """scheme://host[:port] of a URL: robots.txt applies per origin."""
        parts = urlsplit(url)
        return f"{parts.scheme.lower()}://{parts.netloc.rsplit('@', 1)[-1].lower()}"

    def _load(self, fetcher: Fetcher, origin: str) -> Protego | str | None:
        """Rules of an origin: parsed rules, None (everything allowed) or a reason everything is disallowed."""
        with self._guard:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            if origin in self._rules:
                return self._rules[origin]
            try:
                resp = fetcher.get(f"{origin}/robots.txt", accept="text/plain", check_robots=False, max_bytes=self.max_bytes)
            except BlockedAddress:
                raise
            except FetchError as exc:
                rules: Protego | str | None = f"robots.txt of {origin} unreachable ({exc}); treated as disallowing everything"
            else:
                if resp.status == 200:
                    body = resp.body.decode("utf-8", errors="replace")
                    rules = Protego.parse(body)
                    self._fetched[origin] = body
                elif 400 <= resp.status < 500:
                    rules = None
                    self._fetched[origin] = None
                else:
                    rules = f"robots.txt of {origin} answered HTTP {resp.status}; treated as disallowing everything"
            self._rules[origin] = rules
            return rules

    def load(self, fetcher: Fetcher, url: str) -> None:
        """Read (once) the robots.txt of url's origin; failures are kept as the origin's rules."""
        self._load(fetcher, self.origin(url))

    def check(self, fetcher: Fetcher, url: str) -> None:
        """Raise RobotsDisallowed unless the origin's robots.txt lets this crawler fetch url."""
        rules = self._load(fetcher, self.origin(url))
        if isinstance(rules, str):
            raise RobotsDisallowed(rules)
        if rules is not None and not rules.can_fetch(url, self.agent):
            raise RobotsDisallowed(f"robots.txt of {self.origin(url)} disallows {urlsplit(url).path or '/'} for {self.agent}")

    def crawl_delay(self, url: str) -> float | None:
        """The origin's Crawl-delay for this crawler, capped, if robots.txt was read and sets one."""
        rules = self._rules.get(self.origin(url))
        if not isinstance(rules, Protego):
            return None
        delay = rules.crawl_delay(self.agent)
        return None if delay is None else min(float(delay), self.max_crawl_delay_s)


class Fetcher:
    """An HTTP client with timeouts, a total deadline, a body cap, guarded redirects, a pinned address and robots.txt."""

    def __init__(self, tunables: dict[str, Any], allow_private: Networks = False, *, robots: bool = True) -> None:
        fetch = tunables.get("fetch", {})
        self.allow_private = allow_private
        self.deadline_s = float(fetch.get("total_deadline_s", 30))
        self.max_bytes = int(fetch.get("max_body_bytes", 5 * 1024 * 1024))
        self.max_redirects = int(fetch.get("max_redirects", 5))
        agent_name = str(fetch.get("user_agent", "AkhbarBot/0.1"))
        self.user_agent = f"{agent_name} contact: {fetch.get('contact', '')}".strip()
        self.robots = Robots(agent_name.split("/")[0].split()[0], float(fetch.get("max_crawl_delay_s", 30))) if robots else None
        self.host_delay_s = float(tunables.get("polite", {}).get("host_delay_s", 1.0))
        self._last_send: dict[str, float] = {}
        self._sending: set[str] = set()
        self.on_send: Callable[[str, float], None] | None = None
        self._pace_lock = threading.Lock()
        timeout = httpx.Timeout(
            connect=float(fetch.get("connect_timeout_s", 5)),
            read=float(fetch.get("read_timeout_s", 10)),
            write=10.0,
            pool=float(fetch.get("total_deadline_s", 30)),
        )
        limits = httpx.Limits(max_connections=int(fetch.get("max_connections", 64)), max_keepalive_connections=16)
        transport = httpx.HTTPTransport(limits=limits)
        # The same pool with a socket backend that enforces the total deadline on every read and write.
        transport._pool = httpcore.ConnectionPool(
            ssl_context=transport._pool._ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": self.user_agent, "Accept-Language": "ar,en;q=0.5"},
        )

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def crawl_delay(self, url: str) -> float | None:
        """Crawl-delay robots.txt sets for url's origin (capped), once robots.txt has been read."""
        return self.robots.crawl_delay(url) if self.robots else None

    def prepare(self, url: str) -> None:
        """Read the robots.txt of url's origin ahead of its first request (a refused address is left to that request)."""
        if self.robots is not None:
            try:
                self.robots.load(self, url)
            except FetchError:
                pass

    def _pace(self, url: str) -> float:
        """Wait until this host's delay has passed since its last request went out (and none is on its way); return the seconds waited."""
        host = (urlsplit(url).hostname or "").lower()
        delay = max(self.host_delay_s, self.crawl_delay(url) or 0.0)
        waited = 0.0
        while True:
            with self._pace_lock:
                now = time.monotonic()
                ready = self._last_send.get(host, float("-inf")) + delay
                if now >= ready and host not in self._sending:
                    self._last_send[host] = now
                    self._sending.add(host)
                    return waited
            pause = max(ready - now, 0.002)
            time.sleep(pause)
            waited += pause

    def _sent(self, url: str) -> None:
        """The request to url has gone out (or failed before it could): the host's delay counts from now."""
        host = (urlsplit(url).hostname or "").lower()
        with self._pace_lock:
            if host not in self._sending:
                return
            self._sending.discard(host)
            now = self._last_send[host] = time.monotonic()
        if self.on_send is not None:
            self.on_send(url, now)

    def _send(self, current: str, headers: dict[str, str]) -> httpx.Response:
        """Send one GET, paced from the moment its headers are written (a thread held up after the gate cannot bunch requests)."""
        def trace(event: str, _info: dict[str, Any]) -> None:
            if event.endswith("send_request_headers.complete"):
                self._sent(current)

        request = self._client.build_request("GET", current, headers=headers, extensions={"trace": trace})
        try:
            return self._client.send(request, stream=True)
        finally:
            self._sent(current)

    def get(
        self,
        url: str,
        *,
        accept: str = "*/*",
        html_only: bool = False,
        headers: dict[str, str] | None = None,
        check_robots: bool = True,
        max_bytes: int | None = None,
    ) -> Response:
        """GET url following at most max_redirects guarded hops; raise FetchError with the reason."""
        start = time.monotonic()
        deadline = start + self.deadline_s
        current = url
        for _hop in range(self.max_redirects + 1):
            addresses = vet_url(current, self.allow_private)
            if check_robots and self.robots is not None:
                self.robots.check(self, current)
            _pins.map = _pin_map(current, addresses[0])
            req_headers = {"Accept": accept, **(headers or {})}
            outer = getattr(_deadline, "at", None)
            try:
                # The scheduler spaces requests per host; this is the exact gate, right before sending.
                deadline += self._pace(current)
                _deadline.at = deadline if outer is None else min(outer, deadline)
                try:
                    try:
                        resp = self._send(current, req_headers)
                    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                        # A kept-alive connection that died under us (closed by the server, or its socket gone): GET
                        # is safe to send once more, after the host's delay.
                        deadline += self._pace(current)
                        _deadline.at = deadline if outer is None else min(outer, deadline)
                        resp = self._send(current, req_headers)
                except httpx.TimeoutException as exc:
                    raise FetchError(self._timeout_reason(current, deadline, exc)) from exc
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
                    body = self._read_bounded(resp, deadline, current, max_bytes or self.max_bytes)
                    if html_only and looks_binary(body):
                        raise FetchError(f"binary content served as {resp.headers.get('content-type', 'HTML')!r}")
                finally:
                    resp.close()
            finally:
                self._sent(current)  # a no-op once the request went out; frees the host if it failed before
                _deadline.at = outer
                _pins.map = {}
            return Response(
                url=url,
                final_url=current,
                status=resp.status_code,
                headers={k.lower(): v for k, v in resp.headers.items()},
                body=body,
                elapsed_ms=(time.monotonic() - start) * 1000,
            )
        raise FetchError(f"more than {self.max_redirects} redirects from {url}")

    def _timeout_reason(self, url: str, deadline: float, exc: Exception) -> str:
        """Say whether the total deadline or a connect/read timeout cut the request off."""
        if time.monotonic() >= deadline - 0.05:
            return f"{url} exceeded the {self.deadline_s:g}s total deadline"
        return f"timeout on {url}: {type(exc).__name__}"

    def _read_bounded(self, resp: httpx.Response, deadline: float, url: str, max_bytes: int) -> bytes:
        """Read a streamed body, enforcing the size cap and the total deadline."""
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"body of {url} is {declared} bytes, over the {max_bytes}-byte cap")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"body of {url} exceeds the {max_bytes}-byte cap")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise FetchError(f"{url} exceeded the {self.deadline_s:g}s total deadline")
        except httpx.TimeoutException as exc:
            raise FetchError(self._timeout_reason(url, deadline, exc)) from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"transfer error on {url}: {type(exc).__name__}: {exc}") from exc
        return b"".join(chunks)


_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f]")


def looks_binary(body: bytes) -> bool:
    """True for bodies that are not text: NUL bytes or many control characters near the start."""
    head = body[:8192]
    return b"\x00" in head or (len(head) > 0 and len(_CONTROL.findall(head)) / len(head) > 0.05)


def link_canonical(html: str, base_url: str) -> str | None:
    """The absolute href of the page's <link rel="canonical">, if it has one."""
    head = html[: html.lower().find("</head>") if "</head>" in html.lower() else 200_000]
    for tag in _LINK_TAG.findall(head):
        attrs = {m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None) for m in _ATTR.finditer(tag)}
        if "canonical" in attrs.get("rel", "").lower().split() and attrs.get("href", "").strip():
            href = urljoin(base_url, attrs["href"].strip())
            return href if href.startswith(("http://", "https://")) else None
    return None


def garbled_reason(text: str) -> str | None:
    """Why decoded text must not be indexed (replacement characters or mojibake), or None when it is clean."""
    if "\ufffd" in text:
        return f"{text.count(chr(0xFFFD))} undecodable characters (U+FFFD)"
    marks = len(_MOJIBAKE.findall(text))
    if marks >= 5 and marks * 8 > len(_ARABIC_RUN.findall(text)) + marks:
        return f"mojibake: {marks} sequences of UTF-8 Arabic decoded with a single-byte charset"
    return None


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
