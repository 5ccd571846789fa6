"""The engine: pipelines, targets and formats, randomness, geometry, serialization, errors."""
