"""Options of a call: a ``ColorizeOptions`` merged with keyword overrides.

Shared by the local pipeline and the remote backend (kept out of both, so neither imports the other
for it). Not vendored into the plug-ins: it raises the engine's ``InputError``.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.errors import InputError
from engine.wire.schema import ColorizeOptions, OptionsError


def merge_options(options: ColorizeOptions | None, overrides: Mapping[str, object]) -> ColorizeOptions:
    """``options`` (defaults when None) with ``overrides`` applied; a bad name or value is an InputError."""
    try:
        if options is None:
            return ColorizeOptions.from_mapping(dict(overrides))
        if overrides:
            return ColorizeOptions.from_mapping({**options.to_mapping(), **overrides})
        return options
    except (OptionsError, TypeError) as e:
        raise InputError(str(e)) from e
