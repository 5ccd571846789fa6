"""Non-rigid geometric transforms: dense maps move every target."""

__all__: list[str] = []
