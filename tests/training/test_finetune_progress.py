"""``inkhue-train finetune --progress FILE``: the status the plug-ins' fine-tune job reads
(training/progress.py), through a real fine-tune of a tiny model capped by ``--steps``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from engine.wire import finetune_job
from tests.training.test_documents import expected_pair, scene
from training import cli


def _pairs(folder: Path, seeds: tuple[int, ...]) -> Path:
    """Pairs as the plug-ins' Learn from This Document saves them."""
    folder.mkdir()
    for seed in seeds:
        rgb, luma = expected_pair(scene(seed))
        Image.fromarray(rgb).save(folder / f"pic{seed}.colour.png")
        Image.fromarray(luma).save(folder / f"pic{seed}.lines.png")
    return folder


@pytest.fixture
def writes(monkeypatch) -> list[dict]:
    """Every status written, in order (and written as usual)."""
    seen: list[dict] = []
    real = finetune_job.write_status

    def spy(path, status):
        seen.append(json.loads(json.dumps(status)))
        real(path, status)

    monkeypatch.setattr("training.progress.write_status", spy)
    return seen


def test_progress_goes_through_the_phases_and_ends_with_the_verdict(tmp_path, random_model_dir, writes):
    style = _pairs(tmp_path / "style", (11, 12, 13))
    status_file = tmp_path / "state" / "finetune.json"
    argv = ["finetune", "--documents", str(style), "--model", str(random_model_dir), "--out",
            str(tmp_path / "out"), "--steps", "2", "--minutes", "5", "--threads", "1", "--keep-anyway",
            "--progress", str(status_file), "--work", str(tmp_path / "work")]  # fmt: skip
    assert cli.main(argv) == 0

    phases = [w["phase"] for w in writes]
    collapsed = [p for i, p in enumerate(phases) if i == 0 or p != phases[i - 1]]
    assert collapsed == ["preparing", "measuring", "draft", "refine", "exporting", "measuring", "done"]
    assert [w.get("which") for w in writes if w["phase"] == "measuring"][-1] == "after"
    draft = [w for w in writes if w["phase"] == "draft"]
    assert draft[0]["step"] == 0 and draft[0]["budget_s"] == pytest.approx(5 * 60 * 0.6)
    final = json.loads(status_file.read_text())  # the file holds the last write, whole
    assert final == writes[-1]
    assert (
        final["kept"]
        and final["out_dir"] == str(tmp_path / "out")
        and final["steps"] == {"draft": 2, "refine": 2}
    )
    assert "| sparse | before |" in final["table"] and final["verdict"] in final["table"]
    assert {r["density"] for r in final["before"]} == {"sparse", "full"}
    assert finetune_job.describe({**final, "running": False}).startswith('Fine-tune done: "inkhue-finetuned"')
    assert not list(status_file.parent.glob(".finetune-*"))  # no temporary file left


def test_a_failure_is_written_with_its_message(tmp_path, random_model_dir, writes):
    style = _pairs(tmp_path / "style", (11,))  # one pair: nothing to measure on
    status_file = tmp_path / "finetune.json"
    argv = ["finetune", "--documents", str(style), "--model", str(random_model_dir),
            "--progress", str(status_file), "--work", str(tmp_path / "work")]  # fmt: skip
    assert cli.main(argv) == 2
    final = json.loads(status_file.read_text())
    assert final["phase"] == "failed" and "at least 2 usable line-art/colour pairs" in final["error"]
    assert [w["phase"] for w in writes] == ["preparing", "failed"]
