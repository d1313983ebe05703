import numpy as np
import pytest

from engine import ColorizeOptions, InputError, LocalColorizer, colorize
from engine.errors import BackendError
from engine.tiling import working_shape
from tests.conftest import lineart_and_hints


@pytest.fixture(scope="module")
def onnx_col(random_model_dir):
    return LocalColorizer(random_model_dir, backend="onnx", device="cpu")


@pytest.fixture(scope="module")
def torch_col(random_model_dir):
    return LocalColorizer(random_model_dir, backend="torch", device="cpu")


@pytest.mark.parametrize("h, w", [(64, 64), (65, 97), (301, 207), (16, 2000)])
def test_output_has_input_size(onnx_col, h, w):
    line, hints = lineart_and_hints(h, w)
    rgb = onnx_col.colorize(line, hints)
    assert rgb.shape == (h, w, 3) and rgb.dtype == np.uint8


def test_tiled_large_canvas(onnx_col):
    line, hints = lineart_and_hints(1100, 700)
    tiled = onnx_col.colorize(line, hints, tile=256)
    whole = onnx_col.colorize(line, hints, tile=2048)
    assert tiled.shape == whole.shape == (1100, 700, 3)
    # aligned, cross-faded tiles agree with one big tile: no seams
    diff = np.abs(tiled.astype(int) - whole.astype(int))
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 8


def test_onnx_and_torch_agree(onnx_col, torch_col):
    line, hints = lineart_and_hints(200, 333)
    a = onnx_col.colorize(line, hints)
    b = torch_col.colorize(line, hints)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 2


def test_lines_stay_crisp_when_composed(onnx_col):
    line, hints = lineart_and_hints(128, 128)
    composed = onnx_col.colorize(line, hints)
    flat = onnx_col.colorize(line, hints, compose_lines=False)
    ink = line[..., 0] == 0
    assert composed[ink].max() == 0  # pure black ink stays pure black
    assert flat[ink].max() > 0  # flat mode paints colour under the lines


def test_lines_on_transparent_layer_give_same_result(onnx_col):
    line, hints = lineart_and_hints(96, 96)
    transparent = np.zeros((96, 96, 4), np.uint8)
    transparent[..., 3] = 255 - line[..., 0]
    np.testing.assert_array_equal(onnx_col.colorize(line, hints), onnx_col.colorize(transparent, hints))


def test_hints_change_the_result(onnx_col):
    line, hints = lineart_and_hints(128, 128)
    assert not np.array_equal(onnx_col.colorize(line, hints), onnx_col.colorize(line, None))


def test_options_validation(onnx_col):
    line, _ = lineart_and_hints(64, 64)
    with pytest.raises(InputError, match="unknown option"):
        onnx_col.colorize(line, None, colour="red")
    with pytest.raises(InputError, match="tile"):
        onnx_col.colorize(line, None, tile=3)
    with pytest.raises(InputError, match="over the limit"):
        onnx_col.colorize(line, None, ColorizeOptions(max_pixels=100))


def test_stateless_function(random_model_dir):
    line, hints = lineart_and_hints(80, 80)
    a = colorize(line, hints, model=str(random_model_dir))
    b = LocalColorizer(random_model_dir).colorize(line, hints)
    np.testing.assert_array_equal(a, b)


def test_explicit_cuda_without_cuda_is_an_error(random_model_dir):
    with pytest.raises(BackendError, match="cuda"):
        LocalColorizer(random_model_dir, device="cuda")


def test_unknown_backend_lists_valid(random_model_dir):
    with pytest.raises(BackendError, match="valid: .*onnx.*torch"):
        LocalColorizer(random_model_dir, backend="tensorflow")


def test_working_shape():
    assert working_shape((8192, 4096), 512) == (512, 256)
    assert working_shape((100, 60), 512) == (100, 60)
