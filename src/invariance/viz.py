"""Drawing helpers: overlay masks, boxes and keypoints on images, and tile samples into grids.

Usable from notebooks: ``invariance.viz.draw_targets(**pipeline(**sample))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

PALETTE = np.array(
    [
        (230, 25, 75),
        (60, 180, 75),
        (255, 225, 25),
        (0, 130, 200),
        (245, 130, 48),
        (145, 30, 180),
        (70, 240, 240),
        (240, 50, 230),
        (210, 245, 60),
        (250, 190, 212),
        (0, 128, 128),
        (220, 190, 255),
    ],
    dtype=np.uint8,
)


def color_for(key: Any) -> tuple[int, int, int]:
    """A stable colour for a label (same label, same colour across images)."""
    index = sum(str(key).encode()) % len(PALETTE)
    r, g, b = (int(c) for c in PALETTE[index])
    return r, g, b


def to_display(image: np.ndarray) -> np.ndarray:
    """Make any pipeline output (uint8 or float, 1-4+ channels) a uint8 RGB array for drawing."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        low, high = float(img.min()), float(img.max())
        if low >= 0.0 and high <= 1.0:
            img = (img * 255.0).round()
        elif high > low:
            img = (img - low) / (high - low) * 255.0
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


def draw_targets(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    bboxes: Sequence[Sequence[float]] | np.ndarray | None = None,
    labels: Sequence[Any] | None = None,
    keypoints: Sequence[Sequence[float]] | np.ndarray | None = None,
    keypoint_labels: Sequence[Any] | None = None,
    skeleton: Sequence[tuple[int, int]] | None = None,
    mask_alpha: float = 0.4,
    masks: Sequence[np.ndarray] | None = None,
    keypoint_visible: Sequence[bool] | None = None,
    **_: Any,
) -> np.ndarray:
    """Return an RGB uint8 copy of ``image`` with the targets drawn on it.

    ``mask`` is a class-id mask (each id its own colour); ``masks`` are instance masks (one
    colour and an outline each). ``bboxes`` are ``pascal_voc`` pixels (extra columns ignored),
    named by ``labels``; ``keypoints`` are ``x, y`` pixels, ``keypoint_visible`` hides some of them
    (and the skeleton edges that touch them); ``skeleton`` lists keypoint index pairs to join. Extra
    keyword arguments are ignored so a pipeline's whole output dict can be passed with ``**``.
    """
    canvas = to_display(image).copy()
    if mask is not None:
        m = np.asarray(mask)
        if m.ndim == 3:
            m = m.argmax(axis=2) if m.shape[2] > 1 else m[:, :, 0]
        ids = m.astype(np.int64)
        colored = PALETTE[ids % len(PALETTE)]
        region = ids > 0
        canvas[region] = (canvas[region] * (1 - mask_alpha) + colored[region] * mask_alpha).astype(np.uint8)
    for index, instance in enumerate(masks or []):
        layer = np.asarray(instance)
        if layer.ndim == 3:
            layer = layer.max(axis=2)
        inside = layer > 0
        if inside.shape != canvas.shape[:2] or not inside.any():
            continue
        tint = PALETTE[(index + 3) % len(PALETTE)].astype(np.float32)
        canvas[inside] = (canvas[inside] * (1 - mask_alpha) + tint * mask_alpha).astype(np.uint8)
        outline, _hierarchy = cv2.findContours(
            inside.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
        )
        cv2.drawContours(canvas, outline, -1, tuple(int(c) for c in tint), 1, cv2.LINE_AA)
    thickness = max(1, round(min(canvas.shape[:2]) / 250))
    if bboxes is not None:
        for i, box in enumerate(bboxes):
            x0, y0, x1, y1 = (round(float(v)) for v in list(box)[:4])
            name = (
                labels[i]
                if labels is not None and i < len(labels)
                else (list(box)[4] if len(box) > 4 else "")
            )
            color = color_for(name)
            cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), color, thickness)
            if name != "":
                cv2.putText(
                    canvas,
                    str(name),
                    (x0 + 2, max(y0 - 4, 10)),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thickness,
                    color,
                    thickness,
                    cv2.LINE_AA,
                )
    if keypoints is not None:
        points = [(float(k[0]), float(k[1])) for k in keypoints]
        shown = [True] * len(points) if keypoint_visible is None else [bool(v) for v in keypoint_visible]
        shown += [True] * (len(points) - len(shown))
        if skeleton:
            for a, b in skeleton:
                if a < len(points) and b < len(points) and shown[a] and shown[b]:
                    pa = (round(points[a][0]), round(points[a][1]))
                    pb = (round(points[b][0]), round(points[b][1]))
                    cv2.line(canvas, pa, pb, (255, 255, 255), thickness, cv2.LINE_AA)
        for i, (x, y) in enumerate(points):
            if not shown[i]:
                continue
            name = keypoint_labels[i] if keypoint_labels is not None and i < len(keypoint_labels) else i
            center = (round(x), round(y))
            cv2.circle(canvas, center, 2 + thickness, (255, 255, 255), -1, cv2.LINE_AA)
            cv2.circle(canvas, center, 1 + thickness, color_for(name), -1, cv2.LINE_AA)
    return canvas


