"""Weather and scene effects: rain, snow, fog, sun flare, shadows, gravel and lens spatter.

Every transform here changes pixel values only: masks, boxes and keypoints pass through. Random
fields (fog haze, snow texture, spatter layer, rain drop positions, gravel stones) are stored as
an integer seed in the parameters and redrawn from it at apply time (the kernels take the drawn
arrays), so recorded parameters stay small and replay exactly.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from invariance.core.budget import Bounded
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, IntRange, Probability, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels import weather as kw
from invariance.transforms.weather._common import (
    Colour,
    Roi,
    UnitRange,
    ZeroRange,
    check_channels,
    field_generator,
    new_seed,
)


class _Weather(PixelTransform):
    family = "weather"
    supported_channels = "rgb"

    def _check(self, img: np.ndarray) -> None:
        check_channels(img, type(self).__name__)


# -- rain ----------------------------------------------------------------------------------------

RainType = Literal["drizzle", "heavy", "torrential", "default"]
# rain type -> (pixels of image area per drop, drop length in pixels; None: the argument)
_RAIN: dict[str, tuple[int, int | None]] = {
    "drizzle": (770, 10),
    "heavy": (600, 30),
    "torrential": (500, 60),
    "default": (600, None),
}


class RandomRain(_Weather):
    """Add rain: slanted streaks of ``drop_color``, a blur, and a darker scene.

    Drops start at random points (about one per 600 pixels of area; 770 for ``drizzle``, 500 for
    ``torrential``). Each streak is ``drop_length`` pixels long (``height // 8`` when None;
    10, 30 and 60 for drizzle, heavy and torrential rain), ``drop_width`` wide and tilted by a slant
    drawn from ``slant_range`` (degrees, negative to the left). The image is then box-blurred with
    ``blur_value`` and its brightness multiplied by ``brightness_coefficient``.

    Args:
        slant_range: range of the slant angle in degrees. Default: (-10, 10).
        drop_length: streak length in pixels, or None for ``height // 8``. Default: None.
        drop_width: streak width in pixels (>= 1). Default: 1.
        drop_color: RGB colour of the streaks (0..255). Default: (200, 200, 200).
        blur_value: box-blur size (>= 1). Default: 7.
        brightness_coefficient: brightness factor in (0, 1]. Default: 0.7.
        rain_type: "drizzle", "heavy", "torrential" or "default". Default: "default".
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    slant_range: tuple[float, float]
    drop_length: int | None
    drop_width: int
    drop_color: tuple[float, ...]
    blur_value: int
    brightness_coefficient: float
    rain_type: str

    class InitSchema(TransformSchema):
        slant_range: FloatRange = (-10, 10)
        drop_length: Annotated[int | None, Bounded("length")] = Field(default=None, ge=1)
        drop_width: Annotated[int, Bounded("length")] = Field(default=1, ge=1)
        drop_color: Colour = (200, 200, 200)
        blur_value: Annotated[int, Bounded("kernel")] = Field(default=7, ge=1)
        brightness_coefficient: float = Field(default=0.7, gt=0.0, le=1.0)
        rain_type: RainType = "default"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        per_drop, length = _RAIN[self.rain_type]
        if length is None:
            length = self.drop_length if self.drop_length is not None else max(1, sample.height // 8)
        return {
            "slant": float(uniform(rng, *self.slant_range)),
            "drop_length": int(length),
            "num_drops": int(sample.height * sample.width // per_drop),
            "seed": new_seed(rng),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        self._check(img)
        h, w = img.shape[:2]
        length = int(params["drop_length"])
        slant = float(params["slant"])
        rng = field_generator(params)
        n = int(params["num_drops"])
        shift = length * np.sin(np.deg2rad(slant))
        x_lo, x_hi = (0.0, w - shift) if shift > 0 else (-shift, float(w))
        xs = rng.uniform(x_lo, max(x_hi, x_lo + 1.0), n)
        ys = rng.uniform(0.0, max(h - length, 1), n)
        return kw.rain(
            img,
            np.stack([xs, ys], axis=1),
            slant,
            length,
            self.drop_width,
            self.drop_color,
            self.blur_value,
            self.brightness_coefficient,
        )


# -- snow ----------------------------------------------------------------------------------------


class RandomSnow(_Weather):
    """Add snow.

    ``bleach``: pixels whose HLS lightness is below ``(snow_point / 2 + 1/3)`` of white have their
    lightness multiplied by ``brightness_coeff`` (hue and saturation kept). ``texture``: the image
    is lifted towards white and covered by a smooth snow layer, denser at the top, with a cold
    tint and sparkles. ``snow_point`` is drawn from ``snow_point_range``.

    Args:
        brightness_coeff: lightness factor for snowy pixels (> 0). Default: 2.5.
        snow_point_range: range of the snow threshold, inside [0, 1]. Default: (0.1, 0.3).
        method: "bleach" or "texture". Default: "bleach".
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    brightness_coeff: float
    snow_point_range: tuple[float, float]
    method: str

    class InitSchema(TransformSchema):
        brightness_coeff: float = Field(default=2.5, gt=0.0)
        snow_point_range: UnitRange = (0.1, 0.3)
        method: Literal["bleach", "texture"] = "bleach"
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"snow_point": float(uniform(rng, *self.snow_point_range)), "seed": new_seed(rng)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        self._check(img)
        point = float(params["snow_point"])
        if self.method == "bleach":
            return kw.snow_bleach(img, point, self.brightness_coeff)
        gen = field_generator(params)
        h, w = img.shape[:2]
        coarse, fine = (
            gen.random(kw.noise_grid_shape((h, w), cells), dtype=np.float32) for cells in kw.SNOW_CELLS
        )
        sparkle = gen.random((h, w), dtype=np.float32)
        return kw.snow_texture(img, point, self.brightness_coeff, coarse, fine, sparkle)


# -- fog -----------------------------------------------------------------------------------------


class RandomFog(_Weather):
    """Add fog: blend the image towards white through a patchy haze, and soften it.

    The fog coefficient is drawn from ``fog_coef_range``. The haze opacity at a pixel is
    ``1 - (1 - alpha_coef) ** n`` where ``n``, the number of overlapping fog puffs, is about
    ``20 * fog_coef`` modulated by smooth noise; a Gaussian blur that grows with the coefficient
    and the image size is applied underneath. Fog raises brightness and lowers contrast.

    Args:
        alpha_coef: opacity of one fog puff, in [0, 1]. Default: 0.08.
        fog_coef_range: range of the fog intensity, inside [0, 1]. Default: (0.3, 1).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    alpha_coef: float
    fog_coef_range: tuple[float, float]

    class InitSchema(TransformSchema):
        alpha_coef: float = Field(default=0.08, ge=0.0, le=1.0)
        fog_coef_range: UnitRange = (0.3, 1)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"fog_coef": float(uniform(rng, *self.fog_coef_range)), "seed": new_seed(rng)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        self._check(img)
        grid = field_generator(params).random(
            kw.noise_grid_shape(img.shape[:2], kw.FOG_CELLS), dtype=np.float32
        )
        return kw.fog(img, float(params["fog_coef"]), self.alpha_coef, grid)


# -- sun flare -----------------------------------------------------------------------------------


class RandomSunFlare(_Weather):
    """Add a sun flare: a bright sun inside ``flare_roi`` and translucent circles along a line.

    The sun centre is drawn uniformly in ``flare_roi`` (relative ``x_min, y_min, x_max, y_max``),
    the flare direction is ``2 * pi * angle`` with ``angle`` drawn from ``angle_range``, and the
    number of circles from ``num_flare_circles_range``. ``overlay`` alpha-blends the circles and
    a radial glow of ``src_color`` fading to nothing at ``src_radius`` pixels; ``physics_based``
    adds (screen blend) a core, a halo, starburst rays and ghost discs.

    Args:
        flare_roi: region of the sun centre, relative coordinates. Default: (0, 0, 1, 0.5).
        src_radius: sun radius in pixels (>= 1). Default: 400.
        src_color: RGB colour of the sun (0..255). Default: (255, 255, 255).
        angle_range: range of the direction as a fraction of a full turn, in [0, 1]. Default: (0, 1).
        num_flare_circles_range: range of the number of circles (>= 0). Default: (6, 10).
        method: "overlay" or "physics_based". Default: "overlay".
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    flare_roi: tuple[float, float, float, float]
    src_radius: int
    src_color: tuple[float, ...]
    angle_range: tuple[float, float]
    num_flare_circles_range: tuple[int, int]
    method: str

    class InitSchema(TransformSchema):
        flare_roi: Roi = (0, 0, 1, 0.5)
        src_radius: int = Field(default=400, ge=1)
        src_color: Colour = (255, 255, 255)
        angle_range: UnitRange = (0, 1)
        num_flare_circles_range: Annotated[IntRange, Bounded("count")] = (6, 10)
        method: Literal["overlay", "physics_based"] = "overlay"
        p: Probability = 0.5

        @model_validator(mode="after")
        def _circles(self) -> RandomSunFlare.InitSchema:
            if self.num_flare_circles_range[0] < 0:
                raise ValueError(f"num_flare_circles_range must be >= 0, got {self.num_flare_circles_range}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        x0, y0, x1, y1 = self.flare_roi
        cx = float(rng.uniform(x0, x1) * w)
        cy = float(rng.uniform(y0, y1) * h)
        angle = float(2.0 * np.pi * uniform(rng, *self.angle_range))
        n = int(rng.integers(self.num_flare_circles_range[0], self.num_flare_circles_range[1] + 1))
        reach = float(max(h, w))
        t = rng.uniform(-0.2 * reach, reach, n)
        radii = rng.uniform(0.01, 0.06, n) * reach
        alphas = rng.uniform(0.05, 0.25, n)
        base = np.resize(np.asarray(self.src_color, np.float64), 3)
        colours = np.clip(base[None, :] - rng.uniform(0, 60, (n, 3)), 0, 255)
        circles = np.column_stack(
            [cx + t * np.cos(angle), cy + t * np.sin(angle), radii, alphas, colours]
        ).tolist()
        return {"center": [cx, cy], "angle": angle, "circles": circles}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        self._check(img)
        circles = [list(c) for c in params["circles"]]
        if self.method == "overlay":
            return kw.sun_flare_overlay(img, params["center"], self.src_radius, self.src_color, circles)
        return kw.sun_flare_physics(
            img, params["center"], self.src_radius, self.src_color, circles, float(params["angle"])
        )


# -- shadow --------------------------------------------------------------------------------------


class RandomShadow(_Weather):
    """Cast polygon shadows inside ``shadow_roi``: pixels inside are multiplied by
    ``1 - intensity``.

    The number of shadows is drawn from ``num_shadows_limit``; each is a polygon of
    ``shadow_dimension`` random vertices in the region, with its own intensity drawn from
    ``shadow_intensity_range`` (larger is darker).

    Args:
        shadow_roi: region of the shadows, relative ``x_min, y_min, x_max, y_max``. Default: (0, 0.5, 1, 1).
        num_shadows_limit: range of the number of shadows (>= 1). Default: (1, 2).
        shadow_dimension: vertices per polygon (>= 3). Default: 5.
        shadow_intensity_range: range of the darkening, inside [0, 1]. Default: (0.5, 0.5).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    # A shadow darkens every band alike, so any channel count is fine (RGB-NIR, multispectral).
    supported_channels = "any"

    shadow_roi: tuple[float, float, float, float]
    num_shadows_limit: tuple[int, int]
    shadow_dimension: int
    shadow_intensity_range: tuple[float, float]

    class InitSchema(TransformSchema):
        shadow_roi: Roi = (0, 0.5, 1, 1)
        num_shadows_limit: Annotated[IntRange, Bounded("count")] = (1, 2)
        shadow_dimension: Annotated[int, Field(ge=3), Bounded("count")] = 5
        shadow_intensity_range: UnitRange = (0.5, 0.5)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _count(self) -> RandomShadow.InitSchema:
            if self.num_shadows_limit[0] < 1:
                raise ValueError(f"num_shadows_limit must be >= 1, got {self.num_shadows_limit}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        x0, y0, x1, y1 = self.shadow_roi
        n = int(rng.integers(self.num_shadows_limit[0], self.num_shadows_limit[1] + 1))
        xs = rng.uniform(x0 * w, x1 * w, (n, self.shadow_dimension))
        ys = rng.uniform(y0 * h, y1 * h, (n, self.shadow_dimension))
        polygons = np.stack([xs, ys], axis=2).round().astype(int).tolist()
        intensities = rng.uniform(*self.shadow_intensity_range, n).tolist()
        return {"polygons": polygons, "intensities": intensities}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        polygons = [np.asarray(p, np.int32) for p in params["polygons"]]
        return kw.shadow(img, polygons, [float(v) for v in params["intensities"]])


# -- gravel --------------------------------------------------------------------------------------


class RandomGravel(_Weather):
    """Scatter gravel: ``number_of_patches`` rectangular patches inside ``gravel_roi``, each
    sprinkled with small grey-brown stones (about one per 40 pixels of patch area).

    Args:
        gravel_roi: region of the patches, relative ``x_min, y_min, x_max, y_max``.
            Default: (0.1, 0.4, 0.9, 0.9).
        number_of_patches: number of patches (>= 1). Default: 2.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    gravel_roi: tuple[float, float, float, float]
    number_of_patches: int

    class InitSchema(TransformSchema):
        gravel_roi: Roi = (0.1, 0.4, 0.9, 0.9)
        number_of_patches: Annotated[int, Bounded("count")] = Field(default=2, ge=1)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        x0, y0, x1, y1 = self.gravel_roi
        rx0, ry0, rx1, ry1 = (
            int(x0 * w),
            int(y0 * h),
            max(int(x1 * w), int(x0 * w) + 1),
            max(int(y1 * h), int(y0 * h) + 1),
        )
        patches = []
        for _ in range(self.number_of_patches):
            pw = int(rng.integers(max(1, (rx1 - rx0) // 10), max(2, (rx1 - rx0) // 3 + 1)))
            ph = int(rng.integers(max(1, (ry1 - ry0) // 10), max(2, (ry1 - ry0) // 3 + 1)))
            px = int(rng.integers(rx0, max(rx0 + 1, rx1 - pw + 1)))
            py = int(rng.integers(ry0, max(ry0 + 1, ry1 - ph + 1)))
            patches.append([px, py, min(px + pw, w), min(py + ph, h)])
        return {"patches": patches, "seed": new_seed(rng)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        self._check(img)
        gen = field_generator(params)
        stones = []
        for patch in params["patches"]:
            x0, y0, x1, y1 = (int(v) for v in patch)
            count = kw.gravel_stone_count((x0, y0, x1, y1))
            xs = gen.integers(x0, max(x0 + 1, x1), count)
            ys = gen.integers(y0, max(y0 + 1, y1), count)
            radii = gen.integers(1, 4, count)
            tones = gen.uniform(0.25, 0.75, count)
            warmth = gen.uniform(0.9, 1.1, count)
            stones.append(np.stack([xs, ys, radii, tones, warmth], axis=1))
        return kw.gravel(img, np.concatenate(stones) if stones else np.empty((0, 5)))


# -- spatter -------------------------------------------------------------------------------------

_SPATTER_COLOURS = {"rain": (238, 238, 175), "mud": (20, 42, 63)}


class Spatter(_Weather):
    """Spatter the lens with rain drops or mud.

    A liquid layer is drawn as Gaussian noise ``N(mean, std)``, blurred with ``gauss_sigma`` and
    cut below ``cutout_threshold`` (higher thresholds, fewer drops). ``rain``: the drops show a
    lens-blurred, tinted view of the image; ``mud``: opaque splashes of ``color``. ``intensity``
    scales the opacity. Each range argument may be a number ``x``, meaning ``(0, x)``.

    Args:
        mean: range of the layer mean. Default: (0.65, 0.65).
        std: range of the layer standard deviation. Default: (0.3, 0.3).
        gauss_sigma: range of the blur sigma. Default: (2, 2).
        cutout_threshold: range of the cut threshold. Default: (0.68, 0.68).
        intensity: range of the opacity. Default: (0.6, 0.6).
        mode: "rain" or "mud". Default: "rain".
        color: RGB colour, or None for (238, 238, 175) with rain and (20, 42, 63) with mud.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    mean: tuple[float, float]
    std: tuple[float, float]
    gauss_sigma: tuple[float, float]
    cutout_threshold: tuple[float, float]
    intensity: tuple[float, float]
    mode: str
    color: tuple[float, ...] | None

    class InitSchema(TransformSchema):
        mean: ZeroRange = (0.65, 0.65)
        std: ZeroRange = (0.3, 0.3)
        gauss_sigma: Annotated[ZeroRange, Bounded("sigma")] = (2, 2)
        cutout_threshold: ZeroRange = (0.68, 0.68)
        intensity: ZeroRange = (0.6, 0.6)
        mode: Literal["rain", "mud"] = "rain"
        color: Colour | None = None
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {
            "mean": float(uniform(rng, *self.mean)),
            "std": float(uniform(rng, *self.std)),
            "sigma": float(uniform(rng, *self.gauss_sigma)),
            "threshold": float(uniform(rng, *self.cutout_threshold)),
            "intensity": float(uniform(rng, *self.intensity)),
            "seed": new_seed(rng),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        self._check(img)
        colour = self.color if self.color is not None else _SPATTER_COLOURS[self.mode]
        return kw.spatter(
            img,
            self.mode,
            float(params["mean"]),
            float(params["std"]),
            float(params["sigma"]),
            float(params["threshold"]),
            float(params["intensity"]),
            colour,
            field_generator(params).standard_normal(img.shape[:2], dtype=np.float32),
        )
