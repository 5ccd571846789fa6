"""Sequence-style transforms (frames and spectrograms)."""

__all__: list[str] = []
