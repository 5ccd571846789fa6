"""Image quality kernels: lossy compression round trips and down-then-up resampling."""

from __future__ import annotations

import cv2
import numpy as np

from invariance.kernels._cv import restore_channel_axis, scratch
from invariance.kernels.geometry import resize
from invariance.kernels.tone import like, to_uint8

_QUALITY_FLAG = {"jpeg": cv2.IMWRITE_JPEG_QUALITY, "webp": cv2.IMWRITE_WEBP_QUALITY}
#: The file extension that names each codec to OpenCV.
EXTENSIONS = {"jpeg": ".jpg", "webp": ".webp"}


def _round_trip(data: np.ndarray, kind: str, quality: int) -> np.ndarray:
    """Encode and decode one 1- or 3-channel uint8 array (3 channels are RGB: OpenCV codecs want BGR).

    The codec must be in this OpenCV build: ImageCompression checks that when it is constructed."""
    color = data.ndim == 3 and data.shape[2] == 3
    # The BGR copy is a temporary: a reused buffer spares the allocator's page faults.
    source = (
        cv2.cvtColor(data, cv2.COLOR_RGB2BGR, dst=scratch("bgr", data.shape, np.uint8)) if color else data
    )
    _, encoded = cv2.imencode(EXTENSIONS[kind], source, [int(_QUALITY_FLAG[kind]), int(quality)])
    decoded = np.asarray(cv2.imdecode(encoded, _READ_COLOR if color else cv2.IMREAD_GRAYSCALE))
    if color and not _DECODES_RGB:
        decoded = np.asarray(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB))
    return decoded


# With OpenCV >= 4.10 the decoder writes RGB itself: the same values as BGR then a swap, one pass fewer.
_DECODES_RGB = hasattr(cv2, "IMREAD_COLOR_RGB")
_READ_COLOR: int = getattr(cv2, "IMREAD_COLOR_RGB", cv2.IMREAD_COLOR)


def compress(img: np.ndarray, kind: str, quality: int) -> np.ndarray:
    """Encode as ``kind`` (jpeg or webp) at ``quality`` and decode again.

    RGB is coded as one colour image; any other channel count is coded channel by channel as
    grayscale. Float images are quantized to uint8 for the codec and returned as float32.
    """
    data = to_uint8(img)
    if data.ndim == 2:
        return like(_round_trip(data, kind, quality), img)
    channels = data.shape[2]
    if channels == 3:
        return like(_round_trip(np.ascontiguousarray(data), kind, quality), img)
    out = np.empty_like(data)
    for c in range(channels):
        out[:, :, c] = _round_trip(np.ascontiguousarray(data[:, :, c]), kind, quality)
    return like(out, img)


def downscale(img: np.ndarray, scale: float, down: int, up: int) -> np.ndarray:
    """Resize by ``scale`` with ``down`` interpolation and back to the original size with ``up``.

    The small image has ``round(size * scale)`` pixels a side (at least one)."""
    height, width = img.shape[:2]
    if round(width * scale) >= 1 and round(height * scale) >= 1:
        # fx/fy make OpenCV sample at exactly 1/scale (not at width / round(width * scale)).
        small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=down)
    else:
        small = cv2.resize(
            img, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=down
        )
    out = restore_channel_axis(resize(small, height, width, up), img)
    if out.dtype != np.uint8:
        np.clip(out, 0.0, 1.0, out=out)
    return out
