"""Pixel-level colour, tone, type and quality transforms: values change; masks, boxes and keypoints pass through."""

from invariance.transforms.pixel.color import (
    ColorJitter,
    FancyPCA,
    HueSaturationValue,
    PhotoMetricDistort,
    RandomBrightnessContrast,
    RGBShift,
)
from invariance.transforms.pixel.effects import (
    Colorize,
    Dithering,
    Enhance,
    ExposureMatching,
    FilmGrain,
    Halftone,
    ModeFilter,
    StochasticConvolution,
    Vignetting,
)
from invariance.transforms.pixel.markup import AnnotationArtifacts
from invariance.transforms.pixel.normalize import Normalize
from invariance.transforms.pixel.quality import Downscale, ImageCompression
from invariance.transforms.pixel.reduction import ChannelDropout, ChannelShuffle, ChannelSwap, ToGray, ToRGB
from invariance.transforms.pixel.scale import FromFloat, ToFloat
from invariance.transforms.pixel.tint import ChromaticAberration, PlanckianJitter, ToSepia
from invariance.transforms.pixel.tone import (
    CLAHE,
    AutoContrast,
    Equalize,
    InvertImg,
    Posterize,
    RandomGamma,
    RandomToneCurve,
    Solarize,
)

__all__ = [
    "CLAHE",
    "AnnotationArtifacts",
    "AutoContrast",
    "ChannelDropout",
    "ChannelShuffle",
    "ChannelSwap",
    "ChromaticAberration",
    "ColorJitter",
    "Colorize",
    "Dithering",
    "Downscale",
    "Enhance",
    "Equalize",
    "ExposureMatching",
    "FancyPCA",
    "FilmGrain",
    "FromFloat",
    "Halftone",
    "HueSaturationValue",
    "ImageCompression",
    "InvertImg",
    "ModeFilter",
    "Normalize",
    "PhotoMetricDistort",
    "PlanckianJitter",
    "Posterize",
    "RGBShift",
    "RandomBrightnessContrast",
    "RandomGamma",
    "RandomToneCurve",
    "Solarize",
    "StochasticConvolution",
    "ToFloat",
    "ToGray",
    "ToRGB",
    "ToSepia",
    "Vignetting",
]
