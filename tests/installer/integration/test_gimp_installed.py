"""The README's quick start on a fresh Debian, then real GIMP 3 using what it installed.

In a throw-away overlay of tests/gimp's trixie chroot (GIMP 3, Python 3.13, no python3-venv):
run the README's first command as written (installer/install.sh, which has to apt-install
python3.13-venv, then pip-installs from the package index; then ``inkhue colorize`` of the
example), then start gimp-console-3.0 with nothing else set up and colour a two-layer image
through the plug-in's procedure (what Filters > AI Colorize... runs). The plug-in reads the
installer's settings and starts the installed engine's server itself.

Also: a user without root or sudo on that system gets the clear "install python3-venv" message
and nothing left behind.

Needs root (chroot, mounts) and network to Debian's mirror and the package index; about 2-3
minutes. pip's cache is /var/cache/inkhue-installer-pip on the host (used where the index's
answers may be cached).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.gimp import harness
from tests.installer.integration import chroot
from tests.installer.integration.common import REPO, H, W, box_errors, copy_checkout, two_layers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("INKHUE_SKIP_GIMP") == "1", reason="INKHUE_SKIP_GIMP=1"),
]

PIP_CACHE = Path("/var/cache/inkhue-installer-pip")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def readme_command() -> str:
    readme = (REPO / "README.md").read_text()
    return next(line for line in readme.splitlines() if line.startswith("bash installer/install.sh"))


def write_spec(data: Path) -> None:
    """One scenario for tests/gimp/drive_colorize.py: "Hints" above "Line art", line art selected."""
    line, hints = two_layers()
    layers = []
    for i, (name, px) in enumerate((("Hints", hints), ("Line art", line))):
        (data / f"in{i}.rgba").write_bytes(px.tobytes())
        layers.append({"name": name, "file": f"in{i}.rgba", "size": [W, H], "offset": [0, 0], "parent": None})
    # the driver writes "settings" to its own folder; without $INKHUE_CONFIG the plug-in ignores
    # that file and reads the installer's ~/.config/inkhue/plugin.json
    sc = {"name": "installed", "layers": layers, "selected": ["Line art"], "settings": {}, "canvas": [W, H]}
    (data / "spec.json").write_text(json.dumps({"scenarios": [sc]}))


@pytest.fixture(scope="module")
def base() -> Path:
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root: chroot and mounts (the CI runner is root)")
    root = harness.chroot_root()
    harness.ensure_chroot(root)
    return root


def test_readme_quick_start_then_gimp3_colorizes(base: Path, tmp_path: Path) -> None:
    PIP_CACHE.mkdir(parents=True, exist_ok=True)
    with chroot.overlay(base, tmp_path / "ovl", binds={PIP_CACHE: "/var/cache/inkhue-pip"}) as root:
        copy_checkout(root / "srv" / "inkhue")  # the user's clone, with the known-answer model

        # a user who cannot install python3-venv (no root, no sudo) is told what to do
        nobody = root / "tmp" / "nobody"
        nobody.mkdir()
        os.chown(nobody, 65534, 65534)
        proc = chroot.run_in(
            root,
            ["bash", "/srv/inkhue/installer/install.sh"],
            {"HOME": "/tmp/nobody"},
            120,
            user="65534:65534",
        )
        out = proc.stdout.decode()
        assert proc.returncode == 1 and "cannot create virtual environments" in out, (
            out + proc.stderr.decode()
        )
        assert "sudo apt-get install python3-venv" in out
        assert sorted(p.name for p in nobody.iterdir()) == []  # nothing left behind
        env = {"HOME": "/root", "PIP_CACHE_DIR": "/var/cache/inkhue-pip"}
        if HOST_CA.is_file():  # this network's TLS trust (e.g. an inspecting proxy), as the host's pip has
            shutil.copyfile(HOST_CA, root / "etc" / "inkhue-host-ca.crt")
            env["PIP_CERT"] = "/etc/inkhue-host-ca.crt"
        proc = chroot.run_in(root, ["bash", "-c", f"cd /srv/inkhue && {readme_command()}"], env, 1500)
        log = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        assert proc.returncode == 0, log[-6000:]
        assert "apt-get install -y python3.13-venv" in log  # the fresh system lacked venv support
        assert "GIMP 3    ~/.config/GIMP/3.0/plug-ins/inkhue_gimp" in log
        assert (root / "srv/inkhue/example-colorized.png").is_file()

        data = root / "root" / "gimp-data"
        data.mkdir()
        write_spec(data)
        script = (harness.HERE / "drive_colorize.py").read_bytes()
        gimp = ["timeout", "600", harness.GIMP, "-i", "-f", "--batch-interpreter", "python-fu-eval"]
        gimp += ["-b", "-", "--quit"]
        proc = chroot.run_in(
            root, gimp, {"HOME": "/root", "INKHUE_GIMP_DATA": "/root/gimp-data"}, 700, script
        )
        glog = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        assert proc.returncode == 0, glog[-4000:]
        rec = json.loads((data / "result.json").read_text())["scenarios"]["installed"]
        assert "driver_error" not in rec, rec.get("driver_error")
        assert rec["status"] == "success", rec["message"]
        names = [item["name"] for item in rec["after"]]
        assert sorted(names) == ["AI Colorize", "Hints", "Line art"]
        new = next(item for item in rec["after"] if item["name"] == "AI Colorize")
        out = np.frombuffer((data / new["u8"]).read_bytes(), np.uint8).reshape(H, W, 4)
        errors = box_errors(out)  # the flood-fill model: each box comes out in its hint's colour
        assert max(errors.values()) <= 2, errors

        # the plug-in started the installed engine (not anything else) as its local server
        state = json.loads((root / "root/.local/state/inkhue/server.json").read_text())
        assert state["exe"] == "/root/.local/share/inkhue/venv/bin/inkhue"

        proc = chroot.run_in(root, ["bash", "/srv/inkhue/installer/install.sh", "--uninstall"], env, 120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        for gone in (".local/share/inkhue", ".config/GIMP/3.0/plug-ins/inkhue_gimp", ".config/inkhue"):
            assert not (root / "root" / gone).exists(), gone
