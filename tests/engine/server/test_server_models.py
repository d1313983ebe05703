"""Installed models by name on the server (engine/server/catalog.py) and in the client
(``client.colorize(model=...)``): what the plug-ins' model picker sends."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.server import ServerConfig, create_app, serve_in_thread
from engine.server.catalog import Catalog
from engine.server.codec import ProtocolError
from engine.wire import client
from tests.service_helpers import TOKEN, colorizer_fixture, drawing, model_dir_fixture  # noqa: F401


@pytest.fixture(scope="module")
def user_models(tmp_path_factory) -> Path:
    """The user's data folder with a model "mine" (other weights than the default) in its models."""
    from training.export import random_model

    data = tmp_path_factory.mktemp("data")
    random_model(data / "inkhue" / "models" / "mine", seed=5, name="mine")
    return data


@pytest.fixture
def url(colorizer, user_models, monkeypatch):
    from engine.pipeline import LocalColorizer

    monkeypatch.setenv("XDG_DATA_HOME", str(user_models))
    monkeypatch.delenv("INKHUE_MODEL_PATH", raising=False)
    app = create_app(colorizer, ServerConfig(token=TOKEN), load=LocalColorizer)
    with serve_in_thread(app) as served:
        yield served


def test_a_model_from_the_users_folder_answers_by_name(url, colorizer):
    rgba, hints = drawing(48, 64)
    h, w = rgba.shape[:2]
    own = client.colorize(url, rgba.tobytes(), hints.tobytes(), w, h, token=TOKEN)
    mine = client.colorize(url, rgba.tobytes(), hints.tobytes(), w, h, token=TOKEN, model="mine")
    default = client.colorize(url, rgba.tobytes(), hints.tobytes(), w, h, token=TOKEN, model="inkhue-default")
    assert len(mine) == len(own) == w * h * 3
    assert mine != own  # other weights: another picture
    assert default == own  # the server's own model under its manifest name


def test_an_unknown_or_unsafe_name_is_refused_with_the_names_there_are(url):
    rgba, hints = drawing(32, 32)
    names = r"has no model 'nope' .*this server has: inkhue, inkhue-default, mine"
    with pytest.raises(client.EngineError, match=names):
        client.colorize(url, rgba.tobytes(), hints.tobytes(), 32, 32, token=TOKEN, model="nope")
    with pytest.raises(client.EngineError, match="is not a model name") as e:
        client.colorize(url, rgba.tobytes(), hints.tobytes(), 32, 32, token=TOKEN, model="../etc")
    assert e.value.kind == "bad_request"


def test_metadata_names_the_model_and_its_version(url):
    import json
    import urllib.request

    req = urllib.request.Request(f"{url}/v2/models/mine", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        meta = json.loads(r.read())
    assert meta["name"] == "mine" and meta["versions"] == ["0.0.0"]


def test_at_most_keep_models_besides_its_own_stay_loaded():
    loads = []
    installed = {"a": (Path("/models/a"), "1"), "b": (Path("/models/b"), "2")}
    catalog = Catalog("own", "9", load=lambda folder: loads.append(folder) or f"net:{folder}", keep=1,
                      installed=lambda: installed)  # fmt: skip
    assert catalog.get("inkhue") == "own"
    assert catalog.get("a") == "net:/models/a" and catalog.get("a") == "net:/models/a"
    assert catalog.get("b") == "net:/models/b" and catalog.get("a") == "net:/models/a"
    assert loads == ["/models/a", "/models/b", "/models/a"]  # b pushed a out; a pushed b out
    assert catalog.version_of("b") == "2" and catalog.version_of("inkhue") == "9"
    with pytest.raises(ProtocolError, match="unknown version '3' of 'b'; this server has '2'"):
        catalog.version_of("b", "3")
    installed["c"] = (Path("/models/c"), "1")  # written since the last listing: found at once
    assert catalog.get("c") == "net:/models/c"
    without = Catalog("own", "9")  # no loader: its own model only (tests' fake colorizers)
    with pytest.raises(ProtocolError, match="this server has: inkhue$"):
        without.get("a")
