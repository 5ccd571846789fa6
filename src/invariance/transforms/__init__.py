"""The catalogue: transforms grouped by family, one package per family (each lists its ``__all__``)."""
