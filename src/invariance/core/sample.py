"""The targets of one pipeline call, and read access to them for parameter sampling.

A :class:`Sample` is the targets by key (in the internal layout), the kind of each, and the
current image shape. Transforms read it to draw their parameters (``sample(rng, sample)``) and
to build their effect; they never write to it. The call (:class:`invariance.core.call.Call`)
applies effects to it through each target kind's handler.

While a fused chain of warps waits to be resampled, images and masks are stale: reading them
raises instead of returning pixels the pending warps have not moved yet. A transform whose
parameters depend on pixels says so with ``reads_pixels = True`` and the call resamples first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from invariance.core.effects import Item
from invariance.core.targets import BboxParams, BoxSet, KeypointParams, PointSet

if TYPE_CHECKING:
    from invariance.core.config import TargetConfig
    from invariance.core.kinds import TargetKind

Shape = tuple[int, int]


class StalePixelsError(RuntimeError):
    """Pixels were read while warps were still buffered (a transform that reads pixels must
    declare ``reads_pixels = True``)."""


class Sample:
    """The targets of one call: ``values`` by key, the ``kinds`` of those keys, and ``shape``.

    ``config`` and ``data`` (the pipeline's target parameters and the caller's whole input) are
    there to be read: metadata for mixing transforms, BboxParams for filtering rules.
    """

    __slots__ = ("_keys", "config", "data", "kinds", "shape", "stale", "values")

    def __init__(
        self,
        shape: Shape,
        values: dict[str, Any],
        kinds: dict[str, TargetKind],
        config: TargetConfig | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.shape = shape
        self.values = values
        self.kinds = kinds  # key -> handler of its kind; fixed for the whole call
        self.config = config
        self.data: Mapping[str, Any] = {} if data is None else data
        self.stale = False  # set by the call while warps wait in its fusion buffer
        self._keys: dict[tuple[str, ...], list[str]] | None = None  # made on first use

    @classmethod
    def of(cls, shape: Shape, values: Mapping[str, Any] | None = None) -> Sample:
        """A sample holding ``values`` under the built-in keys (``image``, ``mask``...), for
        drawing a transform's parameters outside a pipeline (tests, previews)."""
        from invariance.core.kinds import Frames, kind_of

        values = dict(values or {})
        kinds = {key: kind_of(key) for key in values}
        for key, handler in kinds.items():
            if handler.name in ("images", "masks", "volumes", "masks3d") and not isinstance(
                values[key], Frames
            ):
                values[key] = Frames.of(values[key])
        return cls(shape, values, kinds)

    def __repr__(self) -> str:
        kinds = {key: handler.name for key, handler in self.kinds.items()}
        return f"Sample(shape={self.shape}, kinds={kinds})"

    # -- keys -------------------------------------------------------------------------------

    def keys_of(self, *kinds: str) -> list[str]:
        """The keys holding the given kinds, in call order (cached: kinds are fixed per call)."""
        if self._keys is None:
            self._keys = {}
        keys = self._keys.get(kinds)
        if keys is None:
            keys = self._keys[kinds] = [key for key, h in self.kinds.items() if h.name in kinds]
        return keys

    def kind_of(self, key: str) -> str:
        return self.kinds[key].name

    @property
    def height(self) -> int:
        return self.shape[0]

    @property
    def width(self) -> int:
        return self.shape[1]

    @property
    def bbox_params(self) -> BboxParams | None:
        return None if self.config is None else self.config.bbox_params

    @property
    def keypoint_params(self) -> KeypointParams | None:
        return None if self.config is None else self.config.keypoint_params

    # -- pixels -----------------------------------------------------------------------------

    def _fresh(self, key: str) -> Any:
        if self.stale:
            raise StalePixelsError(
                f"{key!r} was read while warps were waiting to be resampled; a transform whose "
                "parameters depend on pixels must declare reads_pixels = True"
            )
        return self.values[key]

    def array(self, key: str) -> Any:
        """The current value of an image or mask target (a stack as a list of frames)."""
        return self._fresh(key)

    @property
    def image(self) -> np.ndarray | None:
        """The primary image (or first frame), for transforms whose parameters depend on it."""
        for key in self.keys_of("image"):
            value: np.ndarray = self._fresh(key)
            return value
        for key in self.keys_of("images", "volume"):
            frames = self._fresh(key)
            if len(frames):
                first: np.ndarray = frames[0]  # a volume's first slice
                return first
        for key in self.keys_of("volumes"):
            grids = self._fresh(key)
            if len(grids):
                plane: np.ndarray = grids[0][0]
                return plane
        return None

    @property
    def mask(self) -> np.ndarray | None:
        for key in self.keys_of("mask"):
            value: np.ndarray = self._fresh(key)
            return value
        return None

    @property
    def masks(self) -> list[np.ndarray] | None:
        """The frames of the first ``masks`` target (instance masks), or None."""
        for key in self.keys_of("masks"):
            return list(self._fresh(key))
        return None

    def _first_array(self) -> Any:
        # Channels and dtype do not change under warps: read them without resampling.
        for key in self.keys_of("image"):
            return self.values[key]
        for key in self.keys_of("images", "volume"):
            frames = self.values[key]
            if len(frames):
                return frames[0]
        for key in self.keys_of("volumes"):
            grids = self.values[key]
            if len(grids):
                return grids[0][0]
        return None

    @property
    def num_channels(self) -> int:
        img = self._first_array()
        if img is None or img.ndim == 2:
            return 1
        return int(img.shape[2])

    @property
    def dtype(self) -> np.dtype | None:
        img = self._first_array()
        return None if img is None else img.dtype

    # -- rows -------------------------------------------------------------------------------

    def box_set(self, key: str = "bboxes") -> BoxSet | None:
        """The boxes under ``key`` (internal layout), or None."""
        value = self.values.get(key) if key in self.kinds and self.kinds[key].name == "bboxes" else None
        return value

    def point_set(self, key: str = "keypoints") -> PointSet | None:
        """The keypoints under ``key`` (internal layout), or None."""
        value = self.values.get(key) if key in self.kinds and self.kinds[key].name == "keypoints" else None
        return value

    @property
    def bboxes(self) -> np.ndarray:
        """Boxes of the main ``bboxes`` target as ``(N, 4)`` pixel ``pascal_voc`` coordinates."""
        boxes = self.box_set()
        return np.zeros((0, 4)) if boxes is None else boxes.coords

    @property
    def keypoints(self) -> np.ndarray:
        """Keypoints of the main target as ``(N, 4)`` ``x, y, angle (rad), scale``."""
        points = self.point_set()
        return np.zeros((0, 4)) if points is None else points.coords

    def item(self) -> Item:
        """This sample's main image, mask, instance masks, boxes and keypoints as an :class:`Item`."""
        image = self.image
        assert image is not None
        return Item(image, self.mask, self.masks, self.box_set(), self.point_set())


__all__ = ["Sample", "StalePixelsError"]
