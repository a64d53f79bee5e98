"""The guarded fetcher against a real loopback HTTP server, and encoding detection."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from akhbar.config import load_tunables
from akhbar.fetch import BlockedAddress, Fetcher, FetchError, decode_body, vet_url

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


def test_redirect_to_refused_address_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/r").respond_with_data("", status=302, headers={"Location": "http://169.254.169.254/"})
    with Fetcher(load_tunables(), allow_private=True) as f:
        # Allowed hop first (loopback is allowed here), then a hop that must still be vetted.
        f.allow_private = False
        with pytest.raises(BlockedAddress):
            f.get(httpserver.url_for("/r"))


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
