"""``--check``: every installed piece reported as ok / missing / outdated, each with its fix."""

from __future__ import annotations

import argparse
import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from installer import engine_env, kritarc, locations, plugins
from installer.locations import KRITA_PLUGIN, Targets
from installer.txn import Record

RERUN = "run installer/install.sh again (Windows: installer\\install.ps1)"


@dataclass(frozen=True)
class Item:
    name: str
    status: str  # "ok", "missing", "outdated", "broken", "skipped"
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status not in ("ok", "skipped")


def check_engine(record: Record | None, t: Targets) -> Item:
    info = record.info if record else {}
    venv = Path(info.get("venv") or t.venv)
    py = locations.venv_python(venv)
    if not py.exists():
        return Item("engine", "missing", f"no virtual environment at {venv}", RERUN)
    cwd = Path(info["repo"]) if info.get("dev") and info.get("repo") else None
    got = engine_env.inspect_engine(py, cwd=cwd)
    if got.get("problems"):
        return Item("engine", "broken", "; ".join(got["problems"]), RERUN)
    if not got.get("models"):
        return Item("engine", "missing", f"no bundled model in {got.get('bundled_dir', venv)}", RERUN)
    if not locations.venv_inkhue(venv).exists():
        return Item("engine", "broken", f"no inkhue program in {locations.venv_bin(venv)}", RERUN)
    models = ", ".join(f"{m['name']} v{m['version']}" for m in got["models"])
    gpu = "GPU" if "CUDAExecutionProvider" in got.get("providers", []) else "CPU"
    return Item("engine", "ok", f"{venv}, ONNX Runtime {got.get('onnxruntime')} ({gpu}), verified: {models}")


def check_krita(repo: Path, t: Targets) -> list[Item]:
    src = plugins.krita_source(repo)
    items = []
    dest = t.pykrita / KRITA_PLUGIN
    status = plugins.tree_status(src.package, dest)
    items.append(Item("Krita plug-in", status, str(dest), "" if status == "ok" else RERUN))
    for s, d in [(src.desktop, t.pykrita / src.desktop.name)] + [
        (a, t.krita_actions / a.name) for a in src.actions
    ]:
        status = plugins.file_status(s, d)
        items.append(Item(f"Krita {d.suffix[1:]} file", status, str(d), "" if status == "ok" else RERUN))
    rc = t.kritarc
    text = rc.read_bytes().decode("utf-8", "surrogateescape") if rc.is_file() else ""
    on = kritarc.is_enabled(text, KRITA_PLUGIN)
    items.append(
        Item(
            "Krita enabled",
            "ok" if on else "missing",
            f"{kritarc.SECTION} {kritarc.key_for(KRITA_PLUGIN)}=true in {rc}",
            ""
            if on
            else RERUN + ", or tick 'Inkhue AI Colorize' in Krita: Settings > Configure Krita > "
            "Python Plugin Manager (then restart Krita)",
        )
    )
    return items


def check_gimp(repo: Path, t: Targets) -> list[Item]:
    src = plugins.gimp_source(repo)
    dest = t.gimp_plugins / src.name
    status = plugins.tree_status(src, dest)
    items = [Item("GIMP plug-in", status, str(dest), "" if status == "ok" else RERUN)]
    if status != "missing":
        entry = plugins.gimp_entry(dest)
        ok = plugins.is_executable(entry)
        items.append(
            Item("GIMP run bit", "ok" if ok else "broken", str(entry), "" if ok else f"chmod +x '{entry}'")
        )
    return items


def check_config(t: Targets) -> list[Item]:
    path = t.config
    if not path.is_file():
        return [Item("settings", "missing", str(path), RERUN)]
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
        mode = cfg.get("mode", "local")
    except (OSError, ValueError, AttributeError) as e:
        return [Item("settings", "broken", f"{path}: {e}", RERUN)]
    if mode == "remote":
        url = cfg.get("url")
        if not url:
            return [
                Item("settings", "broken", f"{path}: remote mode without a url", RERUN + " with --remote URL")
            ]
        items = [Item("settings", "ok", f"{path}: remote server {url}")]
        reachable = _ready(url, cfg.get("token"))
        items.append(
            Item(
                "remote server",
                "ok" if reachable else "skipped",
                f"{url} {'answers ready' if reachable else 'does not answer now (not an install problem)'}",
            )
        )
        return items
    exe = cfg.get("inkhue")
    if not exe or not plugins.is_executable(Path(exe)):
        return [Item("settings", "broken", f"{path}: 'inkhue' is {exe!r}, not a program", RERUN)]
    return [Item("settings", "ok", f"{path}: local engine {exe}")]


def _ready(url: str, token: str | None) -> bool:
    req = urllib.request.Request(url.rstrip("/") + "/v2/health/ready")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False


def collect(repo: Path, t: Targets) -> list[Item]:
    record = Record.load(t.record)
    if record is None:
        expected = {"engine", "config"}
        if locations.find_krita() or t.krita_dir.is_dir():
            expected.add("krita")
        if locations.find_gimp() or t.gimp_dir.is_dir():
            expected.add("gimp")
    else:
        expected = set(record.info.get("components", []))
    items: list[Item] = []
    if record is None:
        items.append(Item("install record", "missing", str(t.record), "run installer/install.sh"))
    if "engine" in expected:
        items.append(check_engine(record, t))
    if "krita" in expected:
        items += check_krita(repo, t)
    else:
        items.append(Item("Krita plug-in", "skipped", "not installed (Krita was not found or --no-krita)"))
    if "gimp" in expected:
        items += check_gimp(repo, t)
    else:
        items.append(Item("GIMP plug-in", "skipped", "not installed (GIMP 3 was not found or --no-gimp)"))
    items += check_config(t)
    return items


def run_checks(repo: Path, t: Targets, args: argparse.Namespace, say: Callable[[str], None]) -> int:
    items = collect(repo, t)
    for it in items:
        print(f"  {it.status.upper() if it.failed else it.status:9s} {it.name}: {it.detail}")
        if it.fix:
            print(f"  {'':9s} fix: {it.fix}")
    bad = [it for it in items if it.failed]
    say("everything is in place" if not bad else f"{len(bad)} piece(s) missing or broken")
    return 1 if bad else 0
