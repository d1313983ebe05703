"""Model manifest: what a model directory holds, how each stage is built, and checksums.

A model directory has ``manifest.json`` plus per-stage ONNX files (inference) and optional
safetensors weights (the torch backend and fine-tuning). Every file carries a sha256 that
``load_manifest`` checks before anything is opened.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.channels import DEFAULT_SPREAD, SpreadParams, channel_count
from engine.errors import ModelError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
STAGES = ("draft", "refine")
# a manifest's "kind" (absent: lineart) -> the stages it holds
KIND_STAGES = {"lineart": STAGES, "grayscale": ("chroma",)}
FORMAT_VERSION = 1


@dataclass(frozen=True)
class GeneratorConfig:
    """Architecture of the U-Net generator shared by both stages."""

    in_channels: int
    out_channels: int = 3
    widths: tuple[int, ...] = (32, 64, 128)
    unshuffle: int = 1  # pixel-unshuffle factor: the net runs at 1/unshuffle resolution
    norm: str = "batch"  # "batch" | "none"; never per-instance statistics (tiles must agree)
    # Residual base: the output refines three input planes starting at index ``base_rgb``
    # (sigmoid(logit(base) + net)), so an untrained net already returns its base (e.g. the
    # flood fill or the upsampled draft). ``base_mask`` is a plane that gates the base: where it
    # is 0 the base is ``base_fallback`` instead (e.g. white paper where no hint reached a region,
    # as a flood fill leaves it). -1 switches either off.
    base_rgb: int = -1
    base_mask: int = -1
    base_fallback: float = 0.5

    @property
    def divisor(self) -> int:
        """Input sides must be multiples of this."""
        return self.unshuffle * 2 ** (len(self.widths) - 1)

    @classmethod
    def from_dict(cls, d: dict) -> GeneratorConfig:
        d = dict(d)
        d["widths"] = tuple(d.get("widths", cls.widths))
        cfg = cls(**d)
        cfg.check()
        return cfg

    def check(self) -> None:
        if self.base_rgb >= 0 and self.base_rgb + 3 > self.in_channels:
            raise ValueError(f"base_rgb {self.base_rgb} needs 3 planes inside {self.in_channels} inputs")
        if self.base_mask >= self.in_channels:
            raise ValueError(f"base_mask {self.base_mask} is outside {self.in_channels} inputs")
        if not 0.0 <= self.base_fallback <= 1.0:
            raise ValueError(f"base_fallback {self.base_fallback} is outside 0..1")
        if self.base_rgb >= 0 and self.out_channels != 3:
            raise ValueError("a residual base needs out_channels 3")


@dataclass(frozen=True)
class StageSpec:
    name: str
    inputs: tuple[str, ...]
    generator: GeneratorConfig
    onnx: str
    onnx_sha256: str
    weights: str | None = None
    weights_sha256: str | None = None
    # files the ONNX graph keeps tensors in (ONNX external data), by path in the model folder
    onnx_external: dict[str, str] = field(default_factory=dict)  # file -> sha256


@dataclass(frozen=True)
class ModelManifest:
    name: str
    version: str
    directory: Path
    stages: dict[str, StageSpec]
    working_size: int = 512  # draft stage: longest side
    tile: int = 1024  # refinement stage: tile side at full resolution
    overlap: int = 64  # refinement stage: blended overlap between tiles
    spread: SpreadParams = DEFAULT_SPREAD  # draft stage: how its spread channels are computed
    description: str = ""
    extra: dict = field(default_factory=dict)
    kind: str = "lineart"  # a KIND_STAGES key: what the model colours

    def path(self, filename: str) -> Path:
        return self.directory / filename


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(directory: Path, filename: str, expected: str) -> None:
    path = directory / filename
    if not path.is_file():
        raise ModelError(f"model file missing: {path}; reinstall the model")
    actual = sha256_file(path)
    if actual != expected:
        raise ModelError(
            f"model file {path} fails its checksum (sha256 {actual[:12]}…, manifest says "
            f"{expected[:12]}…): it is corrupt or was modified; reinstall the model"
        )


def _confined(directory: Path, filename: object, what: str) -> str:
    """A file name of the manifest, refused unless it names a file inside ``directory``
    (no absolute path, no ``..``, no symlink leading out)."""
    if not isinstance(filename, str) or not filename:
        raise ModelError(f"{what} must be a file name, got {filename!r}")
    root = directory.resolve()
    target = (directory / filename).resolve()
    if Path(filename).is_absolute() or ".." in Path(filename).parts or root not in target.parents:
        raise ModelError(f"{what} {filename!r} points outside the model folder {directory}")
    return filename


def _stage_from_dict(name: str, d: dict) -> StageSpec:
    gen = GeneratorConfig.from_dict(d["generator"])
    inputs = tuple(d["inputs"])
    if channel_count(inputs) != gen.in_channels:
        raise ModelError(
            f"stage {name!r}: inputs {inputs} give {channel_count(inputs)} channels but the "
            f"generator expects {gen.in_channels}"
        )
    return StageSpec(
        name=name,
        inputs=inputs,
        generator=gen,
        onnx=d["onnx"],
        onnx_sha256=d["onnx_sha256"],
        weights=d.get("weights"),
        weights_sha256=d.get("weights_sha256"),
        onnx_external=dict(d.get("onnx_external") or {}),
    )


def load_manifest(directory: Path | str, verify: bool = True) -> ModelManifest:
    """Read ``directory/manifest.json``; with ``verify`` every listed file's sha256 is checked."""
    directory = Path(directory)
    mpath = directory / MANIFEST
    if not mpath.is_file():
        raise ModelError(f"no {MANIFEST} in {directory}: not a model directory")
    try:
        raw = json.loads(mpath.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise TypeError(f"the manifest is a JSON {type(raw).__name__}, not an object")
        if not isinstance(raw.get("name"), str) or not raw["name"]:
            raise TypeError(f"'name' must be a non-empty string, got {raw.get('name')!r}")
        if not isinstance(raw.get("version"), (str, int)):
            raise TypeError(f"'version' must be a string, got {raw.get('version')!r}")
        kind = raw.get("kind", "lineart")
        if kind not in KIND_STAGES:
            raise ValueError(f"unknown model kind {kind!r}; valid: {', '.join(KIND_STAGES)}")
        stages = {name: _stage_from_dict(name, raw["stages"][name]) for name in KIND_STAGES[kind]}
        manifest = ModelManifest(
            name=raw["name"],
            version=str(raw["version"]),
            directory=directory,
            stages=stages,
            working_size=int(raw.get("working_size", 512)),
            tile=int(raw.get("tile", 1024)),
            overlap=int(raw.get("overlap", 64)),
            spread=SpreadParams(**raw.get("spread", {})),
            description=raw.get("description", ""),
            extra=raw.get("extra", {}),
            kind=kind,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelError(f"malformed model manifest {mpath}: {e!r}") from e
    except OSError as e:
        raise ModelError(f"cannot read the model manifest {mpath}: {e.strerror or e}") from e
    for st in manifest.stages.values():
        _confined(directory, st.onnx, f"stage {st.name!r}: 'onnx'")
        if st.weights is not None:
            _confined(directory, st.weights, f"stage {st.name!r}: 'weights'")
        for name in st.onnx_external:
            _confined(directory, name, f"stage {st.name!r}: 'onnx_external'")
    if verify:
        for st in manifest.stages.values():
            _verify(directory, st.onnx, st.onnx_sha256)
            _verify_external(directory, st)
            if st.weights:
                _verify(directory, st.weights, st.weights_sha256 or "")
    return manifest


def external_files(directory: Path, onnx: str) -> list[str]:
    """The files, as paths in the model folder, that the ONNX graph ``onnx`` keeps tensors in,
    each refused (ModelError) unless inside the folder."""
    from engine.onnx_refs import external_data_files

    names = []
    for location in sorted(external_data_files(directory / onnx)):
        name = (Path(onnx).parent / location).as_posix()
        if Path(location).is_absolute():
            raise ModelError(f"{onnx} keeps tensors in {location!r}, outside the model folder {directory}")
        names.append(_confined(directory, name, f"{onnx}'s external data"))
    return names


def _verify_external(directory: Path, st: StageSpec) -> None:
    """Every external-data file of the stage's graph must be listed in ``onnx_external`` with its
    sha256, and match it; listed files are checked too."""
    for name in external_files(directory, st.onnx):
        if name not in st.onnx_external:
            raise ModelError(
                f"{directory / st.onnx} keeps tensors in {name}, which the manifest does not list "
                f"(stage {st.name!r}: 'onnx_external' with its sha256): refusing an unchecked file; "
                "re-export the model or rewrite its manifest"
            )
    for name, expected in st.onnx_external.items():
        _verify(directory, name, expected if isinstance(expected, str) else "")


def write_manifest(
    directory: Path,
    name: str,
    version: str,
    stages: dict[str, dict],
    **fields: object,
) -> Path:
    """Write a manifest for files already in ``directory``, computing their checksums.

    ``stages[stage]`` holds ``inputs``, ``generator`` (a GeneratorConfig), ``onnx`` and optionally
    ``weights`` (file names inside ``directory``).
    """
    out: dict = {"format": FORMAT_VERSION, "name": name, "version": version, "stages": {}}
    out.update(fields)
    for stage, st in stages.items():
        entry = {
            "inputs": list(st["inputs"]),
            "generator": asdict(st["generator"]),
            "onnx": st["onnx"],
            "onnx_sha256": sha256_file(directory / st["onnx"]),
        }
        external = external_files(directory, st["onnx"])
        if external:
            entry["onnx_external"] = {name: sha256_file(directory / name) for name in external}
        if st.get("weights"):
            entry["weights"] = st["weights"]
            entry["weights_sha256"] = sha256_file(directory / st["weights"])
        out["stages"][stage] = entry
    path = directory / MANIFEST
    path.write_text(json.dumps(out, indent=2) + "\n")
    log.info("wrote %s", path)
    return path
