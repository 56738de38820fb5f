"""Crash-safe writes: a file or a whole directory appears complete or not at all, and stays.

Everything is written next to its destination under a temporary ``.tmp-*`` name, fsynced,
then moved into place, and the parent directory is fsynced so the new name survives a power
cut too. A crash leaves at most a ``.tmp-*`` leftover (readers skip dot names), never a
half-written file or adapter.

Files: ``os.replace`` is atomic on one filesystem.

Directories cannot be replaced by ``rename`` when the destination exists, so ``atomic_dir``
swaps them with Linux's ``renameat2(RENAME_EXCHANGE)`` (through ctypes): one atomic step in
which the destination name goes from the old tree to the new one, so a reader (adapter
lookup, index loading) always finds a complete directory. The old tree, now under the
temporary name, is then deleted. We chose the exchange over a symlink flip because it keeps
the on-disk layout exactly as before (a plain directory, as ``save_pretrained`` writes it), so
no reader or existing install changes. Where the exchange is not available (not Linux, or a
filesystem that refuses it, EINVAL) the old tree is renamed aside and the new one renamed in:
still crash-safe (a crash in between leaves the complete old tree under ``.old-*``), but with
a moment in which the destination is missing; that case is logged.

A reader that opens several files of a directory while it is being replaced may still see
files of both versions; readers that need one version check consistency (the index does).
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def fsync_dir(path: str | Path) -> None:
    """Make a directory's entries (new, renamed, removed names) durable; a no-op off POSIX."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: str | Path) -> None:
    """fsync every file and directory under ``root`` (files first, then their folders, deepest first)."""
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(folder)


@contextmanager
def atomic_path(dest: str | Path) -> Iterator[Path]:
    """Yield a temp file path; on success it replaces ``dest`` (durably), on error it is removed."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{dest.name}-", dir=dest.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(dest: str | Path, text: str) -> None:
    """Atomically write a text file (UTF-8)."""
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_jsonl(dest: str | Path, rows: Iterable[dict]) -> int:
    """Atomically write one JSON object per line; returns the number of lines."""
    count = 0
    with atomic_path(dest) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def exchange(a: str | Path, b: str | Path) -> bool:
    """Atomically swap two existing paths (renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2  # glibc >= 2.28
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _remove(path: Path) -> None:
    """Delete a tree, or just the link when the path is a symlink (never what it points to)."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)


def _swap_in(tmp: Path, dest: Path) -> None:
    """Put the complete tree ``tmp`` at ``dest`` with no moment where ``dest`` is missing (see module doc)."""
    if not os.path.lexists(dest):
        os.replace(tmp, dest)
    elif exchange(tmp, dest):
        _remove(tmp)  # the old tree, now under the temporary name
    else:
        log.info("atomic swap unavailable here: %s is briefly missing while it is replaced", dest)
        old = dest.with_name(f".old-{dest.name}-{os.getpid()}")
        os.replace(dest, old)
        os.replace(tmp, dest)
        _remove(old)
    fsync_dir(dest.parent)


@contextmanager
def atomic_dir(dest: str | Path) -> Iterator[Path]:
    """Yield a temp directory; on success it replaces ``dest`` whole and durably, on error it is removed."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{dest.name}-", dir=dest.parent))
    try:
        yield tmp
        fsync_tree(tmp)
        _swap_in(tmp, dest)
    finally:
        if os.path.lexists(tmp):
            _remove(tmp)
