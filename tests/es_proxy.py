"""A real loopback HTTP proxy in front of the local Elasticsearch that records bulk requests and injects faults.

Not a mock: every request it does not fail is forwarded to the real node and the node's answer returned.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# fault(path, body) -> None to forward, an int status to answer with, or "drop" to close without answering.
Fault = Callable[[str, bytes], "int | str | None"]


class ESProxy:
    """Forward to an Elasticsearch URL; keep every _bulk body; fail requests as fault() decides."""

    def __init__(self, target: str, fault: Fault | None = None) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 9200)
        self.fault = fault
        self.bulk_bodies: list[bytes] = []
        self.faults_injected = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                decision = proxy.fault(self.path, body) if proxy.fault else None
                if "/_bulk" in self.path:
                    with proxy._lock:
                        proxy.bulk_bodies.append(body)
                if decision == "drop":
                    with proxy._lock:
                        proxy.faults_injected += 1
                    self.close_connection = True
                    return
                if isinstance(decision, int):
                    with proxy._lock:
                        proxy.faults_injected += 1
                    payload = b'{"error":{"type":"es_rejected_execution_exception","reason":"injected by the test proxy"},"status":%d}' % decision
                    self.send_response(decision)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(*proxy.target, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                self.send_response(resp.status)
                for key, value in resp.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ESProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
