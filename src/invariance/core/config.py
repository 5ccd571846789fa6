"""What a pipeline knows about the targets it will be called with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from invariance.core.targets import BboxParams, KeypointParams


@dataclass(frozen=True)
class TargetConfig:
    """What a Compose knows about the targets it will be called with."""

    kinds: Mapping[str, str]
    bbox_params: BboxParams | None
    keypoint_params: KeypointParams | None
    is_check_shapes: bool = True
    strict: bool = False
    mask_interpolation: int | None = None
    #: Keys the transforms read besides targets and label fields (metadata keys such as
    #: ``mosaic_metadata``, and ``labels`` when boxes or keypoints are declared): strict mode
    #: accepts them.
    consumed: frozenset[str] = frozenset()

    @cached_property
    def label_names(self) -> frozenset[str]:
        """Every declared label field (of boxes and of keypoints)."""
        names: set[str] = set()
        if self.bbox_params is not None:
            names.update(self.bbox_params.label_fields)
        if self.keypoint_params is not None:
            names.update(self.keypoint_params.label_fields)
        return frozenset(names)
