"""Occlusion and dropout transforms."""

from invariance.transforms.occlusion.dropout import CoarseDropout, OcclusionTransform

__all__ = ["CoarseDropout", "OcclusionTransform"]
