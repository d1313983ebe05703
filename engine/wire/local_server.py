"""The managed local engine: a loopback ``inkhue serve`` the plug-ins start on first use and share.

STANDARD LIBRARY ONLY, vendored into the plug-ins beside ``client.py`` (see ``installer/vendor.py``).
The server listens on a random port of 127.0.0.1 with a random token, and stops by itself when
idle. Its pid, URL and token live in a state file readable only by this user, so later calls, and
other plug-in processes, reuse it instead of starting another. The server removes that file when it
exits; before a recorded server is reused, its pid must be alive and this user's, and it must prove
it knows the token (an HMAC of a random challenge, :func:`identity_proof`) before the token is sent:
another local user who binds the port after the server exited learns nothing and gets no artwork.

    url, token = ensure_local_server("/path/to/inkhue")
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

from . import folders
from .schema import LOCAL_HOST
from .transport import TOKEN_ENV, EngineError, _request, model_ready

log = logging.getLogger(__name__)

STATE_FILE = "server.json"
IDENTITY_PATH = "/v2/inkhue/identity"  # GET ?nonce=N -> {"proof": identity_proof(token, N)}


def identity_proof(token: str, nonce: str) -> str:
    """What a server holding ``token`` answers to the challenge ``nonce`` (HMAC-SHA256, hex)."""
    return hmac.new(token.encode(), b"inkhue-identity:" + nonce.encode(), hashlib.sha256).hexdigest()


def _pid_is_ours(pid: object) -> bool:
    """Is ``pid`` a live process of this user? (Windows: not checked, the challenge decides.)"""
    if sys.platform == "win32":
        return True
    if type(pid) is not int or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: delivery check only; fails for other users' processes
    except OSError:
        return False
    return True


def _is_ours(state: dict, timeout: float = 5.0) -> bool:
    """Does the recorded server still run, as ours, knowing the token? The token is not sent."""
    if not _pid_is_ours(state.get("pid")):
        return False
    nonce = secrets.token_hex(16)
    try:
        status, _, body = _request("GET", f"{state['url']}{IDENTITY_PATH}?nonce={nonce}", None, timeout)
        proof = json.loads(body).get("proof") if status == 200 else None
    except (EngineError, ValueError, AttributeError):
        return False
    return isinstance(proof, str) and hmac.compare_digest(proof, identity_proof(state["token"], nonce))


def _usable(state: dict | None) -> bool:
    return bool(state) and _is_ours(state) and model_ready(state["url"], state["token"])


def _read_state(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        return state if isinstance(state, dict) and state.get("url") and state.get("token") else None
    except (OSError, ValueError):
        return None


class _Lock:
    """Cross-process lock file (O_EXCL) so two plug-ins starting at once share one server.

    The file holds its owner's pid: a lock left by a crashed process is broken at once when that
    pid is gone, else after ``stale_after`` seconds.
    """

    def __init__(self, path: str, stale_after: float = 120.0) -> None:
        self.path, self.stale_after = path, stale_after

    def __enter__(self) -> _Lock:
        deadline = time.monotonic() + self.stale_after
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(str(os.getpid()))
                return self
            except FileExistsError:
                if self._stale():
                    try:
                        os.unlink(self.path)  # left by a crashed process
                    except OSError:
                        pass
                    continue
                if time.monotonic() > deadline:
                    raise EngineError(f"the lock file {self.path} is stuck; delete it", "server") from None
                time.sleep(0.1)

    def _stale(self) -> bool:
        try:
            with open(self.path, encoding="utf-8") as f:
                owner = f.read().strip()
            age = time.time() - os.path.getmtime(self.path)
        except OSError:
            return False  # just released: try again
        if owner.isdigit() and sys.platform != "win32" and not _pid_is_ours(int(owner)):
            return age > 1.0  # the owner is gone (the grace covers a pid written a moment late)
        return age > self.stale_after

    def __exit__(self, *exc: object) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass


def _start_server(inkhue_exe: str, state_dir: str, idle_timeout: float, start_timeout: float) -> dict:
    token = secrets.token_urlsafe(32)
    port_file = os.path.join(state_dir, f"port-{secrets.token_hex(4)}")
    log_path = os.path.join(state_dir, "server.log")
    cmd = [
        inkhue_exe,
        "serve",
        "--host",
        LOCAL_HOST,
        "--port",
        "0",
        "--idle-timeout",
        f"{idle_timeout:g}",
        "--desktop",  # beside Krita or GIMP: one image at a time, few bodies held (docs/deploy.md)
        "--port-file",
        port_file,
        "--state-file",
        os.path.join(state_dir, STATE_FILE),
    ]
    env = {**os.environ, TOKEN_ENV: token}
    kwargs: dict = {}
    if sys.platform == "win32":  # detached, no console window: the server outlives this call
        kwargs["creationflags"] = 0x00000008 | 0x00000200 | 0x08000000
    else:
        kwargs["start_new_session"] = True
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, env=env, close_fds=True, **kwargs
        )
    deadline = time.monotonic() + start_timeout
    try:
        while True:
            port = None
            try:
                with open(port_file, encoding="utf-8") as f:
                    port = int(f.read().strip() or 0) or None
            except (OSError, ValueError):
                pass
            if port:
                state = {
                    "pid": proc.pid,
                    "url": f"http://{LOCAL_HOST}:{port}",
                    "token": token,
                    "exe": inkhue_exe,
                }
                if _usable(state):
                    return state
            if proc.poll() is not None:
                raise EngineError(
                    f"the Inkhue engine stopped while starting (exit code {proc.returncode}): "
                    f"{_tail(log_path)}; see {log_path}",
                    "server",
                )
            if time.monotonic() > deadline:
                proc.kill()
                raise EngineError(
                    f"the Inkhue engine did not start within {start_timeout:g} s; see {log_path}", "timeout"
                )
            time.sleep(0.1)
    finally:
        try:
            os.unlink(port_file)
        except OSError:
            pass


def _tail(path: str, n: int = 300) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - n))
            return f.read().decode("utf-8", "replace").strip().replace("\n", " | ")
    except OSError:
        return "(no log)"


def ensure_local_server(
    inkhue_exe: str,
    state_dir: str | None = None,
    idle_timeout: float = 900,
    *,
    start_timeout: float = 120.0,
) -> tuple[str, str]:
    """(url, token) of a loopback ``inkhue serve`` started on first use and reused afterwards.

    The server exits by itself after ``idle_timeout`` seconds without requests; the next call
    starts a new one. The state file (pid, url, token) is readable only by this user.
    """
    exe = inkhue_exe if os.path.isfile(inkhue_exe) else shutil.which(inkhue_exe)
    if not exe:
        raise EngineError(
            f"the Inkhue engine is not installed ({inkhue_exe} not found); run the installer, or "
            "set the path of the 'inkhue' program in the plug-in settings",
            "not_installed",
        )
    state_dir = state_dir or folders.state_dir()
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    state_path = os.path.join(state_dir, STATE_FILE)
    state = _read_state(state_path)
    if state is not None and _usable(state):
        return state["url"], state["token"]
    with _Lock(os.path.join(state_dir, "server.lock")):
        state = _read_state(state_path)  # another process may have started one meanwhile
        if state is not None and _usable(state):
            return state["url"], state["token"]
        state = _start_server(exe, state_dir, idle_timeout, start_timeout)
        fd, tmp = tempfile.mkstemp(dir=state_dir, prefix=".server-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp: mode 0600, the token is secret
            json.dump(state, f)
        os.replace(tmp, state_path)
        log.info("started the Inkhue engine at %s (pid %s)", state["url"], state["pid"])
        return state["url"], state["token"]
