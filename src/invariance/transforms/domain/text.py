"""TextImage: render text into given boxes of the image (document augmentation).

Rendering needs Pillow, and a font file. :func:`default_font_path` returns the Roboto font shipped
by the optional ``fontpkg-roboto`` package (installed with the ``text`` extra); system fonts are
never searched. Both are imported only when text is rendered.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BeforeValidator

from invariance.core.errors import InputError
from invariance.core.randomness import uniform
from invariance.core.sample import Sample
from invariance.core.schema import Probability, TransformSchema
from invariance.core.transform import PixelTransform
from invariance.kernels import domain as kd
from invariance.transforms.weather._common import check_channels

FONT_PACKAGE = "fontpkg_roboto"
FONT_FILE = "Roboto[wdth,wght].ttf"


def default_font_path() -> str:
    """Path of the Roboto TTF shipped by the ``fontpkg-roboto`` package (the ``text`` extra).

    Raises:
        ImportError: when the package is not installed.
    """
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "TextImage's bundled font needs the 'fontpkg-roboto' package: pip install 'invariance[text]'"
        )
    return str(Path(next(iter(spec.submodule_search_locations))) / "files" / FONT_FILE)


def _pil() -> tuple[Any, Any]:
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("TextImage needs Pillow: pip install 'invariance[text]'") from error
    return (Image, ImageDraw), ImageFont


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> Any:
    _, image_font = _pil()
    try:
        return image_font.truetype(path, size)
    except OSError as error:
        raise InputError(f"TextImage cannot load the font {path!r}: {error}") from None


def render_text_mask(text: str, font_path: str, size: int, box: tuple[int, int]) -> np.ndarray:
    """Glyph coverage (float32 in [0, 1]) of ``text`` drawn from the top-left of a ``box``
    ``(width, height)`` canvas; what does not fit is cut."""
    (image_mod, draw_mod), _ = _pil()
    width, height = box
    canvas = image_mod.new("L", (max(width, 1), max(height, 1)), 0)
    font = _font(font_path, max(int(size), 1))
    left, top, _, bottom = font.getbbox(text)
    y = max(0, (height - (bottom - top)) // 2) - top
    draw_mod.Draw(canvas).text((-left, y), text, fill=255, font=font)
    return np.asarray(canvas, dtype=np.float32) / np.float32(255.0)


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _fraction(pair: tuple[float, float]) -> tuple[float, float]:
    if not (0.0 <= pair[0] <= pair[1] <= 1.0):
        raise ValueError(f"expected 0 <= low <= high <= 1, got {pair}")
    return pair


UnitPair = Annotated[tuple[float, float], BeforeValidator(_tuple), AfterValidator(_fraction)]
Augmentation = Literal["insertion", "swap", "deletion"] | None


def augment_text(text: str, method: str | None, stopwords: tuple[str, ...], rng: np.random.Generator) -> str:
    """Insert a stopword, swap two words or delete one word (``None`` keeps the text)."""
    words = text.split()
    if method == "insertion" and stopwords:
        words.insert(int(rng.integers(len(words) + 1)), stopwords[int(rng.integers(len(stopwords)))])
    elif method == "swap" and len(words) > 1:
        i, j = rng.choice(len(words), 2, replace=False)
        words[i], words[j] = words[j], words[i]
    elif method == "deletion" and len(words) > 1:
        del words[int(rng.integers(len(words)))]
    return " ".join(words)


class TextImage(PixelTransform):
    """Render text into boxes given with the call, optionally changing the words first.

    The call's data holds, under ``metadata_key``, a list of dicts (or one dict) with ``"bbox"``:
    ``(x_min, y_min, x_max, y_max)`` as fractions of the image size, ``"text"``: the string, and
    optionally ``"font_color"``. A fraction (drawn from ``fraction_range``) of the boxes is
    picked; each picked text gets one of ``augmentations`` (insert a stopword, swap two words,
    delete a word, or ``None``: as is) and is drawn from the box's top-left corner, vertically
    centred, with a font size of the box height times a fraction drawn from
    ``font_size_fraction_range``, cut at the box edges. ``clear_bg`` inpaints the box first.

    Args:
        font_path: path of a TrueType font (see :func:`default_font_path` for a bundled one).
        stopwords: words used by ``insertion``. Default: ("the", "is", "in", "at", "of").
        augmentations: text changes to choose from. Default: (None,).
        fraction_range: range of the fraction of boxes to draw, inside [0, 1]. Default: (1.0, 1.0).
        font_size_fraction_range: range of the font size over the box height, inside [0, 1].
            Default: (0.8, 0.9).
        font_color: RGB colour in 0..255. Default: (0, 0, 0).
        clear_bg: inpaint the box before drawing. Default: False.
        metadata_key: key of the call's data holding the boxes and texts. Default: "textimage_metadata".
        p: probability of applying the transform. Default: 0.5.

    Targets: image, volume
    (each also as a stack: images, volumes; masks, boxes and keypoints unchanged). Dtypes: uint8, float32.
    """

    family = "domain"
    supported_channels = "rgb"

    font_path: str | Path
    stopwords: tuple[str, ...]
    augmentations: tuple[str | None, ...]
    fraction_range: tuple[float, float]
    font_size_fraction_range: tuple[float, float]
    font_color: tuple[float, ...]
    clear_bg: bool
    metadata_key: str

    class InitSchema(TransformSchema):
        font_path: str | Path
        stopwords: Annotated[tuple[str, ...], BeforeValidator(_tuple)] = ("the", "is", "in", "at", "of")
        augmentations: Annotated[tuple[Augmentation, ...], BeforeValidator(_tuple)] = (None,)
        fraction_range: UnitPair = (1.0, 1.0)
        font_size_fraction_range: UnitPair = (0.8, 0.9)
        font_color: Annotated[tuple[float, ...], BeforeValidator(_tuple)] = (0, 0, 0)
        clear_bg: bool = False
        metadata_key: str = "textimage_metadata"
        p: Probability = 0.5

    def init_args(self) -> dict[str, Any]:
        args = super().init_args()
        args["font_path"] = os.fspath(args["font_path"])
        return args

    def _items(self, sample: Sample) -> list[dict[str, Any]]:
        key = self.metadata_key
        if key not in sample.data:
            raise InputError(
                f"TextImage needs boxes and texts: pass them with the call as {key}=[{{'bbox': (x_min, y_min, "
                f"x_max, y_max), 'text': '...'}}, ...] (metadata_key={key!r})"
            )
        items = sample.data[key]
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, (list, tuple)):
            raise InputError(f"TextImage: data[{key!r}] must be a list of dicts, got {type(items).__name__}")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or "bbox" not in item or "text" not in item:
                raise InputError(f"TextImage: data[{key!r}][{i}] must be a dict with 'bbox' and 'text'")
        return list(items)

    def sample(self, rng: np.random.Generator, sample: Sample) -> dict[str, Any]:
        items = self._items(sample)
        h, w = sample.shape
        count = round(len(items) * float(uniform(rng, *self.fraction_range)))
        chosen = sorted(rng.choice(len(items), count, replace=False).tolist()) if count else []
        texts = []
        for index in chosen:
            item = items[index]
            x0, y0, x1, y1 = (float(v) for v in item["bbox"])
            box = [int(np.floor(x0 * w)), int(np.floor(y0 * h)), int(np.ceil(x1 * w)), int(np.ceil(y1 * h))]
            box = [
                min(max(box[0], 0), w),
                min(max(box[1], 0), h),
                min(max(box[2], 0), w),
                min(max(box[3], 0), h),
            ]
            method = (
                self.augmentations[int(rng.integers(len(self.augmentations)))] if self.augmentations else None
            )
            size = max(1, int((box[3] - box[1]) * float(uniform(rng, *self.font_size_fraction_range))))
            colour = [float(v) for v in item.get("font_color", self.font_color)]
            text = augment_text(str(item["text"]), method, self.stopwords, rng)
            texts.append({"bbox": box, "text": text, "font_size": size, "font_color": colour})
        return {"texts": texts}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        check_channels(img, "TextImage")
        font = os.fspath(self.font_path)
        masks, corners, colours, clear = [], [], [], []
        for entry in params["texts"]:
            x0, y0, x1, y1 = (int(v) for v in entry["bbox"])
            if x1 <= x0 or y1 <= y0:
                continue
            masks.append(
                render_text_mask(str(entry["text"]), font, int(entry["font_size"]), (x1 - x0, y1 - y0))
            )
            corners.append((x0, y0))
            colours.append(entry["font_color"])
            clear.append((x0, y0, x1, y1))
        if not masks:
            return img
        return kd.paste_text_masks(img, masks, corners, colours, clear if self.clear_bg else [])


def _example_font() -> str:
    try:
        return default_font_path()
    except ImportError:
        return FONT_FILE


TextImage.example_args = {"font_path": _example_font()}
TextImage.example_data = {"textimage_metadata": [{"bbox": (0.1, 0.1, 0.9, 0.5), "text": "a b"}]}
