"""Prove an installed engine works the two ways it is used: the command line, and the plug-ins' path.

The plug-ins' path is ``inkhue serve`` on loopback answered through the engine's stdlib client
(the same ``client.py`` the plug-ins carry), so a broken server extra or client shows up at
install time instead of as an error dialog in the editor.
"""

from __future__ import annotations

import importlib.util
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from installer.engine_env import clean_env
from installer.vendor import vendor_into

W, H = 64, 48


def cli_colorize(inkhue: Path, repo: Path, cwd: Path | None = None) -> str | None:
    """Colour the bundled example with ``inkhue colorize``; None when it worked, else why not."""
    line, hints = repo / "examples" / "lineart.png", repo / "examples" / "hints.png"
    if not (line.is_file() and hints.is_file()):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.png"
        cmd = [str(inkhue), "colorize", str(line), "--hints", str(hints), "-o", str(out)]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, env=clean_env(), cwd=str(cwd or tmp), timeout=600
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            return str(e)
        if proc.returncode != 0 or not out.is_file():
            return f"'inkhue colorize' failed (exit {proc.returncode}): {proc.stderr.strip()[-1500:]}"
    return None


def _load_client(folder: Path) -> ModuleType:
    """Import a vendored copy of the client as a private package (no sys.path change)."""
    vendor = vendor_into(folder)
    name = f"_inkhue_probe_{secrets.token_hex(4)}"
    spec = importlib.util.spec_from_file_location(
        name, vendor / "__init__.py", submodule_search_locations=[str(vendor)]
    )
    assert spec and spec.loader
    pkg = importlib.util.module_from_spec(spec)
    sys.modules[name] = pkg
    spec.loader.exec_module(pkg)
    try:
        return importlib.import_module(f"{name}.client")
    finally:
        for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            sys.modules.pop(mod, None)


def _test_images() -> tuple[bytes, bytes]:
    """A closed box in black on white, and one red hint dab inside it (RGBA, row-major)."""
    line = bytearray(b"\xff" * (W * H * 4))
    hints = bytearray(W * H * 4)
    for y in range(H):
        for x in range(W):
            if (x in (8, 9, W - 10, W - 9) and 8 <= y < H - 8) or (
                y in (8, 9, H - 10, H - 9) and 8 <= x < W - 8
            ):
                line[(y * W + x) * 4 : (y * W + x) * 4 + 3] = b"\x00\x00\x00"
            if abs(x - W // 2) < 3 and abs(y - H // 2) < 3:
                hints[(y * W + x) * 4 : (y * W + x) * 4 + 4] = b"\xdc\x1e\x1e\xff"
    return bytes(line), bytes(hints)


def serve_colorize(inkhue: Path, cwd: Path | None = None, start_timeout: float = 120.0) -> str | None:
    """Start ``inkhue serve`` on loopback, colour a small image through the client, stop it."""
    with tempfile.TemporaryDirectory() as tmp:
        client = _load_client(Path(tmp) / "probe")
        token = secrets.token_urlsafe(24)
        port_file = Path(tmp) / "port"
        log_path = Path(tmp) / "serve.log"
        cmd = [str(inkhue), "serve", "--host", "127.0.0.1", "--port", "0", "--port-file", str(port_file)]
        env = {**clean_env(), client.TOKEN_ENV: token}
        with open(log_path, "wb") as log:
            try:
                proc = subprocess.Popen(
                    [*cmd, "--idle-timeout", "300"], stdout=log, stderr=log, env=env, cwd=str(cwd or tmp)
                )
            except OSError as e:
                return f"cannot start {inkhue} serve: {e}"
        try:
            deadline = time.monotonic() + start_timeout
            port = ""
            while not port:
                if proc.poll() is not None:
                    return f"'inkhue serve' exited ({proc.returncode}): {log_path.read_text()[-1500:]}"
                if time.monotonic() > deadline:
                    return f"'inkhue serve' did not start within {start_timeout:g} s"
                time.sleep(0.1)
                port = port_file.read_text().strip() if port_file.is_file() else ""
            url = f"http://127.0.0.1:{port}"
            line, hints = _test_images()
            try:
                rgb = client.colorize(url, line, hints, W, H, token=token, timeout=start_timeout)
            except client.EngineError as e:
                return f"the engine's server did not colour a test image: {e}"
            if len(rgb) != W * H * 3:
                return f"the engine's server answered {len(rgb)} bytes for a {W}x{H} image"
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return None
