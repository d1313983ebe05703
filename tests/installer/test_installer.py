"""installer/install.py end to end, into temporary home folders.

Most tests use the fast path (``--deps-from``: a real venv with inkhue pip-installed from the
repository, non-editable, whose third-party dependencies come from the test venv's site-packages
through a .pth instead of a download). ``test_real_install_then_readme_command`` does the full
download install; ``test_rollback_when_the_package_index_is_unreachable`` the full path up to pip.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.installer.integration.common import (
    DEPS,
    copy_checkout,
    home_env,
    run_installer,
    snapshot,
    tree_paths,
)

VENV = ".local/share/inkhue/venv"
PYKRITA = ".local/share/krita/pykrita"
GIMP_PLUGINS = ".config/GIMP/3.0/plug-ins"
KRITARC = (
    b"[General]\nLastPreset=Basic_tip_default\nrecent[$e]=$HOME/art/\xe9t\xe9.kra\n# keep me\n\n"
    b"[python]\nenable_comics_manager=true\n\n[MainWindow]\nState=AAAA/w==\n"
)
KRITARC_ENABLED = KRITARC.replace(b"manager=true\n", b"manager=true\nenable_inkhue_krita=true\n")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("src"))


def user_home(root: Path) -> Path:
    """A home where Krita and GIMP 3 have been used: settings, another plug-in in each."""
    home = root / "home"
    (home / ".config").mkdir(parents=True)
    (home / ".config/kritarc").write_bytes(KRITARC)
    (home / PYKRITA / "other_plugin").mkdir(parents=True)
    (home / PYKRITA / "other_plugin.desktop").write_text("[Desktop Entry]\nX-KDE-Library=other_plugin\n")
    (home / PYKRITA / "other_plugin/__init__.py").write_text("")
    (home / GIMP_PLUGINS / "other").mkdir(parents=True)
    (home / GIMP_PLUGINS / "other/other.py").write_text("#!/usr/bin/env python3\n")
    return home


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_install_check_reinstall_uninstall(source: Path, tmp_path: Path) -> None:
    home = user_home(tmp_path)
    env = home_env(home)
    before = snapshot(home)

    out = ok(run_installer(source, env, "--deps-from", str(DEPS))).stdout
    assert "AI Colorize" in out and "model sha256 verified: inkhue-default" in out

    # the engine: a venv with inkhue installed from the repository, not linked to it
    py = home / VENV / "bin/python"
    where = subprocess.run(
        [str(py), "-c", "import engine.models as m; print(m.BUNDLED_DIR)"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    ).stdout.strip()  # fmt: skip
    assert where.startswith(str(home / VENV)) and (Path(where) / "inkhue-default/manifest.json").is_file()
    assert os.access(home / VENV / "bin/inkhue", os.X_OK)
    assert not (source / "build").exists() and not list(source.glob("*.egg-info"))  # checkout untouched

    # Krita: package with the vendored client, .desktop, .action, and exactly one kritarc line more
    pkg = home / PYKRITA / "inkhue_krita"
    assert (pkg / "vendor/client.py").read_bytes() == (source / "engine/wire/client.py").read_bytes()
    assert (home / PYKRITA / "inkhue_krita.desktop").is_file()
    assert (home / ".local/share/krita/actions/inkhue_krita.action").is_file()
    assert (home / ".config/kritarc").read_bytes() == KRITARC_ENABLED

    # GIMP: plug-ins/inkhue_gimp/inkhue_gimp.py with its run bit, and the vendored client
    entry = home / GIMP_PLUGINS / "inkhue_gimp/inkhue_gimp.py"
    assert entry.stat().st_mode & stat.S_IXUSR
    assert (entry.parent / "vendor/schema.py").read_bytes() == (source / "engine/wire/schema.py").read_bytes()

    # the settings the plug-ins read, through the engine's own reader; token-safe permissions
    from engine.wire.client import load_plugin_config

    config = home / ".config/inkhue/plugin.json"
    cfg = load_plugin_config(str(config))
    assert (cfg.mode, cfg.inkhue, cfg.url) == ("local", str(home / VENV / "bin/inkhue"), None)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    check = ok(run_installer(source, env, "--check")).stdout
    assert check.count("  ok ") >= 8 and "MISSING" not in check

    installed = snapshot(home, skip=(VENV,))
    venv_files = tree_paths(home / VENV)
    ok(run_installer(source, env, "--deps-from", str(DEPS)))
    assert snapshot(home, skip=(VENV,)) == installed  # run twice = same result
    assert tree_paths(home / VENV) == venv_files
    assert not list((home / PYKRITA).glob(".*inkhue*"))  # no leftovers of the swap

    ok(run_installer(source, env, "--uninstall"))
    assert snapshot(home) == before  # other plug-ins, kritarc bytes, folders: as they were


def test_check_reports_each_missing_piece_with_its_fix(source: Path, tmp_path: Path) -> None:
    home = user_home(tmp_path)
    env = home_env(home)
    ok(run_installer(source, env, "--deps-from", str(DEPS)))
    (home / ".config/kritarc").write_bytes(KRITARC)  # e.g. Krita reset its settings
    entry = home / GIMP_PLUGINS / "inkhue_gimp/inkhue_gimp.py"
    entry.chmod(0o644)
    (home / PYKRITA / "inkhue_krita/extension.py").write_text("# edited\n")
    proc = run_installer(source, env, "--check")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    bad = {
        line.split(":")[0].split(None, 1)[1] for line in lines if line.startswith("  ") and "fix:" not in line
    }
    assert {"Krita enabled", "GIMP run bit", "Krita plug-in"} <= bad
    assert "MISSING   Krita enabled" in proc.stdout and "OUTDATED  Krita plug-in" in proc.stdout
    assert f"chmod +x '{entry}'" in proc.stdout and "Python Plugin Manager" in proc.stdout
    assert "  ok        engine" in proc.stdout
    ok(run_installer(source, env, "--deps-from", str(DEPS)))  # the fix the report gives
    ok(run_installer(source, env, "--check"))


def test_remote_mode_missing_editors_and_overrides(source: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = home_env(home, path=str(empty))  # no krita, no gimp on PATH, no editor folders
    before = snapshot(home)
    proc = ok(run_installer(source, env, "--remote", "http://127.0.0.1:9/", "--token", "s3cret"))
    assert "Krita was not found" in proc.stdout and "--krita-dir" in proc.stdout
    assert "GIMP 3 was not found" in proc.stdout and "--gimp-dir" in proc.stdout
    assert not (home / ".local/share/inkhue/venv").exists()  # remote: no local engine
    config = json.loads((home / ".config/inkhue/plugin.json").read_text())
    assert config == {"inkhue": None, "mode": "remote", "url": "http://127.0.0.1:9", "token": "s3cret"}
    ok(run_installer(source, env, "--check"))  # an unreachable server is reported, not a failure

    # the editors in places of the user's choosing: --krita-dir may name pykrita/ itself
    kdir, gdir, prefix = tmp_path / "k" / "pykrita", tmp_path / "g" / "plug-ins", tmp_path / "pre"
    flags = ["--krita-dir", str(kdir), "--gimp-dir", str(gdir), "--prefix", str(prefix)]
    flags += ["--kritarc", str(tmp_path / "k" / "kritarc")]
    ok(run_installer(source, env, "--remote", "http://127.0.0.1:9", *flags))
    assert (kdir / "inkhue_krita" / "extension.py").is_file() and (gdir / "inkhue_gimp").is_dir()
    assert (tmp_path / "k" / "actions" / "inkhue_krita.action").is_file()
    assert (tmp_path / "k" / "kritarc").read_text() == "[python]\nenable_inkhue_krita=true\n"
    ok(run_installer(source, env, "--check", *flags))
    ok(run_installer(source, env, "--uninstall", *flags))
    assert not any(p.exists() for p in (tmp_path / "k", tmp_path / "g", prefix))
    ok(run_installer(source, env, "--uninstall"))
    assert snapshot(home) == before


def test_gimp3_directory_is_respected(source: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    profile = tmp_path / "gimp-profile"
    env = home_env(home, GIMP3_DIRECTORY=str(profile))
    ok(run_installer(source, env, "--remote", "http://127.0.0.1:9", "--no-krita"))
    assert os.access(profile / "plug-ins/inkhue_gimp/inkhue_gimp.py", os.X_OK)
    assert not (home / ".config/GIMP").exists()
    ok(run_installer(source, env, "--uninstall"))
    assert not profile.exists()


def test_damaged_model_stops_before_anything_changes(source: Path, tmp_path: Path) -> None:
    src = copy_checkout(tmp_path / "src")
    onnx_file = src / "engine/models/inkhue-default/draft.onnx"
    data = bytearray(onnx_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx_file.write_bytes(bytes(data))
    home = user_home(tmp_path)
    before = snapshot(home)
    proc = run_installer(src, home_env(home), "--deps-from", str(DEPS))
    assert proc.returncode == 1
    assert "bundled model is damaged" in proc.stdout and "draft.onnx fails its sha256" in proc.stdout
    assert snapshot(home) == before

    onnx_file.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n")
    proc = run_installer(src, home_env(home), "--deps-from", str(DEPS))
    assert proc.returncode == 1 and "git lfs pull" in proc.stdout


def _offline_env(home: Path) -> dict[str, str]:
    """pip with only an unreachable package index: what an install without network meets."""
    env = {k: v for k, v in home_env(home).items() if not k.startswith("PIP_")}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL="http://127.0.0.1:9/simple",
        PIP_RETRIES="0",
        PIP_TIMEOUT="5",
        PIP_NO_CACHE_DIR="1",
    )
    return env


def test_rollback_when_the_package_index_is_unreachable(source: Path, tmp_path: Path) -> None:
    home = user_home(tmp_path)
    before = snapshot(home)
    proc = run_installer(source, _offline_env(home))
    assert proc.returncode == 1
    assert "pip failed" in proc.stdout and "internet connection" in proc.stdout
    assert "rolled back" in proc.stdout
    assert snapshot(home) == before  # no venv, no plug-ins, kritarc untouched

    # over a working installation, a failed reinstall leaves that installation working
    ok(run_installer(source, home_env(home), "--deps-from", str(DEPS)))
    installed = snapshot(home)
    assert run_installer(source, _offline_env(home)).returncode == 1
    assert snapshot(home) == installed
    ok(run_installer(source, home_env(home), "--check"))


def test_dev_mode_uses_the_repository_venv_and_leaves_it(tmp_path: Path) -> None:
    """--dev on this checkout: the plug-ins are pointed at .venv (made by dev-setup.sh)."""
    repo = Path(__file__).resolve().parents[2]
    inkhue = repo / ".venv" / "bin" / "inkhue"
    if not inkhue.exists():
        pytest.skip("needs the checkout's .venv (bash installer/dev-setup.sh), as in CI")
    home = tmp_path / "home"
    home.mkdir()
    env = home_env(home)
    ok(run_installer(repo, env, "--dev", "--no-krita", "--no-gimp"))
    assert json.loads((home / ".config/inkhue/plugin.json").read_text())["inkhue"] == str(inkhue)
    assert not (home / VENV).exists()
    check = run_installer(repo, env, "--check")
    if any((repo / "engine/models").glob("*/manifest.json")):
        ok(check)
    else:  # a checkout without the trained model: --dev installs with a warning, --check says so
        assert check.returncode == 1 and "MISSING   engine: no bundled model" in check.stdout
    ok(run_installer(repo, env, "--uninstall"))
    assert inkhue.exists() and snapshot(home) == {}


@pytest.mark.slow
def test_real_install_then_readme_command(tmp_path: Path) -> None:
    """The README's quick start, as written, against a real download install (about a minute)."""
    src = copy_checkout(tmp_path / "src", model="as-is")
    home = tmp_path / "home"
    home.mkdir()
    env = home_env(home)
    before = snapshot(home)
    proc = subprocess.run(
        ["bash", "installer/install.sh", "--no-krita", "--no-gimp"],
        cwd=src, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    readme = (src / "README.md").read_text()
    command = next(line for line in readme.splitlines() if line.startswith("bash installer/install.sh && "))
    colorize = command.split(" && ", 1)[1].replace("~", str(home), 1)
    ok(subprocess.run(["bash", "-c", colorize], cwd=src, env=env, capture_output=True, text=True))
    from PIL import Image

    with Image.open(src / "example-colorized.png") as out, Image.open(src / "examples/lineart.png") as line:
        assert out.size == line.size and out.mode == "RGB"
    freeze = subprocess.run(
        [str(home / VENV / "bin/python"), "-m", "pip", "freeze"], env=env, capture_output=True, text=True
    ).stdout.lower()
    assert "onnxruntime==" in freeze and "torch" not in freeze and "uvicorn==" in freeze
    assert "inkhue @ file" in freeze  # from the repository, not an editable link
    ok(run_installer(src, env, "--check"))
    ok(run_installer(src, env, "--uninstall"))
    # running inkhue (the README command, not the installer) lets ONNX Runtime keep a device id in
    # ~/.cache/Microsoft/DeveloperTools unless ORT_DISABLE_TELEMETRY=1; that file is ORT's, not ours
    after = snapshot(home, skip=(".cache/Microsoft",))
    after.pop(".cache", None)  # the folder of that file, if nothing else is in it
    assert after == before
