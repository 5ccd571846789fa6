"""Atmosphere and lens optics (AlbumentationsX names): AtmosphericFog and LensFlare.

Pixel values change; masks, boxes and keypoints pass through.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, model_validator

import invariance.kernels.optics as ko
from invariance.core.budget import Bounded
from invariance.core.errors import InputError
from invariance.core.randomness import integer, uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, IntRange, Probability, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels.weather import white
from invariance.transforms.weather._common import Colour, Roi, UnitRange


def _positive(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] < 0:
        raise ValueError(f"both values must be >= 0, got {pair}")
    return pair


class AtmosphericFog(PixelTransform):
    """Haze that thickens with distance, by the atmospheric scattering law.

    ``out = img * t + fog_color * (1 - t)`` with transmission ``t = exp(-density * depth)``:
    light from the scene is attenuated and airlight of ``fog_color`` scattered in, more for
    farther pixels. ``density`` is drawn from ``density_range``; the relative depth in [0, 1]
    comes from the position (``depth_mode``): ``linear`` (top far, bottom near), ``diagonal``
    (top-left far) or ``radial`` (centre near, corners far).

    ``fog_color`` has one value (0..255) per channel; a single-channel image uses the colour's
    mean, and any other channel count must match its length.

    Args:
        density_range: range of the fog density, >= 0. Default: (1.0, 3.0).
        fog_color: airlight colour, one value in 0..255 per channel. Default: (200, 200, 200).
        depth_mode: ``linear``, ``diagonal`` or ``radial``. Default: ``linear``.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    family = "weather"
    # fog_color's default has three values; other channel counts need a colour of their own length.
    supported_channels = "rgb"

    density_range: tuple[float, float]
    fog_color: tuple[float, ...]
    depth_mode: str

    class InitSchema(TransformSchema):
        density_range: Annotated[FloatRange, AfterValidator(_positive)] = (1.0, 3.0)
        fog_color: Colour = (200, 200, 200)
        depth_mode: Literal["linear", "diagonal", "radial"] = "linear"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"density": uniform(rng, *self.density_range)}

    def _airlight(self, img: np.ndarray) -> np.ndarray:
        colour = np.asarray(self.fog_color, np.float32) * np.float32(white(img.dtype) / 255.0)
        channels = 1 if img.ndim == 2 else img.shape[2]
        if channels == 1:
            return np.float32(colour.mean()).reshape((1,) if img.ndim == 3 else ())
        if channels != colour.size:
            raise InputError(
                f"AtmosphericFog: fog_color {self.fog_color} has {colour.size} values: it needs an image "
                f"with that many channels (RGB (3 channels) for the default) or 1 channel, got {channels} channels"
            )
        return colour

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        depth = ko.synthetic_depth(img.shape[:2], self.depth_mode)
        return ko.atmospheric_fog(img, float(params["density"]), depth, self._airlight(img))


class LensFlare(PixelTransform):
    """Lens flare from a bright source: bloom, a diffraction starburst and reflection ghosts.

    A source is placed uniformly inside ``flare_roi`` (fractions of the size). Around it: a
    Gaussian bloom whose standard deviation is a fraction (``bloom_range``) of the image diagonal;
    a starburst of ``num_rays_range`` spikes at even angles (random rotation, a length of 20-50 %
    of the diagonal), fading along their length; and ``num_ghosts_range`` tinted soft discs on the
    line from the source through the image centre (0.4 to 2 times the way to the centre, so some
    lie past it, mirrored), as reflections between lens elements form them. The light is added
    with a screen blend scaled by an intensity drawn from ``intensity_range``. Images with other
    than three channels get grey light.

    Args:
        flare_roi: ``(x_min, y_min, x_max, y_max)`` region of the source, fractions in [0, 1].
            Default: (0, 0, 1, 0.5).
        num_ghosts_range: range of the number of ghosts (>= 0). Default: (3, 7).
        intensity_range: range of the overall brightness, in [0, 1]. Default: (0.3, 0.7).
        num_rays_range: range of the number of starburst rays (>= 0). Default: (4, 8).
        bloom_range: range of the bloom radius as a fraction of the diagonal, >= 0.
            Default: (0.01, 0.05).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    family = "weather"

    flare_roi: tuple[float, float, float, float]
    num_ghosts_range: tuple[int, int]
    intensity_range: tuple[float, float]
    num_rays_range: tuple[int, int]
    bloom_range: tuple[float, float]

    class InitSchema(TransformSchema):
        flare_roi: Roi = (0.0, 0.0, 1.0, 0.5)
        num_ghosts_range: Annotated[IntRange, Bounded("count")] = (3, 7)
        intensity_range: UnitRange = (0.3, 0.7)
        num_rays_range: Annotated[IntRange, Bounded("count")] = (4, 8)
        bloom_range: Annotated[FloatRange, AfterValidator(_positive)] = (0.01, 0.05)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> LensFlare.InitSchema:
            for name in ("num_ghosts_range", "num_rays_range"):
                if getattr(self, name)[0] < 0:
                    raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        diagonal = math.hypot(h, w)
        x0, y0, x1, y1 = self.flare_roi
        sx, sy = uniform(rng, x0, x1) * (w - 1), uniform(rng, y0, y1) * (h - 1)
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        ghosts = []
        for _ in range(integer(rng, self.num_ghosts_range[0], self.num_ghosts_range[1] + 1)):
            t = uniform(rng, 0.4, 2.0)
            tint = [uniform(rng, 0.5, 1.0) for _ in range(3)]
            ghosts.append(
                [
                    sx + t * (cx - sx),
                    sy + t * (cy - sy),
                    uniform(rng, 0.01, 0.06) * diagonal,
                    uniform(rng, 0.2, 0.5),
                    *tint,
                ]
            )
        num_rays = integer(rng, self.num_rays_range[0], self.num_rays_range[1] + 1)
        rotation = uniform(rng, 0.0, 2 * math.pi)
        width = max(1.0, 0.006 * diagonal)
        rays = [
            [rotation + 2 * math.pi * k / max(num_rays, 1), uniform(rng, 0.2, 0.5) * diagonal, width]
            for k in range(num_rays)
        ]
        return {
            "source": [sx, sy],
            "bloom": uniform(rng, *self.bloom_range) * diagonal,
            "rays": rays,
            "ghosts": ghosts,
            "intensity": uniform(rng, *self.intensity_range),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        layer = ko.flare_layer(
            img.shape[:2], params["source"], float(params["bloom"]), params["rays"], params["ghosts"]
        )
        return ko.screen_light(img, layer, float(params["intensity"]))
