"""Outbound requests to URLs users give: no internal addresses, a deadline on the whole call.

Anything a feed editor, a feed or a config value names is hostile input. ``check_url`` is the
policy, applied when a URL is accepted (a feed added, a webhook sent); ``guarded_client``
applies it again at connect time, to every connection of every redirect:

- http and https only; ``file:`` URLs and local paths only under the shipped data folder or
  the given ``file_roots`` (``check_path``; symlinks resolved first);
- the host is resolved and every address must be public: loopback, private, link-local,
  shared (100.64/10), multicast, reserved, unspecified, and IPv4-mapped / 6to4 forms of those
  are refused, whatever the spelling (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``[::1]``);
- DNS rebinding: at connect time the name is resolved once, the addresses are checked, and the
  socket connects to one of those checked addresses; the Host header, TLS SNI and the
  certificate check still use the name (httpcore passes the origin's name to ``start_tls``);
- hosts listed in ``allow_hosts`` (``name``, ``name:port``, ``[v6]:port``) skip the address
  check: an intranet feed or a local relay the operator trusts;
- at most ``MAX_REDIRECTS`` redirects, only to http(s); proxies and .netrc from the
  environment are ignored (a proxy would connect for us, unchecked);
- the deadline covers the whole call: name lookup, connect, TLS and every read and write get
  only the time left, so a server trickling a byte a second cannot hold a call past it.

    url = check_url("https://example.com/rss", allow_hosts=["feeds.intranet"])
    with guarded_client(timeout=20.0) as client:
        response = client.get(url)
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpcore
import httpx

from shared.errors import LorasuiteError
from shared.home import data_dir

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
RESOLVE_TIMEOUT_S = 5.0
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_NUMERIC = re.compile(r"[0-9a-fx.]+", re.IGNORECASE)
_HOSTNAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedURL(LorasuiteError):
    """A URL or path the outbound policy refuses; the message says why and what to change."""


def is_public(ip: Address) -> bool:
    """True for a globally routable unicast address (IPv4-mapped and 6to4 forms judged by their IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is not None and not is_public(inner):
            return False
    return bool(ip.is_global) and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                       or ip.is_reserved or ip.is_unspecified)


