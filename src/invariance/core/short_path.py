"""The short path of ``transform(image=img)`` and ``pipeline(image=img)``.

With one image and nothing else there are no boxes, keypoints or masks to move, no labels to
filter and (unless the pipeline logs) nothing to record, so most of a call's bookkeeping has
nothing to do. On a small image that bookkeeping costs more than the kernels. This path runs the
chosen steps of a composition straight on the array:

* a pixel or occlusion effect runs on the image;
* a warp is held back for one step: the next warp would fuse with it, anything else (or the
  end) resamples it alone.

Everything else (a second warp to fuse, a nested composition, a user transform with its own
``run``, a paste, several effects at once) hands over to a full :class:`~invariance.core.call.Call`
at that point, carrying the image and the held warp. The draws come from the same Generator in
the same order, so a seed gives the same output on both paths (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from invariance.core.budget import check_call
from invariance.core.call import Call
from invariance.core.config import TargetConfig
from invariance.core.effects import Occlusion, Pixels, Warp
from invariance.core.kinds import ImageKind, TargetKind, kind_of
from invariance.core.sample import Sample

if TYPE_CHECKING:
    from invariance.core.basic import BasicTransform

#: Runs one node on a call (``node.run``, or the adapter of a foreign callable).
RunNode = Callable[[Any, Call, np.random.Generator, bool], None]

IMAGE = cast(ImageKind, kind_of("image"))  # the registered handler of images
_IMAGE_ONLY: dict[str, TargetKind] = {"image": IMAGE}


def run_on_image(
    steps: Sequence[tuple[Any, bool]],
    image: np.ndarray,
    rng: np.random.Generator,
    config: TargetConfig,
    data: Mapping[str, Any],
    fusing: bool,
    run_node: RunNode,
) -> dict[str, Any]:
    """Run ``steps`` (``(node, forced)`` pairs, as a composition chose them) on one checked image.

    A transform whose class keeps ``BasicTransform.run`` (``_runs_plain``), and whose instance
    does not replace it (as the profiler does), is drawn and applied here; from any other node on
    (a composition, a transform with its own ``run``, a foreign callable) the steps continue on a
    call, each through ``run_node``. Returns the output dict.
    """
    sample = Sample(image.shape[:2], {"image": image}, _IMAGE_ONLY, config, data)
    held: Warp | None = None  # a warp not resampled yet (the next one may fuse with it)
    shown = True  # the sample shows ``image`` and ``held`` as they are (updated only when read)
    for position, (node, forced) in enumerate(steps):
        if getattr(type(node), "_runs_plain", False) is not True or "run" in node.__dict__:
            _show(sample, image, None)
            rest = steps[position:]
            return _hand_over(sample, held, None, rest, rng, config, data, fusing, run_node)
        transform: BasicTransform = node
        if transform._budgeted:  # the resource budget, before the draw (as BasicTransform.fires)
            check_call(transform, image.shape[:2] if held is None else held.geometry.out_shape)
        if not forced and not transform.should_fire(rng):
            continue
        if held is not None and transform.reads_pixels:
            image = _resampled(image, held)
            held = None
            shown = False
        if not shown:
            _show(sample, image, held)
            shown = True
        effect = transform.effect(transform.draw_params(rng, sample), sample)
        if isinstance(effect, Warp):
            if held is None and effect.geometry.in_shape == sample.shape:
                if fusing:
                    held = effect
                else:
                    image = _resampled(image, effect)
                shown = False
                continue
        elif isinstance(effect, Occlusion) or (isinstance(effect, Pixels) and not effect.reshapes):
            if held is not None:
                image = _resampled(image, held)
                held = None
            if effect.image is not None:
                image = effect.image(image)
            shown = False
            continue
        if effect is None:
            continue
        _show(sample, image, None)
        return _hand_over(sample, held, effect, steps[position + 1 :], rng, config, data, fusing, run_node)
    if held is not None:
        image = _resampled(image, held)
    return {"image": image}


def _resampled(image: np.ndarray, warp: Warp) -> np.ndarray:
    return IMAGE.resample(image, warp.geometry, warp.resampling)


def _show(sample: Sample, image: np.ndarray, held: Warp | None) -> None:
    """Make the sample show ``image`` as its pixels, and the shape after the ``held`` warp (its
    pixels stale until that warp is resampled)."""
    sample.values["image"] = image
    if held is None:
        sample.shape = image.shape[:2]
        sample.stale = False
    else:
        sample.shape = held.geometry.out_shape
        sample.stale = True


def _hand_over(
    sample: Sample,
    held: Warp | None,
    effect: Any,
    rest: Sequence[tuple[Any, bool]],
    rng: np.random.Generator,
    config: TargetConfig,
    data: Mapping[str, Any],
    fusing: bool,
    run_node: RunNode,
) -> dict[str, Any]:
    """Continue on a full call from where the short path stands: the sample showing the image
    as it is now, the held warp buffered again, ``effect`` (already drawn) applied, then the
    ``rest`` of the steps."""
    call = Call(sample, config, fusing=fusing)
    if held is not None:
        call.apply(held)
    if effect is not None:
        call.apply(effect)
    for node, forced in rest:
        run_node(node, call, rng, forced)
    call.finish()
    return call.output(data)
