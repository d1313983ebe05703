"""Filter > AI Colorize: Fine-tune on My Style in real Krita (test_krita_finetune.py judges it).

Two documents (raw RGBA layers from the test: Background, Flats, a hidden Sketch, Lines, Hints)
are each learnt from (Filter > AI Colorize: Learn from This Document: two pairs); then the
fine-tune is started from the menu (a tiny budget from plugin.json) and started again at once
(refused: one job at a time). The docker's fine-tune line is read while the job runs; once the
canvas says it ended, the docker's and the dialog's model pickers are read and the picture is
coloured with the new model through the dialog. The user's layers are recorded before and after.
"""

import time

from krita import Krita
from kritahelp import (
    ModalDriver,
    colorize,
    layer_names,
    layer_state,
    outcome,
    save_result,
    scenario,
    style_picture,
)
from kritahelp import filter_menu_action as menu_action

app = Krita.instance()
res = {}


def user_layers(doc):
    return [layer_state(n) for n in doc.rootNode().childNodes() if n.name() != "AI Colorize"]


def combo_items(combo):
    return [[combo.itemData(i), combo.itemText(i)] for i in range(combo.count())]


def steps():
    sc = scenario()
    w, h = sc["width"], sc["height"]
    ext = [e for e in app.extensions() if type(e).__name__ == "InkhueExtension"][0]
    for prefix in ("a", "b"):  # two pictures: two pairs (one to learn from, one to measure on)
        doc = style_picture(prefix, w, h)
        yield 300
        menu_action("inkhue_learn_document").trigger()
        yield 300
    res["learn_message"] = ext.last_message

    import inkhue_krita.docker as docker_mod

    dock = docker_mod.DOCKERS[-1]
    dock.show()
    yield 200
    res["docker_models_before"] = combo_items(dock.models.combo)
    res["names_before"] = layer_names(doc)
    before = user_layers(doc)

    tune = menu_action("inkhue_finetune_style")
    res["finetune_text"] = tune.text()
    t0 = time.monotonic()
    tune.trigger()
    res["trigger_s"] = time.monotonic() - t0  # the menu returns at once: the job runs elsewhere
    res["started_message"] = ext.last_message
    yield 100
    tune.trigger()
    res["second_message"] = ext.last_message

    seen = []
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        text = dock.models.line.text()
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        if ext.last_message.startswith(("Fine-tune done", "Fine-tune failed")):
            break
        yield 200
    res["docker_lines"] = seen
    res["end_message"] = ext.last_message
    yield 1500  # the docker's own watch reads the end and lists the new model
    res["docker_line_after"] = dock.models.line.text()
    res["docker_models_after"] = combo_items(dock.models.combo)

    driver = ModalDriver()
    plan = {"mode": "local", "lineart": "Lines", "hints": "Hints", "model": "inkhue-finetuned"}
    yield from colorize(driver, plan, timeout=120)
    res["outcome"] = outcome()
    res["dialog"] = driver.dialogs()[-1]
    res["messages"] = driver.messages()
    res["names_after"] = layer_names(doc)
    res["users_unchanged"] = user_layers(doc) == before
    res["remembered_model"] = app.readSetting("inkhue_krita", "model", "")
    save_result(res)
