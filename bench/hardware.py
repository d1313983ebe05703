"""What the hardware allows: measured matmul rate and copy bandwidth, the model's cost, GPU variants.

The floor of one colorization is ``max(FLOPs / matmul rate, bytes / copy bandwidth)``: the model's
convolutions at the best dense-matmul rate this device reaches, or their activations read and
written once each (every pointwise op fused) at its copy bandwidth. Nothing real runs faster.
GPU pieces (ORT CUDA / TensorRT sessions in fp16, half-precision torch) import lazily and are only
built when ``bench.speed`` found the device.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from pathlib import Path

import numpy as np

from engine.modelspec import GeneratorConfig, ModelManifest

log = logging.getLogger(__name__)


def _best_time(fn, repeats: int = 3) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure_rates(device: str) -> dict:
    """{"matmul_gflops": {"fp32": .., ["fp16": ..]}, "copy_gbps": ..} measured on ``device`` now."""
    if device == "cuda":
        import torch

        rates = {}
        n = 8192
        for name, dt in (("fp32", torch.float32), ("fp16", torch.float16)):
            a = torch.randn(n, n, device="cuda", dtype=dt)
            b = torch.randn(n, n, device="cuda", dtype=dt)

            def mm(a=a, b=b):
                torch.matmul(a, b)
                torch.cuda.synchronize()

            rates[name] = 2 * n**3 / _best_time(mm) / 1e9
        src = torch.empty(256 * 2**20, device="cuda", dtype=torch.float32)  # 1 GiB
        dst = torch.empty_like(src)

        def cp():
            dst.copy_(src)
            torch.cuda.synchronize()

        return {"matmul_gflops": rates, "copy_gbps": 2 * src.numel() * 4 / _best_time(cp) / 1e9}
    # CPU: the better of numpy's BLAS and torch's (ORT and torch run convolutions on similar kernels)
    n = 2048
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    best = _best_time(lambda: a @ a)
    try:
        import torch

        ta = torch.from_numpy(a)
        best = min(best, _best_time(lambda: ta @ ta))
    except ImportError:
        pass
    src = np.ones(64 * 2**20, np.float32)  # 256 MiB
    dst = np.empty_like(src)
    copy_s = _best_time(lambda: np.copyto(dst, src))
    return {"matmul_gflops": {"fp32": 2 * n**3 / best / 1e9}, "copy_gbps": 2 * src.nbytes / copy_s / 1e9}


def bytes_per_pixel(cfg: GeneratorConfig, dtype_bytes: int = 4) -> float:
    """Activation bytes each convolution reads and writes, per full-resolution input pixel."""
    import torch
    from torch import nn

    from engine.generator import UNetGenerator

    model = UNetGenerator(cfg).eval()
    side = cfg.divisor * 8
    total = 0.0

    def hook(mod: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        nonlocal total
        total += dtype_bytes * (inp[0].numel() + out.numel())

    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, cfg.in_channels, side, side))
    for h in hooks:
        h.remove()
    return total / (side * side)


def _padded(h: int, w: int, d: int) -> int:
    return (-(-h // d) * d) * (-(-w // d) * d)


def model_cost(manifest: ModelManifest, side: int) -> dict:
    """FLOPs and fp32 activation bytes of one ``side``² colorization, as the pipeline runs it."""
    from engine.generator import flops_per_pixel
    from engine.tiling import plan, working_shape

    draft, refine = manifest.stages["draft"].generator, manifest.stages["refine"].generator
    dh, dw = working_shape((side, side), manifest.working_size)
    draft_px = _padded(dh, dw, draft.divisor)
    d = refine.divisor
    tile = max(d, manifest.tile // d * d)
    overlap = min(manifest.overlap, tile // 4)
    refine_px = sum(
        _padded(y1 - y0, x1 - x0, d) for (y0, y1, x0, x1), _ in plan((side, side), tile, overlap, d)
    )
    return {
        "flops": flops_per_pixel(draft) * draft_px + flops_per_pixel(refine) * refine_px,
        "bytes": bytes_per_pixel(draft) * draft_px + bytes_per_pixel(refine) * refine_px,
        "draft_px": draft_px,
        "refine_px": refine_px,
    }


def floor_seconds(cost: dict, rates: dict, fp16: bool) -> float:
    mm = rates["matmul_gflops"]
    rate = mm["fp16"] if fp16 and "fp16" in mm else mm["fp32"]
    nbytes = cost["bytes"] / 2 if fp16 else cost["bytes"]
    return max(cost["flops"] / (rate * 1e9), nbytes / (rates["copy_gbps"] * 1e9))


def describe() -> str:
    """CPU model and cores, and the GPU when torch sees one."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    out = f"{cpu}, {os.cpu_count()} cores"
    try:
        import torch

        if torch.cuda.is_available():
            out += f"; GPU {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return out


def reset_gpu_peak(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()


def gpu_peak_mb(device: str) -> float | None:
    """Peak GPU memory torch allocated (None on the CPU; ORT's own arena is not visible here)."""
    if device != "cuda":
        return None
    import torch

    return torch.cuda.max_memory_allocated() / 2**20 or None


class OrtGpu:
    """ORT sessions on a GPU provider; fp16 through a converted graph (CUDA) or TensorRT's flag."""

    name = "onnx"
    device = "cuda"

    def __init__(self, manifest: ModelManifest, provider: str, fp16: bool, tmp: Path) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        self.sessions = {}
        for stage, spec in manifest.stages.items():
            path = str(manifest.path(spec.onnx))
            if provider == "TensorrtExecutionProvider":
                trt = {
                    "trt_fp16_enable": fp16,
                    "trt_engine_cache_enable": True,
                    "trt_engine_cache_path": str(tmp),
                }
                providers: list = [(provider, trt), "CUDAExecutionProvider"]
            else:
                providers = [provider]
                if fp16:
                    path = self._to_fp16(path, tmp / f"{stage}-fp16.onnx")
            sess = ort.InferenceSession(path, sess_options=opts, providers=providers)
            if sess.get_providers()[0] != provider:
                raise RuntimeError(f"{provider} did not start for {path} (got {sess.get_providers()})")
            self.sessions[stage] = sess

    @staticmethod
    def _to_fp16(src: str, dst: Path) -> str:
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16

        # float32 inputs and outputs kept: the pipeline feeds and reads float32
        onnx.save(convert_float_to_float16(onnx.load(src), keep_io_types=True), str(dst))
        return str(dst)

    def run(self, stage: str, x_nchw_f32: np.ndarray) -> np.ndarray:
        sess = self.sessions[stage]
        (y,) = sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(x_nchw_f32, np.float32)})
        return y


class HalfTorch:
    """The engine's torch backend with its networks in half precision."""

    name = "torch"
    device = "cuda"

    def __init__(self, backend) -> None:
        import torch

        self._torch = torch
        self.nets = {k: net.half() for k, net in backend.nets.items()}

    def run(self, stage: str, x_nchw_f32: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(x_nchw_f32)).to("cuda", torch.float16)
            return self.nets[stage](x).float().cpu().numpy()
