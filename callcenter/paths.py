"""Directories and files the engine creates itself: an OS refusal becomes one line that says
what was being made, where, and what to do, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

from callcenter.errors import CallCenterError


class PathUnusable(CallCenterError):
    code = "path_unusable"


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return f"uid {os.geteuid()}"


def explain(exc: OSError, path: Path, what: str, setting: str = "data_dir") -> PathUnusable:
    """``what`` names the thing (``the data directory``); ``setting`` the key that moves it."""
    reason = exc.strerror or str(exc)
    return PathUnusable(
        f"cannot write {what} {path}: {reason}; make it writable by {_user()} "
        f"or point {setting} (CALLCENTER_{setting.upper()}) at a writable directory"
    )


def ensure_dir(path: Path, what: str, setting: str = "data_dir") -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise explain(exc, path, what, setting) from exc
    if not path.is_dir():
        raise PathUnusable(f"{what} {path} is not a directory; point {setting} at a directory")


def replace_atomically(
    path: Path, content: bytes, *, durable: bool = True, mode: int = 0o600
) -> None:
    """Write ``content`` beside ``path`` and rename it over ``path``: a reader sees the old
    file or the new one, never part of one. ``durable``: the file and its directory are
    fsync'd first, so it survives a power cut, not only the process (an fsync blocks the
    whole process: not for what is written on a call's path)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)
    if durable:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_text(path: Path, text: str, what: str, setting: str = "data_dir") -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise explain(exc, path, what, setting) from exc
