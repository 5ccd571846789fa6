"""Utility transforms: do nothing, or call the user's functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from invariance.core.errors import ParameterError, SerializationError
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.core.targets import BoxSet, PointSet, read_boxes, read_keypoints, write_boxes, write_keypoints
from invariance.core.transform import BasicTransform

__all__ = ["Lambda", "NoOp"]


class NoOp(BasicTransform):
    """Leave every target unchanged (a placeholder in a OneOf, for example).

    Args:
        p: probability of "applying" it. Default: 0.5.

    Targets: image, images, mask, masks, bboxes, keypoints. Dtypes: any.
    """

    family = "utility"

    class InitSchema(TransformSchema):
        p: Probability = 0.5

    def apply_params(self, sample: Sample, params: dict[str, Any]) -> None:
        return None


class Lambda(BasicTransform):
    """Apply user functions to each target: ``image``, ``mask``, ``bboxes`` and ``keypoints``.

    Each function is called as ``f(value, **params)`` and must return the new value. ``image``
    runs on every image and frame, ``mask`` on every mask. ``bboxes`` receives boxes in the
    pipeline's BboxParams format and ``keypoints`` in its KeypointParams format (with extra columns),
    and each must return the same number of rows (labels stay attached by position). A Lambda
    serializes by ``name`` only; give its functions again when loading (``lambda_transforms``).

    Args:
        image, mask, bboxes, keypoints: functions, or None to leave that target alone.
        name: the name used for serialization. Default: ``"Lambda"``.
        p: probability of applying the transform. Default: 1.

    Targets: image, images, mask, masks, bboxes, keypoints. Dtypes: any.
    """

    family = "utility"

    def __init__(
        self,
        image: Callable[..., Any] | None = None,
        mask: Callable[..., Any] | None = None,
        keypoints: Callable[..., Any] | None = None,
        bboxes: Callable[..., Any] | None = None,
        name: str | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        for arg_name, func in (
            ("image", image),
            ("mask", mask),
            ("keypoints", keypoints),
            ("bboxes", bboxes),
        ):
            if func is not None and not callable(func):
                raise ParameterError(
                    f"Lambda: argument {arg_name!r} = {func!r} is invalid: expected a callable or None"
                )
        self.image, self.mask, self.keypoints, self.bboxes = image, mask, keypoints, bboxes
        self.name = name or "Lambda"

    def apply_params(self, sample: Sample, params: dict[str, Any]) -> None:
        if self.image is not None:
            func = self.image
            sample.apply_pixels(lambda img: np.asarray(func(img, **params)))
        if self.mask is not None:
            mask_func = self.mask
            sample.apply_mask_pixels(lambda m: np.asarray(mask_func(m, **params)))
        if self.bboxes is not None and sample.bbox_params is not None:
            for key, boxes in sample.boxes.items():
                sample.boxes[key] = self._boxes(boxes, sample, params)
        if self.keypoints is not None and sample.keypoint_params is not None:
            for key, points in sample.points.items():
                sample.points[key] = self._points(points, sample, params)

    def _boxes(self, boxes: BoxSet, sample: Sample, params: dict[str, Any]) -> BoxSet:
        assert sample.bbox_params is not None and self.bboxes is not None
        value = write_boxes(boxes, sample.bbox_params, sample.shape)
        result = self.bboxes(value, **params)
        if len(result) != len(boxes):
            raise ParameterError(
                f"Lambda({self.name}): the bboxes function returned {len(result)} rows for {len(boxes)}"
            )
        new = read_boxes(
            np.asarray(result, dtype=np.float64).reshape(len(result), -1)[:, :4],
            "bboxes",
            sample.bbox_params,
            sample.shape,
        )
        return boxes.with_coords(new.coords)

    def _points(self, points: PointSet, sample: Sample, params: dict[str, Any]) -> PointSet:
        assert sample.keypoint_params is not None and self.keypoints is not None
        value = write_keypoints(points, sample.keypoint_params)
        result = self.keypoints(value, **params)
        if len(result) != len(points):
            raise ParameterError(
                f"Lambda({self.name}): the keypoints function returned {len(result)} rows for {len(points)}"
            )
        width = len(sample.keypoint_params.format)
        new = read_keypoints(
            np.asarray(result, dtype=np.float64).reshape(len(result), -1)[:, :width],
            "keypoints",
            sample.keypoint_params,
        )
        return points.with_coords(new.coords)

    def init_args(self) -> dict[str, Any]:
        return {"name": self.name, "p": self.p}

    def to_dict_private(self) -> dict[str, Any]:
        return {"__class_fullname__": "Lambda", "__type__": "Lambda", "name": self.name, "p": self.p}

    @classmethod
    def from_dict_private(cls, args: Mapping[str, Any], lambdas: Mapping[str, Any]) -> Any:
        name = args.get("name", "Lambda")
        if name not in lambdas:
            raise SerializationError(
                f"the policy contains Lambda {name!r}; pass lambda_transforms={{{name!r}: Lambda(...)}} to load it"
            )
        return lambdas[name]

    def __repr__(self) -> str:
        return f"Lambda(name={self.name!r}, p={self.p})"
