"""The ``inkhue`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from engine.cli_support import run_command
from engine.errors import InkhueError
from engine.wire.schema import OptionsError

log = logging.getLogger("inkhue")

EXIT_CODES = {"input": 2, "image_read": 2, "model": 3, "backend": 4, "serve": 5}


def _cmd_colorize(args: argparse.Namespace) -> int:
    from engine.colorizer import make_colorizer
    from engine.imageio import check_output, read_image, write_image
    from engine.wire.schema import ColorizeOptions

    opts = ColorizeOptions(
        compose_lines=not args.flat,
        working_size=args.working_size,
        tile=args.tile,
        max_pixels=args.max_pixels,
        method=args.method,
        transparent=args.transparent,
        gap=args.gap,
        mode=args.mode,
    )
    lineart = read_image(args.lineart, "line art", opts.max_pixels)
    hints = None
    if args.hints:
        hints = read_image(args.hints, "hints", opts.max_pixels)
        if hints.ndim != 3 or hints.shape[2] != 4:
            from engine.errors import InputError

            raise InputError(
                f"hints {args.hints} have no alpha channel: paint the hints on a transparent "
                "layer and save it as PNG, WebP or TIFF with transparency"
            )
    out = Path(args.output or Path(args.lineart).with_name(Path(args.lineart).stem + "-colorized.png"))
    check_output(out, (args.lineart, *([args.hints] if args.hints else [])), args.force, opts.transparent)
    if args.flats_layers:
        return _write_flats_layers(out, lineart, hints, opts)
    col = make_colorizer(args.model, args.backend, args.device, args.url, args.token)
    t0 = time.perf_counter()
    rgb = col.colorize(lineart, hints, opts)
    write_image(out, rgb)
    log.info(
        "wrote %s (%dx%d, %.2f s on %s/%s)",
        out,
        rgb.shape[1],
        rgb.shape[0],
        time.perf_counter() - t0,
        col.backend_name,
        col.device,
    )
    print(out)
    return 0


def _write_flats_layers(out: Path, lineart, hints, opts) -> int:
    """One transparent PNG per hint colour beside ``out``: OUT-01-rrggbb.png, largest area first."""
    import numpy as np

    from engine.arrays import check_hints, check_lineart
    from engine.flats import flats_layers
    from engine.imageio import write_image

    lineart_rgba_u8 = check_lineart(lineart, opts.max_pixels)
    hints_rgba_u8 = check_hints(hints, lineart_rgba_u8.shape[:2])
    layers = flats_layers(lineart_rgba_u8, hints_rgba_u8, opts.gap)
    if not layers:
        log.warning("no hint colours: no flats layer written (paint dabs on the hint layer)")
    for k, (colour, mask_hw_bool) in enumerate(layers, 1):
        rgba = np.zeros((*mask_hw_bool.shape, 4), np.uint8)
        rgba[mask_hw_bool] = (*colour, 255)
        name = out.with_name(f"{out.stem}-{k:02d}-{bytes(colour).hex()}.png")
        print(write_image(name, rgba))
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from engine import models
    from engine.modelspec import load_manifest

    found = models.available()
    if not found:
        print("no model is installed (searched: " + ", ".join(map(str, models.search_dirs())) + ")")
        return 3
    bad = 0
    for name, path in sorted(found.items()):
        try:
            m = load_manifest(path, verify=True)
            status = f"ok  v{m.version}"
        except InkhueError as e:
            status, bad = f"BAD {e}", bad + 1
        print(f"{name:24s} {status}  {path}")
    return 3 if bad else 0


def build_parser() -> argparse.ArgumentParser:
    from engine.wire.schema import DEFAULT_MAX_PIXELS, MODES

    p = argparse.ArgumentParser(prog="inkhue", description="AI colorization of line art with colour hints.")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("colorize", help="colour a line-art image")
    c.add_argument("lineart", help="line art: dark lines on white, or lines on a transparent layer")
    c.add_argument("--hints", help="RGBA image of the same size; opaque pixels are colour hints")
    c.add_argument("-o", "--output", help="output file (.png .jpg .webp .tif); default LINEART-colorized.png")
    c.add_argument("--force", action="store_true", help="allow -o to overwrite an input image")
    c.add_argument("--model", help="installed model name or model folder (default: inkhue-default)")
    c.add_argument("--backend", default="onnx", help="onnx (default), torch, or remote (with --url)")
    c.add_argument("--url", help="remote backend: the server, e.g. http://gpu-box:8000")
    c.add_argument("--token", help="remote backend: the server's bearer token")
    c.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    c.add_argument("--flat", action="store_true", help="flat colours only, without the lines multiplied on")
    c.add_argument(
        "--method",
        default="ai",
        choices=["ai", "flats"],
        help="ai: the model (default); flats: each gap-closed area in its dab's exact colour, no model",
    )
    c.add_argument(
        "--mode",
        default="auto",
        choices=list(MODES),
        help="lineart: lines on paper; grayscale: a shaded grayscale drawing, coloured keeping its "
        "lightness (the inkhue-grayscale model); auto (default): told apart from the image",
    )
    c.add_argument("--transparent", action="store_true", help="RGBA result: unpainted areas transparent")
    c.add_argument("--gap", type=int, default=0, help="close gaps in the lines up to this many px (0: auto)")
    c.add_argument(
        "--flats-layers", action="store_true", help="write one transparent PNG per hint colour beside -o"
    )
    c.add_argument("--working-size", type=int, default=0, help="draft stage's longest side (0: model's)")
    c.add_argument("--tile", type=int, default=0, help="refinement tile side (0: model's)")
    c.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help="refuse larger images")
    c.set_defaults(func=_cmd_colorize)

    m = sub.add_parser("models", help="list installed models and verify their checksums")
    m.set_defaults(func=_cmd_models)

    from engine.server.command import add_commands

    add_commands(sub)  # serve, export --triton
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(
        "inkhue", args, {InkhueError: lambda e: EXIT_CODES.get(getattr(e, "kind", ""), 1), OptionsError: 2}
    )


if __name__ == "__main__":
    sys.exit(main())
