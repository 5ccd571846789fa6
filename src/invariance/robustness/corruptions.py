"""A corruption suite in the spirit of ImageNet-C, built from invariance's own transforms.

Hendrycks and Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions and
Perturbations", ICLR 2019 (arXiv:1903.12261) define 15 corruptions in four families (noise,
blur, weather, digital) at five severities. Ours are 18 of that kind plus ``darken``, brightness
reduction, since ``brightness`` only brightens. Here each corruption is one transform of the
catalogue with *pinned* arguments (degenerate ranges such as ``std_range=(0.08, 0.08)``), so a
severity is a fixed magnitude and only the noise pattern itself is random. Severities were
calibrated on 64-256 px images so the damage grows monotonically with the severity (the tests check
one image statistic per corruption); they are not numerically identical to ImageNet-C's.

With a seed, a corruption is deterministic: the same image, corruption, severity and seed give the
same pixels in any process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import invariance as A
from invariance.core.errors import ParameterError

SEVERITIES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Corruption:
    """One corruption: a transform class and its pinned arguments at each of the 5 severities."""

    name: str
    family: str
    transform: str
    severities: tuple[Mapping[str, Any], ...]

    def build(self, severity: int) -> A.BasicTransform:
        """The transform (``p=1``) at ``severity`` (1 mildest to 5 strongest)."""
        if severity not in SEVERITIES:
            raise ParameterError(f"severity must be one of {SEVERITIES}, got {severity!r}")
        cls = getattr(A, self.transform)
        transform: A.BasicTransform = cls(**self.severities[severity - 1], p=1.0)
        return transform


def _pairs(values: Sequence[float]) -> list[tuple[float, float]]:
    return [(v, v) for v in values]


def _table() -> dict[str, Corruption]:
    rows: list[tuple[str, str, str, list[dict[str, Any]]]] = [
        # noise
        (
            "gaussian_noise",
            "noise",
            "GaussNoise",
            [{"std_range": r} for r in _pairs((0.04, 0.08, 0.12, 0.18, 0.26))],
        ),
        (
            "shot_noise",
            "noise",
            "ShotNoise",
            [{"scale_range": r} for r in _pairs((0.002, 0.005, 0.012, 0.03, 0.07))],
        ),
        (
            "impulse_noise",
            "noise",
            "SaltAndPepper",
            [{"amount": r, "salt_vs_pepper": (0.5, 0.5)} for r in _pairs((0.01, 0.03, 0.06, 0.12, 0.2))],
        ),
        (
            "speckle_noise",
            "noise",
            "MultiplicativeNoise",
            [
                {"multiplier": (1 - a, 1 + a), "per_channel": True, "elementwise": True}
                for a in (0.1, 0.2, 0.35, 0.5, 0.7)
            ],
        ),
        # blur
        (
            "gaussian_blur",
            "blur",
            "GaussianBlur",
            [{"blur_limit": (0, 0), "sigma_limit": r} for r in _pairs((0.6, 1.0, 1.6, 2.4, 3.5))],
        ),
        (
            "motion_blur",
            "blur",
            "MotionBlur",
            [
                {
                    "blur_limit": (k, k),
                    "allow_shifted": False,
                    "angle_range": (30, 30),
                    "direction_range": (0, 0),
                }
                for k in (3, 5, 9, 13, 19)
            ],
        ),
        (
            "defocus_blur",
            "blur",
            "Defocus",
            [{"radius": (r, r), "alias_blur": (0.1, 0.1)} for r in (1, 2, 3, 5, 7)],
        ),
        (
            "zoom_blur",
            "blur",
            "ZoomBlur",
            [{"max_factor": (f, f), "step_factor": (0.02, 0.02)} for f in (1.06, 1.11, 1.16, 1.21, 1.31)],
        ),
        (
            "glass_blur",
            "blur",
            "GlassBlur",
            [
                {"sigma": s, "max_delta": d, "iterations": i}
                for s, d, i in ((0.5, 1, 1), (0.7, 1, 2), (0.9, 2, 2), (1.1, 3, 2), (1.5, 4, 3))
            ],
        ),
        # weather
        ("fog", "weather", "RandomFog", [{"fog_coef_range": r} for r in _pairs((0.15, 0.3, 0.5, 0.7, 0.9))]),
        (
            "snow",
            "weather",
            "RandomSnow",
            [{"snow_point_range": r, "method": "texture"} for r in _pairs((0.1, 0.2, 0.3, 0.4, 0.5))],
        ),
        (
            "spatter",
            "weather",
            "Spatter",
            [
                {"cutout_threshold": (t, t), "intensity": (i, i)}
                for t, i in ((0.74, 0.4), (0.7, 0.5), (0.66, 0.6), (0.62, 0.7), (0.58, 0.8))
            ],
        ),
        # digital
        (
            "brightness",
            "digital",
            "RandomBrightnessContrast",
            [{"brightness_limit": r, "contrast_limit": (0, 0)} for r in _pairs((0.1, 0.2, 0.3, 0.4, 0.5))],
        ),
        # Brightness the other way: ImageNet-C only brightens, but low light is the failure the
        # article names ("metrics collapse under moderate brightness reduction").
        (
            "darken",
            "digital",
            "RandomBrightnessContrast",
            [
                {"brightness_limit": r, "contrast_limit": (0, 0)}
                for r in _pairs((-0.1, -0.2, -0.3, -0.4, -0.5))
            ],
        ),
        (
            "contrast",
            "digital",
            "ColorJitter",
            [
                {"brightness": (1, 1), "contrast": r, "saturation": (1, 1), "hue": (0, 0)}
                for r in _pairs((0.6, 0.4, 0.25, 0.15, 0.08))
            ],
        ),
        (
            "saturate",
            "digital",
            "ColorJitter",
            [
                {"brightness": (1, 1), "contrast": (1, 1), "saturation": r, "hue": (0, 0)}
                for r in _pairs((1.5, 2.0, 3.0, 5.0, 10.0))
            ],
        ),
        (
            "pixelate",
            "digital",
            "Downscale",
            [
                {"scale_range": (s, s), "interpolation_pair": {"downscale": 3, "upscale": 0}}
                for s in (1 / 2, 1 / 3, 1 / 4, 1 / 6, 1 / 8)
            ],
        ),
        (
            "jpeg_compression",
            "digital",
            "ImageCompression",
            [{"compression_type": "jpeg", "quality_range": (q, q)} for q in (40, 25, 15, 10, 5)],
        ),
        (
            "elastic",
            "digital",
            "ElasticTransform",
            [{"alpha": a, "sigma": 4.0, "border_mode": 4} for a in (6.0, 12.0, 20.0, 30.0, 45.0)],
        ),
    ]
    return {name: Corruption(name, family, transform, tuple(kw)) for name, family, transform, kw in rows}


#: Every corruption by name, grouped in the families noise, blur, weather and digital.
CORRUPTIONS: dict[str, Corruption] = _table()
FAMILIES = ("noise", "blur", "weather", "digital")


def get_corruption(name: str) -> Corruption:
    """The corruption called ``name`` (see ``CORRUPTIONS``)."""
    try:
        return CORRUPTIONS[name]
    except KeyError:
        raise ParameterError(f"unknown corruption {name!r}; expected one of {sorted(CORRUPTIONS)}") from None


def corruption_seed(seed: int, name: str, severity: int, index: int = 0) -> int:
    """The pipeline seed for one image: a pure function of the run seed, corruption, severity and index."""
    key = [ord(c) for c in name]
    return int(np.random.SeedSequence([seed, severity, index, *key]).generate_state(1)[0])


def corrupt(image: np.ndarray, name: str, severity: int, seed: int = 0, index: int = 0) -> np.ndarray:
    """Apply corruption ``name`` at ``severity`` (1-5) to one image, deterministically.

    Args:
        image: ``(H, W, C)`` or ``(H, W)`` uint8 or float32 image (a few corruptions, such as
            ``saturate``, only change colour images).
        name: a key of ``CORRUPTIONS``.
        severity: 1 (mildest) to 5 (strongest).
        seed: run seed; with ``index`` (the image's position in a dataset) it fixes the noise.
    """
    transform = get_corruption(name).build(severity)
    pipeline = A.Compose([transform], seed=corruption_seed(seed, name, severity, index))
    out: np.ndarray = pipeline(image=image)["image"]
    return out
