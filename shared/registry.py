"""Adapter versions and references: ``APP/NAME`` has numbered versions and one champion.

Layout on disk::

    data/adapters/APP/NAME/                      the shipped default: version 1, read-only
    $LORASUITE_HOME/adapters/APP/NAME/vN/        versions made here (a complete adapter folder each)
    $LORASUITE_HOME/adapters/APP/NAME/state.json {"champion": N, "champions": [1, 3], "versions": {"3": {...}}}

``state.json`` is the champion pointer: it is rewritten atomically (temp file, fsync, rename), so
every reader sees the old champion or the new one. Status lives there too (champion, challenger,
rejected, retired) because version 1 is read-only; each version's ``meta.json`` records its
parent, training data hashes, metrics and the status it was created with. Without a state file
the champion is the newest version that is neither a challenger nor rejected (an older lorasuite's
flat ``$LORASUITE_HOME/adapters/APP/NAME/meta.json`` counts as version 1 and shadows the shipped one).

A reference is ``APP/NAME`` (follows the champion), ``APP/NAME@N`` (pinned), a bare ``NAME``
when the app is implied, or a path to an adapter folder::

    ref = parse_ref("sentiment/finance@2")
    version = resolve(ref)            # Version(app, name, version, path, source, status)
    promote("sentiment", "finance", 3, reason="beat v2 on new data")
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shared.atomic import write_text
from shared.errors import AdapterNotFoundError, LorasuiteError
from shared.home import data_dir, state_dir

log = logging.getLogger(__name__)
_SLUG = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
_NAME = re.compile(rf"^{_SLUG}$")
_REF = re.compile(rf"^(?:(?P<app>{_SLUG})/)?(?P<name>{_SLUG})(?:@(?P<version>\d+))?$")
STATUSES = ("champion", "challenger", "rejected", "retired")


def check_name(kind: str, value: str) -> str:
    """App and adapter names are short slugs (they become directory names)."""
    if not _NAME.match(value or "") or value.startswith(".") or re.fullmatch(r"v\d+", value or ""):
        raise LorasuiteError(f"invalid {kind} name {value!r}: use letters, digits, '_', '-', '.' (max 64)")
    return value


@dataclass(frozen=True)
class Ref:
    """What a user named: a registry adapter (app, name, optional version) or a folder."""

    app: str = ""
    name: str = ""
    version: int | None = None
    path: Path | None = None

    def __str__(self) -> str:
        if self.path is not None:
            return str(self.path)
        return f"{self.app}/{self.name}" + (f"@{self.version}" if self.version else "")


@dataclass(frozen=True)
class Version:
    """One concrete adapter folder."""

    app: str
    name: str
    version: int
    path: Path
    source: str  # shipped | home | path
    status: str = "champion"

    @property
    def ref(self) -> str:
        return f"{self.app}/{self.name}@{self.version}" if self.source != "path" else str(self.path)


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", ".", "~")) or "\\" in text or text.count("/") > 1


def parse_ref(text: str | Ref, app: str | None = None) -> Ref:
    """``APP/NAME[@N]``, ``NAME[@N]`` (with ``app``), or a path to an adapter folder."""
    if isinstance(text, Ref):
        return text
    text = str(text or "").strip()
    match = None if _looks_like_path(text) else _REF.match(text)
    if match and (match["app"] or app):
        version = int(match["version"]) if match["version"] else None
        if version is not None and version < 1:
            raise LorasuiteError(f"adapter reference {text!r}: versions start at 1")
        return Ref(match["app"] or str(app), match["name"], version)
    path = Path(text).expanduser()
    if (path / "meta.json").exists():
        return Ref(path=path.resolve())
    if match:
        raise LorasuiteError(f"adapter reference {text!r} names no app: write APP/{text}")
    raise AdapterNotFoundError(f"{text!r} is neither APP/NAME[@VERSION] nor a folder with a meta.json")


def home_dir(app: str, name: str) -> Path:
    return state_dir("adapters") / check_name("app", app) / check_name("adapter", name)


def shipped_dir(app: str, name: str) -> Path:
    return data_dir("adapters", check_name("app", app), check_name("adapter", name))


def read_state(app: str, name: str) -> dict[str, Any]:
    path = home_dir(app, name) / "state.json"
    try:
        state = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError) as err:
        raise LorasuiteError(f"{path} is damaged ({err}); restore it or delete it to reset the champion") from err
    state.setdefault("versions", {})
    state.setdefault("champions", [])
    return state


def _write_state(app: str, name: str, state: dict[str, Any]) -> None:
    write_text(home_dir(app, name) / "state.json", json.dumps(state, indent=2, sort_keys=True))


def _folders(app: str, name: str) -> dict[int, tuple[Path, str]]:
    """Version number -> (folder, source) for every complete version on disk."""
    found: dict[int, tuple[Path, str]] = {}
    shipped, home = shipped_dir(app, name), state_dir("adapters") / app / name
    if (shipped / "meta.json").exists():
        found[1] = (shipped, "shipped")
    if (home / "meta.json").exists():  # an older lorasuite's flat layout
        found[1] = (home, "home")
    for sub in home.glob("v*") if home.is_dir() else []:
        if re.fullmatch(r"v\d+", sub.name) and (sub / "meta.json").exists():
            found[int(sub.name[1:])] = (sub, "home")
    return found


def versions(app: str, name: str) -> list[Version]:
    """Every version of ``app/name``, oldest first, each with its current status."""
    folders = _folders(app, name)
    state = read_state(app, name) if folders else {"versions": {}}
    champ = _champion_number(folders, state)
    out = []
    for number in sorted(folders):
        path, source = folders[number]
        status = state["versions"].get(str(number), {}).get("status", "retired")
        if number == champ or status == "champion":  # a stale "champion" entry reads as retired
            status = "champion" if number == champ else "retired"
        out.append(Version(app, name, number, path, source, status))
    return out


def _champion_number(folders: dict[int, tuple[Path, str]], state: dict[str, Any]) -> int | None:
    pointer = state.get("champion")
    if pointer in folders:
        return int(pointer)
    eligible = [n for n in folders if state["versions"].get(str(n), {}).get("status") not in ("challenger", "rejected")]
    return max(eligible) if eligible else None


def resolve(ref: str | Ref, app: str | None = None) -> Version:
    """The folder a reference means now: the pinned version, or the current champion."""
    ref = parse_ref(ref, app)
    if ref.path is not None:
        return Version(ref.path.parent.name, ref.path.name, 0, ref.path, "path")
    all_versions = versions(ref.app, ref.name)
    if not all_versions:
        known = ", ".join(f"{r['app']}/{r['name']}" for r in list_names(ref.app)) or "none"
        raise AdapterNotFoundError(f"no adapter {ref.app}/{ref.name}; known: {known}")
    if ref.version is not None:
        for version in all_versions:
            if version.version == ref.version:
                return version
        have = ", ".join(str(v.version) for v in all_versions)
        raise AdapterNotFoundError(f"{ref.app}/{ref.name} has no version {ref.version} (versions: {have})")
    for version in all_versions:
        if version.status == "champion":
            return version
    raise AdapterNotFoundError(f"{ref.app}/{ref.name} has no champion (only challengers or rejected versions): "
                               f"`lorasuite adapters promote {ref.app} {ref.name} VERSION`")


def stamp(ref: str | Ref, app: str | None = None) -> tuple:
    """A cheap fingerprint that changes when what ``ref`` resolves to may have changed."""
    ref = parse_ref(ref, app)
    if ref.path is not None:
        return (_mtime(ref.path / "meta.json"),)
    home = state_dir("adapters") / ref.app / ref.name
    return (_mtime(home), _mtime(home / "state.json"), _mtime(shipped_dir(ref.app, ref.name) / "meta.json"))


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def next_number(app: str, name: str) -> int:
    return max(_folders(app, name), default=0) + 1


@contextmanager
def locked(app: str, name: str) -> Iterator[None]:
    """An exclusive lock on ``app/name`` across processes (numbering and state changes)."""
    import fcntl

    path = home_dir(app, name)
    path.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def record(app: str, name: str, number: int, status: str, reason: str = "") -> None:
    """Record a version's status; a champion also moves the pointer (atomically)."""
    with locked(app, name):
        _record(app, name, number, status, reason)


