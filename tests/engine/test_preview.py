"""The preview fast path: the same draft inputs as a full request, the analysis cached by line art."""

from __future__ import annotations

import numpy as np
import pytest

from engine import preview
from engine.wire import client
from engine.wire.schema import ColorizeOptions, OptionsError
from tests.service_helpers import TOKEN, colorizer_fixture, drawing, model_dir_fixture, server_url_fixture  # noqa: F401


def _draft_inputs(colorizer, monkeypatch, **options) -> list[np.ndarray]:
    seen: list[np.ndarray] = []
    run = colorizer._run

    def spy(stage, x):
        if stage == "draft":
            seen.append(x.copy())
        return run(stage, x)

    monkeypatch.setattr(colorizer, "_run", spy)
    return seen


@pytest.mark.parametrize("shape, size", [((200, 300), 128), ((96, 128), 256)])
def test_preview_gives_the_draft_the_inputs_a_full_request_gives_it(colorizer, monkeypatch, shape, size):
    lineart, hints = drawing(*shape, seed=5)
    seen = _draft_inputs(colorizer, monkeypatch)
    colorizer.colorize(lineart, hints, working_size=size)
    out = colorizer.colorize(lineart, hints, working_size=size, preview=True)
    assert len(seen) == 2 and seen[0].shape == seen[1].shape
    np.testing.assert_allclose(seen[1], seen[0], atol=1e-3)  # spread: FADE_FLOOR
    assert out.shape == (*shape, 3) and out.dtype == np.uint8


def test_preview_reuses_the_analysis_while_only_hints_change(colorizer):
    colorizer._preview_cache = None
    lineart, hints = drawing(120, 160, seed=1)
    first = colorizer.colorize(lineart, hints, preview=True, transparent=True)
    assert first.shape == (120, 160, 4)
    moved = np.roll(hints, 7, axis=1)
    second = colorizer.colorize(lineart, moved, preview=True, transparent=True)
    cache = colorizer._preview_cache
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)
    assert not np.array_equal(first, second)
    other = lineart.copy()
    other[50:52, :, :3] = 0  # a new line: a new analysis
    colorizer.colorize(other, moved, preview=True)
    assert (cache.hits, cache.misses, len(cache)) == (1, 2, 2)
    colorizer.colorize(lineart, hints, preview=True, gap=4)  # the gap shapes the analysis too
    assert cache.misses == 3


def test_preview_flats_match_the_flats_method(colorizer):
    lineart, hints = drawing(96, 128, seed=2)
    for transparent in (False, True):
        ref = colorizer.colorize(lineart, hints, method="flats", transparent=transparent)
        out = colorizer.colorize(lineart, hints, method="flats", transparent=transparent, preview=True)
        np.testing.assert_array_equal(out, ref)


def test_cache_is_bounded_by_entries_and_pixels():
    cache = preview.PreviewCache(entries=2, max_pixels=10**9)
    arts = [drawing(64, 64, seed=s)[0] for s in range(3)]
    for art in arts:
        cache.get(art, (32, 32), 0, 2000.0)
    assert len(cache) == 2 and cache.misses == 3
    cache.get(arts[0], (32, 32), 0, 2000.0)  # the oldest was dropped
    assert cache.misses == 4
    small = preview.PreviewCache(entries=8, max_pixels=64 * 64 + 1)
    for art in arts:
        small.get(art, (32, 32), 0, 2000.0)
    assert len(small) == 1  # over the pixel budget only the newest stays


def test_preview_option_in_the_one_schema():
    assert ColorizeOptions.from_mapping({"preview": True}).preview is True
    with pytest.raises(OptionsError):
        ColorizeOptions.from_mapping({"preview": "yes"})


def test_server_and_stdlib_client_carry_preview(server_url, colorizer):
    lineart, hints = drawing(72, 100, seed=3)
    ref = colorizer.colorize(lineart, hints, preview=True, transparent=True)
    out = client.colorize(
        server_url, lineart.tobytes(), hints.tobytes(), 100, 72, {"preview": True, "transparent": True}, TOKEN
    )
    np.testing.assert_array_equal(np.frombuffer(out, np.uint8).reshape(72, 100, 4), ref)


@pytest.mark.parametrize(
    ("shape", "out_hw"), [((331, 457), (233, 321)), ((1024, 1024), (512, 512)), ((97, 61), (97, 61))]
)
def test_sparse_hint_planes_equal_the_full_cell_reduction(shape, out_hw):
    from engine.preview import hint_planes_small
    from engine.resample import cell_reduce

    rng = np.random.default_rng(3)
    hints = np.zeros((*shape, 4), np.uint8)
    for _ in range(12):  # dabs with soft rims, some overlapping
        y, x = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        hints[max(0, y - 4) : y + 4, max(0, x - 4) : x + 4] = (*rng.integers(0, 256, 3), rng.integers(1, 256))
    alpha = hints[..., 3] / 255.0
    mask = cell_reduce(np.maximum, alpha, out_hw)
    mean = [cell_reduce(np.add, hints[..., c] / 255.0 * alpha, out_hw) for c in range(3)]
    want = np.where(
        mask[..., None] > 0,
        np.stack(mean, -1) / np.maximum(cell_reduce(np.add, alpha, out_hw), 1e-12)[..., None],
        0,
    )
    rgb, got = hint_planes_small(hints, shape, out_hw)
    np.testing.assert_allclose(got, mask, atol=1e-6)
    np.testing.assert_allclose(rgb, want, atol=1e-5)
