"""MRI artefacts: k-space truncation and spikes, magnitude (Rician) noise, coil bias fields.

Each acts on a slice (``image``, ``images``) in 2-D and on a whole volume (``volume``,
``volumes``) in 3-D: a volume's k-space is its 3-D Fourier transform, and its bias field and
noise fields span the full depth. Masks, boxes and keypoints are unchanged (these change how
tissue looks, not where it is). Random fields are rebuilt from a seed in the parameters.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import AfterValidator, BeforeValidator, model_validator

from invariance.core.budget import Bounded
from invariance.core.effects import Effects, Pixels
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, IntRange, Probability, TransformSchema, _ordered, _pair
from invariance.core.transform import PixelTransform
from invariance.kernels import scanner as ks
from invariance.kernels import volume as kv
from invariance.transforms.volumetric.base import VolumeOnlyTransform


def _within(low: float, high: float, open_low: bool = False) -> Any:
    def check(pair: tuple[float, float]) -> tuple[float, float]:
        bad_low = pair[0] <= low if open_low else pair[0] < low
        if bad_low or pair[1] > high:
            bracket = "(" if open_low else "["
            raise ValueError(f"values must lie in {bracket}{low}, {high}], got {pair}")
        return pair

    return check


UnitRange = Annotated[
    tuple[float, float], BeforeValidator(_pair), AfterValidator(_ordered), AfterValidator(_within(0, 1))
]
OpenUnitRange = Annotated[
    tuple[float, float], BeforeValidator(_pair), AfterValidator(_ordered), AfterValidator(_within(0, 1, True))
]


class _ScannerArtifact(PixelTransform):
    """Base of scanner artefacts: ``apply_grid(array, spatial, **params)`` works on an image
    (``spatial=2``) or a whole volume (``spatial=3``) with the same drawn parameters."""

    family = "medical"
    supported_targets = ("image", "images", "volume", "volumes")  # type: ignore[assignment]
    #: Volumes get the 3-D artefact, not the slice-wise one (checked by the volume contract tests).
    whole_volume: ClassVar[bool] = True

    def apply_grid(self, array: np.ndarray, spatial: int, **params: Any) -> np.ndarray:
        raise NotImplementedError

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return self.apply_grid(img, 2, **params)

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        return Pixels(
            lambda img: self.apply_grid(img, 2, **params), volume=lambda v: self.apply_grid(v, 3, **params)
        )


class GibbsRinging(_ScannerArtifact):
    """Gibbs ringing: an MRI acquisition samples only a window of k-space, and cutting the
    spectrum off sharply makes intensity edges ring (and blurs them).

    The retained fraction of the bandwidth is drawn once; frequencies beyond it are zeroed on
    every spatial axis (both in-plane axes of a slice, all three of a volume) and the image is
    reconstructed. A fraction of 1 changes nothing; 0 leaves only the mean.

    Args:
        retained_fraction_range: ``(min, max)`` fraction of the bandwidth kept along each axis,
            in [0, 1]. Default: (0.5, 0.9).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    example_args = {"retained_fraction_range": (0.2, 0.35)}

    retained_fraction_range: tuple[float, float]

    class InitSchema(TransformSchema):
        retained_fraction_range: UnitRange = (0.5, 0.9)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"retained_fraction": uniform(rng, *self.retained_fraction_range)}

    def apply_grid(self, array: np.ndarray, spatial: int, **params: Any) -> np.ndarray:
        return ks.truncate_kspace(array, spatial, float(params["retained_fraction"]))


