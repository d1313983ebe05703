import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.errors import InputError
from tests.conftest import lineart_and_hints


@pytest.fixture()
def images(tmp_path):
    line, hints = lineart_and_hints(120, 90)
    Image.fromarray(line).save(tmp_path / "line.png")
    Image.fromarray(hints).save(tmp_path / "hints.png")
    return tmp_path


def run(*args):
    return main([str(a) for a in args])


def test_colorize_writes_output(images, random_model_dir):
    out = images / "out.webp"
    assert (
        run(
            "colorize",
            images / "line.png",
            "--hints",
            images / "hints.png",
            "-o",
            out,
            "--model",
            random_model_dir,
        )
        == 0
    )
    assert Image.open(out).size == (90, 120)


@pytest.mark.parametrize("fmt", ["jpg", "tif"])
def test_reads_other_formats(images, random_model_dir, fmt):
    Image.open(images / "line.png").convert("RGB").save(images / f"line.{fmt}")
    out = images / f"out-{fmt}.png"
    assert run("colorize", images / f"line.{fmt}", "-o", out, "--model", random_model_dir) == 0
    assert Image.open(out).size == (90, 120)


def test_missing_file(images, random_model_dir, caplog):
    assert run("colorize", images / "nope.png", "--model", random_model_dir) == 2
    assert "not found" in caplog.text


def test_non_image_file(images, random_model_dir, caplog):
    (images / "notes.png").write_text("not an image")
    assert run("colorize", images / "notes.png", "--model", random_model_dir) == 2
    assert "not an image" in caplog.text


def test_truncated_image(images, random_model_dir, caplog):
    data = (images / "line.png").read_bytes()
    (images / "cut.png").write_bytes(data[: len(data) // 2])
    assert run("colorize", images / "cut.png", "--model", random_model_dir) == 2


def test_one_pixel_image(images, random_model_dir, caplog):
    Image.new("RGB", (1, 1), "white").save(images / "dot.png")
    assert run("colorize", images / "dot.png", "--model", random_model_dir) == 2
    assert "at least" in caplog.text


def test_hints_of_other_size(images, random_model_dir, caplog):
    Image.new("RGBA", (91, 120)).save(images / "h2.png")
    assert (
        run("colorize", images / "line.png", "--hints", images / "h2.png", "--model", random_model_dir) == 2
    )
    assert "91x120" in caplog.text and "90x120" in caplog.text


def test_hints_without_alpha(images, random_model_dir, caplog):
    Image.new("RGB", (90, 120)).save(images / "h3.jpg")
    assert (
        run("colorize", images / "line.png", "--hints", images / "h3.jpg", "--model", random_model_dir) == 2
    )
    assert "alpha" in caplog.text


def test_image_over_limit(images, random_model_dir, caplog):
    assert run("colorize", images / "line.png", "--max-pixels", 1000, "--model", random_model_dir) == 2
    assert "over the limit" in caplog.text


def test_tampered_model(images, model_copy_factory, caplog):
    d = model_copy_factory()
    (d / "refine.onnx").write_bytes((d / "refine.onnx").read_bytes() + b"x")
    assert run("colorize", images / "line.png", "--model", d) == 3
    assert "checksum" in caplog.text


def test_explicit_cuda_unavailable(images, random_model_dir, caplog):
    assert run("colorize", images / "line.png", "--device", "cuda", "--model", random_model_dir) == 4
    assert "cuda" in caplog.text.lower()


def test_models_command_verifies(monkeypatch, random_model_dir, model_copy_factory, capsys):
    monkeypatch.setenv("INKHUE_MODEL_PATH", str(random_model_dir.parent))
    assert run("models") == 0
    assert "inkhue-random" in capsys.readouterr().out


def test_no_model_installed(images, monkeypatch, tmp_path, caplog):
    from engine import models

    monkeypatch.setattr(models, "search_dirs", lambda: [tmp_path / "empty"])
    assert run("colorize", images / "line.png") == 3
    assert "no model is installed" in caplog.text


def test_output_pixels_match_api(images, random_model_dir):
    from engine import LocalColorizer

    out = images / "o.png"
    run(
        "colorize",
        images / "line.png",
        "--hints",
        images / "hints.png",
        "-o",
        out,
        "--model",
        random_model_dir,
    )
    line, hints = lineart_and_hints(120, 90)
    expected = LocalColorizer(random_model_dir).colorize(line, hints)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), expected)


