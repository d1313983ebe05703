"""Data-parallel training: two CPU processes under torchrun with the gloo backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

# the worker lives here, not in tests/: run as a script, its folder comes first on sys.path, and
# tests/ holds packages named like the source's (tests/engine, tests/training) that would shadow it
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def test_two_gloo_processes_train_in_step(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        str(HERE / "_ddp_worker.py"),
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    r0 = json.loads((tmp_path / "rank0.json").read_text())
    r1 = json.loads((tmp_path / "rank1.json").read_text())
    assert r0["world"] == r1["world"] == 2
    assert r0["step"] == r1["step"] == 3
    # gradients are averaged: both replicas hold the same weights after every step
    assert r0["g_param_sum"] == r1["g_param_sum"]
    # only rank 0 writes the run folder: one checkpoint, one log line per step
    run = tmp_path / "run"
    assert [p.name for p in sorted(run.glob("ckpt-*.safetensors"))] == ["ckpt-0000003.safetensors"]
    assert len((run / "log.jsonl").read_text().splitlines()) == 3
    from training.checkpoint import load_generator

    net, _ = load_generator(run)
    assert float(sum(p.detach().double().sum() for p in net.parameters())) == pytest.approx(
        r0["g_param_sum"], rel=1e-12
    )

    # rank 1 trained on other examples than rank 0: one process alone ends elsewhere
    from tests.training._ddp_worker import run as run_single

    single = run_single(tmp_path / "single")
    assert single["g_param_sum"] != pytest.approx(r0["g_param_sum"], rel=1e-9)
