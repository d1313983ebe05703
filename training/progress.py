"""The fine-tune's machine-readable progress: a small JSON status file, rewritten atomically.

``inkhue-train finetune --progress FILE`` writes it; the plug-ins' "Fine-tune on My Style" reads it
(``engine/wire/finetune_job.py`` defines the fields and phases, and the atomic write). Every write
carries the writer's pid and time; training steps are written at most once a second.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from engine.wire.finetune_job import FINAL, PHASES, write_status

STEP_EVERY_S = 1.0  # at most one write a second while training


class Progress:
    """The status of one fine-tune, kept in memory and written to ``path`` on every change."""

    def __init__(self, path: str | Path, **facts) -> None:
        self.path = str(path)
        self.status: dict = {"phase": "starting", "pid": os.getpid(), "started": time.time(), **facts}
        self._last_step = 0.0

    def update(self, phase: str | None = None, **facts) -> None:
        if phase is not None:
            if phase not in PHASES:
                raise ValueError(f"unknown fine-tune phase {phase!r}; valid: {', '.join(PHASES)}")
            self.status["phase"] = phase
        self.status.update(facts, pid=os.getpid(), updated=time.time())
        write_status(self.path, self.status)

    def stage(self, phase: str, budget_s: float) -> None:
        """A training stage begins: its step count and time start at 0."""
        self.update(phase, step=0, elapsed_s=0.0, budget_s=budget_s)

    def step(self, step: int, elapsed_s: float) -> None:
        """A training step ended (written at most every ``STEP_EVERY_S``)."""
        now = time.monotonic()
        if now - self._last_step >= STEP_EVERY_S:
            self._last_step = now
            self.update(step=step, elapsed_s=round(elapsed_s, 1))

    @property
    def final(self) -> bool:
        return self.status["phase"] in FINAL
