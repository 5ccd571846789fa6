"""Photographic, print and local-filter effects (AlbumentationsX names): Vignetting, FilmGrain,
Halftone, Dithering, Colorize, Enhance, ModeFilter, StochasticConvolution, ExposureMatching.

Pixel values change; masks, boxes and keypoints pass through. Random fields (grain, dither noise,
random kernels) are drawn here from a seed kept in the parameters and passed to pure kernels.
"""

from __future__ import annotations

import warnings
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BeforeValidator, Field, model_validator

import invariance.kernels.effects as ke
from invariance.core.randomness import integer, uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, IntRange, Probability, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels.blur import convolve
from invariance.transforms.weather._common import UnitRange, new_seed


def _non_negative(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] < 0:
        raise ValueError(f"both values must be >= 0, got {pair}")
    return pair


NonNegativeRange = Annotated[FloatRange, AfterValidator(_non_negative)]


def _odd_draw(rng: np.random.Generator, low: int, high: int) -> int:
    """An odd integer drawn uniformly from the odd values of ``[low, high]``."""
    odds = list(range(low | 1, high + 1, 2))
    return odds[integer(rng, 0, len(odds))]


def _odd_at_least_three(name: str) -> Any:
    def check(pair: tuple[int, int]) -> tuple[int, int]:
        low, high = pair
        if low < 3:
            raise ValueError(f"{name} values must be >= 3, got {pair}")
        if low % 2 == 0 or high % 2 == 0:
            bumped = (low + 1 - low % 2, high + 1 - high % 2)
            warnings.warn(f"{name} {pair} has even values; using {bumped}", UserWarning, stacklevel=2)
            return bumped
        return pair

    return AfterValidator(check)


