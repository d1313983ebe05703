"""Fixtures for the real-Krita tests: the engine and fake servers, and one Krita run of
scripts/e2e.py shared by all checks (each Krita start costs ~10 s).

Krita is required: without it these tests fail with the command that installs it
(``tests/krita/setup.sh``). Set INKHUE_SKIP_KRITA=1 to skip them explicitly, or
INKHUE_KRITA_ROOT=<chroot> to run them in another Krita (``tests/krita/setup-chroot.sh``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import krita_servers  # noqa: E402
import kritarun  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if os.environ.get("INKHUE_SKIP_KRITA") == "1":
        skip = pytest.mark.skip(reason="INKHUE_SKIP_KRITA=1")
        for item in items:
            if "needs_krita" in item.keywords:
                item.add_marker(skip)


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_krita: runs real Krita under Xvfb (INKHUE_SKIP_KRITA=1 skips)")


@pytest.fixture(scope="session")
def krita_available():
    root = os.environ.get("INKHUE_KRITA_ROOT")
    if root:
        if not (Path(root) / "usr/bin/krita").is_file():
            pytest.fail(
                f"INKHUE_KRITA_ROOT={root} has no Krita: run tests/krita/setup-chroot.sh", pytrace=False
            )
        return
    missing = kritarun.missing_tools()
    if missing:
        pytest.fail(
            f"real-Krita tests need {', '.join(missing)}: run 'bash tests/krita/setup.sh' "
            "(or set INKHUE_SKIP_KRITA=1 to skip them)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> tuple[Path, bool]:
    """(model folder, is_fixture): the shipped trained model when present, else the fill model."""
    import fill_model  # onnx and the training package: only when Krita tests really run

    shipped = fill_model.shipped_model()
    if shipped is not None:
        return shipped, False
    return fill_model.build(tmp_path_factory.mktemp("fill-model")), True


@pytest.fixture(scope="session")
def engine_server(model_dir, tmp_path_factory):
    """``inkhue serve`` on a free loopback port with a token."""
    try:
        server = krita_servers.EngineServer.start(model_dir[0], tmp_path_factory.mktemp("serve"))
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def e2e(krita_available, engine_server, model_dir, tmp_path_factory):
    """One real-Krita run of scripts/e2e.py; returns (run, out_dir, scenario)."""
    base = tmp_path_factory.mktemp("krita-e2e")
    with krita_servers.stall_server() as stall, krita_servers.slow_proxy(engine_server.url) as slow:
        urls = {"url": engine_server.url, "stall_url": stall, "slow_url": slow}
        sc, inputs, out, home = krita_servers.prepare_e2e(base, urls, model_dir[0])
        env = {"INKHUE_KRITA_INPUT": str(inputs)}
        root = os.environ.get("INKHUE_KRITA_ROOT")  # a chroot with another Krita (setup-chroot.sh)
        try:
            run = kritarun.run_script(kritarun.SCRIPTS / "e2e.py", out, home, env, root=root and Path(root))
        finally:
            krita_servers.stop_local_engine(home)
    assert run.ok, run.explain()
    problem = engine_server.problem()
    assert not problem, problem
    return run, out, sc