def test_run_command_maps_errors_to_exit_codes_in_order(caplog):
    """The wrapper both command lines share: the first matching class wins, bugs keep their traceback."""
    from argparse import Namespace

    from engine.cli_support import run_command

    def raising(exc: BaseException) -> Namespace:
        def func(_args):
            raise exc

        return Namespace(verbose=False, func=func)

    codes = {FileNotFoundError: 7, (ValueError, OSError): lambda e: len(str(e))}
    assert run_command("prog", raising(FileNotFoundError("gone")), codes) == 7  # before OSError
    assert run_command("prog", raising(ValueError("four")), codes) == 4
    assert "four" in caplog.text and "gone" in caplog.text
    assert run_command("prog", raising(KeyboardInterrupt()), codes) == 130
    with pytest.raises(TypeError, match="a bug"):
        run_command("prog", raising(TypeError("a bug")), codes)
    assert run_command("prog", Namespace(verbose=True, func=lambda _args: 0), codes) == 0


def test_output_problems_are_refused_before_colorizing(images, random_model_dir, caplog, monkeypatch):
    import engine.colorizer

    def no_model(*_a, **_k):
        raise AssertionError("the model was loaded before the output path was checked")

    monkeypatch.setattr(engine.colorizer, "make_colorizer", no_model)
    (images / "folder.png").mkdir()
    cases = [
        (images / "out.bmp", "unknown extension"),
        (images / "folder.png", "is a folder"),
        (images / "line.png", "is one of the input images"),
        (images / "hints.png", "is one of the input images"),
    ]
    for out, message in cases:
        caplog.clear()
        assert run("colorize", images / "line.png", "--hints", images / "hints.png", "-o", out) == 2
        assert message in caplog.text
    assert Image.open(images / "line.png").size == (90, 120)  # the inputs are untouched


def test_force_overwrites_an_input(images, random_model_dir):
    line = images / "line.png"
    assert run("colorize", line, "-o", line, "--force", "--model", random_model_dir) == 0
    assert Image.open(line).mode == "RGB"  # now the colorized result


def test_write_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    from engine.errors import InputError
    from engine.imageio import write_image

    out = tmp_path / "out.png"
    write_image(out, np.zeros((8, 8, 3), np.uint8))
    before = out.read_bytes()

    def interrupted(self, fp, *args, **kwargs):
        fp.write(b"\x89PNG half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", interrupted)
    with pytest.raises(InputError, match="cannot write .*No space left on device"):
        write_image(out, np.full((8, 8, 3), 255, np.uint8))
    assert out.read_bytes() == before  # the previous result survives, whole
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temporary file left behind


def test_unwritable_output_location_is_a_clean_error(images, random_model_dir, caplog):
    # the "folder" is a file: no user, root included, can write there
    out = images / "line.png" / "out.png"
    assert run("colorize", images / "line.png", "-o", out, "--model", random_model_dir) == 2
    assert "cannot write" in caplog.text and "Traceback" not in caplog.text


def test_the_documented_pixel_limit_applies_not_pillows(tmp_path):
    """Pillow warns above 89.5 M pixels; the engine's limit (100 M by default) is the one that counts."""
    from engine.imageio import read_image

    big = tmp_path / "big.png"
    Image.new("1", (10_000, 9_500), 1).save(big)  # 95 M pixels, a few kB on disk
    gray = read_image(big, "line art")
    assert gray.shape[:2] == (9_500, 10_000)
    del gray
    with pytest.raises(InputError, match=r"over the limit of 90,000,000; crop or downscale"):
        read_image(big, "line art", max_pixels=90_000_000)