class Vignetting(PixelTransform):
    """Darken the frame towards its edges, as a lens's light falloff does.

    The gain is 1 at a centre drawn from ``center_range`` (x and y, fractions of width and height)
    and falls quadratically with the elliptical distance (measured in half-widths and
    half-heights) to ``1 - intensity`` at the farthest corner; ``intensity`` is drawn from
    ``intensity_range``. Every channel is multiplied by the same gain.

    Args:
        intensity_range: darkening at the farthest corner, in [0, 1] (0: none, 1: black).
            Default: (0.2, 0.5).
        center_range: range of the centre's x and y as fractions of the size, in [0, 1].
            Default: (0.3, 0.7).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    intensity_range: tuple[float, float]
    center_range: tuple[float, float]

    class InitSchema(TransformSchema):
        intensity_range: UnitRange = (0.2, 0.5)
        center_range: UnitRange = (0.3, 0.7)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {
            "intensity": uniform(rng, *self.intensity_range),
            "center": [uniform(rng, *self.center_range), uniform(rng, *self.center_range)],
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return ke.vignette(img, params["center"], float(params["intensity"]))


class FilmGrain(PixelTransform):
    """Add analog film grain: clumped, luminance-dependent noise.

    Unit Gaussian grain is drawn on a grid ``grain_size`` times coarser than the image (a size
    drawn from ``grain_size_range``) and upscaled, so grains clump. Its standard deviation is
    ``intensity * (1 - L)`` of the white level, with ``L`` the local luminance in [0, 1]: dark
    areas show the most grain. The grain is the same on every channel.

    Args:
        intensity_range: range of the grain strength, >= 0. Default: (0.1, 0.3).
        grain_size_range: range of the grain scale in pixels (integers >= 1; 1 is per-pixel).
            Default: (1, 3).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    intensity_range: tuple[float, float]
    grain_size_range: tuple[int, int]

    class InitSchema(TransformSchema):
        intensity_range: NonNegativeRange = (0.1, 0.3)
        grain_size_range: IntRange = (1, 3)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> FilmGrain.InitSchema:
            if self.grain_size_range[0] < 1:
                raise ValueError(f"grain_size_range must be >= 1, got {self.grain_size_range}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        low, high = self.grain_size_range
        return {
            "intensity": uniform(rng, *self.intensity_range),
            "grain_size": integer(rng, low, high + 1),
            "seed": new_seed(rng),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        grid = ke.grain_grid(img.shape, int(params["grain_size"]))
        noise = np.random.default_rng(int(params["seed"])).standard_normal(grid, dtype=np.float32)
        return ke.film_grain(img, float(params["intensity"]), noise)


class Halftone(PixelTransform):
    """Print the image as a halftone: one dot per grid cell on black paper.

    The cell side is drawn from ``dot_size_range``. Each dot has its cell's mean colour and a
    radius proportional to the cell's mean luminance (bright cells: large dots; a white cell's dot
    reaches the cell's corners). The halftone is mixed with the original by ``blend`` drawn from
    ``blend_range`` (0: pure halftone, 1: the original).

    Args:
        dot_size_range: range of the cell side in pixels (integers >= 1). Default: (4, 10).
        blend_range: range of the share of the original, in [0, 1]. Default: (0.0, 0.5).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    dot_size_range: tuple[int, int]
    blend_range: tuple[float, float]

    class InitSchema(TransformSchema):
        dot_size_range: IntRange = (4, 10)
        blend_range: UnitRange = (0.0, 0.5)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> Halftone.InitSchema:
            if self.dot_size_range[0] < 1:
                raise ValueError(f"dot_size_range must be >= 1, got {self.dot_size_range}")
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        low, high = self.dot_size_range
        return {"dot_size": integer(rng, low, high + 1), "blend": uniform(rng, *self.blend_range)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return ke.halftone(img, int(params["dot_size"]), float(params["blend"]))


DiffusionAlgorithm = Literal[
    "floyd_steinberg",
    "jarvis_judice_ninke",
    "stucki",
    "atkinson",
    "burkes",
    "sierra",
    "sierra_2row",
    "sierra_lite",
]


def _noise_range(pair: tuple[float, float]) -> tuple[float, float]:
    if not (-1.0 <= pair[0] <= pair[1] <= 1.0):
        raise ValueError(f"noise_range must satisfy -1 <= low <= high <= 1, got {pair}")
    return pair


class Dithering(PixelTransform):
    """Reduce every channel to ``n_colors`` evenly spaced levels, with dithering.

    ``error_diffusion`` quantises pixel by pixel in raster order (``serpentine``: alternate rows
    right to left) and pushes each quantisation error onto the unvisited neighbours with the
    weights of ``error_diffusion_algorithm``. ``ordered`` compares against a tiled Bayer matrix of
    side ``bayer_matrix_size``. ``random`` adds uniform noise from ``noise_range`` (in units of one
    quantisation step) before rounding. ``color_mode="grayscale"`` dithers the luminance and
    writes it to every channel; ``per_channel`` and ``rgb`` dither each channel on its own (with
    levels evenly spaced per channel both mean the same palette). Every output value is one of
    the ``n_colors`` levels ``k * white / (n_colors - 1)``.

    Args:
        method: ``error_diffusion``, ``ordered`` or ``random``. Default: ``error_diffusion``.
        n_colors: levels per channel, in [2, 256]. Default: 2.
        color_mode: ``per_channel``, ``grayscale`` or ``rgb``. Default: ``per_channel``.
        error_diffusion_algorithm: ``floyd_steinberg``, ``jarvis_judice_ninke``, ``stucki``,
            ``atkinson``, ``burkes``, ``sierra``, ``sierra_2row`` or ``sierra_lite``.
            Default: ``floyd_steinberg``.
        bayer_matrix_size: 2, 4, 8 or 16. Default: 4.
        serpentine: alternate the scan direction of rows (error diffusion only). Default: False.
        noise_range: noise added by ``random``, in steps, within [-1, 1]. Default: (-0.5, 0.5).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    method: str
    n_colors: int
    color_mode: str
    error_diffusion_algorithm: str
    bayer_matrix_size: int
    serpentine: bool
    noise_range: tuple[float, float]

    class InitSchema(TransformSchema):
        method: Literal["random", "ordered", "error_diffusion"] = "error_diffusion"
        n_colors: int = Field(default=2, ge=2, le=256)
        color_mode: Literal["grayscale", "per_channel", "rgb"] = "per_channel"
        error_diffusion_algorithm: DiffusionAlgorithm = "floyd_steinberg"
        bayer_matrix_size: Literal[2, 4, 8, 16] = 4
        serpentine: bool = False
        noise_range: Annotated[
            tuple[float, float], BeforeValidator(lambda v: tuple(v) if isinstance(v, list) else v)
        ] = (-0.5, 0.5)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> Dithering.InitSchema:
            _noise_range(self.noise_range)
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"seed": new_seed(rng)} if self.method == "random" else {}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        source = img
        if self.color_mode == "grayscale" and img.ndim == 3:
            source = ke.gray_u8(img) if img.dtype == np.uint8 else ke.luminance(img)
        if self.method == "ordered":
            out = ke.ordered_dither(source, self.n_colors, self.bayer_matrix_size)
        elif self.method == "random":
            low, high = self.noise_range
            noise = np.random.default_rng(int(params["seed"])).uniform(low, high, source.shape)
            out = ke.random_dither(source, self.n_colors, noise.astype(np.float32))
        else:
            out = ke.error_diffusion_dither(
                source, self.n_colors, self.error_diffusion_algorithm, self.serpentine
            )
        if source is not img:
            out = np.repeat(out[..., None], img.shape[2], axis=2)
        return out


RGB = Annotated[tuple[int, int, int], BeforeValidator(lambda v: tuple(v) if isinstance(v, list) else v)]


def _rgb_pair(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(tuple(c) if isinstance(c, list) else c for c in value)
    return value


ColorRange = Annotated[tuple[RGB, RGB], BeforeValidator(_rgb_pair)]


def _check_color_range(name: str, pair: tuple[tuple[int, ...], tuple[int, ...]] | None) -> None:
    if pair is None:
        return
    low, high = pair
    if not all(0 <= v <= 255 for v in (*low, *high)):
        raise ValueError(f"{name} values must lie in [0, 255], got {pair}")
    if any(a > b for a, b in zip(low, high)):
        raise ValueError(f"{name} needs low <= high in every channel, got {pair}")


class Colorize(PixelTransform):
    """Map luminance along a colour ramp between sampled anchor colours (an RGB output).

    Luminance 0 takes a colour drawn from ``black_range``, white one from ``white_range`` (each
    channel drawn uniformly between the range's low and high RGB tuples, inclusive). With
    ``mid_range``, a third colour drawn from it sits at a luminance drawn from
    ``mid_value_range`` and the ramp is piecewise linear through the three. Colour images are
    reduced to luminance first (Rec. 601 weights for RGB, the channel mean otherwise); the output
    always has 3 channels. Anchors are given in 0..255 for every dtype.

    Args:
        black_range: (low RGB, high RGB) of the dark anchor. Default: ((0, 0, 0), (0, 0, 0)).
        white_range: (low RGB, high RGB) of the bright anchor.
            Default: ((255, 255, 255), (255, 255, 255)).
        mid_range: (low RGB, high RGB) of the middle anchor, or None for a 2-colour ramp.
            Default: None.
        mid_value_range: range of the middle anchor's position as a fraction of white, inside
            (0, 1). Default: (0.4, 0.6).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    example_args = {
        "black_range": ((0, 0, 40), (30, 20, 90)),
        "white_range": ((230, 200, 120), (255, 240, 190)),
        "mid_range": ((150, 40, 60), (210, 90, 110)),
    }

    black_range: tuple[tuple[int, int, int], tuple[int, int, int]]
    white_range: tuple[tuple[int, int, int], tuple[int, int, int]]
    mid_range: tuple[tuple[int, int, int], tuple[int, int, int]] | None
    mid_value_range: tuple[float, float]

    class InitSchema(TransformSchema):
        black_range: ColorRange = ((0, 0, 0), (0, 0, 0))
        white_range: ColorRange = ((255, 255, 255), (255, 255, 255))
        mid_range: ColorRange | None = None
        mid_value_range: UnitRange = (0.4, 0.6)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> Colorize.InitSchema:
            for name in ("black_range", "white_range", "mid_range"):
                _check_color_range(name, getattr(self, name))
            if not 0.0 < self.mid_value_range[0] <= self.mid_value_range[1] < 1.0:
                raise ValueError(f"mid_value_range must lie inside (0, 1), got {self.mid_value_range}")
            return self

    def _anchor(self, rng: np.random.Generator, pair: tuple[tuple[int, ...], tuple[int, ...]]) -> list[int]:
        # Each channel uniform on low..high inclusive; a fixed channel (low == high) draws nothing.
        return [low if low == high else integer(rng, low, high + 1) for low, high in zip(*pair)]

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        params: dict[str, Any] = {
            "black": self._anchor(rng, self.black_range),
            "white": self._anchor(rng, self.white_range),
        }
        if self.mid_range is not None:
            params["mid"] = self._anchor(rng, self.mid_range)
            params["mid_value"] = uniform(rng, *self.mid_value_range)
        return params

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if "mid" in params:
            anchors = [params["black"], params["mid"], params["white"]]
            positions = [0.0, float(params["mid_value"]), 1.0]
        else:
            anchors, positions = [params["black"], params["white"]], [0.0, 1.0]
        return ke.colorize(img, anchors, positions)


class Enhance(PixelTransform):
    """Crispen edges or fine detail with a small 3x3 operator blended with the identity.

    The image is correlated with ``K = (1 - alpha) * I + alpha * E``, ``alpha`` drawn from
    ``alpha_range``. ``E`` is the classic edge-enhance operator (``mode="edge"``: centre 5, the
    eight neighbours -1/2) or the detail operator (``"detail"``: centre 10/6, the four edge
    neighbours -1/6). Both sum to 1, so flat areas and brightness are kept. ``alpha`` 1 is the
    full operator; 2 with ``edge`` is its stronger "more" variant; above 1 overshoots.

    Args:
        mode: ``edge`` or ``detail``. Default: ``edge``.
        alpha_range: range of the blend strength, >= 0. Default: (0.5, 1.0).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    mode: str
    alpha_range: tuple[float, float]

    class InitSchema(TransformSchema):
        mode: Literal["edge", "detail"] = "edge"
        alpha_range: NonNegativeRange = (0.5, 1.0)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"alpha": uniform(rng, *self.alpha_range)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return convolve(img, ke.enhance_kernel(self.mode, float(params["alpha"])))


class ModeFilter(PixelTransform):
    """Replace each pixel by the most frequent value in its square window, per channel.

    The window side is an odd size drawn from ``kernel_range``. Ties go to the smallest value;
    borders are reflected. Flat regions grow and isolated outliers vanish, which suits
    palette-like and label-like imagery. Float images are processed on 256 levels (quantised
    first: a mode of continuous values is meaningless).

    Args:
        kernel_range: range of the odd window side, both >= 3 (even values are raised to the
            next odd number with a warning). Default: (3, 7).
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    kernel_range: tuple[int, int]

    class InitSchema(TransformSchema):
        kernel_range: Annotated[IntRange, _odd_at_least_three("kernel_range")] = (3, 7)
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"ksize": _odd_draw(rng, *self.kernel_range)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return ke.mode_filter(img, int(params["ksize"]))


class StochasticConvolution(PixelTransform):
    """Correlate with a random kernel: an impulse plus a zero-mean Gaussian field.

    The kernel side ``K`` is an odd size drawn from ``kernel_range``; the field is unit Gaussian
    noise scaled by ``strength / K`` (``strength`` drawn from ``strength_range``), so the
    perturbation's energy is comparable across sizes and strength 0 is the identity. One kernel
    serves every channel, or each channel gets its own (``per_channel``).

    Args:
        kernel_range: range of the odd kernel side, both >= 3. Default: (3, 7).
        strength_range: range of the field strength, >= 0. Default: (0.0, 1.0).
        per_channel: draw an independent kernel per channel. Default: False.
        border_mode: OpenCV border: 0 constant, 1 replicate, 2 reflect, 4 reflect-101
            (wrap is not supported by the convolution). Default: 4.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    kernel_range: tuple[int, int]
    strength_range: tuple[float, float]
    per_channel: bool
    border_mode: int

    class InitSchema(TransformSchema):
        kernel_range: Annotated[IntRange, _odd_at_least_three("kernel_range")] = (3, 7)
        strength_range: NonNegativeRange = (0.0, 1.0)
        per_channel: bool = False
        border_mode: Literal[0, 1, 2, 4] = 4
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {
            "ksize": _odd_draw(rng, *self.kernel_range),
            "strength": uniform(rng, *self.strength_range),
            "seed": new_seed(rng),
        }

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        size = int(params["ksize"])
        channels = 1 if img.ndim == 2 else img.shape[2]
        count = channels if self.per_channel and channels > 1 else 1
        rng = np.random.default_rng(int(params["seed"]))
        fields = [rng.standard_normal((size, size)) for _ in range(count)]
        return ke.stochastic_convolution(img, size, float(params["strength"]), fields, self.border_mode)


class ExposureMatching(PixelTransform):
    """Scale the image so that its global mean reaches a sampled target (pixel ratios kept).

    One target mean (a fraction of white) is drawn from ``target_mean_range`` per call; each image
    (and each frame of ``images``) gets the gain ``target / mean``, clipped to ``gain_range`` when
    given. Values that overflow saturate, so the resulting mean can fall short of the target. An
    all-black image stays black.

    Args:
        target_mean_range: range of the target mean, in [0, 1]. Default: (0.3, 0.5).
        gain_range: (low, high) bounds of the gain, both >= 0, or None for no bound.
            Default: None.
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    target_mean_range: tuple[float, float]
    gain_range: tuple[float, float] | None

    class InitSchema(TransformSchema):
        target_mean_range: UnitRange = (0.3, 0.5)
        gain_range: NonNegativeRange | None = None
        p: Probability = 0.5

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        return {"target_mean": uniform(rng, *self.target_mean_range)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        gain = ke.exposure_gain(img, float(params["target_mean"]), self.gain_range)
        return ke.scale_exposure(img, gain)
