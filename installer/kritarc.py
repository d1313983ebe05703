"""Turn a Krita Python plug-in on (and back off) in ``kritarc`` by editing one line.

``kritarc`` is a KConfig file, not an INI file configparser could round-trip: it has keys with
``[$e]`` markers, duplicate-looking groups, comments and exotic characters, and configparser would
rewrite all of it. These functions change only the single ``enable_<plugin>=`` line of the
``[python]`` group (adding the group when there is none) and return an ``undo`` record so the
uninstaller can put exactly that line back. Text is handled as str decoded with surrogateescape,
so bytes that are not UTF-8 survive unchanged; line endings are kept as they are.
"""

from __future__ import annotations

import re

SECTION = "[python]"


def key_for(plugin: str) -> str:
    return f"enable_{plugin}"


def _lines(text: str) -> list[str]:
    """Lines with their ends; only \\n ends a line (str.splitlines also splits at \\x85, \\x0c...)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _section_span(lines: list[str]) -> tuple[int, int] | None:
    """(header index, end index exclusive) of the first ``[python]`` group, or None."""
    start = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if start is None:
            if stripped == SECTION:
                start = i
        elif stripped.startswith("["):
            return start, i
    return None if start is None else (start, len(lines))


def _key_lines(lines: list[str], span: tuple[int, int], key: str) -> list[int]:
    pat = re.compile(rf"^\s*{re.escape(key)}\s*=")
    return [i for i in range(span[0] + 1, span[1]) if pat.match(lines[i])]


def _value(line: str) -> str:
    return line.split("=", 1)[1].strip().lower()


def is_enabled(text: str, plugin: str) -> bool:
    lines = _lines(text)
    span = _section_span(lines)
    if span is None:
        return False
    hits = _key_lines(lines, span, key_for(plugin))
    return bool(hits) and _value(lines[hits[-1]]) == "true"  # KConfig: the last entry wins


def enable(text: str, plugin: str) -> tuple[str, dict]:
    """``text`` with ``enable_<plugin>=true`` in ``[python]``, and how to undo that."""
    nl = _newline(text)
    key = key_for(plugin)
    wanted = f"{key}=true"
    lines = _lines(text)
    span = _section_span(lines)
    if span is None:
        # a new group at the end, after a blank line like KConfig writes its groups
        sep = ""
        if text and not text.endswith(("\n", "\r")):
            sep += nl
        if text.strip():
            sep += nl
        appended = f"{sep}{SECTION}{nl}{wanted}{nl}"
        return text + appended, {"created_section": True, "appended": appended, "previous": None}
    hits = _key_lines(lines, span, key)
    if hits:
        previous = [lines[i].rstrip("\r\n") for i in hits]
        for i in hits:
            lines[i] = wanted + lines[i][len(lines[i].rstrip("\r\n")) :]  # same line end, even none
        return "".join(lines), {"created_section": False, "appended": None, "previous": previous}
    # after the group's last non-blank line, so it stays inside the group
    at = span[0] + 1
    for i in range(span[0] + 1, span[1]):
        if lines[i].strip():
            at = i + 1
    joined = not lines[at - 1].endswith(("\n", "\r"))  # the file's last line had no line end
    if joined:
        lines[at - 1] += nl
    lines.insert(at, wanted + nl)
    return "".join(lines), {"created_section": False, "appended": None, "previous": None, "joined": joined}


def disable(text: str, plugin: str, undo: dict) -> str:
    """Reverse :func:`enable`: restore the previous line, or remove ours (and the group we added)."""
    appended = undo.get("appended")
    if undo.get("created_section") and appended and text.endswith(appended):
        return text[: -len(appended)]  # untouched since: byte-exact restore
    lines = _lines(text)
    span = _section_span(lines)
    if span is None:
        return text
    hits = _key_lines(lines, span, key_for(plugin))
    if not hits:
        return text
    previous = undo.get("previous")
    if previous is not None:
        # the line(s) as they were; a count that changed since means Krita rewrote them: first only
        previous = previous if len(previous) == len(hits) else previous[:1]
        for i, old in zip(hits, previous):
            lines[i] = old + lines[i][len(lines[i].rstrip("\r\n")) :]
        return "".join(lines)
    for i in reversed(hits):
        del lines[i]
    if undo.get("joined") and hits[0] == len(lines) and lines:
        lines[-1] = lines[-1].rstrip("\r\n")  # ours was the last line: the line end was ours too
    span = _section_span(lines)
    if undo.get("created_section") and span and not any(x.strip() for x in lines[span[0] + 1 : span[1]]):
        start, end = span
        if end == len(lines) and start > 0 and not lines[start - 1].strip():
            start -= 1  # last group: the blank line written before it goes too
        del lines[start:end]
    return "".join(lines)
