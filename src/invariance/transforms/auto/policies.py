"""Automated augmentation policies: RandAugment, TrivialAugmentWide, AutoAugment and AugMix.

The operation lists and magnitude mappings follow the papers (cited on each class) and their
reference implementations; the magnitude tables live in :mod:`invariance.transforms.auto._ops`.
The geometric operations (ShearX/Y, TranslateX/Y, Rotate) are affine maps applied through the
sample, so masks, boxes and keypoints follow the image (except in AugMix, which blends several
differently-warped copies and is for image classification).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from invariance.core.budget import Bounded
from invariance.core.compat import DualTransform, Native
from invariance.core.effects import Effects
from invariance.core.errors import InputError
from invariance.core.geometry import Resampling
from invariance.core.sample import Sample
from invariance.core.schema import (
    Fill,
    FillArgs,
    FillSchema,
    InterpolationArgs,
    InterpolationSchema,
    Probability,
    WarpInterpolation,
)
from invariance.core.transform import PixelTransform
from invariance.transforms.auto import _ops
from invariance.transforms.auto._ops import OpSpace

# (name, probability, magnitude bin or None), two per sub-policy: Cubuk et al. 2019, appendix.
SubPolicy = tuple[tuple[str, float, int | None], tuple[str, float, int | None]]

IMAGENET_POLICY: tuple[SubPolicy, ...] = (
    (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
    (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
    (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
    (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
    (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
    (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
    (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
    (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
    (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
    (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
    (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
    (("Color", 0.4, 0), ("Equalize", 0.6, None)),
    (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
    (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
    (("Invert", 0.6, None), ("Equalize", 1.0, None)),
    (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
    (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
)

CIFAR10_POLICY: tuple[SubPolicy, ...] = (
    (("Invert", 0.1, None), ("Contrast", 0.2, 6)),
    (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
    (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)),
    (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
    (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)),
    (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
    (("Color", 0.4, 3), ("Brightness", 0.6, 7)),
    (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
    (("Equalize", 0.6, None), ("Equalize", 0.5, None)),
    (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
    (("Color", 0.7, 7), ("TranslateX", 0.5, 8)),
    (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
    (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)),
    (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
    (("Solarize", 0.5, 2), ("Invert", 0.0, None)),
    (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
    (("Equalize", 0.2, None), ("Equalize", 0.6, None)),
    (("Color", 0.9, 9), ("Equalize", 0.6, None)),
    (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)),
    (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
    (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)),
    (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
    (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)),
    (("Equalize", 0.8, None), ("Invert", 0.1, None)),
    (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
)

SVHN_POLICY: tuple[SubPolicy, ...] = (
    (("ShearX", 0.9, 4), ("Invert", 0.2, None)),
    (("ShearY", 0.9, 8), ("Invert", 0.7, None)),
    (("Equalize", 0.6, None), ("Solarize", 0.6, 6)),
    (("Invert", 0.9, None), ("Equalize", 0.6, None)),
    (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
    (("ShearX", 0.9, 4), ("AutoContrast", 0.8, None)),
    (("ShearY", 0.9, 8), ("Invert", 0.4, None)),
    (("ShearY", 0.9, 5), ("Solarize", 0.2, 6)),
    (("Invert", 0.9, None), ("AutoContrast", 0.8, None)),
    (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
    (("ShearX", 0.9, 4), ("Solarize", 0.3, 3)),
    (("ShearY", 0.8, 8), ("Invert", 0.7, None)),
    (("Equalize", 0.9, None), ("TranslateY", 0.6, 6)),
    (("Invert", 0.9, None), ("Equalize", 0.6, None)),
    (("Contrast", 0.3, 3), ("Rotate", 0.8, 4)),
    (("Invert", 0.8, None), ("TranslateY", 0.0, 2)),
    (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)),
    (("Invert", 0.6, None), ("Rotate", 0.8, 4)),
    (("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)),
    (("ShearX", 0.1, 6), ("Invert", 0.6, None)),
    (("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)),
    (("ShearY", 0.8, 4), ("Invert", 0.8, None)),
    (("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)),
    (("ShearY", 0.8, 5), ("AutoContrast", 0.7, None)),
    (("ShearX", 0.7, 2), ("Invert", 0.1, None)),
)

AUTOAUGMENT_POLICIES: dict[str, tuple[SubPolicy, ...]] = {
    "imagenet": IMAGENET_POLICY,
    "cifar10": CIFAR10_POLICY,
    "svhn": SVHN_POLICY,
}
#: AutoAugment discretizes magnitudes into 10 bins.
AUTOAUGMENT_BINS = 10
#: AugMix's reference code scales magnitudes by ``level / 10``: 11 bins, 0..10.
AUGMIX_BINS = 11


def _require_rgb(sample: Sample, owner: str) -> None:
    channels = sample.num_channels
    if channels not in (1, 3):
        raise InputError(f"{owner} needs an RGB (3-channel) or single-channel image, got {channels} channels")


class _OpPolicy(Native, DualTransform, InterpolationArgs, FillArgs):
    """A policy that draws a list of operations and applies them in order to every target."""

    family = "auto"
    supported_channels = "rgb"

    def _resampling(self) -> Resampling:
        return Resampling(interpolation=self.interpolation, fill=self.fill, fill_mask=self.fill_mask)

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        _require_rgb(sample, type(self).__name__)
        resampling = self._resampling()
        effects = (_ops.op_effect(op, sample.shape, resampling) for op in params["ops"])
        return [effect for effect in effects if effect is not None]


class RandAugment(_OpPolicy):
    """RandAugment: ``num_ops`` operations drawn uniformly (with replacement), all at one magnitude.

    Cubuk, Zoph, Shlens and Le, "RandAugment: Practical automated data augmentation with a reduced
    search space", CVPR Workshops 2020. The 14 operations are Identity, ShearX, ShearY,
    TranslateX, TranslateY, Rotate, Brightness, Color, Contrast, Sharpness, Posterize, Solarize,
    AutoContrast and Equalize. With ``B = num_magnitude_bins`` bins and bin ``i = magnitude``:
    shear ``0.3 i / (B - 1)`` (the shear factor, a tangent), translation ``(150 / 331) i / (B - 1)``
    of the width or height in whole pixels, rotation ``30 i / (B - 1)`` degrees, the four
    enhancement factors ``1 +- 0.9 i / (B - 1)``, posterize ``8 - round(4 i / (B - 1))`` bits,
    solarize threshold ``1 - i / (B - 1)`` of white. Signed magnitudes get a random sign.

    Per target: image, images: every operation. mask, masks, boxes, keypoints: moved by the
    geometric operations (shears, translations, rotation) through the same affine map, unchanged
    by the others. Uncovered pixels get ``fill`` (``fill_mask`` in masks).

    Args:
        num_ops: operations applied per call, >= 0. Default: 2.
        magnitude: the magnitude bin, in [0, num_magnitude_bins - 1]. Default: 9.
        num_magnitude_bins: number of magnitude bins, >= 2. Default: 31.
        interpolation: OpenCV interpolation of the geometric operations. Default: 0 (nearest, as
            the reference implementations).
        fill: image value of uncovered pixels. Default: 0.
        fill_mask: mask value of uncovered pixels. Default: 0.
        p: probability of applying the policy. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    space: OpSpace = _ops.RANDAUGMENT_SPACE
    example_args = {"num_ops": 2, "magnitude": 9}

    num_ops: int
    magnitude: int
    num_magnitude_bins: int

    class InitSchema(InterpolationSchema, FillSchema):
        num_ops: Annotated[int, Bounded("repeat")] = Field(default=2, ge=0)
        magnitude: int = Field(default=9, ge=0)
        num_magnitude_bins: Annotated[int, Bounded("repeat")] = Field(default=31, ge=2)
        interpolation: WarpInterpolation = 0  # nearest, as the reference implementations
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> RandAugment.InitSchema:
            if self.magnitude >= self.num_magnitude_bins:
                raise ValueError(
                    f"magnitude must be below num_magnitude_bins ({self.num_magnitude_bins}), "
                    f"got {self.magnitude}"
                )
            return self

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        names = list(self.space)
        ops = []
        for _ in range(self.num_ops):
            name = names[int(rng.integers(len(names)))]
            ops.append(
                _ops.draw_op(rng, self.space, name, self.magnitude, self.num_magnitude_bins, sample.shape)
            )
        return {"ops": ops}


