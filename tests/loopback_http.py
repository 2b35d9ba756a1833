"""Small HTTP servers on 127.0.0.1 for fault tests: a handler function answers each request.

Used to put a failing or credential-checking proxy in front of the real MLflow server (``forward``),
or to play a server that answers HTML or broken JSON. The ``loopback_http`` fixture starts them.
"""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Reply = tuple[int, dict[str, str], bytes | Iterable[bytes]]


@dataclass
class LoopbackHttp:
    uri: str
    requests: list[Exchange]


def forward(upstream: str, exchange: Exchange) -> Reply:
    """Send ``exchange`` on to ``upstream`` unchanged and return its answer (errors included)."""
    headers = {
        k: v
        for k, v in exchange.headers.items()
        if k.lower() not in ("host", "authorization", "content-length")
    }
    request = urllib.request.Request(
        upstream + exchange.path, data=exchange.body or None, method=exchange.method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return (
                response.status,
                {"Content-Type": response.headers.get("Content-Type", "")},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return error.code, {"Content-Type": error.headers.get("Content-Type", "")}, error.read()


def start_loopback_http(
    handle: Callable[[Exchange], Reply], servers: list[http.server.ThreadingHTTPServer]
) -> LoopbackHttp:
    """Serve ``handle`` on a free loopback port; the server is added to ``servers`` for shutdown."""
    seen: list[Exchange] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            exchange = Exchange(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            seen.append(exchange)
            status, headers, body = handle(exchange)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if isinstance(body, bytes):
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            # An iterable of pieces: sent as they come (a slow or endless server), then the connection closes.
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for piece in body:
                    self.wfile.write(piece)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    servers.append(server)
    return LoopbackHttp(f"http://127.0.0.1:{server.server_address[1]}", seen)
