"""Reading images for a pipeline: decode-aware reading (:mod:`invariance.io.decode`)."""

from invariance.io.decode import Decoded, decode_augmented, read_augmented, reduction_for

__all__ = ["Decoded", "decode_augmented", "read_augmented", "reduction_for"]
