"""The short path of ``transform(image=img)`` and ``pipeline(image=img)``.

With one image and nothing else there are no boxes, keypoints or masks to move, no labels to
filter and (unless the pipeline logs) nothing to record, so most of a call's bookkeeping has
nothing to do. On a small image that bookkeeping costs more than the kernels. This path runs the
chosen steps of a composition straight on the array:

* a pixel or occlusion effect runs on the image;
* warps wait in a fusion buffer of their own, joined and resampled exactly as a call's buffer
  does it, when a pixel effect, a transform that reads pixels or the end needs the image.

Everything else (a nested composition, a user transform with its own ``run``, a paste, several
effects at once) hands over to a full :class:`~invariance.core.call.Call` at that point, carrying
the image and the waiting warps. The draws come from the same Generator in
the same order, so a seed gives the same output on both paths (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from invariance.core.budget import check_call
from invariance.core.call import Call, mask_override
from invariance.core.config import TargetConfig
from invariance.core.effects import Occlusion, Pixels, Warp
from invariance.core.fusion import FusionBuffer, symmetry_after_resize
from invariance.core.kinds import ImageKind, TargetKind, kind_of
from invariance.core.sample import Sample

if TYPE_CHECKING:
    from invariance.core.basic import BasicTransform
    from invariance.core.transform import PixelTransform

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
    waiting: list[Warp] = []  # warps not resampled yet, in order (as a call's fusion buffer holds them)
    buffer: FusionBuffer | None = None  # made when a second warp arrives (one warp needs none)
    shown = True  # the sample shows ``image`` and ``waiting`` as they are (updated only when read)
    for position, (node, forced) in enumerate(steps):
        if getattr(type(node), "_runs_plain", False) is not True or "run" in node.__dict__:
            _show(sample, image, None)
            rest = steps[position:]
            return _hand_over(sample, waiting, None, rest, rng, fusing, run_node)
        transform: BasicTransform = node
        if transform._budgeted:  # the resource budget, before the draw (as BasicTransform.fires)
            check_call(transform, image.shape[:2] if not waiting else waiting[-1].geometry.out_shape)
        if not forced and not transform.should_fire(rng):
            continue
        if waiting and transform.reads_pixels:
            image = _flushed(image, waiting, buffer)
            shown = False
        if not shown:
            _show(sample, image, waiting[-1] if waiting else None)
            shown = True
        effect = transform.effect(transform.draw_params(rng, sample), sample)
        if isinstance(effect, Warp):
            if effect.geometry.in_shape == sample.shape:
                if config.mask_interpolation is not None:
                    effect = mask_override(effect, config)
                if not fusing:
                    image = _resampled(image, effect)
                elif not waiting:
                    waiting.append(effect)
                elif buffer is None and len(waiting) == 1 and symmetry_after_resize(waiting[0], effect):
                    waiting.append(effect)  # resampled in turn when flushed, as the buffer would plan it
                else:
                    if buffer is None:
                        buffer = FusionBuffer()
                        for held in waiting:  # an empty buffer takes any warp; a flip joins a resize
                            joined = buffer.push(held)
                            assert joined
                    if not buffer.push(effect):  # it cannot join the chain: resample the chain first
                        image = _flushed(image, waiting, buffer)
                        buffer.push(effect)
                    waiting.append(effect)
                shown = False
                continue
        elif isinstance(effect, Occlusion) or (isinstance(effect, Pixels) and not effect.reshapes):
            if waiting:
                image = _flushed(image, waiting, buffer)
            if effect.image is not None:
                image = effect.image(image)
            shown = False
            continue
        if effect is None:
            continue
        _show(sample, image, None)
        return _hand_over(sample, waiting, effect, steps[position + 1 :], rng, fusing, run_node)
    if waiting:  # the end: resample what waits
        image = _flushed(image, waiting, buffer)
    return {"image": image}


def run_step_on_image(
    node: Any,
    forced: bool,
    image: np.ndarray,
    rng: np.random.Generator,
    config: TargetConfig,
    data: Mapping[str, Any],
    run_node: RunNode,
    fusing: bool = True,
) -> dict[str, Any]:
    """:func:`run_on_image` for a single step (a transform called alone, or the one step a
    composition chose): the same draws and the same result, without the loop's bookkeeping for
    warps that wait (one warp is resampled at once, as the loop does at its end), which is a
    fifth of a call on a tiny image."""
    if getattr(type(node), "_runs_plain", False) is not True or "run" in node.__dict__:
        return run_on_image(((node, forced),), image, rng, config, data, fusing, run_node)
    transform: BasicTransform = node
    if transform._budgeted:
        check_call(transform, image.shape[:2])
    if not forced and not transform.should_fire(rng):
        return {"image": image}
    sample = Sample(image.shape[:2], {"image": image}, _IMAGE_ONLY, config, data)
    params = transform.draw_params(rng, sample)
    if transform._applies_to_image and "effect" not in transform.__dict__:
        # Its effect would be Pixels(apply with these params): apply them at once.
        return {"image": cast("PixelTransform", transform).apply(image, **params)}
    effect = transform.effect(params, sample)
    if isinstance(effect, Warp):
        if effect.geometry.in_shape == sample.shape:
            if config.mask_interpolation is not None:
                effect = mask_override(effect, config)
            return {"image": _resampled(image, effect)}
    elif isinstance(effect, Occlusion) or (isinstance(effect, Pixels) and not effect.reshapes):
        return {"image": image if effect.image is None else effect.image(image)}
    if effect is None:
        return {"image": image}
    return _hand_over(sample, [], effect, (), rng, fusing, run_node)


def _resampled(image: np.ndarray, warp: Warp) -> np.ndarray:
    return IMAGE.resample(image, warp.geometry, warp.resampling)


def _flushed(image: np.ndarray, waiting: list[Warp], buffer: FusionBuffer | None) -> np.ndarray:
    """The image through the waiting warps, fused as a call's flush fuses them (the same plan
    from the same buffer, applied through the image handler); ``waiting`` is emptied.

    Without a buffer the warps are one warp, or a resize and a flip
    (:func:`~invariance.core.fusion.symmetry_after_resize`), whose plan is to resample them in
    turn."""
    if buffer is None or len(waiting) == 1:
        for warp in waiting:
            image = _resampled(image, warp)
        if buffer is not None:
            buffer.steps.clear()
        waiting.clear()
        return image
    waiting.clear()
    plan = buffer.take()
    assert plan is not None
    if plan.window is not None:
        image = IMAGE.window(image, *plan.window)
    if plan.warp is not None:
        image = IMAGE.resample(image, plan.warp.geometry, plan.warp.resampling)
    for outside, resampling in plan.borders:
        image = IMAGE.paint(image, outside, resampling)
    return image


def _show(sample: Sample, image: np.ndarray, last: Warp | None) -> None:
    """Make the sample show ``image`` as its pixels, and the shape after the ``last`` waiting warp
    (its pixels stale until the waiting warps are resampled)."""
    sample.values["image"] = image
    if last is None:
        sample.shape = image.shape[:2]
        sample.stale = False
    else:
        sample.shape = last.geometry.out_shape
        sample.stale = True


def _hand_over(
    sample: Sample,
    waiting: list[Warp],
    effect: Any,
    rest: Sequence[tuple[Any, bool]],
    rng: np.random.Generator,
    fusing: bool,
    run_node: RunNode,
) -> dict[str, Any]:
    """Continue on a full call from where the short path stands: the sample showing the image
    as it is now (with the pipeline's config and the caller's data), the waiting warps buffered
    again, ``effect`` (already drawn) applied, then the ``rest`` of the steps."""
    assert sample.config is not None
    call = Call(sample, sample.config, fusing=fusing)
    for warp in waiting:  # into the call's own fusion buffer, which joins them exactly as here
        call.apply(warp)
    if effect is not None:
        call.apply(effect)
    for node, forced in rest:
        run_node(node, call, rng, forced)
    call.finish()
    return call.output(sample.data)
