"""deploy/Containerfile without a builder: its steps replayed in a fresh Debian root, then its
server started from that root as the image would start it, answering probes and an infer.

Slow (a pip install into a new virtual environment: ~1-3 min with a warm pip cache); needs root
(chroot, mounts) and mmdebstrap for the first build of the root (tests/deploy/setup_root.sh).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.deploy import containerfile
from tests.installer.integration import chroot

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
ROOT = Path(os.environ.get("INKHUE_DEPLOY_ROOT", "/var/cache/inkhue-deploy-root"))
PIP_CACHE = Path("/var/cache/inkhue-deploy-pip")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
TOKEN = "container-test-token-0123456789"


def test_both_variants_share_the_install_and_the_start():
    cpu, cuda = (
        containerfile.parse(DEPLOY / "Containerfile"),
        containerfile.parse(DEPLOY / "Containerfile.cuda"),
    )
    assert cpu.base.startswith("python:3.12-slim") and cuda.base.startswith("nvidia/cuda:12.")
    assert "cudnn-runtime" in cuda.base
    for cf, extras, device in ((cpu, "service", "cpu"), (cuda, "service,gpu", "cuda")):
        runs = [v[1] for k, v in cf.steps if k == "RUN"]
        assert f"sh /src/deploy/install.sh {extras}" in runs[-1]
        assert cf.user == "10001:10001" and cf.expose == [8080]
        assert cf.env["INKHUE_TOKEN_FILE"] == "/run/secrets/inkhue-token"
        assert cf.entrypoint == ["/opt/inkhue/bin/inkhue", "serve"]
        assert cf.cmd[cf.cmd.index("--device") + 1] == device and "0.0.0.0" in cf.cmd
        assert "/v2/health/ready" in " ".join(cf.healthcheck)
    assert [s for s in cpu.steps if s[0] == "COPY"] == [s for s in cuda.steps if s[0] == "COPY"]


@pytest.fixture(scope="module")
def base_root() -> Path:
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root: chroot and mounts")
    if not (ROOT / "usr/bin/python3").exists() and not shutil.which("mmdebstrap"):
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap)")
    r = subprocess.run(
        [str(REPO / "tests/deploy/setup_root.sh"), str(ROOT)], capture_output=True, timeout=900
    )
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    return ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_image_steps_in_a_fresh_debian_root_then_serve(base_root, tmp_path):
    from engine.wire import client
    from tests.service_helpers import drawing

    cf = containerfile.parse(DEPLOY / "Containerfile")
    PIP_CACHE.mkdir(parents=True, exist_ok=True)
    with chroot.overlay(base_root, tmp_path / "ovl") as root:
        build_env = {}
        if HOST_CA.is_file():  # this network's TLS trust (an inspecting proxy), as a builder's network has
            shutil.copyfile(HOST_CA, root / "etc" / "inkhue-host-ca.crt")
            build_env["PIP_CERT"] = "/etc/inkhue-host-ca.crt"

        def run_in(r, argv, env, timeout):
            return chroot.run_in(r, argv, {"HOME": "/root", **env, **build_env}, timeout)

        containerfile.replay(cf, REPO, root, PIP_CACHE, run_in)
        assert not (root / "src").exists()
        assert (root / "opt/inkhue/bin/inkhue").is_file()

        # the secret, as Kubernetes mounts it: readable by the server's user only
        secrets = root / "run" / "secrets"
        secrets.mkdir(parents=True, exist_ok=True)
        (secrets / "inkhue-token").write_text(TOKEN + "\n")
        os.chown(secrets / "inkhue-token", 10001, 10001)
        os.chmod(secrets / "inkhue-token", 0o400)

        port = _free_port()
        argv = cf.entrypoint + [a if a != "8080" else str(port) for a in cf.cmd]
        env = {**cf.env, "HOME": "/home/inkhue"}
        variables = {"PATH": chroot.PATH, "LANG": "C.UTF-8", **env}
        cmd = ["chroot", f"--userspec={cf.user}", str(root), "env", "-i"]
        cmd += [f"{k}={v}" for k, v in variables.items()] + [
            "sh",
            "-c",
            f'cd {cf.workdir} && exec "$@"',
            "sh",
        ]
        log = open(tmp_path / "server.log", "wb")
        proc = subprocess.Popen(cmd + argv, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while not client.health(url, timeout=1):
                assert proc.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the server did not become ready"
                time.sleep(0.3)
            status = subprocess.run(
                ["cat", f"/proc/{proc.pid}/status"], capture_output=True, text=True
            ).stdout
            # the chroot execs into the server: its uid is the image's user, not root
            uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
            assert uids == ["10001"] * 4
            # the image's HEALTHCHECK command, run inside as the image would run it
            health = [a.replace("8080", str(port)) for a in cf.healthcheck]
            r = chroot.run_in(root, health, {}, 30, user=cf.user)
            assert r.returncode == 0, r.stderr.decode()

            lineart, hints = drawing(120, 160, seed=3)
            with pytest.raises(client.EngineError):  # the token is required off loopback
                client.colorize(url, lineart.tobytes(), hints.tobytes(), 160, 120)
            rgb = client.colorize(url, lineart.tobytes(), hints.tobytes(), 160, 120, token=TOKEN)
            from engine.models import BUNDLED_DIR
            from engine.pipeline import LocalColorizer

            ref = LocalColorizer(BUNDLED_DIR / "inkhue-default").colorize(lineart, hints)
            assert rgb == ref.tobytes()  # the bundled model, the same bytes as here
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def test_token_sources_in_order(tmp_path, monkeypatch):
    """--token, --token-file, $INKHUE_TOKEN, $INKHUE_TOKEN_FILE (the image's default secret path)."""
    from engine.server.command import read_token
    from engine.server.run import ServeError

    secret = tmp_path / "token"
    secret.write_text("  from-file\n")
    monkeypatch.delenv("INKHUE_TOKEN", raising=False)
    monkeypatch.setenv("INKHUE_TOKEN_FILE", str(tmp_path / "missing"))
    assert read_token("flag", str(tmp_path / "missing")) == "flag"
    assert read_token(None, str(secret)) == "from-file"
    monkeypatch.setenv("INKHUE_TOKEN", "from-env")
    assert read_token(None, None) == "from-env"  # the env token wins over the image's default file
    monkeypatch.delenv("INKHUE_TOKEN")
    with pytest.raises(ServeError, match="cannot read the token file"):
        read_token(None, None)
    monkeypatch.setenv("INKHUE_TOKEN_FILE", str(secret))
    assert read_token(None, None) == "from-file"
    secret.write_text("two words")
    with pytest.raises(ServeError, match="exactly one token"):
        read_token(None, None)
    monkeypatch.delenv("INKHUE_TOKEN_FILE")
    assert read_token(None, None) is None
