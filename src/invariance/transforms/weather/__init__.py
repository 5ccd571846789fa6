"""Weather and scene transforms."""

__all__: list[str] = []
