"""The user's folders (``engine.wire.folders``): the answers per OS and environment, and every user
of them (engine, installer, plug-in client, managed server, style pairs) asking the same module."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import models
from engine.wire import client, folders, style_pairs
from engine.wire.folders import LINUX, MACOS, WINDOWS, System
from installer import locations

NAMES = (
    "data_dir",
    "models_dir",
    "style_dir",
    "state_dir",
    "config_file",
    "krita_dir",
    "kritarc",
    "gimp_dir",
)


def answers(s: System) -> dict[str, str]:
    return {name: getattr(folders, name)(s) for name in NAMES}


LINUX_DEFAULTS = {
    "data_dir": "/home/ann/.local/share/inkhue",
    "models_dir": "/home/ann/.local/share/inkhue/models",
    "style_dir": "/home/ann/.local/share/inkhue/style",
    "state_dir": "/home/ann/.local/state/inkhue",
    "config_file": "/home/ann/.config/inkhue/plugin.json",
    "krita_dir": "/home/ann/.local/share/krita",
    "kritarc": "/home/ann/.config/kritarc",
    "gimp_dir": "/home/ann/.config/GIMP/3.0",
}


def test_linux_defaults_and_xdg():
    assert answers(System(LINUX, {}, "/home/ann")) == LINUX_DEFAULTS
    xdg = {"XDG_DATA_HOME": "/d", "XDG_CONFIG_HOME": "/c", "XDG_STATE_HOME": "/s"}
    assert answers(System(LINUX, xdg, "/home/ann")) == {
        "data_dir": "/d/inkhue",
        "models_dir": "/d/inkhue/models",
        "style_dir": "/d/inkhue/style",
        "state_dir": "/s/inkhue",
        "config_file": "/c/inkhue/plugin.json",
        "krita_dir": "/d/krita",
        "kritarc": "/c/kritarc",
        "gimp_dir": "/c/GIMP/3.0",
    }


@pytest.mark.parametrize("value", ["", "   ", "relative/data", "./x"])
def test_linux_ignores_blank_and_relative_xdg(value):
    env = {"XDG_DATA_HOME": value, "XDG_CONFIG_HOME": value, "XDG_STATE_HOME": value}
    assert answers(System(LINUX, env, "/home/ann")) == LINUX_DEFAULTS


def test_macos():
    s = System(MACOS, {"XDG_DATA_HOME": "/d", "XDG_STATE_HOME": "/s"}, "/Users/ann")
    sup = "/Users/ann/Library/Application Support"
    assert answers(s) == {
        "data_dir": f"{sup}/inkhue",
        "models_dir": f"{sup}/inkhue/models",
        "style_dir": f"{sup}/inkhue/style",
        "state_dir": f"{sup}/inkhue",
        "config_file": "/Users/ann/.config/inkhue/plugin.json",  # where it has always been
        "krita_dir": f"{sup}/krita",
        "kritarc": "/Users/ann/Library/Preferences/kritarc",
        "gimp_dir": f"{sup}/GIMP/3.0",
    }
    assert (
        folders.config_file(System(MACOS, {"XDG_CONFIG_HOME": "/c"}, "/Users/ann")) == "/c/inkhue/plugin.json"
    )


WINDOWS_ANSWERS = {
    "data_dir": r"C:\Users\ann\AppData\Local\inkhue",
    "models_dir": r"C:\Users\ann\AppData\Local\inkhue\models",
    "style_dir": r"C:\Users\ann\AppData\Local\inkhue\style",
    "state_dir": r"C:\Users\ann\AppData\Local\inkhue",
    "config_file": r"C:\Users\ann\AppData\Roaming\inkhue\plugin.json",
    "krita_dir": r"C:\Users\ann\AppData\Roaming\krita",
    "kritarc": r"C:\Users\ann\AppData\Local\kritarc",
    "gimp_dir": r"C:\Users\ann\AppData\Roaming\GIMP\3.0",
}


def test_windows_known_folders_and_their_fallback():
    env = {
        "APPDATA": r"C:\Users\ann\AppData\Roaming",
        "LOCALAPPDATA": r"C:\Users\ann\AppData\Local",
        "XDG_DATA_HOME": "/d",  # not Windows' variable
    }
    assert answers(System(WINDOWS, env, r"C:\Users\ann")) == WINDOWS_ANSWERS
    # unset or not absolute: the folders Windows would name, not the home folder itself
    assert answers(System(WINDOWS, {}, r"C:\Users\ann")) == WINDOWS_ANSWERS
    assert answers(System(WINDOWS, {"APPDATA": "", "LOCALAPPDATA": "x"}, r"C:\Users\ann")) == WINDOWS_ANSWERS
    moved = System(WINDOWS, {"LOCALAPPDATA": r"D:\Local", "APPDATA": r"D:\Roaming"}, r"C:\Users\ann")
    assert folders.style_dir(moved) == r"D:\Local\inkhue\style"
    assert folders.config_file(moved) == r"D:\Roaming\inkhue\plugin.json"


@pytest.mark.parametrize(
    "system,home", [(LINUX, "/home/ann"), (MACOS, "/Users/ann"), (WINDOWS, r"C:\Users\ann")]
)
def test_inkhue_and_gimp_overrides(system, home):
    sep = "\\" if system == WINDOWS else "/"
    env = {
        folders.STYLE_ENV: "~/shared/style",
        folders.CONFIG_ENV: "/etc/inkhue.json",
        folders.GIMP_ENV: "/opt/gimp-profile",
    }
    s = System(system, env, home)
    assert folders.style_dir(s) == f"{home}{sep}shared/style"
    assert folders.config_file(s) == "/etc/inkhue.json"
    assert folders.gimp_dir(s) == "/opt/gimp-profile"
    blank = System(system, {k: " " for k in env}, home)  # a blank override is no override
    assert folders.style_dir(blank) == folders.style_dir(System(system, {}, home))
    assert folders.gimp_dir(blank) == folders.gimp_dir(System(system, {}, home))


def test_model_path_splits_on_the_os_separator():
    assert folders.model_path_dirs(System(LINUX, {}, "/h")) == []
    assert folders.model_path_dirs(System(LINUX, {folders.MODEL_PATH_ENV: "/a::/b: "}, "/h")) == ["/a", "/b"]
    win = System(WINDOWS, {folders.MODEL_PATH_ENV: r"C:\models;D:\more"}, r"C:\h")
    assert folders.model_path_dirs(win) == [r"C:\models", r"D:\more"]


def test_os_name():
    assert [folders.os_name(p) for p in ("win32", "darwin", "linux", "freebsd14")] == [
        WINDOWS,
        MACOS,
        LINUX,
        LINUX,
    ]


def test_every_user_asks_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The engine's model search, the installer's targets, the plug-in client's settings, the managed
    server's state and the style pairs all follow this machine's answers."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "GIMP3_DIRECTORY", folders.STYLE_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv(folders.CONFIG_ENV, str(tmp_path / "settings.json"))
    monkeypatch.setenv(folders.MODEL_PATH_ENV, str(tmp_path / "m1"))
    here = folders.current()
    assert here.home == str(tmp_path)
    assert models.search_dirs() == [tmp_path / "m1", tmp_path / "data/inkhue/models", models.BUNDLED_DIR]
    t = locations.targets()
    assert t.prefix == tmp_path / "data/inkhue" and t.config == tmp_path / "settings.json"
    assert t.krita_dir == tmp_path / "data/krita" and t.kritarc == tmp_path / ".config/kritarc"
    assert t.gimp_dir == tmp_path / ".config/GIMP/3.0"
    assert style_pairs.style_dir() == str(tmp_path / "data/inkhue/style")
    assert folders.state_dir() == str(tmp_path / ".local/state/inkhue")
    (tmp_path / "settings.json").write_text('{"mode": "remote", "url": "http://gpu:8000", "token": "t"}')
    assert client.load_plugin_config().mode == "remote"  # read from $INKHUE_CONFIG
