"""Reads a Containerfile's instructions, and replays its build steps in a Debian root.

No image builder runs here, so the container test does what a builder would: the ``COPY`` lines
copy from the build context into the root, the ``RUN`` lines run there under ``/bin/sh -c`` with
the ``ENV`` so far (a ``--mount=type=cache`` becomes a bind mount of a host cache folder), and
``USER``, ``ENTRYPOINT`` and ``CMD`` say how the server is started.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Containerfile:
    base: str = ""
    env: dict[str, str] = field(default_factory=dict)
    steps: list[tuple[str, object]] = field(default_factory=list)  # ("COPY", (srcs, dest)) / ("RUN", ...)
    user: str = ""
    workdir: str = "/"
    expose: list[int] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


def _lines(text: str) -> list[str]:
    """Instructions with continuation lines joined and comments dropped."""
    out, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        out.append(current + line)
        current = ""
    return out


def parse(path: Path) -> Containerfile:
    cf, args = Containerfile(), {}
    for line in _lines(path.read_text()):
        word, _, rest = line.partition(" ")
        word, rest = word.upper(), rest.strip()
        for k, v in args.items():
            rest = rest.replace("${" + k + "}", v)
        if word == "ARG":
            k, _, v = rest.partition("=")
            args[k] = v
        elif word == "FROM":
            cf.base = rest
        elif word == "ENV":
            for item in shlex.split(rest):
                k, _, v = item.partition("=")
                cf.env[k] = v
        elif word == "COPY":
            *srcs, dest = shlex.split(rest)
            cf.steps.append(("COPY", (srcs, dest)))
        elif word == "RUN":
            mounts = []
            while rest.startswith("--mount="):
                opt, _, rest = rest.partition(" ")
                mounts.append(dict(kv.split("=", 1) for kv in opt[len("--mount=") :].split(",")))
            cf.steps.append(("RUN", (mounts, rest.strip(), dict(cf.env))))
        elif word == "USER":
            cf.user = rest
        elif word == "WORKDIR":
            cf.workdir = rest
        elif word == "EXPOSE":
            cf.expose += [int(p.split("/")[0]) for p in rest.split()]
        elif word == "HEALTHCHECK":
            cf.healthcheck = json.loads(rest[rest.index("CMD") + 3 :])
        elif word == "ENTRYPOINT":
            cf.entrypoint = json.loads(rest)
        elif word == "CMD":
            cf.cmd = json.loads(rest)
        else:
            raise ValueError(f"{path}: instruction {word} is not understood by this replay")
    return cf


def replay(cf: Containerfile, context: Path, root: Path, cache: Path, run_in) -> None:
    """Apply the build steps to ``root``; ``run_in(root, argv, env, timeout)`` runs a command there.

    A ``--mount=type=cache,target=T`` RUN gets ``cache`` bind-mounted at ``T`` for that step."""
    for kind, value in cf.steps:
        if kind == "COPY":
            srcs, dest = value
            for src in srcs:
                source, target = context / src, root / dest.lstrip("/")
                if source.is_dir():
                    dest_dir = target if dest.endswith("/") else target
                    shutil.copytree(source, dest_dir, dirs_exist_ok=True,
                                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))  # fmt: skip
                else:
                    if dest.endswith("/"):
                        target.mkdir(parents=True, exist_ok=True)
                        target = target / source.name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, target)
            continue
        mounts, command, env = value
        bound = []
        try:
            for m in mounts:
                assert m.get("type") == "cache", m
                target = root / m["target"].lstrip("/")
                target.mkdir(parents=True, exist_ok=True)
                subprocess.run(["mount", "--bind", str(cache), str(target)], check=True)
                bound.append(target)
            r = run_in(root, ["/bin/sh", "-c", command], env, 1500)
            assert r.returncode == 0, (
                f"RUN {command}\n{r.stdout.decode()[-3000:]}\n{r.stderr.decode()[-3000:]}"
            )
        finally:
            for target in bound:
                subprocess.run(["umount", "-l", str(target)], check=False)
