"""Filter > AI Colorize: Stop Fine-tune and the docker's Stop button in real Krita
(test_krita_finetune_stop.py judges it).

Stop with no job says so. Two documents are learnt from, the fine-tune is started from the menu
with a budget of minutes (plugin.json), and once the docker's line shows it training (or after at
most WAIT_TRAINING_S) the docker's Stop button is clicked; the line, the button and the canvas are
read after it, then the Stop action is triggered once more (nothing runs now). The job's pid and
whether it still lives are read from inside Krita too (Krita started it: it must be reaped).
"""

import json
import os
import time

from krita import Krita
from kritahelp import filter_menu_action as menu_action
from kritahelp import layer_names, layer_state, save_result, scenario, style_picture

app = Krita.instance()
res = {}
WAIT_TRAINING_S = 60.0
STATE = os.path.join(os.path.expanduser("~"), ".local/state/inkhue/finetune.json")


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def button_state(button):
    return {"visible": not button.isHidden(), "enabled": button.isEnabled()}


def steps():
    sc = scenario()
    w, h = sc["width"], sc["height"]
    ext = [e for e in app.extensions() if type(e).__name__ == "InkhueExtension"][0]

    import inkhue_krita.docker as docker_mod

    dock = docker_mod.DOCKERS[-1]
    dock.show()
    stop = menu_action("inkhue_finetune_stop")
    res["stop_text"] = stop.text()
    stop.trigger()  # no job ever ran
    res["stop_none_message"] = ext.last_message
    res["button_none"] = button_state(dock.models.stop_button)

    for prefix in ("a", "b"):  # two pairs: the least a fine-tune accepts
        doc = style_picture(prefix, w, h)
        yield 300
        menu_action("inkhue_learn_document").trigger()
        yield 300
    res["names_before"] = layer_names(doc)
    before = [layer_state(n) for n in doc.rootNode().childNodes()]

    menu_action("inkhue_finetune_style").trigger()
    res["started_message"] = ext.last_message
    seen = []
    deadline = time.monotonic() + WAIT_TRAINING_S
    while time.monotonic() < deadline:
        text = dock.models.line.text()
        if text and (not seen or seen[-1] != text):
            seen.append(text)
        if text.startswith("Fine-tune: training"):
            break
        yield 200
    res["docker_lines"] = seen
    res["button_running"] = button_state(dock.models.stop_button)
    with open(STATE, encoding="utf-8") as f:
        running = json.load(f)
    res["pid"], res["phase_when_stopped"] = running["pid"], running["phase"]

    t0 = time.monotonic()
    dock.models.stop_button.click()
    res["click_s"] = time.monotonic() - t0
    res["alive_after_click"] = alive(res["pid"])
    res["docker_line_at_click"] = dock.models.line.text()
    res["button_after"] = button_state(dock.models.stop_button)
    yield 2500  # the watches read the end: the docker's line, and the canvas message
    res["docker_line_after"] = dock.models.line.text()
    res["end_message"] = ext.last_message
    stop.trigger()  # nothing runs now
    res["stop_again_message"] = ext.last_message
    res["names_after"] = layer_names(doc)
    res["users_unchanged"] = [layer_state(n) for n in doc.rootNode().childNodes()] == before
    save_result(res)
