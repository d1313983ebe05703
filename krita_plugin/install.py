"""Install the Inkhue plug-in into a Krita profile (used by the installer and by the tests).

Krita looks for Python plug-ins in ``<resources>/pykrita`` (a ``.desktop`` file plus the package)
and for action files (text, shortcut) in ``<resources>/actions``; Python plug-ins stay off until
``enable_<name>=true`` appears in the ``[python]`` group of ``kritarc``.

    python krita_plugin/install.py [--resources DIR] [--kritarc FILE] [--no-enable] [--uninstall]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME = "inkhue_krita"
REPO = HERE.parent


def default_resources() -> Path:
    """Krita's per-user resource folder (Settings > Manage Resources > Open Resource Folder)."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home()) / "krita"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "krita"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "krita"


def default_kritarc() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home()) / "kritarc"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Preferences" / "kritarc"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kritarc"


def set_python_enabled(kritarc: Path, plugin: str, enabled: bool = True) -> None:
    """Set ``enable_<plugin>`` in kritarc's ``[python]`` group, keeping every other line as is
    (kritarc is a KConfig file: a generic INI writer would mangle some of its keys)."""
    key = f"enable_{plugin}"
    value = f"{key}={'true' if enabled else 'false'}"
    lines = kritarc.read_text(encoding="utf-8").splitlines() if kritarc.is_file() else []
    start = next((i for i, line in enumerate(lines) if line.strip() == "[python]"), None)
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines += ["[python]", value]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
        found = [i for i in range(start + 1, end) if lines[i].split("=", 1)[0].strip() == key]
        if found:
            lines[found[0]] = value
        else:
            while end > start + 1 and not lines[end - 1].strip():
                end -= 1  # keep the blank line that separates groups after ours
            lines.insert(end, value)
    kritarc.parent.mkdir(parents=True, exist_ok=True)
    kritarc.write_text("\n".join(lines) + "\n", encoding="utf-8")


def install(resources: Path | None = None, kritarc: Path | None = None, enable: bool = True) -> Path:
    """Copy the plug-in (with a fresh vendored engine client) and its action file; returns the
    installed package folder."""
    sys.path.insert(0, str(REPO))
    try:
        from installer.vendor import vendor_into
    finally:
        sys.path.remove(str(REPO))
    vendor_into(HERE / NAME)  # the plug-in imports the engine client from its vendor package
    resources = Path(resources or default_resources())
    pykrita = resources / "pykrita"
    target = pykrita / NAME
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(HERE / NAME, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(HERE / f"{NAME}.desktop", pykrita / f"{NAME}.desktop")
    (resources / "actions").mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / f"{NAME}.action", resources / "actions" / f"{NAME}.action")
    if enable:
        set_python_enabled(Path(kritarc or default_kritarc()), NAME, True)
    return target


def uninstall(resources: Path | None = None, kritarc: Path | None = None) -> None:
    resources = Path(resources or default_resources())
    shutil.rmtree(resources / "pykrita" / NAME, ignore_errors=True)
    for path in (resources / "pykrita" / f"{NAME}.desktop", resources / "actions" / f"{NAME}.action"):
        path.unlink(missing_ok=True)
    rc = Path(kritarc or default_kritarc())
    if rc.is_file():
        set_python_enabled(rc, NAME, False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--resources", type=Path, help=f"Krita resource folder (default: {default_resources()})")
    p.add_argument("--kritarc", type=Path, help=f"Krita settings file (default: {default_kritarc()})")
    p.add_argument("--no-enable", action="store_true", help="do not switch the plug-in on in kritarc")
    p.add_argument("--uninstall", action="store_true")
    args = p.parse_args(argv)
    if args.uninstall:
        uninstall(args.resources, args.kritarc)
    else:
        print(install(args.resources, args.kritarc, enable=not args.no_enable))
    return 0


if __name__ == "__main__":
    sys.exit(main())
