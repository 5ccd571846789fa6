"""Conditional and multi-view policies."""

from invariance.transforms.policies.conditional import ConditionalCompose
from invariance.transforms.policies.views import MultiCrop, MultiView, dino_multicrop

__all__ = ["ConditionalCompose", "MultiCrop", "MultiView", "dino_multicrop"]
