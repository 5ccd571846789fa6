"""Decode-aware reading: decode only the part of a JPEG that a pipeline's first step can use.

On ImageNet-style training most decoded pixels are thrown away: ``RandomResizedCrop(224)`` on a
3-megapixel photo keeps a window that is then shrunk to 224 x 224. A JPEG decoder can shrink
for free while it decodes: libjpeg computes the picture at 1/2, 1/4 or 1/8 of its size from
the low-frequency DCT coefficients (OpenCV's ``IMREAD_REDUCED_*`` flags), which costs a
fraction of a full decode. :func:`read_augmented` uses that:

1. It reads the width and height from the file's header (the safe, size-checked header reader
   of :mod:`invariance.core.image_io`; nothing is decoded yet).
2. It draws the first step's parameters for that full size, from the pipeline's own seeded
   stream, exactly as the pipeline would: a seed gives the same crop window as decoding in full.
3. If the window is then shrunk by a factor of 2 or more, it decodes at the largest of 1/2, 1/4,
   1/8 that keeps the window at least as large as the step's output, and resamples the window of
   the reduced picture straight to the step's output size (the mapping of the full-size step,
   expressed in reduced coordinates; no rounding of the window).
4. The rest of the pipeline runs on that output, drawing from the same stream. Boxes, keypoints
   and masks given with the call are in the coordinates of the full image and go through the
   first step at full size, so they land exactly where they would after a full decode.

Which first steps qualify: the crops and resizes that draw their parameters from the image size
and the boxes only (``RandomResizedCrop``, ``RandomSizedCrop``, ``RandomSizedBBoxSafeCrop``,
``Resize``, ``LongestMaxSize``, ``SmallestMaxSize``, ``RandomScale``, and the plain crops
``RandomCrop``, ``CenterCrop``, ``Crop``, ``RandomCropFromBorders``, ``BBoxSafeRandomCrop``,
``AtLeastOneBBoxRandomCrop``, ``RandomCropNearBBox``), at the top of a plain ``Compose`` with
``p=1``. A plain crop keeps its pixels at full resolution, so it gets a full decode (OpenCV has no
region decode; see docs/benchmarks.md for the libraries measured), and only its window is
converted to RGB (the same pixels as a full decode). Anything else (another first
step, a crop that pads, a PNG, a JPEG that is CMYK, a ``ReplayCompose``) decodes as usual and
runs the pipeline unchanged, with the same results for a seed as ``pipeline(image=read_image(path))``.

**What differs from a full decode.** The crop windows, boxes, keypoints and masks are the same
for a seed. The image pixels differ by the resampling: the reduced decode averages each s x s
block (a box filter, in the DCT domain) before the step's own interpolation, where the full path
interpolates from the full-resolution pixels. For bilinear interpolation this makes the reduced
path less aliased, not more; on photographs the mean absolute difference is a few grey levels
(the bound the tests hold is in docs/loading.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from invariance.core.basic import BasicTransform
from invariance.core.compose import BaseCompose, Compose, ReplayCompose
from invariance.core.effects import Warp
from invariance.core.errors import ImageFileError, ParameterError
from invariance.core.geometry import Chain, CropWindow, Geometry, Scale
from invariance.core.image_io import ImageHeader, check_header, decode_image, max_pixels_default, read_header

__all__ = ["FIRST_STEPS", "Decoded", "decode_augmented", "read_augmented", "reduction_for"]

#: The first steps whose parameters depend only on the image size and the boxes (never on pixels),
#: so they can be drawn before anything is decoded. Exact classes: a subclass may read pixels.
FIRST_STEPS = frozenset(
    {
        "RandomResizedCrop",
        "RandomSizedCrop",
        "RandomSizedBBoxSafeCrop",
        "Resize",
        "LongestMaxSize",
        "SmallestMaxSize",
        "RandomScale",
        "RandomCrop",
        "CenterCrop",
        "Crop",
        "RandomCropFromBorders",
        "BBoxSafeRandomCrop",
        "AtLeastOneBBoxRandomCrop",
        "RandomCropNearBBox",
    }
)
_FACTORS = (8, 4, 2)
_REDUCED_COLOR = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}
_REDUCED_GRAY = {
    1: cv2.IMREAD_GRAYSCALE,
    2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
    4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
    8: cv2.IMREAD_REDUCED_GRAYSCALE_8,
}
#: Interpolations that warpAffine applies as the resize of the full path does (sample positions
#: ``(u + 0.5) * scale - 0.5``); any other (INTER_AREA) is applied by ``cv2.resize`` on the window
#: rounded to whole reduced pixels.
_POINT_SAMPLED = (cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_LANCZOS4)


@dataclass(frozen=True)
class Decoded:
    """How one file was decoded: the header's size and the DCT reduction used (1 = full decode)."""

    width: int
    height: int
    factor: int


