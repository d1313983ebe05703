"""The engine's own virtual environment: create it, pip-install inkhue, verify the model in it.

Standard library only. The venv gets the GPU build of ONNX Runtime when ``nvidia-smi`` lists a
GPU, the CPU build otherwise, and torch (pinned exactly) only for training.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

TORCH_SPEC = "torch==2.13.0"  # exact: a range lets pip choose a build with GBs of CUDA wheels
ORT_CPU = "onnxruntime>=1.17"
ORT_GPU = "onnxruntime-gpu>=1.17"
EXTRAS = ("service",)  # the plug-ins talk to 'inkhue serve', which needs the service extra
MANIFEST = "manifest.json"
PIP_TAIL = 40  # lines of pip's output shown when it fails


class EngineEnvError(Exception):
    """Creating or checking the engine's environment failed; the message says what to do."""


class VenvUnavailable(EngineEnvError):
    """This Python cannot create virtual environments (Debian/Ubuntu without python3-venv)."""


def clean_env() -> dict[str, str]:
    """The environment for the venv's programs: no PYTHONPATH/PYTHONHOME leaking other code in."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    # ONNX Runtime >= 1.2x keeps a device id in ~/.cache/Microsoft/DeveloperTools unless told not to;
    # the installer's own checks leave no such file behind
    env["ORT_DISABLE_TELEMETRY"] = "1"
    env.pop("INKHUE_MODEL_PATH", None)  # the check is about the bundled model
    return env


def nvidia_gpu_present() -> bool:
    """True when ``nvidia-smi -L`` runs and lists a GPU (driver installed and working)."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return False
    try:
        proc = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and "GPU" in proc.stdout


# what the package is built from: pyproject.toml's readme and packages.find folders (a test keeps
# this in step with pyproject.toml)
PACKAGE_SOURCES = ("pyproject.toml", "README.md", "engine", "training")


def stage_source(repo: Path, dest: Path) -> Path:
    """Copy the files the package is built from into ``dest`` and return it.

    pip builds a local folder in place: setuptools would leave build/ and *.egg-info in the
    user's checkout, and package files from an old build/ that are gone from the source.
    """
    for name in PACKAGE_SOURCES:
        src = repo / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif src.is_file():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@dataclass(frozen=True)
class EnginePlan:
    repo: Path
    gpu: bool
    training: bool
    deps_from: Path | None = None  # tests: dependencies from an existing site-packages, no download


def pip_steps(plan: EnginePlan) -> list[list[str]]:
    """The ``pip`` command lines, in order, that install inkhue into a fresh venv."""
    if plan.deps_from is not None:
        return [["install", "--no-deps", "--no-build-isolation", str(plan.repo)]]
    steps = []
    if plan.training:  # first, so the 'train' extra's pin is already met and nothing else is pulled
        steps.append(["install", TORCH_SPEC])
    extras = ",".join(EXTRAS + (("train",) if plan.training else ()))
    steps.append(["install", f"{plan.repo}[{extras}]"])
    if plan.gpu:
        # onnxruntime and onnxruntime-gpu share the 'onnxruntime' package folder: the CPU build
        # (a dependency of inkhue) must go before the GPU build goes in
        steps += [["uninstall", "-y", "onnxruntime"], ["install", ORT_GPU]]
    return steps


def run_pip(python: Path, args: list[str]) -> None:
    """``python -m pip ARGS``; raises EngineEnvError with pip's last lines when it fails."""
    cmd = [str(python), "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=clean_env())
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-PIP_TAIL:])
        raise EngineEnvError(
            f"pip failed (exit {proc.returncode}) running: pip {' '.join(args)}\n{tail}\n"
            "Check the internet connection (or the proxy/index settings pip uses) and run the "
            "installer again; nothing was left half-installed."
        )


