"""Frame selection for videos and other frame stacks: a fixed number of frames per clip."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import model_validator

from invariance.core.budget import Bounded
from invariance.core.compat import DualTransform, Native
from invariance.core.effects import Effects, Pixels
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema


def uniform_frame_indices(length: int, count: int) -> np.ndarray:
    """``count`` evenly spaced indices into ``length`` frames: the first and (for ``count >= 2``)
    the last frame included, positions in between rounded down; more than ``length`` repeats."""
    if count == 1:
        return np.zeros(1, dtype=np.int64)
    return np.floor(np.linspace(0, length - 1, count) + 1e-9).astype(np.int64)


class UniformTemporalSubsample(Native, DualTransform):
    """Keep ``num_frames`` evenly spaced frames of a clip, so every clip has the same length.

    The ``images`` target is the clip (``(T, H, W[, C])`` or a list of frames). With two or more
    output frames the first and last frames are kept and the ones between are evenly spaced
    (positions rounded down); asking for more frames than the clip has repeats frames; one frame
    is the first. ``masks`` is read as one mask per frame, and subsampled alike, when it holds
    exactly as many masks as ``images`` has frames (AlbumentationsX binds them with
    ``Compose(frame_binding=["images", "masks"])``); otherwise it is left alone. ``image``,
    ``mask``, boxes, keypoints and volumes are unchanged: they have no time axis. The selection
    is deterministic (there is nothing to draw).

    Args:
        num_frames: number of output frames (>= 1).
        p: probability of applying the transform. Default: 1.

    Targets: image, mask, volume, mask3d
    (as frame stacks: images, masks). Dtypes: uint8, float32.
    """

    family = "sequence"
    supported_targets: ClassVar[tuple[str, ...]] = ("images", "masks")
    reads_pixels = False
    example_args = {"num_frames": 3}

    num_frames: int

    class InitSchema(TransformSchema):
        argument_order = ("num_frames",)

        num_frames: Annotated[int, Bounded("count")]
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> UniformTemporalSubsample.InitSchema:
            if self.num_frames < 1:
                raise ValueError(f"num_frames must be >= 1, got {self.num_frames}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        keys = sample.keys_of("images")
        length = len(sample.values[keys[0]]) if keys else 0
        return {"length": length}

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        length = int(params["length"])
        if length == 0:
            return None
        index = uniform_frame_indices(length, self.num_frames)

        def select(stack: np.ndarray) -> np.ndarray:
            return stack[index] if len(stack) == length else stack

        return Pixels(None, images=select, masks=select)


__all__ = ["UniformTemporalSubsample", "uniform_frame_indices"]
