# Runs INSIDE Krita 5.2 or 6 (the test harness plug-in of tests/krita runs it; see bench/apps.py).
#
# For every case of $INKHUE_KRITA_OUT/cases.json: a document with the line art as a layer (black
# ink on transparent), a Colorize Mask on it with one key stroke per hint colour, the mask's
# update forced, and the layer's projection (lines over the computed colours) written out as raw
# 8-bit RGBA. Seconds per case run from updateMask() to the coloured projection being readable.
import importlib
import json
import os
import sys
import time

from krita import Krita, ManagedColor

# Krita 6 runs on PyQt6 (and refuses a PyQt5 import), Krita 5 on PyQt5: use the one Krita loaded
QT = "PyQt6" if "PyQt6.QtCore" in sys.modules else "PyQt5"
QByteArray = importlib.import_module(f"{QT}.QtCore").QByteArray
QColor = importlib.import_module(f"{QT}.QtGui").QColor

OUT = os.environ["INKHUE_KRITA_OUT"]
POLL_MS = 10
CASE_TIMEOUT_S = 120.0


def path(name):
    return os.path.join(OUT, name)


def read(name):
    with open(path(name), "rb") as f:
        return f.read()


def bgra_to_rgba(data):
    out = bytearray(data)
    out[0::4], out[2::4] = data[2::4], data[0::4]
    return bytes(out)


def rgba_to_bgra(data):
    return bgra_to_rgba(data)  # the same swap of bytes 0 and 2


def colorize(case):
    """A generator (yields ms to Krita's event loop); returns the seconds the mask update took."""
    app = Krita.instance()
    w, h = case["w"], case["h"]
    doc = app.createDocument(w, h, case["key"], "RGBA", "U8", "", 72.0)
    doc.setBatchmode(True)
    app.activeWindow().addView(doc)
    line = doc.createNode("lines", "paintlayer")
    doc.rootNode().addChildNode(line, None)
    line.setPixelData(QByteArray(rgba_to_bgra(read(case["line"]))), 0, 0, w, h)
    doc.waitForDone()
    bare = bytes(line.projectionPixelData(0, 0, w, h))

    mask = doc.createColorizeMask("colorize")
    line.addChildNode(mask, None)
    colours = [ManagedColor.fromQColor(QColor(*s["rgb"])) for s in case["strokes"]]
    mask.initializeKeyStrokeColors(colours)
    for s, c in zip(case["strokes"], colours):
        if not mask.setKeyStrokePixelData(QByteArray(read(s["file"])), c, 0, 0, w, h):
            raise RuntimeError(f"Krita refused the key stroke {s['file']}")
    mask.setEditKeyStrokes(False)  # show the colouring, not the strokes
    mask.setShowOutput(True)
    doc.waitForDone()

    t0 = time.perf_counter()
    mask.updateMask(True)
    last = None
    while True:
        doc.waitForDone()  # the lazy-brush stroke, then the projection update it triggers
        now = bytes(line.projectionPixelData(0, 0, w, h))
        if now != bare and now == last:
            break
        if time.perf_counter() - t0 > CASE_TIMEOUT_S:
            raise RuntimeError(f"the Colorize Mask of {case['key']} did not finish in {CASE_TIMEOUT_S:g} s")
        last = now
        yield POLL_MS
    seconds = time.perf_counter() - t0 - POLL_MS / 1000.0  # the last poll only confirmed
    with open(path(case["out"]), "wb") as f:
        f.write(bgra_to_rgba(now))
    # left open: closing a document right after its mask update crashed Krita 5.2.9; the harness
    # closes every document once the mask's own timers have settled (see steps)
    return seconds


def steps():
    import krita

    if not hasattr(krita, "ColorizeMask"):  # the Python API came with Krita 5.2
        raise RuntimeError(f"Krita {Krita.instance().version()} has no ColorizeMask in its Python API")
    spec = json.loads(read("cases.json"))
    result = {"version": Krita.instance().version(), "seconds": {}, "errors": {}}
    for case in spec["cases"]:
        try:
            result["seconds"][case["key"]] = yield from colorize(case)
        except Exception as e:  # one case failing must not lose the others
            result["errors"][case["key"]] = repr(e)
        with open(path("result.json"), "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    yield 1500  # the mask's signal compressors (1 s) fire before the documents close