def create_venv(python: str, dest: Path, deps_from: Path | None = None) -> None:
    """``python -m venv dest``; VenvUnavailable when the interpreter lacks venv/ensurepip.

    With ``deps_from`` the venv gets no pip of its own: pip, setuptools and every dependency come
    from that site-packages folder through a ``.pth`` file.
    """
    cmd = [python, "-m", "venv", str(dest)] + (["--without-pip"] if deps_from is not None else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=clean_env())
    if proc.returncode != 0:
        out = (proc.stdout + proc.stderr).strip()
        if "ensurepip" in out or "No module named venv" in out:
            raise VenvUnavailable(out)
        raise EngineEnvError(f"could not create the virtual environment {dest}:\n{out}")
    if deps_from is not None:
        from installer.locations import venv_python

        site = subprocess.run(
            [str(venv_python(dest)), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
            env=clean_env(),
        ).stdout.strip()
        # appended to sys.path after the venv's own site-packages, so the venv's inkhue wins
        Path(site, "_inkhue_deps_from.pth").write_text(str(deps_from) + "\n")


def apt_venv_command(version: tuple[int, int] | None = None) -> list[str] | None:
    """The apt-get command that adds venv support to this Python, or None (no apt, no root/sudo)."""
    if not shutil.which("apt-get"):
        return None
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    sudo = [] if is_root else (["sudo"] if shutil.which("sudo") else None)
    if sudo is None:
        return None
    major, minor = version or sys.version_info[:2]
    # the versioned package: python3-venv is only right when this is the distribution's default python3
    return [*sudo, "apt-get", "install", "-y", f"python{major}.{minor}-venv"]


def apt_install_venv(cmd: list[str]) -> None:
    """Run ``cmd`` (from :func:`apt_venv_command`), with an ``apt-get update`` when lists are stale."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(cmd, env=env).returncode == 0:
        return
    update = [*cmd[: cmd.index("apt-get")], "apt-get", "update"]
    if subprocess.run(update, env=env).returncode != 0 or subprocess.run(cmd, env=env).returncode != 0:
        raise EngineEnvError(f"'{' '.join(cmd)}' failed; install python3-venv and run the installer again")


# ----------------------------------------------------------------------------------------------
# models


def model_dirs(repo: Path) -> list[Path]:
    root = repo / "engine" / "models"
    if not root.is_dir():
        return []
    return sorted(d for d in root.iterdir() if (d / MANIFEST).is_file())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_model_files(model_dir: Path) -> list[str]:
    """Check every file of a model folder against its manifest's sha256; returns the problems.

    The same check the engine does on load, done here before pip spends minutes, and able to
    spot Git LFS pointer files (a clone without ``git lfs pull``).
    """
    try:
        manifest = json.loads((model_dir / MANIFEST).read_text(encoding="utf-8"))
        files = []
        for stage in manifest["stages"].values():
            files.append((stage["onnx"], stage["onnx_sha256"]))
            if stage.get("weights"):
                files.append((stage["weights"], stage.get("weights_sha256") or ""))
            files.extend((stage.get("onnx_external") or {}).items())  # the graph's external data
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        return [f"{model_dir / MANIFEST} is not a valid model manifest ({e!r})"]
    problems = []
    for name, expected in files:
        path = model_dir / name
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        with open(path, "rb") as f:
            if f.read(40).startswith(b"version https://git-lfs"):
                problems.append(f"{path} is a Git LFS pointer, not the model: run 'git lfs pull'")
                continue
        if _sha256(path) != expected:
            problems.append(
                f"{path} fails its sha256 check (manifest: {expected[:12]}…): the file is damaged"
            )
    return problems


CHECK_SCRIPT = r"""
import json, sys
out = {"models": [], "problems": []}
try:
    from engine.errors import InkhueError
    from engine.models import BUNDLED_DIR
    from engine.modelspec import MANIFEST, load_manifest
except Exception as e:
    print(json.dumps({"models": [], "problems": [f"the engine does not import: {e!r}"]}))
    sys.exit(0)
out["bundled_dir"] = str(BUNDLED_DIR)
dirs = sorted(d for d in BUNDLED_DIR.iterdir() if (d / MANIFEST).is_file()) if BUNDLED_DIR.is_dir() else []
for d in dirs:
    try:
        m = load_manifest(d, verify=True)
        out["models"].append({"name": m.name, "version": m.version, "path": str(d)})
    except InkhueError as e:
        out["problems"].append(str(e))
try:
    import onnxruntime as ort
    out["onnxruntime"] = ort.__version__
    out["providers"] = ort.get_available_providers()
except Exception as e:
    out["problems"].append(f"ONNX Runtime does not load: {e!r}")
if "--torch" in sys.argv:
    try:
        import torch
        out["torch"] = torch.__version__
    except Exception as e:
        out["problems"].append(f"torch does not load: {e!r}")
print(json.dumps(out))
"""


def inspect_engine(python: Path, torch: bool = False, cwd: Path | None = None) -> dict:
    """Ask the venv's Python which bundled models verify, and which ONNX Runtime it has.

    ``cwd`` is the repository in --dev mode (its editable engine); elsewhere a neutral folder, so
    a repository checkout in the current folder cannot shadow the installed package.
    """
    with tempfile.TemporaryDirectory() as neutral:
        args = [str(python), "-c", CHECK_SCRIPT] + (["--torch"] if torch else [])
        try:
            proc = subprocess.run(
                args, capture_output=True, text=True, env=clean_env(), cwd=str(cwd or neutral), timeout=300
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            return {"models": [], "problems": [f"cannot run {python}: {e}"]}
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"models": [], "problems": [f"{python} failed: {(proc.stdout + proc.stderr).strip()[-2000:]}"]}


def stop_managed_server(inkhue: Path, state_dir: Path) -> bool:
    """Stop the plug-ins' managed ``inkhue serve`` if it runs from ``inkhue``: after a reinstall it
    would go on serving the old engine until idle, after an uninstall from deleted files."""
    try:
        state = json.loads((state_dir / "server.json").read_text(encoding="utf-8"))
        pid = int(state["pid"])
        if Path(state["exe"]) != inkhue:
            return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if sys.platform.startswith("linux"):  # the pid may have been reused since: check it is ours
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        if b"serve" not in args or not any(a.endswith(os.fsencode(inkhue.name)) for a in args):
            return False
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return False
    return True