class TrivialAugmentWide(_OpPolicy):
    """TrivialAugment (wide search space): one operation, uniformly drawn, at a uniform magnitude.

    Müller and Hutter, "TrivialAugment: Tuning-free yet state-of-the-art data augmentation", ICCV
    2021. The operations are those of RandAugment with the wider ranges of the paper's "wide"
    space: with ``B = num_magnitude_bins`` bins and bin ``i`` drawn uniformly from ``0..B-1``,
    shear ``0.99 i / (B - 1)``, translation ``32 i / (B - 1)`` pixels, rotation ``135 i / (B - 1)``
    degrees, enhancement factors ``1 +- 0.99 i / (B - 1)``, posterize ``8 - round(6 i / (B - 1))``
    bits, solarize threshold ``1 - i / (B - 1)`` of white. Signed magnitudes get a random sign.

    Per target: as :class:`RandAugment` (geometric operations move masks, boxes and keypoints).

    Args:
        num_magnitude_bins: number of magnitude bins, >= 2. Default: 31.
        interpolation: OpenCV interpolation of the geometric operations. Default: 0 (nearest).
        fill: image value of uncovered pixels. Default: 0.
        fill_mask: mask value of uncovered pixels. Default: 0.
        p: probability of applying the policy. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    space: OpSpace = _ops.TRIVIALAUGMENT_WIDE_SPACE

    num_magnitude_bins: int

    class InitSchema(InterpolationSchema, FillSchema):
        num_magnitude_bins: Annotated[int, Bounded("repeat")] = Field(default=31, ge=2)
        interpolation: WarpInterpolation = 0  # nearest, as the reference implementations
        p: Probability = 1.0

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        names = list(self.space)
        name = names[int(rng.integers(len(names)))]
        bin_index = int(rng.integers(self.num_magnitude_bins))
        return {
            "ops": [_ops.draw_op(rng, self.space, name, bin_index, self.num_magnitude_bins, sample.shape)]
        }


class AutoAugment(_OpPolicy):
    """AutoAugment: one of the learned sub-policies, each two operations with their own probability.

    Cubuk, Zoph, Mané, Vasudevan and Le, "AutoAugment: Learning augmentation strategies from
    data", CVPR 2019 (the ImageNet, CIFAR-10 and SVHN policies of its appendix). A sub-policy is
    drawn uniformly; each of its two operations fires with its probability at its magnitude bin
    (10 bins): shear ``0.3 i / 9``, translation ``(150 / 331) i / 9`` of the size, rotation
    ``30 i / 9`` degrees, enhancement factors ``1 +- 0.9 i / 9``, posterize ``8 - round(4 i / 9)``
    bits, solarize threshold ``1 - i / 9`` of white; AutoContrast, Equalize and Invert have no
    magnitude. Signed magnitudes get a random sign.

    Per target: as :class:`RandAugment` (geometric operations move masks, boxes and keypoints).

    Args:
        policy: ``imagenet``, ``cifar10`` or ``svhn``. Default: ``imagenet``.
        interpolation: OpenCV interpolation of the geometric operations. Default: 0 (nearest).
        fill: image value of uncovered pixels. Default: 0.
        fill_mask: mask value of uncovered pixels. Default: 0.
        p: probability of applying the policy. Default: 1.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: uint8, float32.
    """

    space: OpSpace = _ops.AUTOAUGMENT_SPACE
    example_args = {"policy": "cifar10"}

    policy: str

    class InitSchema(InterpolationSchema, FillSchema):
        policy: Literal["imagenet", "cifar10", "svhn"] = "imagenet"
        interpolation: WarpInterpolation = 0  # nearest, as the reference implementations
        p: Probability = 1.0

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        sub_policies = AUTOAUGMENT_POLICIES[self.policy]
        chosen = int(rng.integers(len(sub_policies)))
        ops = []
        for name, probability, bin_index in sub_policies[chosen]:
            if rng.random() < probability:
                index = 0 if bin_index is None else bin_index
                ops.append(_ops.draw_op(rng, self.space, name, index, AUTOAUGMENT_BINS, sample.shape))
        return {"sub_policy": chosen, "ops": ops}


class AugMix(PixelTransform, InterpolationArgs):
    """AugMix: blend the image with a Dirichlet-weighted mix of several short augmentation chains.

    Hendrycks, Mu, Cubuk, Zoph, Gilmer and Lakshminarayanan, "AugMix: A simple data processing
    method to improve robustness and uncertainty", ICLR 2020. ``mixture_width`` chains each apply
    ``chain_depth`` operations (1 to 3, drawn per chain, when -1) drawn uniformly from
    AutoContrast, Equalize, Posterize, Rotate, Solarize, ShearX/Y and TranslateX/Y (plus
    Brightness, Color, Contrast and Sharpness with ``all_ops=True``). Each operation's magnitude
    bin is drawn uniformly from ``1..severity`` out of 11 bins (``level / 10`` of the maximum, as
    the reference code): shear up to 0.3, rotation up to 30 degrees, translation up to a third of
    the size, posterize ``4 - round(4 i / 10)`` bits, solarize threshold ``1 - i / 10`` of white,
    enhancement factors ``1 +- 0.9 i / 10``. The chains are mixed with weights ``w ~
    Dirichlet(alpha)`` and the result is ``(1 - m) image + m mix`` with ``m ~ Beta(alpha, alpha)``.

    Per target: image, images. Masks, boxes and keypoints are unchanged: the output blends copies
    warped in different ways, so no single map describes it (the paper's use is classification).

    Args:
        severity: highest magnitude bin, in [1, 10]. Default: 3.
        mixture_width: number of chains, >= 1. Default: 3.
        chain_depth: operations per chain, in [1, 10], or -1 for a random depth in 1..3. Default: -1.
        alpha: Dirichlet and Beta concentration, > 0. Default: 1.
        all_ops: include the colour enhancement operations. Default: True.
        interpolation: OpenCV interpolation of the geometric operations. Default: 1 (linear).
        fill: value of uncovered pixels. Default: 0.
        p: probability of applying the transform. Default: 1.

    Targets: image, volume
    (each also as a stack: images, volumes). Dtypes: uint8, float32.
    """

    family = "auto"
    supported_channels = "rgb"
    example_args = {"severity": 3, "mixture_width": 2}

    severity: int
    mixture_width: int
    chain_depth: int
    alpha: float
    all_ops: bool
    fill: float | tuple[float, ...]

    class InitSchema(InterpolationSchema):
        argument_order = (
            "severity",
            "mixture_width",
            "chain_depth",
            "alpha",
            "all_ops",
            "interpolation",
            "fill",
        )

        severity: int = Field(default=3, ge=1, le=10)
        mixture_width: Annotated[int, Bounded("repeat")] = Field(default=3, ge=1)
        chain_depth: int = Field(default=-1, ge=-1, le=10)
        alpha: float = Field(default=1.0, gt=0.0)
        all_ops: bool = True
        fill: Fill = 0.0
        p: Probability = 1.0

        @model_validator(mode="after")
        def _check(self) -> AugMix.InitSchema:
            if self.chain_depth == 0:
                raise ValueError("chain_depth must be -1 (random 1..3) or in [1, 10], got 0")
            return self

    def _space(self) -> dict[str, Any]:
        space = dict(_ops.AUGMIX_SPACE)
        if self.all_ops:
            space.update(_ops.AUGMIX_EXTRA_SPACE)
        return space

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        space = self._space()
        names = list(space)
        chains = []
        for _ in range(self.mixture_width):
            depth = self.chain_depth if self.chain_depth > 0 else int(rng.integers(1, 4))
            chain = []
            for _ in range(depth):
                name = names[int(rng.integers(len(names)))]
                bin_index = int(rng.integers(1, self.severity + 1))
                chain.append(_ops.draw_op(rng, space, name, bin_index, AUGMIX_BINS, sample.shape))
            chains.append(chain)
        weights = rng.dirichlet([self.alpha] * self.mixture_width)
        m = float(rng.beta(self.alpha, self.alpha))
        return {"chains": chains, "weights": [float(w) for w in weights], "m": m}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        channels = 1 if img.ndim == 2 else img.shape[2]
        if channels not in (1, 3):
            raise InputError(
                f"AugMix needs an RGB (3-channel) or single-channel image, got {channels} channels"
            )
        resampling = Resampling(interpolation=self.interpolation, fill=self.fill)
        mix = np.zeros(img.shape, np.float32)
        for weight, chain in zip(params["weights"], params["chains"]):
            out = img
            for op in chain:
                out = _ops.apply_op_to_image(out, str(op["name"]), float(op["value"]), resampling)
            mix += np.float32(weight) * out.astype(np.float32)
        m = np.float32(params["m"])
        blended = (np.float32(1.0) - m) * img.astype(np.float32) + m * mix
        if img.dtype == np.uint8:
            return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
        return np.clip(blended, 0.0, 1.0).astype(img.dtype)
