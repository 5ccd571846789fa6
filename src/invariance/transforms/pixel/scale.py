"""Value-scale conversions between integer and float images."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from invariance.core.schema import Probability, TransformSchema
from invariance.core.transform import PixelTransform

_INTEGER_MAX = {"uint8": 255.0, "uint16": 65535.0, "uint32": 4294967295.0}


def _default_max(dtype: np.dtype) -> float:
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    return 1.0


class ToFloat(PixelTransform):
    """Convert to float32 by dividing by ``max_value`` (255 for uint8 when not given).

    Args:
        max_value: the input's white level, > 0; None means the dtype's maximum (1 for floats).
            Default: None.
        p: probability of applying the transform. Default: 1.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32 in;
    float32 out.
    """

    changes_dtype = True

    max_value: float | None

    class InitSchema(TransformSchema):
        max_value: float | None = Field(default=None, gt=0)
        p: Probability = 1.0

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        white = self.max_value if self.max_value is not None else _default_max(img.dtype)
        return np.multiply(img, np.float32(1.0 / white), dtype=np.float32)


class FromFloat(PixelTransform):
    """Convert a float image to an integer dtype: ``round(img * max_value)``, clipped to the dtype.

    Integer images pass through unchanged.

    Args:
        dtype: ``uint8``, ``uint16`` or ``uint32``. Default: ``uint8``.
        max_value: the output's white level; None means the dtype's maximum. Default: None.
        p: probability of applying the transform. Default: 1.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: float32 in; ``dtype`` out.
    """

    changes_dtype = True

    dtype: str
    max_value: float | None

    class InitSchema(TransformSchema):
        dtype: Literal["uint8", "uint16", "uint32"] = "uint8"
        max_value: float | None = Field(default=None, gt=0)
        p: Probability = 1.0

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if np.issubdtype(img.dtype, np.integer):
            return img.copy()
        top = _INTEGER_MAX[self.dtype]
        white = self.max_value if self.max_value is not None else top
        scaled = np.rint(img.astype(np.float64) * white)
        return np.clip(scaled, 0, top).astype(self.dtype)
