"""A tiny local feed endpoint (HTTP on 127.0.0.1) so the demo and tests poll real URLs.

It serves the files of one directory (default ``data/sentiment/feeds``) with ETag and
Last-Modified headers and answers conditional requests with 304, which is exactly what the
scheduler's conditional GET expects from a real publisher.

    server = FeedServer(data_dir("sentiment", "feeds")).start()
    server.url("markets.xml")      # http://127.0.0.1:<port>/markets.xml
    server.stop()
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    root: Path

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        name = self.path.split("?", 1)[0].lstrip("/")
        path = (self.root / name).resolve()
        if not name or self.root not in path.parents or not path.is_file():
            self.send_error(404, "no such feed")
            return
        body = path.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(int(path.stat().st_mtime), usegmt=True)
        if self.headers.get("If-None-Match") == etag or (
                not self.headers.get("If-None-Match") and self.headers.get("If-Modified-Since") == modified):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        kind = "application/atom+xml" if b"<feed" in body[:500] else "application/rss+xml"
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: object) -> None:
        log.debug("feedserver: " + fmt, *args)


class FeedServer:
    """Serve a directory of feed files on 127.0.0.1 (port 0 = any free port) in a thread."""

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root).resolve()
        handler = type("FeedHandler", (_Handler,), {"root": self.root})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def feeds(self) -> dict[str, str]:
        """Feed name (file stem) -> URL for every XML file served."""
        return {p.stem: self.url(p.name) for p in sorted(self.root.glob("*.xml"))}

    def start(self) -> FeedServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="sentiment-feedserver", daemon=True)
        self.thread.start()
        log.info("local feed endpoint serving %s on port %d", self.root, self.port)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
