"""MRI artefacts of an acquisition that changes while k-space is filled: ghosting and motion.

Both act on a slice (``image``, ``images``) through its 2-D k-space and on a whole volume
(``volume``, ``volumes``) through its 3-D k-space, with the same drawn parameters; the
phase-encoding direction is one in-plane axis (rows or columns). Masks, boxes and keypoints are
unchanged: the artefact changes how the image looks, not where the anatomy is.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import model_validator

from invariance.core.budget import Bounded
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, IntRange, Probability, TransformSchema
from invariance.kernels import scanner as ks
from invariance.transforms.medical.mri import UnitRange, _ScannerArtifact

PhaseAxis = Literal["height", "width", "random"]


def _phase_axis(choice: str, rng: np.random.Generator) -> str:
    if choice == "random":
        return "height" if rng.random() < 0.5 else "width"
    return choice


def _spatial_axis(name: str, spatial: int) -> int:
    """The spatial axis index of ``"height"`` or ``"width"`` in an image or a volume."""
    return spatial - 2 if name == "height" else spatial - 1


class GhostingArtifact(_ScannerArtifact):
    """Ghosting: periodic change during the scan (breathing, heartbeat, pulsatile flow) alters
    every ``n``-th k-space line along the phase-encoding direction, so faint copies of the
    anatomy appear shifted along that direction, wrapping around the field of view.

    One line in every ``num_ghosts + 1`` (at a random phase of the period) is scaled by
    ``1 - intensity`` and the magnitude image is reconstructed: ``num_ghosts`` copies appear at
    multiples of ``1 / (num_ghosts + 1)`` of the field of view, each about
    ``intensity / (num_ghosts + 1)`` as bright as the object. A volume gets the same lines
    changed in its 3-D k-space (the ghosts repeat on every slice). Intensity 0 is the identity.

    Args:
        num_ghosts_range: ``(min, max)`` number of ghost copies (>= 1). Default: (1, 4).
        intensity_range: ``(min, max)`` fraction of the affected lines' signal lost, in [0, 1].
            Default: (0.3, 0.9).
        phase_encode_axis: ``"height"`` (ghosts shift along rows), ``"width"`` or ``"random"``.
            Default: ``"random"``.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    example_args = {"num_ghosts_range": (2, 3), "intensity_range": (0.6, 0.9)}

    num_ghosts_range: tuple[int, int]
    intensity_range: tuple[float, float]
    phase_encode_axis: str

    class InitSchema(TransformSchema):
        num_ghosts_range: Annotated[IntRange, Bounded("count")] = (1, 4)
        intensity_range: UnitRange = (0.3, 0.9)
        phase_encode_axis: PhaseAxis = "random"
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> GhostingArtifact.InitSchema:
            if self.num_ghosts_range[0] < 1:
                raise ValueError(f"num_ghosts_range must be >= 1, got {self.num_ghosts_range}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        period = int(rng.integers(self.num_ghosts_range[0], self.num_ghosts_range[1] + 1)) + 1
        return {
            "period": period,
            "offset": int(rng.integers(1, period)),  # never the DC line: overall contrast stays
            "intensity": uniform(rng, *self.intensity_range),
            "axis": _phase_axis(self.phase_encode_axis, rng),
        }

    def apply_grid(self, array: np.ndarray, spatial: int, **params: Any) -> np.ndarray:
        axis = _spatial_axis(params["axis"], spatial)
        return ks.ghost_kspace(
            array, spatial, axis, int(params["period"]), int(params["offset"]), float(params["intensity"])
        )


class MotionArtifact(_ScannerArtifact):
    """Motion: the patient moves while k-space is filled line by line along the phase-encoding
    direction, so parts of k-space come from a shifted object; edges blur and ripple into
    ghost-like bands along that direction.

    ``num_motions`` moments are drawn in the acquisition (lines are acquired from the lowest
    frequency to the highest); after each the object sits at a new random shift of up to
    ``translation_range`` times the image size along every spatial axis (depth too, for a
    volume). Each shift is a phase ramp on the lines acquired in that position, and the
    magnitude image is reconstructed. Rigid translation is modelled; rotation is not.

    Args:
        num_motions_range: ``(min, max)`` number of movements during the scan (>= 0).
            Default: (1, 3).
        translation_range: ``(min, max)`` shift per axis as a fraction of that axis's length,
            within [-1, 1]. Default: (-0.05, 0.05).
        phase_encode_axis: ``"height"``, ``"width"`` or ``"random"``. Default: ``"random"``.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    example_args = {"num_motions_range": (2, 3), "translation_range": (-0.06, 0.06)}

    num_motions_range: tuple[int, int]
    translation_range: tuple[float, float]
    phase_encode_axis: str

    class InitSchema(TransformSchema):
        num_motions_range: Annotated[IntRange, Bounded("count")] = (1, 3)
        translation_range: FloatRange = (-0.05, 0.05)
        phase_encode_axis: PhaseAxis = "random"
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> MotionArtifact.InitSchema:
            if self.num_motions_range[0] < 0:
                raise ValueError(f"num_motions_range must be >= 0, got {self.num_motions_range}")
            low, high = self.translation_range
            if low < -1 or high > 1:
                raise ValueError(f"translation_range must lie within [-1, 1], got {self.translation_range}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        count = int(rng.integers(self.num_motions_range[0], self.num_motions_range[1] + 1))
        moments = sorted(float(t) for t in rng.uniform(0.05, 0.95, size=count))
        # Fractions of each axis (depth, height, width); a slice uses the last two.
        shifts = [[0.0, 0.0, 0.0]] + [
            [uniform(rng, *self.translation_range) for _ in range(3)] for _ in moments
        ]
        return {"moments": moments, "shifts": shifts, "axis": _phase_axis(self.phase_encode_axis, rng)}

    def apply_grid(self, array: np.ndarray, spatial: int, **params: Any) -> np.ndarray:
        if not params["moments"]:
            return array.copy()
        sizes = np.array(array.shape[:spatial], dtype=np.float64)
        shifts = np.asarray(params["shifts"], dtype=np.float64)[:, -spatial:] * sizes
        axis = _spatial_axis(params["axis"], spatial)
        return ks.motion_kspace(array, spatial, axis, np.asarray(params["moments"]), shifts)


__all__ = ["GhostingArtifact", "MotionArtifact"]
