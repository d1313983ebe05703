"""The installer's pieces without installing: kritarc edits, pip plans, GPU detection, paths."""

from __future__ import annotations

import os
import stat
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from installer import engine_env, kritarc, locations
from installer.txn import Transaction

PLUGIN = "inkhue_krita"


# ---------------------------------------------------------------------------------------------
# the Krita plug-in as installed (what tests/krita/kritarun.py installs into each Krita profile)


def test_krita_plugin_layout_kritarc_and_uninstall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from installer.install import install_krita
    from installer.txn import Record
    from installer.uninstall import uninstall

    for var in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):  # the uninstaller's own folders
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    rc = tmp_path / "kritarc"
    original = "[General]\nfoo[$e]=bar\n\n[python]\nenable_other=true\n\n[MainWindow]\nState=AAA=\n"
    rc.write_text(original)
    t = locations.targets(tmp_path / "prefix", tmp_path / "res", tmp_path / "gimp", kritarc=rc)
    record, txn = Record(t.record), Transaction()
    install_krita(t, txn, record)
    txn.write_file(t.record, record.to_json())
    txn.commit()

    pkg = tmp_path / "res/pykrita" / PLUGIN
    assert (pkg / "vendor" / "client.py").is_file() and (pkg / "session.py").is_file()
    assert (tmp_path / "res/pykrita/inkhue_krita.desktop").is_file()
    assert (tmp_path / "res/actions/inkhue_krita.action").is_file()
    assert not list(pkg.rglob("__pycache__"))
    text = rc.read_text()
    assert "[python]\nenable_other=true\nenable_inkhue_krita=true\n\n[MainWindow]\nState=AAA=\n" in text
    assert text.startswith("[General]\nfoo[$e]=bar\n")

    assert uninstall(t, lambda _msg: None) == 0
    assert rc.read_text() == original and not pkg.exists()
    assert not (tmp_path / "res/actions/inkhue_krita.action").exists()


# ---------------------------------------------------------------------------------------------
# kritarc


def test_enable_into_empty_file_and_back() -> None:
    new, undo = kritarc.enable("", PLUGIN)
    assert new == "[python]\nenable_inkhue_krita=true\n"
    assert kritarc.disable(new, PLUGIN, undo) == ""


def test_enable_adds_a_group_after_a_blank_line_keeping_crlf() -> None:
    text = "[General]\r\nfoo=bar"  # Windows line ends, no final newline
    new, undo = kritarc.enable(text, PLUGIN)
    assert new == "[General]\r\nfoo=bar\r\n\r\n[python]\r\nenable_inkhue_krita=true\r\n"
    assert kritarc.disable(new, PLUGIN, undo) == text


def test_existing_false_line_is_switched_and_restored() -> None:
    text = "[python]\nenable_a=true\nenable_inkhue_krita = false\nenable_b=false\n\n[X]\ny=1\n"
    new, undo = kritarc.enable(text, PLUGIN)
    assert new == text.replace("enable_inkhue_krita = false", "enable_inkhue_krita=true")
    assert kritarc.is_enabled(new, PLUGIN) and not kritarc.is_enabled(text, PLUGIN)
    assert kritarc.disable(new, PLUGIN, undo) == text


def test_only_the_python_group_counts() -> None:
    text = "[other]\nenable_inkhue_krita=true\n"
    assert not kritarc.is_enabled(text, PLUGIN)
    new, _ = kritarc.enable(text, PLUGIN)
    assert new == text + "\n[python]\nenable_inkhue_krita=true\n"
    assert kritarc.is_enabled(new, PLUGIN)


def test_disable_after_krita_rewrote_the_file() -> None:
    """Krita saves kritarc itself: our group gains keys and moves; only our line goes."""
    _, undo = kritarc.enable("[General]\na=1\n", PLUGIN)
    rewritten = "[General]\na=1\nb=2\n\n[python]\nenable_inkhue_krita=true\nenable_x=true\n\n[Z]\nz=1\n"
    assert (
        kritarc.disable(rewritten, PLUGIN, undo)
        == "[General]\na=1\nb=2\n\n[python]\nenable_x=true\n\n[Z]\nz=1\n"
    )
    alone = "[General]\na=1\n\n[python]\nenable_inkhue_krita=true\n\n[Z]\nz=1\n"
    assert kritarc.disable(alone, PLUGIN, undo) == "[General]\na=1\n\n[Z]\nz=1\n"


line_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20)
kritarc_lines = st.lists(
    st.one_of(
        line_text,
        st.sampled_from(["[python]", "[General]", "", "enable_inkhue_krita=false", "enable_x=true", "  "]),
    ),
    max_size=12,
)


