"""Conditional and multi-view policies."""

__all__: list[str] = []
