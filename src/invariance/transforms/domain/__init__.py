"""Domain adaptation with reference images, and text rendering.

``TextImage`` lives in :mod:`invariance.transforms.domain.text`; it needs the optional ``text``
extra (Pillow and the ``fontpkg-roboto`` font) and is imported from there explicitly.
"""

from invariance.transforms.domain.adaptation import FDA, HistogramMatching, PixelDistributionAdaptation

__all__ = ["FDA", "HistogramMatching", "PixelDistributionAdaptation"]
