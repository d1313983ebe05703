"""Multi-process data-parallel training under ``torchrun`` (one process per GPU, or per CPU slot).

``torchrun --nproc-per-node N -m training.cli train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK;
without them everything here is a single-process no-op.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: str = "cpu"

    @property
    def main(self) -> bool:
        """The process that logs, samples and writes checkpoints."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def setup(backend: str | None = None, device: str = "auto") -> Dist:
    """Join the process group that torchrun describes in the environment (if any)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but PyTorch sees no CUDA device")
    dev = f"cuda:{local_rank}" if use_cuda else "cpu"
    if use_cuda:
        torch.cuda.set_device(local_rank)
        # fixed crop shapes: let cuDNN pick its fastest kernels; TF32 keeps fp32 training's results
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    if world > 1 and not dist.is_initialized():
        backend = backend or ("nccl" if use_cuda else "gloo")
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
        log.info("rank %d/%d joined (%s, %s)", rank, world, backend, dev)
    return Dist(rank, world, local_rank, dev)


def wrapper(d: Dist) -> Callable[[nn.Module], nn.Module]:
    """Module → what runs its forward pass: DistributedDataParallel when there are several ranks."""
    if not d.enabled:
        return lambda m: m

    def wrap(module: nn.Module) -> nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        ids = [d.local_rank] if d.device.startswith("cuda") else None
        return DistributedDataParallel(module, device_ids=ids)

    return wrap


def mean_scalars(d: Dist, values: dict[str, float]) -> dict[str, float]:
    """Average a dict of floats over all ranks (for logging)."""
    if not d.enabled or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=d.device)
    dist.all_reduce(t)
    t /= d.world
    return dict(zip(keys, t.tolist(), strict=True))


def broadcast_flag(d: Dist, flag: bool) -> bool:
    """Rank 0's decision (e.g. the wall-time limit) for every rank, so all stop on the same step."""
    if not d.enabled:
        return flag
    t = torch.tensor([1 if flag else 0], device=d.device)
    dist.broadcast(t, 0)
    return bool(t.item())


def barrier(d: Dist) -> None:
    if d.enabled:
        dist.barrier()


def cleanup(d: Dist) -> None:
    if d.enabled and dist.is_initialized():
        dist.destroy_process_group()
