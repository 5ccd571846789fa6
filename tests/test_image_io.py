"""The shared safe image reader: sizes are checked from the header before decoding (issue 20, item 2)."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

import invariance as A
from invariance.core import image_io


def encode(image: np.ndarray, suffix: str, *params: int) -> bytes:
    ok, buffer = cv2.imencode(suffix, image, list(params))
    assert ok
    return buffer.tobytes()


@pytest.fixture(scope="module")
def webp_bomb() -> bytes:
    """A lossless WebP of 4200 x 4200 flat pixels: under 1 KB on disk, 53 MB decoded."""
    return encode(np.zeros((4200, 4200, 3), np.uint8), ".webp", cv2.IMWRITE_WEBP_QUALITY, 101)


def small_formats() -> dict[str, bytes]:
    picture = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    files = {suffix: encode(picture, suffix) for suffix in (".png", ".jpg", ".bmp", ".tiff")}
    files[".webp"] = encode(picture, ".webp", cv2.IMWRITE_WEBP_QUALITY, 101)
    return files


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if OpenCV is asked to decode anything."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("cv2.imdecode was called on an image that should be refused from its header")

    monkeypatch.setattr(cv2, "imdecode", refuse)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tiff", ".webp"])
def test_every_accepted_format_reads_its_size_from_the_header(suffix):
    data = small_formats()[suffix]
    header = image_io.read_header(data)
    assert (header.width, header.height) == (40, 30)
    image = image_io.decode_image(data, color="rgb")
    assert image.shape == (30, 40, 3) and image.dtype == np.uint8


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tiff", ".webp"])
def test_every_accepted_format_is_refused_over_the_limit_without_decoding(suffix, no_decoding):
    data = small_formats()[suffix]
    with pytest.raises(A.ImageTooLargeError, match=r"40x30 = 1200 pixels .* the limit is 1000 pixels"):
        image_io.decode_image(data, max_pixels=1000)


def test_the_small_webp_bomb_is_refused_from_its_header(webp_bomb, no_decoding):
    assert len(webp_bomb) < 2500
    with pytest.raises(A.ImageTooLargeError, match="4200x4200"):
        image_io.decode_image(webp_bomb, max_pixels=4096 * 4096)


def webp_announcing(width: int, height: int) -> bytes:
    """A tiny lossless WebP whose header is rewritten to announce ``width`` x ``height`` pixels."""
    data = bytearray(encode(np.zeros((8, 8, 3), np.uint8), ".webp", cv2.IMWRITE_WEBP_QUALITY, 101))
    assert data[12:16] == b"VP8L"
    bits = int.from_bytes(data[21:25], "little") & ~((1 << 28) - 1)
    data[21:25] = (bits | (width - 1) | ((height - 1) << 14)).to_bytes(4, "little")
    return bytes(data)


@pytest.mark.parametrize("side", [11000, 16383])
def test_a_large_webp_is_refused_by_the_default_limit(side, no_decoding, monkeypatch):
    monkeypatch.delenv("INVARIANCE_MAX_IMAGE_PIXELS", raising=False)
    data = webp_announcing(side, side)
    assert len(data) < 2500
    with pytest.raises(A.ImageTooLargeError):
        image_io.decode_image(data)


def test_a_tiff_bomb_is_refused_from_its_header(no_decoding):
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "TIFF", compression="group4")
    assert len(buffer.getvalue()) < 50_000
    with pytest.raises(A.ImageTooLargeError, match="20000x20000"):
        image_io.decode_image(buffer.getvalue())


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00", "not an image in an accepted format"),
        (b"hello world", "not an image in an accepted format"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG header cannot be read"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WEBP header cannot be read"),
        (b"", "is empty"),
    ],
)
def test_unknown_or_damaged_files_are_refused_before_decoding(data, expected, no_decoding):
    with pytest.raises(A.ImageFileError, match=expected):
        image_io.decode_image(data)


def test_a_truncated_body_is_an_image_file_error():
    data = small_formats()[".png"]
    with pytest.raises(A.ImageFileError, match="could not be decoded"):
        image_io.decode_image(data[:60])


def test_read_image_names_the_file_and_the_limit_can_be_raised(tmp_path, monkeypatch):
    path = tmp_path / "big.webp"
    path.write_bytes(small_formats()[".webp"])
    monkeypatch.setenv("INVARIANCE_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(A.ImageTooLargeError, match=r"big\.webp.*INVARIANCE_MAX_IMAGE_PIXELS"):
        image_io.read_image(path)
    assert image_io.read_image(path, max_pixels=1200).shape == (30, 40, 3)
    monkeypatch.setenv("INVARIANCE_MAX_IMAGE_PIXELS", "lots")
    with pytest.raises(A.ImageFileError, match="INVARIANCE_MAX_IMAGE_PIXELS"):
        image_io.read_image(path)
    with pytest.raises(A.ImageFileError, match=r"missing\.png"):
        image_io.read_image(tmp_path / "missing.png")


def test_unchanged_keeps_depth_and_alpha():
    deep = np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000
    assert np.array_equal(image_io.decode_image(encode(deep, ".png")), deep)
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 0] = 200  # blue in OpenCV's order: RGBA gives it back last of the colours
    out = image_io.decode_image(encode(rgba, ".png"))
    assert out.shape == (3, 4, 4) and out[0, 0, 2] == 200


# -- every reader uses it --------------------------------------------------------------------------


def test_preview_reader_refuses_the_bomb(tmp_path, webp_bomb, monkeypatch):
    from invariance.tools.annotations import ImageRecord
    from invariance.tools.runner import load_record

    path = tmp_path / "bomb.webp"
    path.write_bytes(webp_bomb)
    monkeypatch.setenv("INVARIANCE_MAX_IMAGE_PIXELS", str(4096 * 4096))
    with pytest.raises(A.ImageTooLargeError, match=r"bomb\.webp"):
        load_record(ImageRecord("bomb.webp", path, 4200, 4200))


def test_reference_images_of_domain_transforms_use_it(tmp_path, webp_bomb, monkeypatch):
    from invariance.transforms.domain.adaptation import read_rgb_image

    path = tmp_path / "reference.webp"
    path.write_bytes(webp_bomb)
    monkeypatch.setenv("INVARIANCE_MAX_IMAGE_PIXELS", str(4096 * 4096))
    with pytest.raises(A.InputError, match="4200x4200"):
        read_rgb_image(path)


def test_robustness_folder_reader_uses_it(tmp_path, webp_bomb, monkeypatch):
    from invariance.tools.robustness_cli import load_folder

    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "a.webp").write_bytes(webp_bomb)
    monkeypatch.setenv("INVARIANCE_MAX_IMAGE_PIXELS", str(4096 * 4096))
    with pytest.raises(A.ParameterError, match="4200x4200"):
        load_folder(tmp_path)


def test_torch_folder_reader_uses_it(tmp_path, webp_bomb, monkeypatch):
    pytest.importorskip("torch", reason="torch is optional: pip install -e '.[test,torch]'")
    from invariance.integrations.torch import _read_rgb

    path = tmp_path / "a.webp"
    path.write_bytes(webp_bomb)
    monkeypatch.setenv("INVARIANCE_MAX_IMAGE_PIXELS", str(4096 * 4096))
    with pytest.raises(A.ImageTooLargeError):
        _read_rgb(path)


def test_hf_images_are_checked_before_their_pixels_are_read(monkeypatch):
    from invariance.integrations.hf import _to_array

    monkeypatch.setenv("INVARIANCE_MAX_IMAGE_PIXELS", "100")
    with pytest.raises(A.ImageTooLargeError, match="20x10"):
        _to_array(Image.new("RGB", (20, 10)))
    monkeypatch.setenv("INVARIANCE_MAX_IMAGE_PIXELS", "200")
    assert _to_array(Image.new("RGB", (20, 10))).shape == (10, 20, 3)
