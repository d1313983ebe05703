"""Checkpoints in safetensors: both networks, both optimisers, the step and the run's config.

Never pickle: tensors go into the safetensors body under prefixed names, everything else
(step, config TOML, optimiser hyper-parameters) into its string metadata as JSON/TOML.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from engine.generator import UNetGenerator
from training import config as config_mod
from training.config import TrainConfig

log = logging.getLogger(__name__)

FORMAT = "inkhue-train/1"
PATTERN = re.compile(r"ckpt-(\d+)\.safetensors$")


def checkpoint_path(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / f"ckpt-{step:07d}.safetensors"


def list_checkpoints(run_dir: Path | str) -> list[tuple[int, Path]]:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in run_dir.iterdir() if (m := PATTERN.search(p.name))]
    return sorted(found)


def latest(run_dir: Path | str) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1][1] if found else None


def _flatten_optimizer(prefix: str, opt: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    sd = opt.state_dict()
    scalars: dict[str, dict] = {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}.state.{idx}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(idx), {})[key] = value
    meta[f"{prefix}.param_groups"] = json.dumps(sd["param_groups"])
    meta[f"{prefix}.scalars"] = json.dumps(scalars)


def _unflatten_optimizer(prefix: str, tensors: dict, meta: dict) -> dict:
    state: dict[int, dict] = {}
    head = f"{prefix}.state."
    for name, value in tensors.items():
        if name.startswith(head):
            idx, key = name[len(head) :].split(".", 1)
            state.setdefault(int(idx), {})[key] = value
    for idx, values in json.loads(meta[f"{prefix}.scalars"]).items():
        state.setdefault(int(idx), {}).update(values)
    groups = json.loads(meta[f"{prefix}.param_groups"])
    for g in groups:  # JSON turned tuples into lists; Adam wants its betas as a tuple
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    return {"state": state, "param_groups": groups}


def save(gan, path: Path | str, extra: dict[str, str] | None = None) -> Path:
    """Write ``gan`` (a ``training.gan.Gan``) atomically: a crash never leaves half a file.

    ``extra`` adds string metadata (e.g. the run's accumulated wall time).
    """
    path = Path(path)
    tensors: dict[str, torch.Tensor] = {}
    for prefix, net in (("G", gan.G), ("D", gan.D)):
        for k, v in net.state_dict().items():
            tensors[f"{prefix}.{k}"] = v.detach().cpu().contiguous()
    meta = {
        **(extra or {}),
        "format": FORMAT,
        "step": str(gan.step_count),
        "config": config_mod.dumps(gan.cfg),
    }
    _flatten_optimizer("opt_g", gan.opt_g, tensors, meta)
    _flatten_optimizer("opt_d", gan.opt_d, tensors, meta)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    os.replace(tmp, path)
    log.info("saved %s", path)
    return path


def read(path: Path | str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    with safe_open(str(path), framework="pt", device="cpu") as f:
        meta = f.metadata() or {}
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not an inkhue training checkpoint (format {meta.get('format')!r})")
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return tensors, meta


def _sub(tensors: dict, prefix: str) -> dict:
    head = prefix + "."
    return {k[len(head) :]: v for k, v in tensors.items() if k.startswith(head)}


def load(gan, path: Path | str) -> int:
    """Restore networks, optimisers and step into ``gan``; returns the step."""
    tensors, meta = read(path)
    gan.G.load_state_dict(_sub(tensors, "G"))
    gan.D.load_state_dict(_sub(tensors, "D"))
    gan.opt_g.load_state_dict(_unflatten_optimizer("opt_g", tensors, meta))
    gan.opt_d.load_state_dict(_unflatten_optimizer("opt_d", tensors, meta))
    gan.step_count = int(meta["step"])
    return gan.step_count


def load_config(path: Path | str) -> TrainConfig:
    _, meta = read(path)
    return config_mod.loads(meta["config"])


def load_generator(path: Path | str) -> tuple[UNetGenerator, TrainConfig]:
    """The generator alone (eval mode) and its run's config, from a checkpoint file or run folder."""
    path = Path(path)
    if path.is_dir():
        ckpt = latest(path)
        if ckpt is None:
            raise FileNotFoundError(f"no checkpoint in {path}")
        path = ckpt
    tensors, meta = read(path)
    cfg = config_mod.loads(meta["config"])
    net = UNetGenerator(cfg.generator)
    net.load_state_dict(_sub(tensors, "G"))
    return net.eval(), cfg


def prune(run_dir: Path | str, keep_last: int = 3, keep_every: int = 0) -> None:
    """Delete old checkpoints, keeping the newest ``keep_last`` and every ``keep_every``-th step."""
    found = list_checkpoints(run_dir)
    for step, p in found[: max(0, len(found) - keep_last)]:
        if keep_every and step % keep_every == 0:
            continue
        p.unlink(missing_ok=True)