class KSpaceSpikeNoise(_ScannerArtifact):
    """Spike (herringbone) noise: a few corrupted k-space samples, from electrical discharges or
    RF interference, add stripes across the whole reconstructed image.

    Each spike adds a fraction of the spectrum's peak magnitude at one random frequency and its
    conjugate mirror (the image stays real). Without ``per_channel`` every channel gets the same
    spikes.

    Args:
        num_spikes_range: ``(min, max)`` number of spikes (>= 0). Default: (1, 5).
        intensity_range: ``(min, max)`` spike amplitude as a fraction of the spectrum's peak,
            in [0, 1]. Default: (0.1, 0.5).
        per_channel: draw spikes for each channel independently. Default: False.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    example_args = {"num_spikes_range": (1, 2), "intensity_range": (0.02, 0.05)}

    num_spikes_range: tuple[int, int]
    intensity_range: tuple[float, float]
    per_channel: bool

    class InitSchema(TransformSchema):
        num_spikes_range: Annotated[IntRange, Bounded("count")] = (1, 5)
        intensity_range: UnitRange = (0.1, 0.5)
        per_channel: bool = False
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> KSpaceSpikeNoise.InitSchema:
            if self.num_spikes_range[0] < 0:
                raise ValueError(f"num_spikes_range must be >= 0, got {self.num_spikes_range}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        count = int(rng.integers(self.num_spikes_range[0], self.num_spikes_range[1] + 1))
        return {"num_spikes": count, "spike_seed": int(rng.integers(2**31))}

    def _spikes(self, gen: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
        return gen.random((count, 3)), gen.uniform(*self.intensity_range, size=count)

    def apply_grid(self, array: np.ndarray, spatial: int, **params: Any) -> np.ndarray:
        count = int(params["num_spikes"])
        gen = np.random.default_rng(int(params["spike_seed"]))
        if not self.per_channel or array.ndim == spatial:
            return ks.add_kspace_spikes(array, spatial, *self._spikes(gen, count))
        planes = [
            ks.add_kspace_spikes(array[..., c], spatial, *self._spikes(gen, count))
            for c in range(array.shape[-1])
        ]
        return np.stack(planes, axis=-1)


class RicianNoise(_ScannerArtifact):
    """Rician noise: an MRI magnitude image is ``|signal + complex Gaussian noise|``, so noise is
    biased upwards where the signal is weak (background gets a positive noise floor), unlike
    additive Gaussian noise.

    Args:
        std_range: ``(min, max)`` standard deviation of the real and imaginary noise, as a
            fraction of the white level, in [0, 1]. Default: (0.05, 0.15).
        per_channel: independent noise fields for each channel (else one pair shared).
            Default: False.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    example_args = {"std_range": (0.04, 0.08)}

    std_range: tuple[float, float]
    per_channel: bool

    class InitSchema(TransformSchema):
        std_range: UnitRange = (0.05, 0.15)
        per_channel: bool = False
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"std": uniform(rng, *self.std_range), "noise_seed": int(rng.integers(2**31))}

    def apply_grid(self, array: np.ndarray, spatial: int, **params: Any) -> np.ndarray:
        sigma = float(params["std"])
        if sigma <= 0:
            return array.copy()
        shape = array.shape
        if array.ndim > spatial and not self.per_channel:
            shape = (*array.shape[:spatial], 1)  # one pair of fields shared by the channels
        gen = np.random.default_rng(int(params["noise_seed"]))
        real = gen.standard_normal(shape, dtype=np.float32) * np.float32(sigma)
        imag = gen.standard_normal(shape, dtype=np.float32) * np.float32(sigma)
        return ks.rician_magnitude(array, real, imag)


