"""Feeds: the registry of polled feeds, fetching their bytes safely, parsing, and per-feed health.

Fetching is ours, parsing is feedparser's: we GET the bytes with a user agent, a deadline on the
whole request (``timeout``, ``[sentiment] fetch_timeout``), a size cap and a conditional request
(ETag / Last-Modified), then hand the bytes to ``feedparser.parse``. A 304 means "nothing new".
Local files work the same way (their mtime and size stand in for the validators). An ill-formed
feed is parsed as far as it goes; ``bozo`` is recorded on the feed, never fatal.

Feed URLs are hostile input (``shared.netguard``): http(s) only, no internal addresses unless
the host is in ``allow_hosts`` (checked when a feed is added and again at connect time, on every
redirect), local files only under the shipped data folder or ``file_roots``. Errors stored on a
feed say what failed in general terms (timed out, could not connect, HTTP 503), not the
network details behind it. At most ``MAX_ENTRIES`` entries of a feed are used.

Health per feed: last success, last error, consecutive failures and a backoff
(``next_attempt``) that doubles with each failure, capped at ``MAX_BACKOFF_S``.

    result = fetch("https://example.com/rss", etag=None, modified=None, timeout=20.0)
    parsed = parse(result)          # feedparser dict; parsed.bozo may be 1
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from apps.sentiment.store import iso, utcnow
from shared import netguard
from shared.errors import LorasuiteError
from shared.storage import Database

log = logging.getLogger(__name__)

USER_AGENT = "lorasuite-sentiment/0.1 (+https://github.com/lorasuite; feed monitor)"
TIMEOUT_S = 20.0
MAX_BYTES = 10 * 1024 * 1024
MAX_ENTRIES = 2000
MAX_BACKOFF_S = 6 * 3600
HostList = Iterable[str] | None
Roots = Iterable[str | Path] | None


class FetchError(LorasuiteError):
    """A feed could not be fetched (network, HTTP status, too big, too slow, refused, missing file)."""


@dataclass
class FetchResult:
    """What one fetch returned: the bytes (None when not modified) and the new validators."""

    source: str
    content: bytes | None
    status: int | None = None
    etag: str | None = None
    modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.content is None


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def fetch(source: str, etag: str | None = None, modified: str | None = None, timeout: float = TIMEOUT_S,
          max_bytes: int = MAX_BYTES, agent: str = USER_AGENT, allow_hosts: HostList = (),
          file_roots: Roots = ()) -> FetchResult:
    """The bytes of a feed URL or file, or ``content=None`` when the validators say unchanged.

    ``allow_hosts``: hosts exempt from the internal-address check; ``file_roots``: folders local
    files may be read from besides the shipped data folder (None: any path, for paths an operator
    typed on the command line)."""
    if is_url(source):
        return _fetch_http(source, etag, modified, float(timeout), max_bytes, agent, allow_hosts)
    if "://" in source and not source.lower().startswith("file:"):
        raise FetchError(f"{source}: only http(s) URLs and local paths are supported")
    try:
        path = netguard.check_path(source, file_roots)
    except netguard.BlockedURL as err:
        raise FetchError(str(err)) from None
    return _fetch_file(path, etag, modified, max_bytes)


def _fetch_file(path: Path, etag: str | None, modified: str | None, max_bytes: int) -> FetchResult:
    try:
        stat = path.stat()
    except OSError as err:
        raise FetchError(f"{path}: {err.strerror or err}") from err
    if not path.is_file():
        raise FetchError(f"{path}: not a file")
    if stat.st_size > max_bytes:
        raise FetchError(f"{path}: {stat.st_size} bytes is over the {max_bytes}-byte limit")
    tag, stamp = f'"{stat.st_size}-{stat.st_mtime_ns}"', str(stat.st_mtime_ns)
    if etag == tag and modified == stamp:
        return FetchResult(str(path), None, etag=tag, modified=stamp)
    return FetchResult(str(path), path.read_bytes(), etag=tag, modified=stamp)


def _fetch_http(url: str, etag: str | None, modified: str | None, timeout: float, max_bytes: int,
                agent: str, allow_hosts: HostList) -> FetchResult:
    import httpx

    headers = {"User-Agent": agent, "Accept-Encoding": "gzip, deflate",
               "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    try:
        with netguard.guarded_client(timeout, allow_hosts, headers=headers) as client, \
                client.stream("GET", url) as resp:
            if resp.status_code == 304:
                return FetchResult(url, None, 304, etag, modified)
            if not 200 <= resp.status_code < 300:
                raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason_phrase}".rstrip())
            got = {k.lower(): v for k, v in resp.headers.items()}
            if got.get("content-length", "").isdigit() and int(got["content-length"]) > max_bytes:
                raise FetchError(f"{url}: response is over the {max_bytes}-byte limit")
            raw = _read_capped(resp.iter_raw(), max_bytes, url)
            status = resp.status_code
    except netguard.BlockedURL as err:
        raise FetchError(f"{url}: refused: {err}") from None
    except httpx.HTTPError as err:
        log.debug("fetch %s failed: %r", url, err)
        raise FetchError(f"{url}: {_reason(err, timeout)}") from None
    content = _decompress(raw, got.get("content-encoding", ""), max_bytes, url)
    return FetchResult(url, content, status, got.get("etag") or None, got.get("last-modified") or None, got)


def _reason(err: Exception, timeout: float) -> str:
    """What went wrong, in general terms: no errno, address or port state for a caller to map a network."""
    import httpx

    if isinstance(err, httpx.TimeoutException):
        return f"no complete answer within {timeout:g} s"
    if isinstance(err, httpx.TooManyRedirects):
        return f"more than {netguard.MAX_REDIRECTS} redirects"
    if isinstance(err, httpx.ConnectError):
        return "could not connect"
    if isinstance(err, (httpx.RemoteProtocolError, httpx.DecodingError)):
        return "the answer is not valid HTTP"
    if isinstance(err, httpx.UnsupportedProtocol):
        return "only http(s) URLs are supported"
    return "the connection failed"


def _read_capped(chunks: Iterator[bytes], max_bytes: int, url: str) -> bytes:
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{url}: response is over the {max_bytes}-byte limit")
        parts.append(chunk)
    return b"".join(parts)


def _decompress(raw: bytes, encoding: str, max_bytes: int, url: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding not in ("gzip", "deflate"):
        return raw
    try:
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        out = decoder.decompress(raw, max_bytes + 1)
    except (zlib.error, gzip.BadGzipFile) as err:
        raise FetchError(f"{url}: bad {encoding} body ({err})") from err
    if len(out) > max_bytes:
        raise FetchError(f"{url}: response is over the {max_bytes}-byte limit once decompressed")
    return out


def parse(result: FetchResult) -> Any:
    """feedparser's reading of the bytes (bozo feeds come back parsed as far as possible)."""
    import feedparser

    headers = dict(result.headers)
    if is_url(result.source):
        headers.setdefault("content-location", result.source)
    try:
        return feedparser.parse(result.content or b"", response_headers=headers or None)
    except Exception as err:  # noqa: BLE001 - feedparser should not raise; if it does, the feed failed
        raise FetchError(f"{result.source}: feedparser failed ({err.__class__.__name__}: {err})") from err


