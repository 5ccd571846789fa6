"""Noise transforms."""

__all__: list[str] = []