def _record(app: str, name: str, number: int, status: str, reason: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    state = read_state(app, name)
    if status == "champion":
        _demote_current(app, name, state)
        state["champion"] = number
        state["champions"].append(number)
    state["versions"][str(number)] = {"status": status, "reason": reason, "changed": _now()}
    _write_state(app, name, state)


def _demote_current(app: str, name: str, state: dict[str, Any]) -> None:
    current = next((v for v in versions(app, name) if v.status == "champion"), None)
    if current is not None:
        if not state["champions"] or state["champions"][-1] != current.version:
            state["champions"].append(current.version)
        state["versions"][str(current.version)] = {"status": "retired", "reason": "replaced", "changed": _now()}


def promote(app: str, name: str, number: int, reason: str = "promoted by hand") -> Version:
    """Make ``number`` the champion; running processes follow on their next request."""
    if number not in _folders(app, name):
        raise AdapterNotFoundError(f"{app}/{name} has no version {number}")
    record(app, name, number, "champion", reason)
    log.info("%s/%s: version %d is the champion (%s)", app, name, number, reason)
    return resolve(Ref(app, name))


def reject(app: str, name: str, number: int, reason: str) -> None:
    record(app, name, number, "rejected", reason)


def rollback(app: str, name: str) -> Version:
    """Give the champion's title back to the previous champion."""
    with locked(app, name):
        _rollback(app, name)
    return resolve(Ref(app, name))


def _rollback(app: str, name: str) -> None:
    state = read_state(app, name)
    current = resolve(Ref(app, name))
    history = [n for n in state["champions"] if n != current.version and n in _folders(app, name)]
    if not history:
        raise LorasuiteError(f"{app}/{name}: no earlier champion to roll back to (champion is v{current.version})")
    previous = history[-1]
    state["champions"] = [n for n in state["champions"] if n != current.version]
    state["versions"][str(current.version)] = {"status": "retired", "reason": "rolled back", "changed": _now()}
    state["versions"][str(previous)] = {"status": "champion", "reason": f"rollback from v{current.version}",
                                        "changed": _now()}
    state["champion"] = previous
    _write_state(app, name, state)


def history(app: str, name: str) -> list[dict[str, Any]]:
    """Every version with its status, reason, parent, creation time and metrics (oldest first)."""
    state = read_state(app, name)
    rows = []
    for v in versions(app, name):
        meta = _meta(v.path)
        entry = state["versions"].get(str(v.version), {})
        rows.append({"version": v.version, "status": v.status, "source": v.source, "path": str(v.path),
                     "parent": meta.get("parent"), "created": meta.get("created"),
                     "reason": entry.get("reason", ""), "metrics": meta.get("metrics", {}),
                     "data_hashes": meta.get("data_hashes") or ([meta["data_hash"]] if meta.get("data_hash") else [])})
    if not rows:
        resolve(Ref(app, name))  # raises the not-found error with what exists
    return rows


def _meta(path: Path) -> dict[str, Any]:
    try:
        return json.loads((path / "meta.json").read_text())
    except (OSError, ValueError):
        return {}


def list_names(app: str | None = None) -> list[dict[str, Any]]:
    """Every APP/NAME known (home and shipped), with its champion version."""
    names = set()
    for root in (state_dir("adapters"), data_dir("adapters")):
        for folder in root.glob("*/*") if root.is_dir() else []:
            if folder.is_dir() and _NAME.match(folder.name) and not folder.name.startswith(".") \
                    and (not app or folder.parent.name == app):
                names.add((folder.parent.name, folder.name))
    rows = []
    for a, n in sorted(names):
        found = versions(a, n)
        if found:
            champ = next((v for v in found if v.status == "champion"), None)
            rows.append({"app": a, "name": n, "versions": len(found), "champion": champ})
    return rows


def delete(app: str, name: str) -> Path:
    """Delete every version made here (the shipped version 1 is read-only and stays)."""
    path = state_dir("adapters") / check_name("app", app) / check_name("adapter", name)
    if not path.exists():
        why = " (it is a shipped default, read-only)" if (shipped_dir(app, name) / "meta.json").exists() else ""
        raise AdapterNotFoundError(f"no user adapter {app}/{name} to delete{why}")
    shutil.rmtree(path)
    return path


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
