"""AnnotationArtifacts: synthetic human markup (AlbumentationsX name) drawn on the image."""

from __future__ import annotations

import math
import string
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from invariance.core.randomness import integer, uniform
from invariance.core.sample import Sample
from invariance.core.schema import FloatRange, IntRange, Probability, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels.markup import draw_markup

ElementType = Literal["text", "rectangle", "arrow", "line", "callout"]
_ALPHABET = string.ascii_uppercase + string.digits


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class AnnotationArtifacts(PixelTransform):
    """Draw sparse synthetic markup, as people leave on scientific figures, medical images and
    screenshots: short text tokens, rectangles, arrows, guide lines and zoom callouts.

    A number of elements drawn from ``count_range`` is placed, each of a type drawn from
    ``element_types`` with the weights ``element_probabilities``. Strokes are
    ``thickness_range`` pixels wide and anti-aliased. Ink is black or white (even odds) with
    probability ``black_white_prob``, else red (the first channel only, the rest zero), so any
    channel count works.

    * text: ``text_length_range`` letters and digits at a font scale from ``font_scale_range``;
      with probability ``corner_prob`` near a random corner (as labels and scale marks sit),
      else anywhere.
    * rectangle: an outline whose sides are fractions (``size_ratio_range``) of the shorter side.
    * arrow: a random direction, its length a fraction (``line_length_ratio_range``) of the
      shorter side, its head a fraction (``tip_length_range``) of its length.
    * line: a horizontal or vertical guide line, a fraction (``line_length_ratio_range``) of the
      image's width or height long.
    * callout: a small source box (``size_ratio_range`` / 2) whose content is shown magnified two
      times in a target box elsewhere, both outlined and joined by two lines.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged: markup hides no object).
    Dtypes: uint8, float32.

    Args:
        element_types: the types to draw. Default: all five.
        element_probabilities: sampling weights, one per type (>= 0, not all 0).
            Default: (0.35, 0.2, 0.2, 0.15, 0.1).
        count_range: range of the number of elements (>= 0). Default: (1, 3).
        text_length_range: range of the characters per text token (>= 1). Default: (1, 5).
        font_scale_range: range of the OpenCV font scale (> 0). Default: (0.3, 1.2).
        thickness_range: range of the stroke width in pixels (>= 1). Default: (1, 3).
        size_ratio_range: range of box sides as fractions of the shorter side, in (0, 1].
            Default: (0.1, 0.35).
        line_length_ratio_range: range of arrow and line lengths as fractions, in (0, 1].
            Default: (0.1, 0.8).
        tip_length_range: range of the arrow head as a fraction of the arrow, in (0, 1].
            Default: (0.2, 0.4).
        corner_prob: probability that a text token sits near a corner. Default: 0.6.
        black_white_prob: probability of black or white ink (else red). Default: 0.85.
        p: probability of applying the transform. Default: 0.5.
    """

    element_types: tuple[str, ...]
    element_probabilities: tuple[float, ...]
    count_range: tuple[int, int]
    text_length_range: tuple[int, int]
    font_scale_range: tuple[float, float]
    thickness_range: tuple[int, int]
    size_ratio_range: tuple[float, float]
    line_length_ratio_range: tuple[float, float]
    tip_length_range: tuple[float, float]
    corner_prob: float
    black_white_prob: float

    class InitSchema(TransformSchema):
        element_types: Annotated[tuple[ElementType, ...], BeforeValidator(_tuple)] = (
            "text",
            "rectangle",
            "arrow",
            "line",
            "callout",
        )
        element_probabilities: Annotated[tuple[float, ...], BeforeValidator(_tuple)] = (
            0.35,
            0.2,
            0.2,
            0.15,
            0.1,
        )
        count_range: IntRange = (1, 3)
        text_length_range: IntRange = (1, 5)
        font_scale_range: FloatRange = (0.3, 1.2)
        thickness_range: IntRange = (1, 3)
        size_ratio_range: FloatRange = (0.1, 0.35)
        line_length_ratio_range: FloatRange = (0.1, 0.8)
        tip_length_range: FloatRange = (0.2, 0.4)
        corner_prob: float = Field(default=0.6, ge=0.0, le=1.0)
        black_white_prob: float = Field(default=0.85, ge=0.0, le=1.0)
        p: Probability = 0.5

        @model_validator(mode="after")
        def _check(self) -> AnnotationArtifacts.InitSchema:
            if not self.element_types:
                raise ValueError("element_types must name at least one type")
            if len(self.element_probabilities) != len(self.element_types):
                raise ValueError(
                    f"element_probabilities needs one weight per element type: {len(self.element_types)} "
                    f"types, {len(self.element_probabilities)} weights"
                )
            if min(self.element_probabilities) < 0 or sum(self.element_probabilities) <= 0:
                raise ValueError(
                    f"element_probabilities must be >= 0 and not all 0, got {self.element_probabilities}"
                )
            for name, low in (("count_range", 0), ("text_length_range", 1), ("thickness_range", 1)):
                if getattr(self, name)[0] < low:
                    raise ValueError(f"{name} must be >= {low}, got {getattr(self, name)}")
            if self.font_scale_range[0] <= 0:
                raise ValueError(f"font_scale_range must be > 0, got {self.font_scale_range}")
            for name in ("size_ratio_range", "line_length_ratio_range", "tip_length_range"):
                pair = getattr(self, name)
                if not 0.0 < pair[0] <= pair[1] <= 1.0:
                    raise ValueError(f"{name} must lie in (0, 1], got {pair}")
            return self

    def _colour(self, rng: np.random.Generator) -> str:
        if rng.random() < self.black_white_prob:
            return "black" if rng.random() < 0.5 else "white"
        return "red"

    def _element(self, kind: str, rng: np.random.Generator, h: int, w: int) -> dict[str, Any]:
        short = min(h, w)
        element: dict[str, Any] = {
            "type": kind,
            "colour": self._colour(rng),
            "thickness": integer(rng, self.thickness_range[0], self.thickness_range[1] + 1),
        }
        if kind == "text":
            letters = integer(rng, self.text_length_range[0], self.text_length_range[1] + 1)
            element["text"] = "".join(_ALPHABET[integer(rng, 0, len(_ALPHABET))] for _ in range(letters))
            element["scale"] = uniform(rng, *self.font_scale_range)
            if rng.random() < self.corner_prob:
                margin = 0.08
                fx = uniform(rng, 0.0, margin) if rng.random() < 0.5 else uniform(rng, 0.6, 0.8)
                fy = uniform(rng, 0.1, 0.1 + margin) if rng.random() < 0.5 else uniform(rng, 1 - margin, 0.98)
            else:
                fx, fy = uniform(rng, 0.0, 0.8), uniform(rng, 0.1, 0.98)
            element["origin"] = [fx * w, fy * h]
        elif kind == "rectangle":
            bw, bh = (
                uniform(rng, *self.size_ratio_range) * short,
                uniform(rng, *self.size_ratio_range) * short,
            )
            x0, y0 = uniform(rng, 0.0, max(w - bw, 0.0)), uniform(rng, 0.0, max(h - bh, 0.0))
            element["box"] = [x0, y0, x0 + bw, y0 + bh]
        elif kind == "arrow":
            length = uniform(rng, *self.line_length_ratio_range) * short
            angle = uniform(rng, 0.0, 2 * math.pi)
            end = [uniform(rng, 0.0, w - 1), uniform(rng, 0.0, h - 1)]
            element["start"] = [end[0] - length * math.cos(angle), end[1] - length * math.sin(angle)]
            element["end"] = end
            element["tip"] = uniform(rng, *self.tip_length_range)
        elif kind == "line":
            horizontal = rng.random() < 0.5
            extent = w if horizontal else h
            length = uniform(rng, *self.line_length_ratio_range) * extent
            start = uniform(rng, 0.0, max(extent - length, 0.0))
            at = uniform(rng, 0.0, (h if horizontal else w) - 1)
            element["start"] = [start, at] if horizontal else [at, start]
            element["end"] = [start + length, at] if horizontal else [at, start + length]
        else:
            side = max(uniform(rng, *self.size_ratio_range) * short / 2, 2.0)
            sx, sy = uniform(rng, 0.0, max(w - side, 0.0)), uniform(rng, 0.0, max(h - side, 0.0))
            big = 2 * side
            tx, ty = uniform(rng, 0.0, max(w - big, 0.0)), uniform(rng, 0.0, max(h - big, 0.0))
            element["source"] = [sx, sy, sx + side, sy + side]
            element["target"] = [tx, ty, tx + big, ty + big]
        return element

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        h, w = sample.shape
        weights = np.asarray(self.element_probabilities, np.float64)
        cumulative = np.cumsum(weights / weights.sum())
        elements = []
        for _ in range(integer(rng, self.count_range[0], self.count_range[1] + 1)):
            index = min(int(np.searchsorted(cumulative, rng.random(), side="right")), len(cumulative) - 1)
            elements.append(self._element(self.element_types[index], rng, h, w))
        return {"elements": elements}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return draw_markup(img, params["elements"])