def _window(geometry: Geometry) -> tuple[tuple[int, int, int, int], tuple[int, int]] | None:
    """``((x, y, w, h), (out_h, out_w))`` for a crop, a resize or a crop then resize inside the
    image; None for any other geometry (a padded crop, a flip, a rotation...)."""
    steps = geometry.steps if isinstance(geometry, Chain) else (geometry,)
    if len(steps) == 1 and isinstance(steps[0], Scale):
        h, w = steps[0].in_shape
        return (0, 0, w, h), steps[0].out_shape
    if not steps or not isinstance(steps[0], CropWindow) or steps[0].touches_border():
        return None
    crop = steps[0]
    box = (crop.x0, crop.y0, crop.out_shape[1], crop.out_shape[0])
    if len(steps) == 1:
        return box, crop.out_shape
    if len(steps) == 2 and isinstance(steps[1], Scale):
        return box, steps[1].out_shape
    return None


def reduction_for(window: tuple[int, int, int, int], out_shape: tuple[int, int]) -> int:
    """The largest DCT reduction (8, 4, 2, else 1) that keeps ``window`` (x, y, w, h) at least as
    large as ``out_shape`` (h, w) once shrunk."""
    _, _, w, h = window
    oh, ow = out_shape
    for factor in _FACTORS:
        if w >= ow * factor and h >= oh * factor:
            return factor
    return 1


def _plain_compose(pipeline: Any) -> bool:
    return (
        isinstance(pipeline, Compose)
        and not isinstance(pipeline, ReplayCompose)
        and not type(pipeline)._user_call
        and type(pipeline).run is Compose.run
        and type(pipeline).__call__ is Compose.__call__
        and type(pipeline).choose is BaseCompose.choose
        and pipeline.p >= 1.0
        and len(pipeline.transforms) > 0
    )


def _first_step(pipeline: Any) -> BasicTransform | None:
    if not _plain_compose(pipeline):
        return None
    first = pipeline.transforms[0]
    if not isinstance(first, BasicTransform) or type(first).__name__ not in FIRST_STEPS:
        return None
    if not type(first).__module__.startswith("invariance.transforms."):
        return None
    return None if first.reads_pixels else first


