"""Images made to spend the machine or reach past the spec's formats (vsq.configuration.preprocessing): a pixel bomb, an
EPS file named .JPEG, a FIFO among the images. Each is an unreadable image (or, for the FIFO, a refused
configuration), named in one line; none is decoded."""

import os
import subprocess
import sys
import textwrap

import pytest
from PIL import Image

import hostile
import tiny
from vsq.pipeline.job import prepare
from vsq.configuration.preprocessing import ImageError, Preprocessing
from vsq.errors import ConfigError, VsqError
from vsq.pipeline import evaluate

DECODE = textwrap.dedent("""
    import resource, sys
    from vsq.configuration.preprocessing import Preprocessing
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        Preprocessing(16).decode(sys.argv[1])
        print("decoded")
    except Exception as error:
        print(type(error).__name__, error)
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024, "MiB")
""")


def decode_in_a_process(path, env=None):
    """What decoding `path` says, and the memory it took (MiB of peak RSS above the process's start)."""
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", DECODE, str(path)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})
    *said, memory = done.stdout.splitlines()
    return "\n".join(said), int(memory.split()[0])


def predictor(images):
    return images.mean(axis=(1, 2))[:, [2, 1, 0]]  # the tiny model's rule: mean colour -> class


def test_a_pixel_bomb_is_refused_from_its_header(tmp_path):
    """13,000 x 13,000 pixels in 20 KB: under Pillow's 179-megapixel limit, 507 MB once decoded to RGB."""
    bomb = hostile.pixel_bomb_png(tmp_path / "bomb.JPEG")
    said, memory = decode_in_a_process(bomb)
    assert said == (f"ImageError {bomb}: is 13000 x 13000 = 169,000,000 pixels, more than "
                    "preprocessing.max_image_pixels (40,000,000); shrink it, or raise the limit")
    assert memory < 100, memory  # the header only


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's own, as it opens the header
def test_a_pixel_bomb_among_the_evaluation_images_is_an_unreadable_image(project):
    hostile.pixel_bomb_png(project / "evaluate" / "images" / "red" / "red_0.JPEG")
    job = prepare(tiny.write_config(project))
    with pytest.raises(VsqError, match=r"1 evaluation image could not be decoded: .*red_0\.JPEG: is 13000 x 13000"):
        evaluate.evaluate_models({"m": predictor}, job.config, job.evaluation_set)
    skipped = evaluate.evaluate_models({"m": predictor}, job.config, job.evaluation_set, skip_unreadable=True)
    assert [path.split("/")[-1] for path, _ in skipped["m"].skipped] == ["red_0.JPEG"]


def test_a_configuration_may_lower_the_limit(tmp_path):
    Image.new("RGB", (20, 20)).save(tmp_path / "x.png")
    with pytest.raises(ImageError, match=r"is 20 x 20 = 400 pixels, more than preprocessing.max_image_pixels \(399\)"):
        Preprocessing(16, max_image_pixels=399).decode(tmp_path / "x.png")
    assert Preprocessing(16, max_image_pixels=400).decode(tmp_path / "x.png").pixels.shape == (16, 16, 3)


def test_an_eps_file_named_jpeg_never_reaches_ghostscript(tmp_path):
    """Pillow opens EPS by content, whatever the name, and runs Ghostscript to decode it."""
    ran = tmp_path / "gs-ran"
    hostile.program(tmp_path / "bin" / "gs", ran)
    (tmp_path / "x.JPEG").write_bytes(hostile.EPS)
    said, _ = decode_in_a_process(tmp_path / "x.JPEG", env={"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"})
    assert said == f"ImageError {tmp_path / 'x.JPEG'}: is not a JPEG, PNG or BMP image (the formats vsq opens); " \
                   "convert it to one of them"
    assert not ran.exists()


@pytest.mark.parametrize("format", ["TIFF", "GIF", "WEBP", "ICO"])
def test_formats_outside_the_spec_are_not_opened(tmp_path, format):
    Image.new("RGB", (20, 20)).save(tmp_path / "x.JPEG", format=format)
    with pytest.raises(ImageError, match="is not a JPEG, PNG or BMP image"):
        Preprocessing(16).decode(tmp_path / "x.JPEG")


@pytest.mark.parametrize("folder", ["images/red", "evaluate/images/red"])
def test_a_fifo_among_the_images_is_refused_before_it_can_hang_the_run(project, folder):
    os.mkfifo(project / folder / "red_99.JPEG")
    with pytest.raises(ConfigError, match=r"red_99\.JPEG is not a regular file \(a FIFO, socket or device\)"):
        prepare(tiny.write_config(project))


def test_a_file_name_with_escape_sequences_reaches_the_terminal_as_text(harness):
    """An evaluation image named with a terminal escape sequence, refused at prepare: pytest's one line shows it."""
    tiny.write_data(harness.path)
    hostile.write_h5(harness.path / "model.h5", hostile.model_config())
    os.mkfifo(harness.path / "evaluate" / "images" / "red" / "\x1b[2Jred.JPEG")
    from runs import run_suites

    result = run_suites(harness, tiny.write_config(harness.path))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "\x1b" not in result.stderr.str() and "\\x1b[2Jred.JPEG is not a regular file" in result.stderr.str()