def entries(parsed: Any, source: str, max_entries: int = MAX_ENTRIES) -> list:
    """The parsed entries, at most ``max_entries`` (a hostile feed of 200,000 tiny items would
    otherwise cost hours of scoring); the cut is logged."""
    found = list(parsed.entries) if parsed is not None else []
    if len(found) > max_entries:
        log.warning("%s has %d entries; only the first %d are used", source, len(found), max_entries)
    return found[:max_entries]


def expand(sources: list[str]) -> list[str]:
    """URLs and files as given; a directory becomes every (non-hidden) file under it, sorted."""
    out: list[str] = []
    for source in sources:
        path = Path(source)
        if is_url(source) or not path.is_dir():
            out.append(source)
            continue
        out.extend(str(p) for p in sorted(path.rglob("*")) if p.is_file() and not p.name.startswith("."))
    return out


# ---- the feed registry and health ------------------------------------------------------------

def list_feeds(db: Database) -> list[dict]:
    return db.query("SELECT * FROM sentiment_feeds ORDER BY name")


def get_feed(db: Database, name: str) -> dict | None:
    rows = db.query("SELECT * FROM sentiment_feeds WHERE name = :n", {"n": name})
    return rows[0] if rows else None


def add_feed(db: Database, name: str, url: str, interval_s: int = 900, source: str = "user", *,
             allow_hosts: HostList = (), file_roots: Roots = ()) -> dict:
    """Add or update a feed (name is the key); validates the values first.

    The URL must pass ``shared.netguard.check_url`` with ``allow_hosts`` / ``file_roots``
    (``[sentiment] allow_hosts`` / ``file_roots``); a local path is stored resolved."""
    name, url = (name or "").strip(), (url or "").strip()
    if not name:
        raise LorasuiteError("a feed needs a name")
    if not url:
        raise LorasuiteError(f"feed {name!r}: give a url (http(s)://...) or a local path")
    try:
        url = netguard.check_url(url, allow_hosts, file_roots)
    except netguard.BlockedURL as err:
        raise LorasuiteError(f"feed {name!r}: url refused: {err}") from None
    if int(interval_s) < 10:
        raise LorasuiteError(f"feed {name!r}: interval must be at least 10 seconds, got {interval_s}")
    with db.transaction() as tx:
        tx.execute("INSERT INTO sentiment_feeds (name, url, interval_s, source, created) VALUES (:n, :u, :i, :s, :c) "
                   "ON CONFLICT (name) DO UPDATE SET url = :u, interval_s = :i, enabled = 1",
                   {"n": name, "u": url, "i": int(interval_s), "s": source, "c": iso(utcnow())})
    return get_feed(db, name) or {}