def _reduced(data: bytes, header: ImageHeader, factor: int, name: str) -> np.ndarray | None:
    """The picture decoded at ``1/factor`` (1 for full size; BGR, converted after the first step,
    on fewer pixels; or 2-D gray), or None when OpenCV did not give the size libjpeg's scaled
    decode has (``ceil(size / factor)``)."""
    table = _REDUCED_GRAY if header.bands == 1 else _REDUCED_COLOR
    image = cv2.imdecode(np.frombuffer(data, np.uint8), table[factor] | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:
        raise ImageFileError(f"{name}: its JPEG pixels could not be decoded (damaged file?)")
    expected = (-(-header.height // factor), -(-header.width // factor))
    return image if image.shape[:2] == expected else None


def _resample(
    reduced: np.ndarray,
    factor: int,
    window: tuple[int, int, int, int],
    out_shape: tuple[int, int],
    interpolation: int,
) -> np.ndarray:
    """The full-size window resized to ``out_shape``, computed from the picture reduced by ``factor``.

    Output pixel ``u`` samples the full image at ``x0 + (u + 0.5) * w / out_w - 0.5`` (OpenCV's
    resize convention); reduced pixel ``r`` is the mean of full pixels ``[r * s, (r + 1) * s)``, so
    its centre is at full ``r * s + (s - 1) / 2``. The composition is one affine map.
    """
    x0, y0, w, h = window
    oh, ow = out_shape
    s = float(factor)
    if interpolation in _POINT_SAMPLED:
        sx, sy = w / ow, h / oh
        matrix = np.array(
            [[sx / s, 0.0, (x0 + 0.5 * sx) / s - 0.5], [0.0, sy / s, (y0 + 0.5 * sy) / s - 0.5]]
        )
        return cv2.warpAffine(
            reduced,
            matrix,
            (ow, oh),
            flags=interpolation | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
    rh, rw = reduced.shape[:2]
    left, top = min(round(x0 / s), rw - 1), min(round(y0 / s), rh - 1)
    right, bottom = max(min(round((x0 + w) / s), rw), left + 1), max(min(round((y0 + h) / s), rh), top + 1)
    part = np.ascontiguousarray(reduced[top:bottom, left:right])
    return cv2.resize(part, (ow, oh), interpolation=interpolation)


def _read_bytes(path: str | os.PathLike[str]) -> tuple[bytes, str]:
    name = f"the image {os.fspath(path)!r}"
    try:
        return Path(path).read_bytes(), name
    except OSError as error:
        raise ImageFileError(f"cannot read {name}: {error.strerror or error}") from None


def read_augmented(
    path: str | os.PathLike[str],
    pipeline: Any,
    *,
    decode_aware: bool = True,
    max_pixels: int | None = None,
    **targets: Any,
) -> dict[str, Any]:
    """Read the image at ``path`` and run ``pipeline`` on it, decoding only what its first step uses.

    ``pipeline(image=read_image(path), **targets)`` with the decoding shortcut described in the
    module docstring: same crop windows, boxes, keypoints and masks for a seed, image pixels within
    the resampling difference documented in docs/loading.md.

    Args:
        path: A PNG, JPEG, WebP, TIFF or BMP file (only JPEGs get a reduced decode).
        pipeline: A transform or a Compose (anything callable as ``pipeline(image=..., **targets)``).
        decode_aware: False decodes in full and calls the pipeline as usual.
        max_pixels: The largest width x height accepted, checked from the header before decoding.
        **targets: Other targets of the call (``bboxes``, ``keypoints``, ``mask``, label fields...),
            in the coordinates of the full image.

    Raises:
        ImageFileError, ImageTooLargeError: As :func:`invariance.core.image_io.read_image`.
    """
    data, name = _read_bytes(path)
    return decode_augmented(
        data, pipeline, name=name, decode_aware=decode_aware, max_pixels=max_pixels, **targets
    )[0]


def decode_augmented(
    data: bytes,
    pipeline: Any,
    *,
    name: str = "the image",
    decode_aware: bool = True,
    max_pixels: int | None = None,
    **targets: Any,
) -> tuple[dict[str, Any], Decoded]:
    """:func:`read_augmented` on the bytes of an image file; also returns how it was decoded."""
    if "image" in targets:
        raise ParameterError("decode_augmented: the image comes from the file; do not pass image= too")
    if not callable(pipeline):
        raise ParameterError(
            f"decode_augmented: pipeline must be a transform or a Compose, got {type(pipeline).__name__}"
        )
    limit = max_pixels_default() if max_pixels is None else int(max_pixels)
    if not data:
        raise ImageFileError(f"{name} is empty")
    header = read_header(data, name)
    check_header(header, name, limit)
    first = _first_step(pipeline) if decode_aware else None
    if first is None or header.format != "JPEG" or header.bands not in (1, 3):
        image = decode_image(data, name, max_pixels=limit)
        return dict(pipeline(image=image, **targets)), Decoded(header.width, header.height, 1)
    return _run(pipeline, first, data, header, name, limit, targets)


def _run(
    pipeline: Compose,
    first: BasicTransform,
    data: bytes,
    header: ImageHeader,
    name: str,
    limit: int,
    targets: Mapping[str, Any],
) -> tuple[dict[str, Any], Decoded]:
    """Run ``pipeline`` as ``Compose.__call__`` does, with the image decoded after its first
    step's parameters are drawn (see the module docstring)."""
    shape = (header.height, header.width) if header.bands == 1 else (header.height, header.width, 3)
    # A stand-in for the image with its shape, never read: the first step draws from shapes and
    # boxes, and the image skips its warp. np.empty, not np.zeros: calloc clears reused heap
    # memory (about 0.1 ms for 2 MP), malloc does not.
    standin = np.empty(shape, np.uint8)
    call_data = {"image": standin, **targets}
    call = pipeline.begin(call_data)
    rng = pipeline.random_generator
    outer = call.set_fusing(pipeline.fuse_warps)
    factor = 1
    try:
        fired = first.fires(rng, call.sample.shape)
        params: dict[str, Any] = {}
        effect: Any = None
        plan = None
        if fired:
            params = first.draw_params(rng, call.sample)
            effect = first.effect(params, call.sample)
            if isinstance(effect, Warp):
                plan = _window(effect.geometry)
        if plan is not None:
            factor = reduction_for(*plan)
        decoded = _reduced(data, header, factor, name) if plan is not None else None
        if decoded is None:  # full decode; the call goes on exactly as Compose.__call__'s
            factor = 1
            image = decode_image(data, name, max_pixels=limit)
            if image.shape != standin.shape:
                raise ImageFileError(f"{name}: decoded to {image.shape}, its header says {standin.shape}")
            call.sample.values["image"] = image
            if fired:
                call.step = type(first).__name__
                call.apply(effect)
        else:
            assert plan is not None
            _apply_without_image(call, effect, type(first).__name__)
            resampling = effect.resampling
            if factor == 1:  # the step's own kernels on the full picture: the same pixels as the call's
                image = effect.geometry.warp(
                    decoded, resampling.interpolation, resampling.border_mode, resampling.fill
                )
            else:
                image = _resample(decoded, factor, plan[0], plan[1], resampling.interpolation)
            # BGR to RGB after the step: on the window (or output) only, not on the whole picture
            call.sample.values["image"] = cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image
        if fired and call.logs:
            call.fired(type(first).__name__, first, params)
        pipeline.run_children(call, rng, [(i, False) for i in range(1, len(pipeline.transforms))])
    finally:
        call.set_fusing(outer)
    call.finish()
    return call.output(call_data), Decoded(header.width, header.height, factor)


def _apply_without_image(call: Any, effect: Warp, step: str) -> None:
    """Move every target but ``image`` through the first step, at full size, now."""
    sample = call.sample
    kinds = sample.kinds
    sample.kinds = {key: handler for key, handler in kinds.items() if key != "image"}
    try:
        call.step = step
        call.apply(effect)
        call.flush()
    finally:
        sample.kinds = kinds  # the call's own (possibly shared) dict, never modified
        sample._keys = None  # a per-call cache of keys by kind, filled while image was left out
