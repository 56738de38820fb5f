"""Local servers for the security tests: 127.0.0.1 only, each bounded in time and stopped on exit."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
       b"<item><title>Local headline</title><guid>g1</guid></item></channel></rss>")


class Routes(BaseHTTPRequestHandler):
    """``/feed``: a feed; ``/hops/N``: N redirects then the feed; ``/to?URL``: a redirect to URL."""

    hits: list[str]

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.hits.append(f"{self.headers.get('Host')}{self.path}")
        if self.path.startswith("/hops/") and int(self.path.rsplit("/", 1)[1]) > 0:
            self._redirect(f"/hops/{int(self.path.rsplit('/', 1)[1]) - 1}")
        elif self.path.startswith("/to?"):
            self._redirect(self.path[4:])
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(RSS)))
            self.end_headers()
            self.wfile.write(RSS)

    def do_POST(self) -> None:  # noqa: N802
        self.hits.append(f"{self.headers.get('Host')}{self.path}")
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/to?"):
            self._redirect(self.path[4:], 307)
            return
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _redirect(self, where: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt: str, *args: object) -> None:
        pass


@contextmanager
def http_server() -> Iterator[tuple[int, list[str]]]:
    """(port, hits) of a Routes server on 127.0.0.1; hits lists "host/path" of every request."""
    hits: list[str] = []
    handler = type("Handler", (Routes,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def trickle(fast: bytes, slow: bytes, every: float = 1.0, life: float = 20.0) -> Iterator[int]:
    """A server that sends ``fast`` at once, then ``slow`` one byte every ``every`` seconds.

    One connection; it gives up after ``life`` seconds or when the block exits."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(life)
    stop = threading.Event()

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(life)
            try:
                conn.recv(65536)
                conn.sendall(fast)
                for byte in slow:
                    if stop.wait(every):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
        thread.join(5)
