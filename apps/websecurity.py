"""What the suite does about hostile browsers, in front of every route (Gradio's included).

``protect(app, config, guard, uploads)`` installs, outermost first:

- ``Shield`` (pure ASGI):
  * cross-site requests: a state-changing request (POST, PUT, PATCH, DELETE) whose ``Origin``
    (or, without one, ``Referer``) is neither this suite's own host nor listed in
    ``[suite] cors_origins`` gets 403 before any app sees it;
  * login throttling: ``POST .../login`` from an address the ``Guard`` has locked out gets 429 with
    ``Retry-After``; the answer of every other login attempt is counted (failure or success);
  * sessions: the session cookies Gradio sets are rewritten to ``SameSite=Lax``, ``Secure`` only
    behind TLS, ``Max-Age`` = ``[auth] session_hours``; a request whose session token is older is
    stripped of it (the page asks for the login again);
  * uploads: ``.../gradio_api/upload`` answers 404 on a page with no upload component;
  * ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: SAMEORIGIN``, ``Referrer-Policy``.
- Starlette's ``CORSMiddleware`` with ``[suite] cors_origins`` (default: none, i.e. same origin
  only). Gradio defers to a parent app that configures CORS, so its own echo-any-origin policy
  for non-localhost hosts is off.
"""

from __future__ import annotations

import json
import re
import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
_LOGIN = re.compile(r"/login/?$")
_UPLOAD = re.compile(r"^(.*)/gradio_api/upload/?$")
_TOKEN_COOKIE = re.compile(r"^access-token")


UPLOADERS = ("File", "UploadButton", "Image", "Audio", "Video", "Gallery", "MultimodalTextbox", "Model3D",
             "ImageEditor", "ImageSlider", "Files")


def accepts_uploads(blocks: Any) -> bool:
    """Whether a Gradio page has a component through which a visitor can upload a file (an
    explicit list: several display components carry file data or an upload event they never use)."""
    import gradio as gr

    kinds = tuple(getattr(gr, name) for name in UPLOADERS if hasattr(gr, name))
    return any(isinstance(c, kinds) and getattr(c, "interactive", None) is not False
               for c in getattr(blocks, "blocks", {}).values())


def protect(app: Any, config: Any, guard: Any, uploads: dict[str, bool]) -> None:
    from starlette.middleware.cors import CORSMiddleware

    app.add_middleware(CORSMiddleware, allow_origins=list(config.suite.cors_origins), allow_credentials=True,
                       allow_methods=["GET", "POST"], allow_headers=["*"])
    app.add_middleware(Shield, config=config, guard=guard, uploads=uploads)


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return "?"


class Shield:
    """The checks of the module docstring, as ASGI middleware."""

    def __init__(self, app: Any, config: Any, guard: Any, uploads: dict[str, bool]) -> None:
        self.app, self.guard, self.uploads = app, guard, uploads
        self.allowed = {_netloc(o) for o in config.suite.cors_origins}
        self.session_seconds = int(guard.session_seconds)
        self._issued: dict[str, float] = {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refuse(scope, headers)
        if refusal is not None:
            await _json(send, *refusal)
            return
        self._expire_sessions(scope, headers)
        login = scope["method"] == "POST" and bool(_LOGIN.search(scope["path"]))
        address = (scope.get("client") or ("?", 0))[0]
        tls = scope.get("scheme") == "https"

        async def wrapped(message: dict) -> None:
            if message["type"] == "http.response.start":
                if login:
                    self.guard.succeeded(address) if message["status"] == 200 else self.guard.failed(address)
                message["headers"] = self._response_headers(message.get("headers", []), tls)
            await send(message)

        await self.app(scope, receive, wrapped)

    def _refuse(self, scope: dict, headers: dict[str, str]) -> tuple[int, dict, dict] | None:
        method, path = scope["method"], scope["path"]
        if method in STATE_CHANGING and not self._same_site(headers):
            return 403, {"error": "cross-site request refused"}, {}
        if method == "POST" and _LOGIN.search(path):
            wait = self.guard.retry_after((scope.get("client") or ("?", 0))[0])
            if wait:
                return 429, {"error": "too many failed logins; try again later"}, {"retry-after": str(int(wait) + 1)}
        upload = _UPLOAD.match(path)
        if upload and not self.uploads.get(upload.group(1) or "/", False):
            return 404, {"error": "not found"}, {}
        return None

    def _same_site(self, headers: dict[str, str]) -> bool:
        source = headers.get("origin") or headers.get("referer")
        if source is None:
            return True  # not a browser's cross-site request (browsers send Origin on every POST)
        where = _netloc(source) if source != "null" else "null"
        return where == headers.get("host", "").lower() or where in self.allowed

    def _expire_sessions(self, scope: dict, headers: dict[str, str]) -> None:
        """Drop session cookies older than the session length from the request."""
        raw = headers.get("cookie")
        if not raw:
            return
        cookie = SimpleCookie()
        try:
            cookie.load(raw)
        except Exception:  # noqa: BLE001 - an unparsable cookie header is left to the app
            return
        now = time.time()
        stale = [k for k, m in cookie.items() if _TOKEN_COOKIE.match(k)
                 and now - self._issued.get(m.value, 0.0) > self.session_seconds]
        if stale:
            kept = "; ".join(f"{k}={m.value}" for k, m in cookie.items() if k not in stale)
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"cookie"] + \
                [(b"cookie", kept.encode("latin-1"))]

    def _response_headers(self, raw: list, tls: bool) -> list:
        out = []
        for key, value in raw:
            if key.lower() == b"set-cookie":
                value = self._cookie(value.decode("latin-1"), tls).encode("latin-1")
            out.append((key, value))
        names = {k.lower() for k, _ in out}
        if b"access-control-allow-origin" not in names:  # no CORS grant: say nothing about credentials
            out = [(k, v) for k, v in out if k.lower() != b"access-control-allow-credentials"]
        extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"SAMEORIGIN"),
                 (b"referrer-policy", b"same-origin")]
        return out + [(k, v) for k, v in extra if k not in names]

    def _cookie(self, value: str, tls: bool) -> str:
        name, _, rest = value.partition("=")
        if not _TOKEN_COOKIE.match(name.strip()):
            return value
        token = rest.split(";", 1)[0]
        if token and token != '""':
            if len(self._issued) > 10_000:  # forget sessions that have expired anyway
                horizon = time.time() - self.session_seconds
                self._issued = {t: at for t, at in self._issued.items() if at > horizon}
            self._issued[token] = time.time()
        parts = [p for p in value.split(";") if p.strip().lower().split("=")[0] not in ("samesite", "secure", "max-age")]
        parts += ["SameSite=Lax", f"Max-Age={self.session_seconds}"] + (["Secure"] if tls else [])
        return "; ".join(p.strip() for p in parts)


async def _json(send: Any, status: int, body: dict, headers: dict[str, str]) -> None:
    payload = json.dumps(body).encode("utf-8")
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
