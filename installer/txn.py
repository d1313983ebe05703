"""All-or-nothing file changes, and the record of what an installation owns.

A :class:`Transaction` performs every change of one installer run and remembers how to undo it:
folders it created, files it wrote (with the bytes they replaced), trees it replaced (the old
tree is moved aside, not deleted, until :meth:`Transaction.commit`). If anything fails,
:meth:`Transaction.rollback` puts the file system back as it was, so a failed run leaves nothing
half-installed. The :class:`Record` (JSON in the engine's folder) lists what installations made,
so ``--uninstall`` removes exactly that and nothing of the user's.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

RECORD_FORMAT = 1


def remove_path(path: Path) -> None:
    """Delete a file, link or folder tree; read-only files (Windows, git objects) included."""

    def _force(func: Callable, p: str, _exc: object) -> None:
        os.chmod(p, stat.S_IWRITE | stat.S_IREAD | stat.S_IEXEC)
        func(p)

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=_force)
        else:
            shutil.rmtree(path, onerror=_force)


class Transaction:
    """Changes that are undone together on failure."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []
        self._commit: list[Callable[[], None]] = []
        self.created_dirs: list[Path] = []
        self.done = False

    def mkdirs(self, path: Path) -> Path:
        """``mkdir -p`` that remembers which folders it made (outermost first)."""
        path = Path(path)
        missing = []
        p = path
        while not p.exists():
            missing.append(p)
            if p.parent == p:
                break
            p = p.parent
        for d in reversed(missing):
            d.mkdir()
            self.created_dirs.append(d)
            self._undo.append(lambda d=d: _rmdir_if_empty(d))
        return path

    def write_file(self, path: Path, data: bytes, mode: int | None = None) -> bytes | None:
        """Write ``data`` atomically; returns the bytes it replaced (None: the file was new)."""
        path = Path(path)
        self.mkdirs(path.parent)
        old = path.read_bytes() if path.is_file() else None
        old_mode = stat.S_IMODE(path.stat().st_mode) if old is not None else None
        tmp = path.with_name(f".{path.name}.inkhue-tmp")
        _create(tmp, data, mode if mode is not None else old_mode)
        os.replace(tmp, path)
        if old is None:
            self._undo.append(lambda: path.unlink(missing_ok=True))
        else:
            self._undo.append(lambda: _restore_file(path, old, old_mode))
        return old

    def remove_file(self, path: Path) -> None:
        path = Path(path)
        if not path.is_file():
            return
        old, old_mode = path.read_bytes(), stat.S_IMODE(path.stat().st_mode)
        path.unlink()
        self._undo.append(lambda: _restore_file(path, old, old_mode))

    def replace_tree(self, dest: Path, build: Callable[[Path], None]) -> bool:
        """Build a fresh ``dest`` with ``build(dest)``; an old one is kept aside until commit.

        Built in place (not staged and moved) because a virtual environment is not relocatable.
        Returns whether there was an old tree.
        """
        dest = Path(dest)
        self.mkdirs(dest.parent)
        aside = dest.with_name(f".{dest.name}.inkhue-old")
        if aside.exists():  # left by a run that was killed: the live tree is the one to keep
            remove_path(aside)
        existed = dest.exists() or dest.is_symlink()
        if existed:
            os.replace(dest, aside)

        def undo() -> None:
            remove_path(dest)
            if existed:
                os.replace(aside, dest)

        self._undo.append(undo)
        if existed:
            self._commit.append(lambda: remove_path(aside))
        build(dest)
        return existed

    def on_undo(self, fn: Callable[[], None]) -> None:
        self._undo.append(fn)

    def rollback(self) -> list[str]:
        """Undo everything, newest first; returns the problems met (the rest is still undone)."""
        problems = []
        for fn in reversed(self._undo):
            try:
                fn()
            except OSError as e:
                problems.append(str(e))
        self._undo.clear()
        self._commit.clear()
        self.done = True
        return problems

    def commit(self) -> None:
        for fn in self._commit:
            try:
                fn()
            except OSError as e:  # an old copy left behind is untidy, not broken
                log.warning("could not remove %s", e)
        self._undo.clear()
        self._commit.clear()
        self.done = True


def _rmdir_if_empty(d: Path) -> None:
    try:
        d.rmdir()
    except OSError:
        pass


def _create(path: Path, data: bytes, mode: int | None) -> None:
    """Write a new file created with ``mode`` (restricted by the umask; chmod'ed exactly after), so
    a secret (plugin.json's token) is never readable by others, not even for a moment."""
    path.unlink(missing_ok=True)  # a left-over file would keep its old, maybe wider, mode
    fd = os.open(
        path,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
        0o666 if mode is None else mode & 0o700,
    )
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)


def _restore_file(path: Path, data: bytes, mode: int | None) -> None:
    tmp = path.with_name(f".{path.name}.inkhue-tmp")
    _create(tmp, data, mode)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------------------------
# the installation record


@dataclass
class Record:
    """What installations made: ``owned`` paths are removed on uninstall, ``dirs`` when empty,
    ``originals`` (files that existed before the first install) are written back, ``kritarc``
    holds the undo of the one line changed there."""

    path: Path
    owned: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    originals: dict[str, dict] = field(default_factory=dict)
    kritarc: dict | None = None
    info: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Record | None:
        path = Path(path)
        if not path.is_file():
            return None
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise RuntimeError(f"the install record {path} is unreadable ({e}); remove it by hand") from e
        return cls(
            path=path,
            owned=list(raw.get("owned", [])),
            dirs=list(raw.get("dirs", [])),
            originals=dict(raw.get("originals", {})),
            kritarc=raw.get("kritarc"),
            info=dict(raw.get("info", {})),
        )

    def own(self, path: Path) -> None:
        if str(path) not in self.owned:
            self.owned.append(str(path))

    def add_dirs(self, dirs: list[Path]) -> None:
        for d in dirs:
            if str(d) not in self.dirs:
                self.dirs.append(str(d))

    def keep_original(self, path: Path, data: bytes | None) -> None:
        """Remember a file's content from before the first install (first call wins)."""
        if data is None or str(path) in self.originals or str(path) in self.owned:
            return
        self.originals[str(path)] = {"base64": base64.b64encode(data).decode("ascii")}

    def to_json(self) -> bytes:
        out = {
            "format": RECORD_FORMAT,
            "info": self.info,
            "owned": self.owned,
            "dirs": self.dirs,
            "originals": self.originals,
            "kritarc": self.kritarc,
        }
        return (json.dumps(out, indent=2) + "\n").encode("utf-8")

    def original_bytes(self, path: str) -> bytes:
        return base64.b64decode(self.originals[path]["base64"])
