"""Errors raised by the engine: one hierarchy so callers (CLI, server, plug-ins) can report them."""

from __future__ import annotations


class InkhueError(Exception):
    """Base class: every error the engine raises on purpose derives from it."""

    #: short machine-readable kind, used by the CLI exit codes and the server's error bodies
    kind = "error"


class InputError(InkhueError, ValueError):
    """The caller's images or options are unusable (shape, dtype, size, mismatch)."""

    kind = "input"


class ImageReadError(InputError):
    """A file could not be read as an image."""

    kind = "image_read"


class ModelError(InkhueError):
    """No model, an unknown model, or a model file that fails its checksum."""

    kind = "model"


class BackendError(InkhueError):
    """A backend or device is unavailable or failed while running."""

    kind = "backend"


def unknown_name(what: str, name: str, valid: object) -> str:
    """Message for a registry miss that lists the valid names."""
    names = ", ".join(sorted(str(v) for v in valid))  # type: ignore[attr-defined]
    return f"unknown {what} {name!r}; valid: {names}"