class BiasField(_ScannerArtifact):
    """Bias field: receive-coil sensitivity makes tissue brighter near the coil and darker far
    from it, a smooth multiplicative gain across the image.

    The log-gain is Gaussian on a coarse grid (each axis ``scale`` times the image's, at least 2
    points), upsampled linearly and exponentiated, so the gain is positive and smooth; a volume
    gets one field over its full depth.

    Args:
        std_range: ``(min, max)`` standard deviation of the coarse log-gain, in [0, 1]; 0 is the
            identity. Default: (0.0, 0.5).
        scale_range: ``(min, max)`` ratio of the coarse grid's axis length to the image's, in
            (0, 1]; smaller is smoother. Default: (0.025, 0.025).
        per_channel: an independent field for each channel. Default: False.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    example_args = {"std_range": (0.3, 0.5)}

    std_range: tuple[float, float]
    scale_range: tuple[float, float]
    per_channel: bool

    class InitSchema(TransformSchema):
        std_range: UnitRange = (0.0, 0.5)
        scale_range: OpenUnitRange = (0.025, 0.025)
        per_channel: bool = False
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {
            "std": uniform(rng, *self.std_range),
            "scale": uniform(rng, *self.scale_range),
            "field_seed": int(rng.integers(2**31)),
        }

    def apply_grid(self, array: np.ndarray, spatial: int, **params: Any) -> np.ndarray:
        std, scale = float(params["std"]), float(params["scale"])
        if std <= 0:
            return array.copy()
        grid = tuple(1 if n == 1 else max(2, round(scale * n)) for n in array.shape[:spatial])
        channels = array.shape[-1] if self.per_channel and array.ndim > spatial else 1
        gen = np.random.default_rng(int(params["field_seed"]))
        log_gain = gen.normal(0.0, std, (*grid, channels)).astype(np.float32)
        return ks.bias_field(array, spatial, log_gain)


class Anisotropy3D(VolumeOnlyTransform):
    """Anisotropic acquisition: thick slices or a coarse in-plane matrix, simulated by sampling
    some axes of a volume at a lower resolution and interpolating back onto the original grid.

    ``num_axes`` axes are drawn from ``axes`` and each gets its own factor; with ``antialias``
    each coarse voxel averages its footprint (what a thick slice records), else it samples
    one point. The shape stays; 3-D masks and keypoints are unchanged (geometry does not move).

    Args:
        axes: the axes that may be degraded (0 depth, 1 height, 2 width). Default: (0, 1, 2).
        num_axes_range: ``(min, max)`` number of axes degraded, within ``[0, len(axes)]``.
            Default: (1, 1).
        downscale_factor_range: ``(min, max)`` factor of the coarser sampling (>= 1).
            Default: (1.5, 4.0).
        antialias: average each coarse voxel's footprint. Default: True.
        p: probability of applying the transform. Default: 0.5.

    Targets: volume
    (each also as a stack: volumes). Dtypes: uint8, float32.
    """

    family = "medical"
    example_args = {"axes": (0,), "downscale_factor_range": (3.0, 4.0)}

    axes: tuple[int, ...]
    num_axes_range: tuple[int, int]
    downscale_factor_range: tuple[float, float]
    antialias: bool

    class InitSchema(TransformSchema):
        axes: tuple[Literal[0, 1, 2], ...] = (0, 1, 2)
        num_axes_range: Annotated[IntRange, Bounded("count")] = (1, 1)
        downscale_factor_range: FloatRange = (1.5, 4.0)
        antialias: bool = True
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> Anisotropy3D.InitSchema:
            if not self.axes or len(set(self.axes)) != len(self.axes):
                raise ValueError(
                    f"axes must name distinct axes among 0, 1, 2 (at least one), got {self.axes}"
                )
            low, high = self.num_axes_range
            if low < 0 or high > len(self.axes):
                raise ValueError(
                    f"num_axes_range must lie in [0, {len(self.axes)}], got {self.num_axes_range}"
                )
            if self.downscale_factor_range[0] < 1:
                raise ValueError(f"downscale_factor_range must be >= 1, got {self.downscale_factor_range}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        count = int(rng.integers(self.num_axes_range[0], self.num_axes_range[1] + 1))
        chosen = sorted(int(a) for a in rng.choice(self.axes, size=count, replace=False))
        return {"axes": chosen, "factors": [uniform(rng, *self.downscale_factor_range) for _ in chosen]}

    def apply_to_volume(self, volume: np.ndarray, **params: Any) -> np.ndarray:
        out: np.ndarray = volume
        for axis, factor in zip(params["axes"], params["factors"]):
            n = volume.shape[axis]
            coarse = kv.resize_axis(out, axis, max(1, round(n / float(factor))), self.antialias)
            out = kv.resize_axis(coarse, axis, n, False)
        if out is volume:
            return volume.copy()
        return ks.from_unit(out / np.float32(255) if volume.dtype == np.uint8 else out, volume.dtype)


__all__ = ["Anisotropy3D", "BiasField", "GibbsRinging", "KSpaceSpikeNoise", "RicianNoise"]
