"""Domain adaptation with reference images, and text rendering."""

__all__: list[str] = []
