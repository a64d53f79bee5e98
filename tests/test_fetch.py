"""The guarded fetcher against a real loopback HTTP server, and encoding detection."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from akhbar.config import load_tunables
from akhbar.fetch import BlockedAddress, Fetcher, FetchError, decode_body, garbled_reason, link_canonical, parse_networks, vet_url

ARABIC = "أعلنت وزارة الدفاع إرسال قوات إضافية إلى قاعدة القيارة جنوب الموصل"


@pytest.fixture
def fetcher() -> Fetcher:
    with Fetcher(load_tunables(), allow_private=True) as f:
        yield f


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/", "http://localhost/", "http://0.0.0.0/", "http://[::1]/",
        "http://[::ffff:127.0.0.1]/", "http://2130706433/", "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/", "http://100.64.0.1/", "http://[fc00::1]/",
        # the same families in their other spellings and IPv4-mapped forms
        "http://127.1/", "http://0x7f000001/", "http://0177.0.0.1/", "http://[::ffff:7f00:1]/",
        "http://[::ffff:169.254.169.254]/", "http://[::ffff:10.0.0.1]/", "http://[::ffff:100.64.0.1]/",
        "http://[::ffff:192.168.0.1]/", "http://[::ffff:0.0.0.0]/", "http://[::ffff:224.0.0.1]/",
        "http://[fe80::1]/", "http://[fd12:3456::1]/", "http://[::]/",
        "http://224.0.0.1/", "http://239.255.255.250/", "http://[ff02::1]/", "http://[ff0e::1]/",
        "http://169.254.0.1/", "http://100.127.255.254/", "http://198.18.0.1/",
        "https://user:pw@127.0.0.1:8443/x",
        # IPv6 transition forms that route to a refused IPv4 address
        "http://[64:ff9b::a9fe:a9fe]/", "http://[64:ff9b::7f00:1]/", "http://[2002:a9fe:a9fe::1]/", "http://[2002:0a00:0001::1]/",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    ],
)
def test_private_addresses_refused(url: str) -> None:
    with pytest.raises(BlockedAddress, match="non-public address"):
        vet_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/x"])
def test_other_schemes_refused(url: str) -> None:
    with pytest.raises(BlockedAddress, match="scheme"):
        vet_url(url, allow_private=True)


def test_loopback_allowed_when_configured(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/a").respond_with_data("<html>ok</html>", content_type="text/html")
    resp = fetcher.get(httpserver.url_for("/a"))
    assert resp.status == 200 and resp.body == b"<html>ok</html>"


def test_public_addresses_pass() -> None:
    assert vet_url("http://93.184.215.14/", allow_private=False) == ["93.184.215.14"]
    assert vet_url("http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", allow_private=False)
    assert vet_url("http://[::ffff:93.184.215.14]/", allow_private=False)
    assert vet_url("http://[64:ff9b::5db8:d70e]/", allow_private=False)  # NAT64 of a public address


def test_allowlisted_network_only() -> None:
    allow = parse_networks(["127.0.0.1/32"])
    assert vet_url("http://127.0.0.1:8080/", allow) == ["127.0.0.1"]
    assert vet_url("http://[::ffff:127.0.0.1]/", allow)
    for refused in ("http://127.0.0.2/", "http://10.0.0.1/", "http://169.254.169.254/"):
        with pytest.raises(BlockedAddress):
            vet_url(refused, allow)
    with pytest.raises(ValueError):
        parse_networks(["not-a-network"])


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.2:{port}/inside", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::ffff:192.168.0.1]/", "http://[::1]:{port}/", "file:///etc/passwd"],
)
def test_redirect_from_allowed_host_to_refused_one_is_refused(httpserver: HTTPServer, target: str) -> None:
    """Only 127.0.0.1 is allowed: its redirect hop to any other non-public address is refused before connecting."""
    inside = HTTPServer(host="127.0.0.2", port=0)
    inside.expect_request("/inside").respond_with_data("secret")
    inside.start()
    try:
        location = target.format(port=inside.port if "127.0.0.2" in target else httpserver.port)
        httpserver.expect_request("/r").respond_with_data("", status=302, headers={"Location": location})
        with Fetcher(load_tunables(), allow_private=parse_networks(["127.0.0.1/32"])) as f, pytest.raises(BlockedAddress):
            f.get(f"http://127.0.0.1:{httpserver.port}/r")
        assert len([r for r, _ in httpserver.log if r.path == "/r"]) == 1  # the allowed hop was made
        assert inside.log == []
    finally:
        inside.stop()


def test_redirects_are_followed_and_bounded(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/start").respond_with_data("", status=301, headers={"Location": "/end"})
    httpserver.expect_request("/end").respond_with_data("done", content_type="text/html")
    resp = fetcher.get(httpserver.url_for("/start"))
    assert resp.final_url.endswith("/end") and resp.body == b"done"
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with pytest.raises(FetchError, match="redirects"):
        fetcher.get(httpserver.url_for("/loop"))


def test_body_cap_enforced(httpserver: HTTPServer) -> None:
    tunables = {"fetch": {**load_tunables()["fetch"], "max_body_bytes": 1000}}
    httpserver.expect_request("/big").respond_with_data("x" * 5000, content_type="text/html")
    with Fetcher(tunables, allow_private=True) as f, pytest.raises(FetchError, match="cap"):
        f.get(httpserver.url_for("/big"))


def test_html_only_refuses_other_types(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/bin").respond_with_data(b"\x00\x01", content_type="application/octet-stream")
    with pytest.raises(FetchError, match="not an HTML page"):
        fetcher.get(httpserver.url_for("/bin"), html_only=True)


def test_user_agent_names_the_project(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/ua", headers={"User-Agent": fetcher._client.headers["User-Agent"]}).respond_with_data("ok")
    assert fetcher.get(httpserver.url_for("/ua")).status == 200
    assert "Akhbar" in fetcher._client.headers["User-Agent"]


def test_decode_windows_1256_declared_in_meta() -> None:
    html = f'<html><head><meta charset="windows-1256"></head><body>{ARABIC}</body></html>'
    text, enc = decode_body(html.encode("cp1256"), "text/html")
    assert ARABIC in text and enc == "windows-1256"


def test_decode_mislabelled_windows_1256() -> None:
    html = f'<html><head><meta charset="iso-8859-1"></head><body>{ARABIC}</body></html>'
    text, enc = decode_body(html.encode("cp1256"), "text/html; charset=ISO-8859-1")
    assert ARABIC in text and "\ufffd" not in text and enc == "windows-1256"


def test_decode_utf8_labelled_as_1256() -> None:
    html = f'<html><head><meta charset="windows-1256"></head><body>{ARABIC}</body></html>'
    text, enc = decode_body(html.encode("utf-8"), "")
    assert ARABIC in text and enc == "utf-8"


def test_decode_xml_declaration() -> None:
    xml = f'<?xml version="1.0" encoding="windows-1256"?><rss><channel><title>{ARABIC}</title></channel></rss>'
    text, enc = decode_body(xml.encode("cp1256"), "application/xml")
    assert ARABIC in text and enc == "windows-1256"


def test_tls_errors_fail_and_are_never_downgraded() -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    server = HTTPServer(ssl_context=server_ctx)
    server.start()
    try:
        server.expect_request("/feed").respond_with_data("<rss/>", content_type="application/rss+xml")
        url = server.url_for("/feed")
        assert url.startswith("https://")
        with Fetcher(load_tunables(), allow_private=True) as f, pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSL"):
            f.get(url)
        assert server.log == [] or all(req.url.startswith("https") for req, _ in server.log), "no plain-http retry"
    finally:
        server.clear()
        server.stop()


def test_decode_body_with_wrong_http_charset_but_right_meta() -> None:
    html = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256"></head><body>{ARABIC}</body></html>'
    text, enc = decode_body(html.encode("cp1256"), "text/html; charset=utf-8")
    assert ARABIC in text and enc == "windows-1256" and garbled_reason(text) is None


def test_garbled_text_is_recognised() -> None:
    assert garbled_reason(ARABIC) is None
    assert "U+FFFD" in garbled_reason(ARABIC + "\ufffd")
    assert "mojibake" in garbled_reason(ARABIC.encode("utf-8").decode("cp1256"))
    assert "mojibake" in garbled_reason(ARABIC.encode("utf-8").decode("latin-1"))


def test_link_canonical() -> None:
    html = '<html><head><link href="/news/1?utm_source=x" rel="Canonical"><link rel="alternate" href="/rss"></head></html>'
    assert link_canonical(html, "https://outlet.example/amp/news/1") == "https://outlet.example/news/1?utm_source=x"
    assert link_canonical("<html><head></head><body></body></html>", "https://outlet.example/") is None


def test_trickled_headers_hit_the_total_deadline() -> None:
    from web import TrickleServer

    server = TrickleServer("127.0.0.2", every_s=0.1, slow_headers=True)
    tunables = {"fetch": {**load_tunables()["fetch"], "total_deadline_s": 1.0, "read_timeout_s": 0.5}}
    try:
        with Fetcher(tunables, allow_private=True) as f, pytest.raises(FetchError, match="1s total deadline"):
            f.get(f"{server.url}/feed")
    finally:
        server.close()
    assert server.most_sent < 15


def test_connection_goes_to_the_vetted_address_only(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    """The socket backend connects to the address pinned for the host, never to a lookup of its own."""
    from akhbar import fetch

    httpserver.expect_request("/pinned").respond_with_data("pinned", content_type="text/html")
    url = f"http://outlet.invalid:{httpserver.port}/pinned"  # .invalid never resolves
    fetch._pins.map = {"outlet.invalid": "127.0.0.1"}
    try:
        resp = fetcher._client.get(url)
    finally:
        fetch._pins.map = {}
    assert resp.text == "pinned" and resp.request.headers["Host"] == f"outlet.invalid:{httpserver.port}"
    import httpx

    with pytest.raises(httpx.ConnectError, match="not vetted"):
        fetcher._client.get(httpserver.url_for("/pinned"))
