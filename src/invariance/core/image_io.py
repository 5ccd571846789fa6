"""Reading image files and bytes without letting a small file claim a huge amount of memory.

Every image reader of invariance (the explore page's uploads, ``invariance preview``, the
dataset helpers of the integrations, reference images of the domain transforms, and
``invariance augment``) goes through :func:`decode_image` or :func:`read_image`. Before anything
is decoded they read the width and height from the file's header and refuse an image whose pixel
count is over the limit, so a 2.5 KB WebP that announces 11,000 x 11,000 pixels costs nothing.

Only formats whose header can be read without decoding the pixels are accepted: PNG, JPEG, WebP,
TIFF and BMP (:data:`FORMATS`). Anything else, including bytes no reader recognises, is refused
with :class:`ImageFileError` before OpenCV sees it.

The headers are read with Pillow's format plugins (each one parses only the header when the
file is opened; Pillow is a dependency of invariance for this reason). The pixels are decoded by
OpenCV from the same bytes, so what was checked is what is decoded; the decoded size is checked
again after decoding.

The default limit, :data:`DEFAULT_MAX_PIXELS` (8192 x 8192, 67 megapixels), can be raised per call with
``max_pixels=`` or for the whole process with the ``INVARIANCE_MAX_IMAGE_PIXELS`` environment
variable.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from invariance.core.errors import ImageFileError, ImageTooLargeError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "FORMATS",
    "ImageHeader",
    "decode_image",
    "max_pixels_default",
    "read_header",
    "read_image",
]

#: Formats accepted, by Pillow's format name (MPO is a JPEG with extra pictures appended).
FORMATS = ("PNG", "JPEG", "MPO", "WEBP", "TIFF", "BMP")
#: Pixels (width x height) an image may have unless the caller or the environment says otherwise.
DEFAULT_MAX_PIXELS = 8192 * 8192
#: The largest number of bands (channels) a decoded image may have.
MAX_BANDS = 4
_ENV = "INVARIANCE_MAX_IMAGE_PIXELS"

Color = Literal["unchanged", "rgb", "gray"]
_FLAGS = {"unchanged": cv2.IMREAD_UNCHANGED, "rgb": cv2.IMREAD_COLOR, "gray": cv2.IMREAD_GRAYSCALE}


@dataclass(frozen=True)
class ImageHeader:
    """What an image file's header says: its format (Pillow's name), size and bands."""

    format: str
    width: int
    height: int
    bands: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def max_pixels_default() -> int:
    """The pixel limit in force: ``INVARIANCE_MAX_IMAGE_PIXELS`` when set, else :data:`DEFAULT_MAX_PIXELS`."""
    raw = os.environ.get(_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_PIXELS
    if not raw.isdigit() or len(raw) > 15 or int(raw) < 1:
        raise ImageFileError(f"{_ENV}={raw!r} is invalid: expected a positive whole number of pixels")
    return int(raw)


def _header_of(data: bytes, name: str) -> ImageHeader:
    from PIL import Image, UnidentifiedImageError

    Image.init()
    prefix = data[:16]
    for fmt in FORMATS:
        if fmt not in Image.OPEN:
            continue  # this Pillow build lacks the format (WebP without libwebp, say)
        factory, accept = Image.OPEN[fmt]
        if accept is not None and not accept(prefix):
            continue
        # The plugin's constructor parses the header only (pixels are read on .load(), never
        # called here), and calling it directly skips Pillow's own size warning: the limit
        # here is ours, checked below.
        try:
            with factory(io.BytesIO(data), name) as picture:
                width, height = (int(v) for v in picture.size)
                bands = len(picture.getbands())
        except Image.DecompressionBombError as error:
            # Pillow's WebP reader refuses sizes past 2 x Image.MAX_IMAGE_PIXELS itself, from the header.
            raise ImageTooLargeError(f"{name}: refused from its {fmt} header: {error}") from None
        except (OSError, SyntaxError, ValueError, EOFError, KeyError, IndexError, TypeError) as error:
            raise ImageFileError(f"{name}: its {fmt} header cannot be read ({error})") from None
        except UnidentifiedImageError:
            break
        return ImageHeader("JPEG" if fmt == "MPO" else fmt, width, height, bands)
    raise ImageFileError(
        f"{name}: not an image in an accepted format; accepted: PNG, JPEG, WebP, TIFF, BMP "
        "(other formats are refused because their size cannot be checked before decoding)"
    )


def read_header(data: bytes, name: str = "the image") -> ImageHeader:
    """The header of an image held in ``data``, read without decoding any pixels.

    Raises:
        ImageFileError: ``data`` is not a PNG, JPEG, WebP, TIFF or BMP image, or its header is damaged.
    """
    if not data:
        raise ImageFileError(f"{name} is empty")
    return _header_of(bytes(data), name)


def check_header(header: ImageHeader, name: str, max_pixels: int) -> None:
    """Refuse a header that announces more than ``max_pixels`` pixels or more than 4 bands."""
    if header.width < 1 or header.height < 1:
        raise ImageFileError(f"{name}: its header says {header.width}x{header.height} pixels")
    if header.pixels > max_pixels:
        raise ImageTooLargeError(
            f"{name} is {header.width}x{header.height} = {header.pixels} pixels (from its {header.format} "
            f"header); the limit is {max_pixels} pixels (raise it with max_pixels= or {_ENV})"
        )
    if header.bands > MAX_BANDS:
        raise ImageFileError(f"{name} has {header.bands} bands; at most {MAX_BANDS} are accepted")


def decode_image(
    data: bytes,
    name: str = "the image",
    *,
    color: Color = "unchanged",
    max_pixels: int | None = None,
) -> np.ndarray:
    """Decode image bytes after checking their header (see the module docstring).

    Args:
        data: The encoded file (PNG, JPEG, WebP, TIFF or BMP).
        name: How errors name the image (a path, or "the image").
        color: ``"unchanged"`` keeps bands and depth (RGB, RGBA or 2-D grayscale; 16-bit stays
            16-bit); ``"rgb"`` gives 3-band uint8 RGB; ``"gray"`` gives 2-D uint8.
        max_pixels: The largest width x height accepted (default: :func:`max_pixels_default`).

    Raises:
        ImageTooLargeError: The header announces more pixels than ``max_pixels``.
        ImageFileError: Not an accepted format, a damaged header, or undecodable pixels.
    """
    limit = max_pixels_default() if max_pixels is None else int(max_pixels)
    if color not in _FLAGS:
        raise ImageFileError(f"color={color!r} is invalid: expected one of {sorted(_FLAGS)}")
    header = read_header(data, name)
    check_header(header, name, limit)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), _FLAGS[color])
    if image is None:
        raise ImageFileError(f"{name}: its {header.format} pixels could not be decoded (damaged file?)")
    if image.shape[0] * image.shape[1] > limit:  # the header lied to one of the two readers
        raise ImageTooLargeError(f"{name} decoded to more than {limit} pixels; refused")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return np.ascontiguousarray(image)


def read_image(
    path: str | os.PathLike[str],
    *,
    color: Color = "unchanged",
    max_pixels: int | None = None,
) -> np.ndarray:
    """Read an image file after checking its header; :func:`decode_image` on the file's bytes.

    Raises:
        ImageFileError: The file cannot be read, or see :func:`decode_image`.
    """
    name = repr(os.fspath(path))
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ImageFileError(f"cannot read the image {name}: {error.strerror or error}") from None
    return decode_image(data, f"the image {name}", color=color, max_pixels=max_pixels)
