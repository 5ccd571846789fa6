"""Transforms that mix several images (MixUp, CutMix, Mosaic, Copy-Paste)."""

__all__: list[str] = []