@given(kritarc_lines, st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_enable_changes_one_line_and_disable_restores_bytes(lines: list[str], nl: str, final: bool) -> None:
    text = nl.join(lines) + (nl if final and lines else "")
    new, undo = kritarc.enable(text, PLUGIN)
    assert kritarc.is_enabled(new, PLUGIN)
    assert kritarc.enable(new, PLUGIN)[0] == new  # idempotent
    assert kritarc.disable(new, PLUGIN, undo) == text
    # every difference is our line (and its group): nothing else was added, dropped or reordered
    old_lines, new_lines = (
        Counter(text.replace(nl, "\n").split("\n")),
        Counter(new.replace(nl, "\n").split("\n")),
    )
    assert set(new_lines - old_lines) <= {"", "[python]", "enable_inkhue_krita=true"}
    assert all(x.replace(" ", "") == "enable_inkhue_krita=false" for x in old_lines - new_lines)
    assert sum(new_lines.values()) - sum(old_lines.values()) <= 4  # blank, group, line, final end


# ---------------------------------------------------------------------------------------------
# engine environment plans


def test_pip_steps() -> None:
    repo = Path("/src/inkhue")
    cpu = engine_env.pip_steps(engine_env.EnginePlan(repo, gpu=False, training=False))
    assert cpu == [["install", "/src/inkhue[service]"]]
    gpu = engine_env.pip_steps(engine_env.EnginePlan(repo, gpu=True, training=False))
    # the CPU build (a dependency) leaves before the GPU build arrives: they share a folder
    assert gpu[1:] == [["uninstall", "-y", "onnxruntime"], ["install", "onnxruntime-gpu>=1.17"]]
    train = engine_env.pip_steps(engine_env.EnginePlan(repo, gpu=False, training=True))
    assert train == [["install", "torch==2.13.0"], ["install", "/src/inkhue[service,train]"]]
    assert not any("torch" in " ".join(s) for s in cpu + gpu)


def test_staged_source_is_what_pyproject_builds_from(tmp_path: Path) -> None:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    repo = Path(__file__).resolve().parents[2]
    project = tomllib.loads((repo / "pyproject.toml").read_text())
    includes = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {pattern.rstrip("*") for pattern in includes} <= set(engine_env.PACKAGE_SOURCES)
    assert project["project"]["readme"] in engine_env.PACKAGE_SOURCES
    staged = engine_env.stage_source(repo, tmp_path / "s")
    assert (staged / "engine/wire/client.py").read_bytes() == (repo / "engine/wire/client.py").read_bytes()
    assert not list(staged.rglob("__pycache__")) and not (staged / "tests").exists()


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)'", True),
        ("echo 'NVIDIA-SMI has failed because it could not communicate with the driver' >&2; exit 9", False),
        (None, False),
    ],
)
def test_gpu_detection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str | None, expected: bool
) -> None:
    if script is not None:
        exe = tmp_path / "nvidia-smi"
        exe.write_text(f"#!/bin/sh\n{script}\n")
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert engine_env.nvidia_gpu_present() is expected


def test_apt_command_targets_this_python(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for tool in ("apt-get", "sudo"):
        (tmp_path / tool).write_text("#!/bin/sh\n")
        (tmp_path / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    assert engine_env.apt_venv_command((3, 12)) == [*sudo, "apt-get", "install", "-y", "python3.12-venv"]
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert engine_env.apt_venv_command((3, 12)) is None


# ---------------------------------------------------------------------------------------------
# paths and transactions


def test_default_locations_follow_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("GIMP3_DIRECTORY", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    t = locations.targets()
    assert t.venv == tmp_path / "data/inkhue/venv" and t.pykrita == tmp_path / "data/krita/pykrita"
    assert t.kritarc == tmp_path / ".config/kritarc"
    assert t.gimp_plugins == tmp_path / ".config/GIMP/3.0/plug-ins"


def test_transaction_rollback_restores_everything(tmp_path: Path) -> None:
    keep = tmp_path / "a" / "keep.txt"
    keep.parent.mkdir()
    keep.write_text("old")
    tree = tmp_path / "a" / "tree"
    tree.mkdir()
    (tree / "f").write_text("old tree")
    txn = Transaction()
    txn.write_file(keep, b"new")
    txn.write_file(tmp_path / "b" / "c" / "new.txt", b"x")
    txn.replace_tree(tree, lambda d: (d.mkdir(), (d / "g").write_text("new tree")))
    assert (tree / "g").is_file() and not (tree / "f").exists()
    assert txn.rollback() == []
    assert keep.read_text() == "old" and (tree / "f").read_text() == "old tree"
    assert sorted(os.listdir(tmp_path)) == ["a"] and sorted(os.listdir(tmp_path / "a")) == [
        "keep.txt",
        "tree",
    ]


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_secret_files_are_created_private_not_chmodded_afterwards(tmp_path: Path, monkeypatch) -> None:
    """Issue 19.18: plugin.json (a remote token) is never readable by others, not even briefly:
    with chmod doing nothing, the file is still created 0600."""
    path = tmp_path / "plugin.json"
    old_umask = os.umask(0o022)
    try:
        monkeypatch.setattr(os, "chmod", lambda *a, **k: None)
        Transaction().write_file(path, b'{"token": "secret"}', mode=0o600)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        txn = Transaction()
        txn.write_file(path, b'{"token": "newer"}', mode=0o600)
        assert txn.rollback() == []  # the restored older file is private too
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and b"secret" in path.read_bytes()
    finally:
        os.umask(old_umask)