def make_grid(
    images: Sequence[np.ndarray], columns: int = 4, pad: int = 4, cell: int | None = None
) -> np.ndarray:
    """Tile RGB images into one image, each fitted (aspect kept) into a square cell."""
    if not images:
        raise ValueError("make_grid needs at least one image")
    cell = cell or max(max(im.shape[:2]) for im in images)
    columns = max(1, min(columns, len(images)))
    rows = (len(images) + columns - 1) // columns
    grid = np.full((rows * (cell + pad) + pad, columns * (cell + pad) + pad, 3), 255, np.uint8)
    for index, im in enumerate(images):
        rgb = to_display(im)
        scale = cell / max(rgb.shape[:2])
        h, w = max(1, int(rgb.shape[0] * scale)), max(1, int(rgb.shape[1] * scale))
        fitted = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        r, c = divmod(index, columns)
        y = pad + r * (cell + pad) + (cell - h) // 2
        x = pad + c * (cell + pad) + (cell - w) // 2
        grid[y : y + h, x : x + w] = fitted
    return grid


def label_tile(image: np.ndarray, text: str) -> np.ndarray:
    """``image`` (as display RGB) with a caption band on top, for grids."""
    rgb = to_display(image)
    scale = max(rgb.shape[:2]) / 640  # constant on screen once the grid fits the tile to its cell
    band = max(8, round(40 * scale))
    out = np.full((rgb.shape[0] + band, rgb.shape[1], 3), 255, np.uint8)
    out[band:] = rgb
    cv2.putText(
        out,
        text,
        (4, band - max(2, round(10 * scale))),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (0, 0, 0),
        max(1, round(2 * scale)),
        cv2.LINE_AA,
    )
    return out


def png_bytes(image: np.ndarray, compression: int = 6) -> bytes:
    """Encode an RGB image as PNG bytes (for HTML pages and notebooks)."""
    ok, buffer = cv2.imencode(
        ".png", cv2.cvtColor(to_display(image), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, compression]
    )
    if not ok:
        raise OSError("could not encode the image as PNG")
    return buffer.tobytes()


def html_page(title: str, sections: Sequence[tuple[str, np.ndarray]], note: str = "") -> str:
    """A self-contained HTML page: one heading and one embedded (base64 PNG) image per section."""
    import base64
    import html

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:1.5em;background:#fafafa}"
        "img{max-width:100%;border:1px solid #ddd}h2{font-size:1em;margin-top:1.5em}"
        "p.note{color:#555}</style>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if note:
        parts.append(f'<p class="note">{html.escape(note)}</p>')
    for heading, image in sections:
        data = base64.b64encode(png_bytes(image)).decode("ascii")
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(f'<img alt="{html.escape(heading)}" src="data:image/png;base64,{data}">')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def save_png(path: str, image: np.ndarray, compression: int = 9) -> None:
    """Write an RGB image as PNG (``compression`` 0-9: 9 is smallest, for docs and reports)."""
    bgr = cv2.cvtColor(to_display(image), cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_PNG_COMPRESSION, compression]):
        raise OSError(f"could not write {path}")