def literal_ip(host: str) -> Address | None:
    """The address a host names literally, in any spelling the C resolver accepts (``0x7f.1``)."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def resolve(host: str, port: int, timeout: float = RESOLVE_TIMEOUT_S) -> list[tuple[Any, Any]]:
    """(family, sockaddr) for every address of ``host``; the lookup runs in a helper thread so a
    slow resolver cannot outlast ``timeout`` (raises TimeoutError, or OSError when it fails)."""
    out: dict[str, Any] = {}

    def lookup() -> None:
        try:
            out["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as err:
            out["error"] = err

    thread = threading.Thread(target=lookup, name="netguard-resolve", daemon=True)
    thread.start()
    thread.join(max(timeout, 0.0))
    if thread.is_alive():
        raise TimeoutError(f"looking up {host} took longer than {timeout:.1f} s")
    if "error" in out:
        raise out["error"]
    return list(dict.fromkeys((info[0], info[4]) for info in out["infos"]))


def _allow_set(allow_hosts: Iterable[str] | None) -> frozenset[str]:
    return frozenset(str(h).strip().lower() for h in (allow_hosts or ()) if str(h).strip())


def is_allowed(host: str, port: int, allow: frozenset[str]) -> bool:
    """Whether ``host`` (or ``host:port``) is on the allow list."""
    host = host.strip("[]").lower().rstrip(".")
    spelled = f"[{host}]" if ":" in host else host
    return bool(allow) and (host in allow or spelled in allow or f"{spelled}:{port}" in allow)


def check_host(host: str, port: int, allow_hosts: Iterable[str] | None = (),
               timeout: float = RESOLVE_TIMEOUT_S) -> None:
    """Refuse a host that is, or resolves to, a non-public address (unless it is allowed).

    A well-formed name that does not resolve now is let through: it is checked again, and
    refused if it must be, when a connection is made."""
    if is_allowed(host, port, _allow_set(allow_hosts)):
        return
    ip = literal_ip(host)
    if ip is not None:
        if not is_public(ip):
            raise BlockedURL(f"{host} is not a public address; internal addresses are refused "
                             "(list the host in [sentiment] allow_hosts if it is trusted)")
        return
    if not _HOSTNAME.fullmatch(host.lower()):
        raise BlockedURL(f"{host!r} is not a valid host name")
    if host.lower().rstrip(".").split(".")[-1] == "localhost":  # RFC 6761: always loopback
        raise BlockedURL(f"{host} is a loopback name; internal addresses are refused")
    try:
        addresses = resolve(host, port, timeout)
    except (OSError, TimeoutError) as err:
        log.info("%s does not resolve now (%s); it is checked again when connected", host, err)
        return
    if not all(is_public(ipaddress.ip_address(str(sockaddr[0]).split("%")[0])) for _, sockaddr in addresses):
        raise BlockedURL(f"{host} resolves to a non-public address; internal addresses are refused "
                         "(list the host in [sentiment] allow_hosts if it is trusted)")


def check_path(source: str | Path, file_roots: Iterable[str | Path] | None = ()) -> Path:
    """The resolved path of a local file or ``file:`` URL, which must lie under the shipped data
    folder or one of ``file_roots`` (``file_roots=None``: any path, for paths an operator typed)."""
    text = str(source).strip()
    if text.lower().startswith("file:"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise BlockedURL(f"{text}: file URLs must name a local path (file:///path)")
        text = unquote(parts.path)
    path = Path(text).expanduser().resolve()
    if file_roots is None:
        return path
    for root in (data_dir(), *file_roots):
        base = Path(root).expanduser().resolve()
        if path == base or path.is_relative_to(base):
            return path
    raise BlockedURL(f"{source}: local files must be under the shipped data folder or a folder listed in "
                     "[sentiment] file_roots")


def check_url(url: str, allow_hosts: Iterable[str] | None = (), file_roots: Iterable[str | Path] | None = (),
              timeout: float = RESOLVE_TIMEOUT_S) -> str:
    """The URL (or resolved local path) if the policy accepts it; BlockedURL says why not.

    http(s) URLs come back as given; local paths and ``file:`` URLs as absolute paths."""
    text = (url or "").strip()
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else ""
    if scheme in ("", "file") or len(scheme) == 1:  # no scheme, file:, or a Windows drive letter
        return str(check_path(text, file_roots))
    if scheme not in ("http", "https"):
        raise BlockedURL(f"{text}: only http(s) URLs and local files are allowed, not {scheme}:")
    try:
        parsed = httpx.URL(text)
        port = parsed.port or (443 if scheme == "https" else 80)
    except (httpx.InvalidURL, ValueError) as err:
        raise BlockedURL(f"{text}: not a valid URL ({err})") from err
    host = parsed.raw_host.decode("ascii")  # IDNA-encoded, IPv6 without brackets
    if not host:
        raise BlockedURL(f"{text}: the URL has no host")
    try:
        check_host(host, port, allow_hosts, timeout)
    except BlockedURL as err:
        raise BlockedURL(f"{text}: {err}") from None
    return text


class _Budget:
    """Time left before a deadline, as the timeout for the next network operation."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def left(self, timeout: float | None, error: type[Exception]) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise error("the request deadline has passed")
        return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake is bounded by the budget."""

    def __init__(self, inner: httpcore.NetworkStream, budget: _Budget) -> None:
        self._inner, self._budget = inner, budget

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._budget.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._budget.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        left = self._budget.left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, left), self._budget)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolve once, refuse non-public addresses, connect to a checked address, within the budget."""

    def __init__(self, allow: frozenset[str], budget: _Budget) -> None:
        self.allow, self.budget, self._plain = allow, budget, httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port, self.budget.left(timeout, httpcore.ConnectTimeout))
        except TimeoutError as err:
            raise httpcore.ConnectTimeout(str(err)) from err
        except OSError as err:
            raise httpcore.ConnectError(f"cannot resolve {host}") from err
        ips = [str(sockaddr[0]) for _, sockaddr in addresses]
        if not is_allowed(host, port, self.allow) and \
                not all(is_public(ipaddress.ip_address(ip.split("%")[0])) for ip in ips):
            raise BlockedURL(f"{host} resolves to a non-public address; internal addresses are refused "
                             "(list the host in [sentiment] allow_hosts if it is trusted)")
        error: Exception = httpcore.ConnectError(f"cannot connect to {host}")
        for ip in ips:
            try:
                stream = self._plain.connect_tcp(ip, port, self.budget.left(timeout, httpcore.ConnectTimeout),
                                                 local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                error = err
                continue
            return _DeadlineStream(stream, self.budget)
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise BlockedURL("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _refuse_other_schemes(request: httpx.Request) -> None:
    if request.url.scheme not in ("http", "https"):
        raise BlockedURL(f"{request.url}: only http(s) is allowed (also for redirects)")


def guarded_client(timeout: float = 20.0, allow_hosts: Iterable[str] | None = (), *,
                   max_redirects: int = MAX_REDIRECTS, verify: ssl.SSLContext | bool = True,
                   headers: dict[str, str] | None = None) -> httpx.Client:
    """An httpx client for ONE call (its deadline starts now) that enforces the policy at connect time.

    Redirects are followed (at most ``max_redirects``), each hop checked. ``verify`` is passed to
    httpx (an ``ssl.SSLContext`` for a private CA); certificates are checked against the name."""
    budget = _Budget(timeout)
    context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
    transport = httpx.HTTPTransport(verify=context, trust_env=False)
    if not isinstance(getattr(transport, "_pool", None), httpcore.ConnectionPool):  # httpx changed: fail closed
        raise RuntimeError("cannot install the guarded network backend in this httpx version")
    # httpx has no public hook for httpcore's network_backend yet (encode/httpx#3180), so the
    # transport's connection pool is replaced by one with the same TLS context and our backend.
    transport._pool = httpcore.ConnectionPool(ssl_context=context, max_connections=4,
                                              network_backend=_GuardedBackend(_allow_set(allow_hosts), budget))
    return httpx.Client(transport=transport, timeout=httpx.Timeout(timeout), follow_redirects=True,
                        max_redirects=max_redirects, trust_env=False, headers=headers,
                        event_hooks={"request": [_refuse_other_schemes]})
