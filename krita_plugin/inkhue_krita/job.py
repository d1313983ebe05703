"""Run the engine request off Krita's GUI thread; the GUI polls it with a timer.

A plain ``threading.Thread`` (not a QThread) keeps this testable without Qt. Nothing here touches
Krita objects: the worker only gets bytes and returns bytes, and every Krita call stays on the GUI
thread. Cancel cannot interrupt a blocking HTTP request, so it marks the job abandoned: the GUI
stops waiting at once and the late result is dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

Work = Callable[[Callable[[str], None]], bytes]  # work(report) -> result; report(text) sets status


class Job:
    def __init__(self, work: Work, status: str = "Starting…") -> None:
        self._work = work
        self._lock = threading.Lock()
        self._status = status
        self._result: bytes | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._cancelled = False
        self.started_at = 0.0
        self._thread = threading.Thread(target=self._run, name="inkhue-colorize", daemon=True)

    def start(self) -> Job:
        self.started_at = time.monotonic()
        self._thread.start()
        return self

    def _report(self, text: str) -> None:
        with self._lock:
            self._status = text

    def _run(self) -> None:
        try:
            result = self._work(self._report)
        except BaseException as e:  # handed to the GUI thread, which shows it
            with self._lock:
                self._error = e
        else:
            with self._lock:
                self._result = result
        finally:
            self._done.set()
            if self._cancelled:
                log.info("dropped the result of a cancelled request")

    @property
    def status(self) -> str:
        with self._lock:
            return self._status

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started_at if self.started_at else 0.0

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def done(self) -> bool:
        """True once the work has finished (or was cancelled: the GUI need not wait)."""
        return self._cancelled or self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def outcome(self) -> tuple[str, object]:
        """("ok", bytes) | ("error", exception) | ("cancelled", None) | ("running", None)."""
        if self._cancelled:
            return "cancelled", None
        if not self._done.is_set():
            return "running", None
        with self._lock:
            if self._error is not None:
                return "error", self._error
            return "ok", self._result
