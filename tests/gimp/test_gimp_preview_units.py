"""The GIMP dialog's preview logic (inkhue_preview.py) with GIMP's objects faked.

Real GIMP: tests/gimp/test_gimp_preview.py.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import threading
from pathlib import Path

import pytest

from engine.wire import layer_rules
from installer.vendor import vendor_into

PLUGIN_SRC = Path(__file__).resolve().parents[2] / "gimp_plugin" / "inkhue_gimp"


@pytest.fixture(scope="module")
def pv(tmp_path_factory: pytest.TempPathFactory):
    dest = tmp_path_factory.mktemp("plugin") / "inkhue_gimp"
    shutil.copytree(PLUGIN_SRC, dest, ignore=shutil.ignore_patterns("__pycache__", "vendor"))
    vendor_into(dest)
    sys.path.insert(0, str(dest))
    try:
        yield importlib.import_module("inkhue_preview")
    finally:
        sys.path.remove(str(dest))
        sys.modules.pop("inkhue_preview", None)


class Layer:
    ids = iter(range(100, 10_000))

    def __init__(self, name: str) -> None:
        self.name, self.id, self.valid, self.pixels = name, next(Layer.ids), True, None

    def is_valid(self) -> bool:
        return self.valid

    def get_id(self) -> int:
        return self.id


class Image:
    def __init__(self, *names: str, dirty: bool = False) -> None:
        self.layers = [Layer(n) for n in names]
        self.selected = [self.layers[0]]
        self.dirty, self.frozen, self.log = dirty, 0, []

    def get_selected_layers(self):
        return list(self.selected)

    def set_selected_layers(self, layers) -> None:
        self.selected = list(layers)

    def undo_freeze(self) -> None:
        self.frozen += 1

    def undo_thaw(self) -> None:
        self.frozen -= 1

    def is_dirty(self) -> bool:
        return self.dirty

    def clean_all(self) -> None:
        self.dirty = False

    def _undoable(self, what: str) -> None:
        self.log.append((what, self.frozen > 0))
        self.dirty = True

    def insert_layer(self, layer, parent, position) -> bool:
        self._undoable("insert")
        self.layers.insert(position, layer)
        self.selected = [layer]  # GIMP selects a layer it adds
        return True

    def remove_layer(self, layer) -> None:
        self._undoable("remove")
        self.layers.remove(layer)
        layer.valid = False
        self.selected = [self.layers[0]]

    def names(self) -> list[str]:
        return [layer.name for layer in self.layers]


PREVIEW = layer_rules.PREVIEW_LAYER_NAME


def _build(image: Image, position: int):
    return lambda: (Layer(PREVIEW), None, position)


def _fill(value):
    def fill(layer):
        layer.pixels = value

    return fill


def test_the_preview_layer_is_never_an_undo_step_and_keeps_the_selection(pv):
    image = Image("Hints", "Line art", "Paper")
    layer = pv.PreviewLayer(image)
    first = layer.draw("k", _build(image, 1), _fill("a"))
    assert image.names() == ["Hints", PREVIEW, "Line art", "Paper"] and first.pixels == "a"
    again = layer.draw("k", _build(image, 1), _fill("b"))  # same kind and place: refilled in place
    assert again is first and first.pixels == "b"
    moved = layer.draw("other", _build(image, 2), _fill("c"))  # placement changed: rebuilt
    assert moved is not first and image.names() == ["Hints", "Line art", PREVIEW, "Paper"]
    layer.remove()
    assert image.names() == ["Hints", "Line art", "Paper"]
    assert image.log and all(frozen for _what, frozen in image.log)  # undo frozen every time
    assert image.frozen == 0 and [s.name for s in image.selected] == ["Hints"]
    assert not image.dirty  # clean before the preview: clean after it


def test_a_dirty_image_stays_dirty_and_a_deleted_preview_is_rebuilt(pv):
    image = Image("Hints", "Line art", dirty=True)
    layer = pv.PreviewLayer(image)
    shown = layer.draw("k", _build(image, 1), _fill("a"))
    image.remove_layer(shown)  # the artist deleted it
    rebuilt = layer.draw("k", _build(image, 1), _fill("b"))
    assert rebuilt is not shown and image.names() == ["Hints", PREVIEW, "Line art"]
    layer.remove()
    layer.remove()  # twice: nothing left to do
    assert image.names() == ["Hints", "Line art"] and image.dirty


def test_a_failed_fill_removes_the_new_layer(pv):
    image = Image("Hints", "Line art")
    layer = pv.PreviewLayer(image)

    def fail(_layer):
        raise OSError("no memory")

    with pytest.raises(OSError):
        layer.draw("k", _build(image, 1), fail)
    assert image.names() == ["Hints", "Line art"] and layer.layer is None and image.frozen == 0


def test_requests_wait_for_a_settled_choice_and_drop_stale_answers(pv):
    r = pv.Requests()
    assert not r.poll("a")  # first sight: the artist may still be changing it
    assert r.poll("a")  # unchanged since the last step: ask
    assert not r.poll("b") and not r.poll("b")  # one in flight: nothing is queued
    assert not r.answered("a", ok=True) and r.dropped == 1  # "a" is stale now: never shown
    assert r.poll("b")
    assert r.answered("b", ok=True) and r.shown == "b"
    assert not r.poll("b")  # shown: nothing to do
    assert not r.poll("c") and r.poll("c")
    assert not r.answered("c", ok=False) and r.failed == "c"
    assert not r.poll("c") and not r.poll("c")  # a failure is not retried in a loop


class Engine:
    """A request that waits until the test lets it answer."""

    def __init__(self) -> None:
        self.asked: list = []
        self.go = threading.Event()
        self.error: Exception | None = None

    def __call__(self, payload):
        self.asked.append(payload)
        assert self.go.wait(10)
        if self.error is not None:
            raise self.error
        return f"draft of {payload}"


def _preview(pv, image: Image, choice: dict, engine: Engine):
    drawn: list = []

    def read():
        if choice.get("problem"):
            raise pv.Problem(choice["problem"])
        return choice["value"], choice["value"]

    def draw(payload, answer):
        drawn.append(answer)
        layer.draw("k", _build(image, 1), _fill(answer))

    layer = pv.PreviewLayer(image)
    return pv.Preview(layer, read, engine, draw), drawn


def _wait_idle(preview) -> None:
    if preview._job is not None:
        preview._job["thread"].join(10)


def test_preview_steps_ask_once_show_the_newest_and_close_cleanly(pv):
    image, engine = Image("Hints", "Line art"), Engine()
    choice = {"value": "v1"}
    preview, drawn = _preview(pv, image, choice, engine)
    preview.step(True)
    preview.step(True)  # settled: asks on a worker thread
    assert engine.asked == ["v1"] and preview.busy and "colouring" in preview.message
    choice["value"] = "v2"  # an option changes while the engine works
    preview.step(True)
    preview.step(True)
    engine.go.set()
    _wait_idle(preview)
    preview.step(True)  # the v1 answer is stale: dropped, v2 asked for
    assert drawn == [] and preview.requests.dropped == 1 and engine.asked == ["v1", "v2"]
    _wait_idle(preview)
    preview.step(True)
    assert drawn == ["draft of v2"] and preview.updates == 1 and preview.current()
    assert image.names() == ["Hints", PREVIEW, "Line art"]
    assert preview.message.startswith("Preview: draft shown")
    preview.close()
    assert image.names() == ["Hints", "Line art"] and not image.dirty


def test_turning_preview_off_and_problems_remove_the_layer(pv):
    image, engine = Image("Hints", "Line art"), Engine()
    engine.go.set()
    choice = {"value": "v1"}
    preview, _ = _preview(pv, image, choice, engine)
    assert preview.settle(timeout=10, interval=0.01)
    preview.step(False)
    assert image.names() == ["Hints", "Line art"] and preview.message == ""
    assert preview.settle(timeout=10, interval=0.01)  # on again: shown afresh
    choice["problem"] = "no dabs"
    assert not preview.settle(timeout=10, interval=0.01)
    assert image.names() == ["Hints", "Line art"] and preview.message == "Preview: no dabs"


def test_an_engine_error_is_shown_and_not_retried(pv):
    image, engine = Image("Hints", "Line art"), Engine()
    engine.error, choice = RuntimeError("the engine is not running"), {"value": "v1"}
    engine.go.set()
    preview, drawn = _preview(pv, image, choice, engine)
    assert not preview.settle(timeout=10, interval=0.01)
    assert preview.message == "Preview failed: the engine is not running" and drawn == []
    for _ in range(3):
        preview.step(True)
    assert engine.asked == ["v1"]  # the same choice is not asked for again
    choice["value"] = "v2"
    preview.step(True)
    preview.step(True)
    assert engine.asked == ["v1", "v2"]


def test_the_dialog_offers_preview_as_a_remembered_toggle():
    text = (PLUGIN_SRC / "inkhue_arguments.py").read_text()
    assert 'add_boolean_aux_argument(\n        "preview"' in text
    dialog = (PLUGIN_SRC / "inkhue_dialog.py").read_text()
    assert '"preview",\n            "preview-status",' in dialog and "preview.close()" in dialog


def test_both_plugins_name_the_preview_layer_alike():
    krita = (PLUGIN_SRC.parent.parent / "krita_plugin/inkhue_krita/docker.py").read_text()
    assert f'PREVIEW_NAME = "{PREVIEW}"' in krita
