"""The dialog's Preview: the engine's draft in a temporary layer while the dialog is open.

Pure Python (GIMP's objects and calls are passed in), so the rules are unit tested with fakes and
the real-GIMP test drives the same object without clicking the dialog:

- ``Preview.step(on)`` runs on GIMP's main thread a few times a second (a GLib timer of the
  dialog). It reads the choice (layers, options, pixels); once it is the same on two steps in a
  row (the artist stopped changing it), it asks the engine for the draft (``preview: true``, the
  engine's fast path) on a worker thread. One request at a time: an answer for a choice that has
  changed meanwhile is dropped, never shown, and the newest choice is asked for next.
- ``PreviewLayer`` holds the temporary layer "AI Colorize (preview)", placed like the result. It
  is inserted, refilled and removed with the image's undo frozen, so it never becomes an undo
  step; the layers the artist had selected are selected again, and an image that was clean
  before the preview is clean again after it is removed.
- ``Preview.close()`` removes the layer (Cancel, OK, an error): OK then makes the real, full
  result as one undo step, exactly as without the preview.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

POLL_MS = 300  # how often the dialog's timer calls ``Preview.step``


class Problem(Exception):
    """The current choice cannot be previewed; ``str(e)`` says why (shown in the dialog)."""


class Requests:
    """When to ask and which answers to keep (the Krita docker's Live rule, without refinement)."""

    def __init__(self) -> None:
        self.last_seen: object = None  # the signature at the previous step
        self.shown: object = None  # the signature whose draft is on the layer
        self.in_flight: object = None  # the signature being asked for
        self.failed: object = None  # inputs whose request failed: not retried until they change
        self.dropped = 0

    def poll(self, signature: object) -> bool:
        """True when ``signature`` should be asked for now (the caller starts the request)."""
        settled = signature == self.last_seen
        self.last_seen = signature
        if self.in_flight is not None or not settled or signature in (self.shown, self.failed):
            return False
        self.in_flight = signature
        return True

    def answered(self, signature: object, ok: bool) -> bool:
        """The request for ``signature`` came back; True when its answer is still wanted."""
        self.in_flight = None
        if not ok:
            self.failed = signature
            return False
        if signature != self.last_seen:
            self.dropped += 1
            return False
        self.shown = signature
        return True

    def forget(self) -> None:
        self.last_seen = self.shown = self.failed = None


class PreviewLayer:
    """The temporary layer in ``image``, kept out of the undo history."""

    def __init__(self, image) -> None:
        self.image = image
        self.layer = None
        self.key: object = None  # what the layer's kind and place were made for
        self.was_clean: bool | None = None  # the image's state before the first preview layer

    @contextmanager
    def _quiet(self):
        image = self.image
        selected = list(image.get_selected_layers())
        image.undo_freeze()
        try:
            yield
        finally:
            kept = [layer for layer in selected if layer.is_valid()]
            if kept:
                image.set_selected_layers(kept)
            image.undo_thaw()

    def _remove(self) -> None:
        layer, self.layer, self.key = self.layer, None, None
        if layer is not None and layer.is_valid():  # the artist may have deleted it
            self.image.remove_layer(layer)

    def draw(self, key: object, build: Callable[[], tuple], fill: Callable[[object], None]) -> object:
        """Show pixels in the preview layer: ``fill(layer)``.

        ``key`` names the layer's kind and place (line art, blend mode); while it is unchanged the
        layer is refilled in place, else rebuilt: ``build()`` -> (new layer, parent, position),
        called once the old layer is gone (placement must not count it)."""
        with self._quiet():
            if self.layer is not None and (self.key != key or not self.layer.is_valid()):
                self._remove()
            if self.layer is None:
                if self.was_clean is None:
                    self.was_clean = not self.image.is_dirty()
                layer, parent, position = build()
                if not self.image.insert_layer(layer, parent, position):
                    raise RuntimeError("GIMP did not add the preview layer")
                self.layer, self.key = layer, key
            try:
                fill(self.layer)
            except BaseException:
                self._remove()
                raise
        return self.layer

    def remove(self) -> None:
        """Take the layer away; a clean image (before the preview) is clean again."""
        if self.layer is None:
            return
        with self._quiet():
            self._remove()
        if self.was_clean:
            self.image.clean_all()
        self.was_clean = None

    def owns(self, layer) -> bool:
        return self.layer is not None and layer is not None and layer.get_id() == self.layer.get_id()


class Preview:
    """The preview's life in a dialog.

    ``read()`` -> (signature, payload) of the current choice, or raises ``Problem``;
    ``request(payload)`` -> the engine's answer (runs on a worker thread: no GIMP calls);
    ``draw(payload, answer)`` puts it into the layer (``self.layer``) on the main thread.
    """

    def __init__(self, layer: PreviewLayer, read, request, draw) -> None:
        self.layer, self.read, self.request, self.draw = layer, read, request, draw
        self.requests = Requests()
        self.message = ""  # what the dialog shows under the toggle
        self.updates = 0  # drafts shown (tests read it)
        self.problem: str | None = None  # why the current choice cannot be previewed
        self._job: dict | None = None

    @property
    def busy(self) -> bool:
        return self._job is not None

    def _start(self, signature: object, payload: object) -> None:
        job = {"signature": signature, "payload": payload, "t0": time.monotonic()}

        def work() -> None:
            try:
                job["answer"] = self.request(payload)
            except Exception as e:  # noqa: BLE001 - shown in the dialog, on the main thread
                job["error"] = e

        job["thread"] = threading.Thread(target=work, name="inkhue-preview", daemon=True)
        self._job = job
        job["thread"].start()
        self.message = "Preview: colouring the draft…"

    def _collect(self) -> None:
        job = self._job
        if job is None or job["thread"].is_alive():
            return
        self._job = None
        error = job.get("error")
        if not self.requests.answered(job["signature"], ok=error is None):
            if error is not None:
                self.message = f"Preview failed: {error}"
            return
        self.draw(job["payload"], job["answer"])
        self.updates += 1
        seconds = time.monotonic() - job["t0"]
        self.message = f"Preview: draft shown ({seconds:.1f} s). Colorize makes the full result."

    def step(self, on: bool) -> None:
        """One tick of the dialog's timer, ``on``: the Preview toggle."""
        self._collect()
        if not on:
            if self.layer.layer is not None or self.message:
                self.layer.remove()
                self.requests.forget()
                self.message = ""
            return
        try:
            signature, payload = self.read()
        except Problem as e:
            self.layer.remove()  # never leave a preview of a choice that is no longer there
            self.requests.forget()
            self.problem = str(e)
            self.message = f"Preview: {e}"
            return
        self.problem = None
        if self.requests.poll(signature):
            self._start(signature, payload)

    def current(self) -> bool:
        """True when the layer shows the draft for the choice seen last and nothing is pending."""
        r = self.requests
        return self._job is None and r.shown is not None and r.shown == r.last_seen

    def settle(self, timeout: float = 60.0, interval: float = POLL_MS / 1000) -> bool:
        """Step until the preview is current (scripts and tests, without the dialog's timer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.step(True)
            r = self.requests
            if self.current() or self.problem or (self._job is None and r.failed == r.last_seen):
                return self.current()
            time.sleep(interval)
        return False

    def close(self) -> None:
        """Remove the preview layer (Cancel, OK, errors); a request still running is abandoned."""
        self._job = None
        self.requests.forget()
        self.layer.remove()
