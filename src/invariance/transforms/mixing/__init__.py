"""Transforms that mix several images (MixUp, CutMix, Mosaic, Copy-Paste)."""

from invariance.transforms.mixing.blend import CutMix, MixUp
from invariance.transforms.mixing.copy_paste import CopyPaste
from invariance.transforms.mixing.mosaic import Mosaic

__all__ = ["CopyPaste", "CutMix", "MixUp", "Mosaic"]
