"""Live preview bookkeeping, without Krita or Qt (unit tested): when to ask, what to drop.

The docker polls its two layers a few times a second. ``Live.poll`` gets a signature of what a
request would be made from (layer ids, options, the layers' bytes) and answers what to do:

- inputs changing between polls: the artist is painting, wait;
- inputs unchanged since the last poll but different from what is shown: a stroke (or a choice)
  is finished, ask for the **draft** (``preview=True``);
- a draft shown and nothing changed for ``refine_after`` seconds: ask for the **full** result;
- at most one request in flight. A change while one runs does not queue another: the running
  one's answer is dropped as stale when it arrives, and the newest inputs are asked for then.
"""

from __future__ import annotations

from dataclasses import dataclass

DRAFT, FULL = "draft", "full"


@dataclass(frozen=True)
class Ask:
    kind: str  # DRAFT or FULL
    signature: object  # what the request is made from: compared when its answer arrives


class Live:
    def __init__(self, refine_after: float = 1.5) -> None:
        self.refine_after = refine_after
        self.last_seen: object = None  # the signature at the previous poll
        self.shown: tuple[object, str] | None = None  # (signature, kind) on the preview layer
        self.in_flight: Ask | None = None
        self.shown_at = 0.0
        self.dropped = 0  # stale answers thrown away (for tests and the status line)
        self.failed: object = None  # inputs whose request failed: not retried until they change

    def poll(self, signature: object, now: float, eager: bool = False) -> Ask | None:
        """What to request now, if anything (the caller starts it and later calls ``answered``).

        ``eager``: ask for the full result as soon as the draft is shown (Apply is waiting)."""
        settled = signature == self.last_seen
        self.last_seen = signature
        if self.in_flight is not None or not settled or signature == self.failed:
            return None
        if self.shown is None or self.shown[0] != signature:
            self.in_flight = Ask(DRAFT, signature)
        elif self.shown[1] == DRAFT and (eager or now - self.shown_at >= self.refine_after):
            self.in_flight = Ask(FULL, signature)
        return self.in_flight

    def answered(self, ask: Ask, now: float, ok: bool = True) -> bool:
        """The request ``ask`` came back; True when its result is still wanted (show it)."""
        if ask is not self.in_flight:
            return False
        self.in_flight = None
        if not ok:
            self.failed = ask.signature  # do not retry the same inputs in a loop
            return False
        if ask.signature != self.last_seen:
            self.dropped += 1
            return False
        self.shown, self.shown_at = (ask.signature, ask.kind), now
        return True

    def forget(self) -> None:
        """Live was switched off or the preview removed: start afresh next time."""
        self.last_seen, self.shown, self.in_flight, self.failed = None, None, None, None

    def complete(self, signature: object) -> bool:
        """True when the full result for ``signature`` is what is shown (Apply can finish now)."""
        return self.shown == (signature, FULL)
