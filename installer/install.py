"""Install Inkhue for one user: the engine's venv and model, the Krita and GIMP 3 plug-ins, settings.

    python3 installer/install.py [--remote URL --token T] [--with-training] [--dev]
                                 [--prefix DIR] [--krita-dir DIR] [--gimp-dir DIR]
    python3 installer/install.py --check
    python3 installer/install.py --uninstall

Standard library only, so any Python >= 3.10 runs it (``install.sh``/``install.ps1`` find one).
Every change of a run goes through one transaction: a failure (pip, a damaged model) rolls back
what the run did. What the installation owns is listed in ``<prefix>/install-record.json``, which
``--uninstall`` follows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make this folder importable as ``installer``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.wire import folders  # noqa: E402  (standard library only, like the installer)
from engine.wire.schema import TOKEN_ENV  # noqa: E402
from installer import engine_env, kritarc, locations, plugins, smoke  # noqa: E402
from installer.checks import run_checks  # noqa: E402
from installer.locations import KRITA_PLUGIN, Targets  # noqa: E402
from installer.txn import Record, Transaction, remove_path  # noqa: E402
from installer.uninstall import uninstall  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
KRITA_HELP = "Krita: Settings > Manage Resources... > Open Resource Folder"
GIMP_HELP = "GIMP 3's user folder, e.g. ~/.config/GIMP/3.0"


class InstallError(Exception):
    """The installation cannot go on; the message says what to do."""


def say(msg: str) -> None:
    print(f"inkhue-install: {msg}", flush=True)


def _short(path: Path | str) -> str:
    home = str(Path.home())
    s = str(path)
    return "~" + s[len(home) :] if s.startswith(home + "/") else s


# ----------------------------------------------------------------------------------------------
# decisions made before anything changes


def editors_to_install(args: argparse.Namespace, t: Targets) -> tuple[list[str], list[str]]:
    """(editors to install, a message per editor skipped)."""
    chosen, skipped = [], []
    lacking = plugins.missing_sources(REPO)
    specs = (
        ("krita", "Krita", args.no_krita, args.krita_dir, locations.find_krita, t.krita_dir, "--krita-dir"),
        ("gimp", "GIMP 3", args.no_gimp, args.gimp_dir, locations.find_gimp, t.gimp_dir, "--gimp-dir"),
    )
    for key, label, off, override, find, folder, flag in specs:
        explicit = override or (key == "gimp" and folders.current().var(folders.GIMP_ENV) is not None)
        if off:
            skipped.append(f"{label}: skipped (--no-{key})")
        elif key in lacking:
            skipped.append(f"{label}: this checkout has no {label} plug-in ({lacking[key]} is missing)")
        elif explicit or find() or folder.is_dir():
            chosen.append(key)
        else:
            where = KRITA_HELP if key == "krita" else GIMP_HELP
            skipped.append(
                f"{label} was not found (no program on PATH, no {_short(folder)}): its plug-in is not "
                f"installed. Install {label} and run this again, or point {flag} at its user folder "
                f"({where})."
            )
    return chosen, skipped


def preflight(args: argparse.Namespace) -> list[Path]:
    """Checks that need no change: the bundled model is intact. Returns the model folders."""
    if args.remote:
        if not args.remote.startswith(("http://", "https://")):
            raise InstallError(f"--remote {args.remote!r} must be an http:// or https:// URL")
        return []
    models = engine_env.model_dirs(REPO)
    if not models:
        msg = f"this checkout has no bundled model (no {REPO / 'engine' / 'models'}/*/manifest.json)"
        if not args.dev:
            raise InstallError(msg + "; fetch a complete copy of Inkhue, or use --remote URL")
        say("warning: " + msg)
    for d in models:
        problems = engine_env.verify_model_files(d)
        if problems:
            raise InstallError("the bundled model is damaged:\n  " + "\n  ".join(problems))
    return models


# ----------------------------------------------------------------------------------------------
# the pieces


def _create_venv(dest: Path, deps_from: Path | None, allow_apt: bool) -> None:
    try:
        engine_env.create_venv(sys.executable, dest, deps_from)
        return
    except engine_env.VenvUnavailable as e:
        cmd = engine_env.apt_venv_command() if allow_apt else None
        if cmd is None:
            raise InstallError(
                f"{sys.executable} cannot create virtual environments ({str(e).splitlines()[-1]}).\n"
                "Install your system's python3-venv package (Debian/Ubuntu: sudo apt-get install "
                "python3-venv) and run the installer again."
            ) from e
    say("this Python lacks venv support; installing it: " + " ".join(cmd))
    engine_env.apt_install_venv(cmd)
    remove_path(dest)  # the half-made venv of the first attempt
    engine_env.create_venv(sys.executable, dest, deps_from)


def install_engine(args: argparse.Namespace, t: Targets, txn: Transaction, record: Record) -> dict:
    """Create the venv and pip-install inkhue into it (or use the dev .venv); verify the model."""
    if args.dev:
        venv = REPO / ".venv"
        if not locations.venv_inkhue(venv).exists():
            if shutil.which("bash") is None:
                raise InstallError(f"--dev needs {venv}: create it with installer/dev-setup.sh (bash) first")
            say(f"--dev: creating {venv} with installer/dev-setup.sh (editable install, CPU torch)")
            if subprocess.run(["bash", str(REPO / "installer" / "dev-setup.sh")]).returncode != 0:
                raise InstallError("installer/dev-setup.sh failed; see its output above")
        cwd = REPO
    else:
        gpu = engine_env.nvidia_gpu_present() if args.gpu is None else args.gpu
        staging = tempfile.TemporaryDirectory(prefix="inkhue-source-")
        source = engine_env.stage_source(REPO, Path(staging.name) / "inkhue")
        plan = engine_env.EnginePlan(source, gpu, args.with_training, args.deps_from)
        venv, cwd = t.venv, None
        runtime = "GPU (onnxruntime-gpu)" if gpu else "CPU (onnxruntime)"
        say(f"engine: creating {_short(venv)}; ONNX Runtime {runtime}" + (", torch" if plan.training else ""))

        def build(dest: Path) -> None:
            _create_venv(dest, plan.deps_from, not args.no_apt)
            py = locations.venv_python(dest)
            steps = engine_env.pip_steps(plan)
            for step in steps:
                say(f"engine: pip {' '.join(step)}")
                try:
                    engine_env.run_pip(py, step)
                except engine_env.EngineEnvError:
                    if not (gpu and step[-1] == engine_env.ORT_GPU):
                        raise
                    # no GPU build for this platform/Python: the CPU build still runs everything
                    say("warning: onnxruntime-gpu could not be installed; using the CPU build")
                    engine_env.run_pip(py, ["install", engine_env.ORT_CPU])

        try:
            txn.replace_tree(venv, build)
        finally:
            staging.cleanup()
        record.own(venv)
    info = engine_env.inspect_engine(locations.venv_python(venv), torch=args.with_training, cwd=cwd)
    if info.get("problems"):
        raise InstallError("the installed engine does not work:\n  " + "\n  ".join(info["problems"]))
    inkhue = locations.venv_inkhue(venv)
    if info.get("models"):
        failure = smoke.cli_colorize(inkhue, REPO, cwd=cwd)
        if failure:
            raise InstallError(f"the installed engine could not colour the bundled example: {failure}")
        failure = smoke.serve_colorize(inkhue, cwd=cwd)
        if failure:
            raise InstallError(f"the installed engine's server (what the plug-ins use) failed: {failure}")
    return {"venv": str(venv), "inkhue": str(inkhue), **info}


def install_krita(t: Targets, txn: Transaction, record: Record) -> None:
    src = plugins.krita_source(REPO)
    dest = t.pykrita / KRITA_PLUGIN
    txn.replace_tree(dest, lambda d: plugins.build_package(src.package, d))
    record.own(dest)
    files = [(src.desktop, t.pykrita / src.desktop.name)]
    files += [(a, t.krita_actions / a.name) for a in src.actions]
    for s, d in files:
        _write(txn, record, d, s.read_bytes())
    rc = t.kritarc
    before = rc.read_bytes() if rc.is_file() else None
    text = (before or b"").decode("utf-8", "surrogateescape")
    new, undo = kritarc.enable(text, KRITA_PLUGIN)
    if new != text:
        txn.write_file(rc, new.encode("utf-8", "surrogateescape"))
    if record.kritarc is None or record.kritarc.get("path") != str(rc):  # the first install's undo wins
        record.kritarc = {"path": str(rc), "created_file": before is None, "undo": undo}


def install_gimp(t: Targets, txn: Transaction, record: Record) -> None:
    dest = t.gimp_plugins / plugins.gimp_source(REPO).name
    txn.replace_tree(dest, lambda d: plugins.build_gimp(plugins.gimp_source(REPO), d))
    record.own(dest)


def _write(txn: Transaction, record: Record, path: Path, data: bytes, mode: int | None = None) -> None:
    old = txn.write_file(path, data, mode)
    if old is None:
        record.own(path)
    else:
        record.keep_original(path, old)


def plugin_settings(args: argparse.Namespace, engine: dict | None, t: Targets) -> dict:
    if args.remote:
        existing = locations.venv_inkhue(t.venv)
        return {
            "inkhue": str(existing) if existing.exists() else None,
            "mode": "remote",
            "url": args.remote.rstrip("/"),
            "token": args.token or None,
        }
    return {"inkhue": engine["inkhue"] if engine else None, "mode": "local", "url": None, "token": None}


# ----------------------------------------------------------------------------------------------


def install(args: argparse.Namespace, t: Targets) -> int:
    preflight(args)
    editors, skipped = editors_to_install(args, t)
    record = Record.load(t.record) or Record(t.record)
    txn = Transaction()
    try:
        engine = None if args.remote else install_engine(args, t, txn, record)
        if "krita" in editors:
            install_krita(t, txn, record)
        if "gimp" in editors:
            install_gimp(t, txn, record)
        settings = plugin_settings(args, engine, t)
        _write(txn, record, t.config, (json.dumps(settings, indent=2) + "\n").encode(), mode=0o600)
        done = set(record.info.get("components", [])) | set(editors) | {"config"}
        if engine:
            done.add("engine")
        txn.mkdirs(t.prefix)
        record.add_dirs(txn.created_dirs)
        record.info.update(
            repo=str(REPO),
            components=sorted(done),
            dev=bool(args.dev),
            mode=settings["mode"],
            venv=engine["venv"] if engine else record.info.get("venv"),
        )
        txn.write_file(t.record, record.to_json())
        txn.commit()
        if engine and not args.dev:  # a server from the replaced venv would keep the old engine
            engine_env.stop_managed_server(Path(engine["inkhue"]), Path(folders.state_dir()))
    except BaseException:
        problems = txn.rollback()
        say("installation failed; everything this run changed was rolled back")
        for p in problems:
            say(f"  could not undo: {p}")
        raise
    summary(args, t, engine, editors, skipped)
    return 0


def summary(
    args: argparse.Namespace, t: Targets, engine: dict | None, editors: list[str], skipped: list[str]
) -> None:
    lines = ["", "Inkhue is installed:"]
    if engine:
        models = ", ".join(f"{m['name']} v{m['version']}" for m in engine.get("models", [])) or "none"
        gpu = "CUDAExecutionProvider" in engine.get("providers", [])
        lines.append(
            f"  engine    {_short(engine['venv'])} (ONNX Runtime {engine.get('onnxruntime', '?')}, "
            f"{'GPU' if gpu else 'CPU'}{', torch ' + engine['torch'] if engine.get('torch') else ''}); "
            f"model sha256 verified: {models}"
        )
    if "krita" in editors:
        lines.append(f"  Krita     {_short(t.pykrita / KRITA_PLUGIN)}, enabled in {_short(t.kritarc)}")
    if "gimp" in editors:
        lines.append(f"  GIMP 3    {_short(t.gimp_plugins / plugins.gimp_source(REPO).name)}")
    mode = f"remote server {args.remote}" if args.remote else "local engine, started on demand"
    lines.append(f"  settings  {_short(t.config)} ({mode})")
    lines += [f"  note: {s}" for s in skipped]
    lines += [
        "",
        'Use it: open your line art in Krita or GIMP 3, add a layer above it named "Hints", paint small',
        "dabs of colour inside the areas to colour, select the line-art layer, and choose",
        "Filter > AI Colorize... (Krita) or Filters > AI Colorize... (GIMP). The result is a new layer.",
        "(Restart Krita or GIMP if it was running while you installed.)",
    ]
    if engine:
        lines.append(
            f"Command line: {_short(engine['inkhue'])} colorize LINEART.png --hints HINTS.png -o OUT.png"
        )
    me = "installer/install.sh" if sys.platform != "win32" else "installer\\install.ps1"
    lines.append(f"Check it: {me} --check    Remove it: {me} --uninstall")
    print("\n".join(lines), flush=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="installer/install.sh", description="Install Inkhue: engine, model, Krita and GIMP 3 plug-ins."
    )
    act = p.add_mutually_exclusive_group()
    act.add_argument("--check", action="store_true", help="report each piece as ok/missing, with the fix")
    act.add_argument("--uninstall", action="store_true", help="remove exactly what the installer installed")
    p.add_argument("--prefix", type=Path, help="engine folder (default: ~/.local/share/inkhue)")
    p.add_argument("--krita-dir", type=Path, help=f"Krita's resource folder or its pykrita/ ({KRITA_HELP})")
    p.add_argument("--kritarc", type=Path, help="Krita's settings file (default: ~/.config/kritarc)")
    p.add_argument(
        "--gimp-dir", type=Path, help="GIMP 3's user folder or its plug-ins/ (default: ~/.config/GIMP/3.0)"
    )
    p.add_argument("--no-krita", action="store_true", help="do not install the Krita plug-in")
    p.add_argument("--no-gimp", action="store_true", help="do not install the GIMP plug-in")
    p.add_argument("--remote", metavar="URL", help="plug-ins use this Inkhue server; no local engine")
    p.add_argument("--token", help="access token for --remote (or set INKHUE_TOKEN)")
    p.add_argument(
        "--with-training",
        action="store_true",
        help=f"also install {engine_env.TORCH_SPEC} and training tools",
    )
    gpu = p.add_mutually_exclusive_group()
    gpu.add_argument("--gpu", dest="gpu", action="store_true", default=None, help="force onnxruntime-gpu")
    gpu.add_argument("--cpu", dest="gpu", action="store_false", help="force the CPU onnxruntime")
    p.add_argument("--dev", action="store_true", help="use the repository's .venv (installer/dev-setup.sh)")
    p.add_argument("--no-apt", action="store_true", help="never run apt-get for python3-venv")
    # tests: take dependencies from an existing site-packages instead of downloading them
    p.add_argument("--deps-from", type=Path, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.remote and not args.token:
        args.token = os.environ.get(TOKEN_ENV)
    t = locations.targets(args.prefix, args.krita_dir, args.gimp_dir, args.kritarc)
    try:
        if args.check:
            return run_checks(REPO, t, args, say)
        if args.uninstall:
            return uninstall(t, say)
        return install(args, t)
    except (InstallError, engine_env.EngineEnvError, RuntimeError, OSError) as e:
        say(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
