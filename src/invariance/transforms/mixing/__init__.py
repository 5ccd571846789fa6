"""Transforms that mix several images (MixUp, CutMix, Mosaic, Copy-Paste, OverlayElements), and batch-level
MixUp / CutMix with soft labels (:mod:`invariance.transforms.mixing.batch`)."""

from invariance.transforms.mixing.batch import BatchCutMix, BatchMixUp
from invariance.transforms.mixing.blend import CutMix, MixUp
from invariance.transforms.mixing.copy_and_paste import CopyAndPaste
from invariance.transforms.mixing.copy_paste import CopyPaste
from invariance.transforms.mixing.mosaic import Mosaic
from invariance.transforms.mixing.overlay import OverlayElements

__all__ = [
    "BatchCutMix",
    "BatchMixUp",
    "CopyAndPaste",
    "CopyPaste",
    "CutMix",
    "MixUp",
    "Mosaic",
    "OverlayElements",
]
