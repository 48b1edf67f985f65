"""What Forter's tests share: the seeded tokens, the hosts mapped to echo, a local HTTPS target."""

from __future__ import annotations

import gzip
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "ftr1df95272f9e204c5791427722cc4ef407"
CVC_TOKEN = "ftr1c0ffee00000000000000000000000001"
ECHO_HOSTS = (
    "api.forter-secure.com",
    "prod.emea.api.fiservapps.com",
    "try.access.worldpay.com",
    "api.stripe.com",
    "gateway.ixopay.com",
)


class TargetHandler(BaseHTTPRequestHandler):
    """A PSP stand-in: answers what it received as JSON (``/teapot``: 418, ``/gzip``: gzip)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        seen = {
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body": body.decode("utf-8", "replace"),
        }
        self.server.seen.append(seen)  # type: ignore[attr-defined]
        payload = json.dumps(seen).encode()
        status = 200
        extra: list[tuple[str, str]] = [("X-Target", "local")]
        if self.path.startswith("/teapot"):
            status = 418
        if self.path.startswith("/gzip"):
            payload = gzip.compress(payload)
            extra.append(("Content-Encoding", "gzip"))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


class Target:
    """A real HTTPS server on loopback (its certificate minted by the proxy's CA)."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.port = server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"

    @property
    def seen(self) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = self.server.seen  # type: ignore[attr-defined]
        return seen

    @classmethod
    def start(cls, context: ssl.SSLContext) -> Target:
        """Serve on a free loopback port, presenting `context`'s certificate."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), TargetHandler)
        server.daemon_threads = True
        server.seen = []  # type: ignore[attr-defined]
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        return cls(server)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
