"""Domain adaptation with reference images, and text rendering.

``TextImage`` renders with the optional ``text`` extra (Pillow and the ``fontpkg-roboto`` font);
it is importable without them and explains what to install when it runs.
"""

from invariance.transforms.domain.adaptation import FDA, HistogramMatching, PixelDistributionAdaptation
from invariance.transforms.domain.text import TextImage

__all__ = ["FDA", "HistogramMatching", "PixelDistributionAdaptation", "TextImage"]
