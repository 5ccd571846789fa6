"""One pipeline call: the sample, the fusion buffer, and the record of what happened.

The call is what compositions and transforms run on. A transform asks it for nothing but its
sample (to draw parameters) and hands it effects; the call

* applies each effect to every target through the target's kind (:mod:`invariance.core.kinds`);
* buffers warps while ``fusing`` and resamples them once (:mod:`invariance.core.fusion`);
* keeps instance masks paired with their boxes when BboxParams ``instance_masks`` says so;
* logs what fired (``applied``), what a ReplayCompose records or replays, and, when asked, why
  rows were dropped (``drops``).

::

    Compose.__call__ --prepare--> Sample --> Call
        transform.run(call, rng) -> params = transform.sample(rng, call.sample)
                                    call.apply(transform.effect(params, call.sample))
                                        Warp while fusing  -> FusionBuffer (+ rows move now)
                                        anything else      -> flush, then kind handlers
        call.finish() -> flush, final filter -> collect -> output dict
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from invariance.core.config import TargetConfig
from invariance.core.effects import Effects, Paste, Pixels, Report, VolumeWarp, Warp, as_sequence
from invariance.core.fusion import FusionBuffer
from invariance.core.kinds import INSTANCE, KeypointsKind, TargetKind
from invariance.core.sample import Sample
from invariance.core.targets import BoxSet

Shape = tuple[int, int]


class Call:
    """The state of one pipeline call besides its targets (see the module docstring)."""

    __slots__ = (
        "_declared_pairing",
        "_inferred",
        "_main",
        "_rows",
        "applied",
        "buffer",
        "config",
        "drops",
        "fusing",
        "logs",
        "outlines",
        "outputs",
        "record",
        "replay",
        "sample",
        "step",
    )

    def __init__(
        self,
        sample: Sample,
        config: TargetConfig,
        fusing: bool = False,
        applied: list[tuple[str, dict[str, Any]]] | None = None,
        drops: list[dict[str, Any]] | None = None,
    ) -> None:
        self.sample = sample
        self.config = config
        self.fusing = fusing
        self.buffer = FusionBuffer()
        self.outlines: dict[str, Any] = {}  # box outlines (kinds.Outline) carried through a chain of warps
        self.applied = applied
        self.record: dict[int, Any] | None = None  # ReplayCompose: what each node did
        self.replay: dict[int, Any] | None = None  # ReplayCompose.replay: what each node must redo
        self.drops = drops
        self.outputs: dict[str, Any] = {}
        self.step = "input"
        self._main: frozenset[str] | None = None  # first key of each kind, found on first use
        self._rows: dict[str, TargetKind] | None = None  # the kinds that do not wait for a flush
        self._inferred: str | None = None  # a masks key paired with boxes for one paste only
        self._declared_pairing = (
            config.bbox_params is not None and config.bbox_params.instance_masks is not None
        )
        #: True when a transform that fires must be logged or may remap keypoint labels (kept up
        #: to date by ``start_recording``; read once per transform, so a plain attribute).
        mapping = config.keypoint_params is not None and bool(config.keypoint_params.label_mapping)
        self.logs = applied is not None or mapping

    # -- what handlers read --------------------------------------------------------------------

    @property
    def shape(self) -> Shape:
        return self.sample.shape

    @property
    def reports_drops(self) -> bool:
        """True when the pipeline reports why rows were dropped (``Compose(report_drops=True)``)."""
        return self.drops is not None

    def is_main(self, key: str) -> bool:
        """True for the first key of its kind (the one other samples of a mix contribute to)."""
        if self._main is None:
            main: dict[str, str] = {}
            for name, handler in self.sample.kinds.items():
                main.setdefault(handler.name, name)
            self._main = frozenset(main.values())
        return key in self._main

    def dropped(self, key: str, reason: str, count: int) -> None:
        """Note that ``count`` rows of ``key`` were dropped for ``reason`` at the current step."""
        if self.drops is not None and count:
            self.drops.append({"step": self.step, "target": key, "reason": reason, "count": count})
            if (
                key == "bboxes"
                and self.config.bbox_params is not None
                and self.config.bbox_params.instance_masks
            ):
                self.drops.append(
                    {"step": self.step, "target": self.config.bbox_params.instance_masks, "reason": reason,
                     "count": count}
                )  # fmt: skip

    def paired_masks(self) -> str | None:
        """The ``masks`` key whose masks belong one by one to ``bboxes`` (BboxParams
        ``instance_masks``, or the first masks target while a paste re-boxes instances)."""
        params = self.config.bbox_params
        declared = None if params is None else params.instance_masks
        return declared if declared is not None else self._inferred

    def instance_count(self) -> int:
        """How many instance masks the paired ``masks`` target holds (before the current effect)."""
        key = self.paired_masks()
        value = None if key is None else self.sample.values.get(key)
        return 0 if value is None else len(value)

    def instances_for(self, key: str, boxes: BoxSet) -> np.ndarray | None:
        """Boolean ``(N, H, W)`` instance masks of ``boxes``, one per row, or None."""
        masks_key = self.paired_masks()
        if key != "bboxes" or masks_key is None or masks_key not in self.sample.values:
            return None
        frames = list(self.sample.array(masks_key))
        if len(frames) != len(boxes) or not frames:
            return None
        shape = self.sample.shape
        return np.stack([np.asarray(m).reshape(shape) != 0 for m in frames])

    # -- applying effects ----------------------------------------------------------------------

    def apply(self, effects: Effects) -> None:
        """Apply a transform's effects, in order, to every target."""
        if isinstance(effects, Warp):  # the common case, a spatial transform's one warp
            self._warp(effects)
            if self._declared_pairing:
                self._pair_instances()
            return
        for effect in as_sequence(effects):
            if isinstance(effect, Warp):
                self._warp(effect)
            elif isinstance(effect, Report):
                self.outputs[effect.key] = effect.value
            elif isinstance(effect, Paste):
                self.flush()
                self.outlines.clear()
                self._paste(effect)
            else:
                self.flush()
                self.outlines.clear()
                self._each(effect.kind, effect, self.sample.kinds)
                if isinstance(effect, Pixels) and effect.reshapes:
                    self._reread_shape()
                elif isinstance(effect, VolumeWarp):
                    self.sample.shape = effect.geometry.out_shape[1:]
            if self._declared_pairing:
                self._pair_instances()

    def _paste(self, paste: Paste) -> None:
        """A paste; when it re-boxes instances and the first ``masks`` target has one mask per
        box, the two are paired for this paste (CopyPaste keeps their order), as if declared."""
        override = self.config.mask_interpolation
        if override is not None:
            pieces = tuple(
                replace(p, resampling=p.resampling._replace(mask_interpolation=override))
                for p in paste.pieces
            )
            paste = replace(paste, pieces=pieces)
        values = self.sample.values
        masks_keys = self.sample.keys_of("masks")
        boxes = values.get("bboxes")
        infer = (
            paste.reboxes_instances
            and self.paired_masks() is None
            and boxes is not None
            and bool(masks_keys)
            and len(values[masks_keys[0]]) == len(boxes)
        )
        if infer:
            assert boxes is not None
            self._inferred = masks_keys[0]
            numbered = boxes.with_coords(boxes.coords)
            numbered.labels = {**boxes.labels, INSTANCE: np.arange(len(boxes))}
            values["bboxes"] = numbered
        try:
            self._each("paste", paste, self.sample.kinds)
            self.sample.shape = paste.shape
            if infer:
                self._pair_instances()
        finally:
            self._inferred = None
        if infer:
            done = values["bboxes"]
            plain_labels = {name: v for name, v in done.labels.items() if name != INSTANCE}
            values["bboxes"] = type(done)(done.coords, done.extras, plain_labels, done.layout)

    def _warp(self, warp: Warp) -> None:
        sample = self.sample
        geometry = warp.geometry
        if geometry.in_shape != sample.shape:
            raise RuntimeError(
                f"geometry built for {geometry.in_shape} applied to a sample of shape {sample.shape}"
            )
        warp = mask_override(warp, self.config)
        if self.fusing:
            if not self.buffer.push(warp):
                self.flush()
                self.buffer.push(warp)
            sample.stale = True
            rows = self._rows
            if rows is None:
                rows = self._rows = {k: h for k, h in sample.kinds.items() if not h.resampled}
            if rows:
                self._each("warp", warp, rows)
        else:
            self._each("warp", warp, sample.kinds)
        sample.shape = geometry.out_shape

    def _each(self, kind: str, effect: Any, handlers: Mapping[str, Any]) -> None:
        """Every handler's result for ``effect``; each sees the targets as they were before it."""
        values = self.sample.values
        results = {
            key: getattr(handler, kind)(key, values[key], effect, self) for key, handler in handlers.items()
        }
        values.update(results)

    def flush(self) -> None:
        """Resample what the fusion buffer holds into every image and mask, once."""
        if not self.buffer.steps:
            return
        plan = self.buffer.take()
        if plan is None:
            return
        sample = self.sample
        sample.stale = False
        values = sample.values
        for key, handler in sample.kinds.items():
            if not handler.resampled:
                continue
            value = values[key]
            if plan.window is not None:
                value = handler.window(value, *plan.window)
            if plan.warp is not None:
                value = handler.warp(key, value, plan.warp, self)
            for outside, resampling in plan.borders:
                value = handler.paint(value, outside, resampling)
            values[key] = value

    def set_fusing(self, fusing: bool) -> bool:
        """Switch warp fusion (a nested Compose's own setting); returns the previous setting."""
        previous = self.fusing
        if fusing != previous:
            self.flush()
            self.outlines.clear()
            self.fusing = fusing
        return previous

    def _reread_shape(self) -> None:
        for key, handler in self.sample.kinds.items():
            size = handler.size(self.sample.values[key])
            if size is not None:
                self.sample.shape = size
                return

    def replace(self, values: Mapping[str, Any]) -> None:
        """Take new values for some array targets (a user composition's ``__call__`` replaced
        them), in the caller's layout; the shape is read back from them."""
        from invariance.core.kinds import Frames

        self.flush()
        self.outlines.clear()
        for key, value in values.items():
            handler = self.sample.kinds[key]
            if not handler.resampled:
                continue
            stacks = ("images", "masks", "volumes", "masks3d")
            self.sample.values[key] = Frames.of(value) if handler.name in stacks else value
        self._reread_shape()

    def _pair_instances(self) -> None:
        """Keep ``masks[i]`` paired with ``bboxes[i]``: drop the masks of dropped boxes."""
        key = self.paired_masks()
        if key is None:
            return
        values = self.sample.values
        boxes, masks = values.get("bboxes"), values.get(key)
        if boxes is None or masks is None:
            return
        ids = boxes.labels[INSTANCE]
        if len(ids) == len(masks) and np.array_equal(ids, np.arange(len(ids))):
            return
        values[key] = masks.select(ids)
        renumbered = boxes.with_coords(boxes.coords)
        renumbered.labels = {**boxes.labels, INSTANCE: np.arange(len(ids))}
        values["bboxes"] = renumbered

    # -- the record ----------------------------------------------------------------------------

    def replayed(self, node: Any) -> dict[str, Any] | None:
        """The params a replayed node must apply again (None when it did not fire)."""
        assert self.replay is not None
        entry = self.replay.get(id(node))
        if not entry or not entry.get("applied"):
            return None
        return dict(entry.get("params") or {})

    def start_recording(self, log: dict[int, Any]) -> None:
        """Record what each node does in ``log`` (ReplayCompose)."""
        self.record = log
        self.logs = True

    def fired(self, name: str, node: Any, params: dict[str, Any]) -> None:
        """Log a transform that fired, and remap keypoint labels its name maps (label_mapping)."""
        if self.applied is not None:
            self.applied.append((name, plain(params)))
        if self.record is not None:
            self.record[id(node)] = {"params": plain(params)}
        keypoint_params = self.config.keypoint_params
        if keypoint_params is not None and name in keypoint_params.label_mapping:
            points = self.sample.values.get("keypoints")
            if points is not None:
                self.sample.values["keypoints"] = KeypointsKind.remap_labels(
                    points, keypoint_params.label_mapping[name]
                )

    def finish(self) -> None:
        """After the last transform: resample what waits, then the final filtering pass."""
        self.flush()
        if self.outlines:
            self.outlines.clear()
        self.step = "final"
        values = self.sample.values
        for key, handler in self.sample.kinds.items():
            if handler.final_pass:
                values[key] = handler.finish(key, values[key], self)
        self._pair_instances()

    def output(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The output dict: every input key, with targets and label fields transformed."""
        out = dict(data)
        for key, handler in self.sample.kinds.items():
            handler.write(key, self.sample.values[key], self, out, data)
        out.update(self.outputs)
        if self.applied is not None:
            out["applied_transforms"] = self.applied
        if self.drops is not None:
            out["dropped"] = self.drops
        return out


def mask_override(warp: Warp, config: TargetConfig) -> Warp:
    """``warp`` with the pipeline's ``mask_interpolation`` override, when it sets one (resolved
    once as the warp enters, so fusion sees the interpolation each mask will get)."""
    override = config.mask_interpolation
    if override is None or warp.resampling.mask_interpolation == override:
        return warp
    return Warp(warp.geometry, warp.resampling._replace(mask_interpolation=override))


def plain(value: Any) -> Any:
    """Make sampled parameters JSON-friendly (for saved and replayed parameters)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


__all__ = ["Call", "mask_override", "plain"]
