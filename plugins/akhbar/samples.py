"""The bundled sample outlets (config/samples) served on loopback, for the demo and the tests."""

from __future__ import annotations

import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from akhbar.config import CONFIG_DIR

SAMPLES_DIR = CONFIG_DIR / "samples"
PLACEHOLDER = b"{{BASE}}"


class SampleServer:
    """A threaded HTTP server on 127.0.0.1 serving pages/ and feeds/ with {{BASE}} replaced by its origin."""

    def __init__(self, root: Path = SAMPLES_DIR, port: int = 0) -> None:
        self.root = root
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                rel = urlsplit(self.path).path.lstrip("/")
                path = (server.root / rel).resolve()
                if server.root.resolve() not in path.parents or not path.is_file():
                    self.send_error(404)
                    return
                body = path.read_bytes().replace(PLACEHOLDER, server.base.encode())
                ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                if path.suffix == ".xml":
                    ctype = "application/xml"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def start(self) -> SampleServer:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SampleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_feeds_file(self, target: Path) -> Path:
        """Write a feeds file listing the sample feeds at this server's origin (private networks allowed)."""
        feeds = []
        for path in sorted((self.root / "feeds").glob("*.xml")):
            feeds.append({"name": f"sample-{path.stem}", "url": f"{self.base}/feeds/{path.name}", "outlet": _outlet_name(path.stem)})
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump({"allow_private_networks": True, "feeds": feeds}, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return target


def _outlet_name(stem: str) -> str:
    """Display name of a sample outlet from the manifest, else the feed's file stem."""
    manifest = SAMPLES_DIR / "manifest.yaml"
    data = yaml.safe_load(manifest.read_text(encoding="utf-8")) if manifest.exists() else {}
    outlet = (data or {}).get("outlets", {}).get(stem) or {}
    return str(outlet.get("display") or stem)