def remove_feed(db: Database, name: str) -> bool:
    """Forget a feed (its items stay); True when it existed."""
    with db.transaction() as tx:
        return tx.execute("DELETE FROM sentiment_feeds WHERE name = :n", {"n": name}).rowcount > 0


def sync_config_feeds(db: Database, feeds: list, allow_hosts: HostList = (), file_roots: Roots = ()) -> list[str]:
    """Upsert the ``[[sentiment.feeds]]`` entries (name, url, interval_minutes); returns the names.
    Each URL passes the same checks as ``add_feed`` (``allow_hosts``, ``file_roots``)."""
    names = []
    for feed in feeds:
        add_feed(db, feed.name, feed.url, int(feed.interval_minutes * 60), "config",
                 allow_hosts=allow_hosts, file_roots=file_roots)
        names.append(feed.name)
    return names


def is_due(feed: dict, now_iso: str) -> bool:
    """False while a failing feed is backing off."""
    return not feed.get("next_attempt") or feed["next_attempt"] <= now_iso


def backoff_seconds(failures: int, interval_s: int) -> int:
    """Wait before retrying after ``failures`` consecutive failures: doubling, capped."""
    return int(min(max(interval_s, 30 * 2 ** max(failures, 0)), MAX_BACKOFF_S))


def record_failure(db: Database, name: str, error: str) -> None:
    now = utcnow()
    with db.transaction() as tx:
        row = tx.query("SELECT failures, interval_s FROM sentiment_feeds WHERE name = :n", {"n": name})
        if not row:
            return
        failures = int(row[0]["failures"]) + 1
        wait = backoff_seconds(failures, int(row[0]["interval_s"]))
        tx.execute("UPDATE sentiment_feeds SET failures = :f, last_error = :e, last_error_at = :t, last_checked = :t, "
                   "next_attempt = :na, last_status = 'error' WHERE name = :n",
                   {"f": failures, "e": error[:500], "t": iso(now), "na": iso(now + timedelta(seconds=wait)), "n": name})
    log.warning("feed %s failed (%d in a row, retry in %ds): %s", name, failures, wait, error)


def record_success(tx: Any, name: str, result: FetchResult, bozo: str | None, entries: int, new: int) -> None:
    """Mark a successful poll inside the caller's transaction (the one that stored its items)."""
    now = iso(utcnow())
    tx.execute("UPDATE sentiment_feeds SET failures = 0, last_success = :t, last_checked = :t, next_attempt = NULL, "
               "last_status = :s, bozo = :b, etag = :e, modified = :m, entries_seen = :es, "
               "items_new = items_new + :new WHERE name = :n",
               {"t": now, "s": "not modified" if result.not_modified else "ok", "b": bozo, "e": result.etag,
                "m": result.modified, "es": entries, "new": new, "n": name})
