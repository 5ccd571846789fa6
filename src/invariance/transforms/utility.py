"""Utility transforms: do nothing, or call the user's functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from invariance.core.compat import DualTransform, Native
from invariance.core.effects import Effect, Effects, MoveRows, Pixels
from invariance.core.errors import ParameterError, SerializationError
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.core.targets import (
    BboxParams,
    BoxSet,
    KeypointParams,
    PointSet,
    read_boxes,
    read_keypoints,
    write_boxes,
    write_keypoints,
)

__all__ = ["Lambda", "NoOp"]


class NoOp(Native, DualTransform):
    """Leave every target unchanged (a placeholder in a OneOf, for example).

    Args:
        p: probability of "applying" it. Default: 0.5.

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
    """

    family = "utility"

    class InitSchema(TransformSchema):
        p: Probability = 0.5

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        return None


class Lambda(Native, DualTransform):
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

    Targets: image, mask, bboxes, keypoints, volume, mask3d
    (each also as a stack: images, masks, volumes, masks3d). Dtypes: any.
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

    def effect(self, params: dict[str, Any], sample: Sample) -> Effects:
        image_func, mask_func = self.image, self.mask
        effects: list[Effect] = []
        if image_func is not None or mask_func is not None:
            effects.append(
                Pixels(
                    None if image_func is None else lambda img: np.asarray(image_func(img, **params)),
                    None if mask_func is None else lambda m: np.asarray(mask_func(m, **params)),
                )
            )
        box_params, point_params = sample.bbox_params, sample.keypoint_params
        boxes = None
        if self.bboxes is not None and box_params is not None:
            box_func = self.bboxes

            def boxes(rows: BoxSet, shape: tuple[int, int]) -> BoxSet:
                return self._boxes(rows, shape, box_params, lambda value: box_func(value, **params))

        points = None
        if self.keypoints is not None and point_params is not None:
            point_func = self.keypoints

            def points(rows: PointSet, shape: tuple[int, int]) -> PointSet:
                return self._points(rows, point_params, lambda value: point_func(value, **params))

        if boxes is not None or points is not None:
            effects.append(MoveRows(boxes, points, filter=False))
        return effects

    def _boxes(
        self, boxes: BoxSet, shape: tuple[int, int], params: BboxParams, func: Callable[[Any], Any]
    ) -> BoxSet:
        result = func(write_boxes(boxes, params, shape))
        if len(result) != len(boxes):
            raise ParameterError(
                f"Lambda({self.name}): the bboxes function returned {len(result)} rows for {len(boxes)}"
            )
        new = read_boxes(
            np.asarray(result, dtype=np.float64).reshape(len(result), -1)[:, :4], "bboxes", params, shape
        )
        return boxes.with_coords(new.coords)

    def _points(self, points: PointSet, params: KeypointParams, func: Callable[[Any], Any]) -> PointSet:
        result = func(write_keypoints(points, params))
        if len(result) != len(points):
            raise ParameterError(
                f"Lambda({self.name}): the keypoints function returned {len(result)} rows for {len(points)}"
            )
        width = len(params.format)
        new = read_keypoints(
            np.asarray(result, dtype=np.float64).reshape(len(result), -1)[:, :width], "keypoints", params
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
