"""Draw the pictures of docs/guide/mixing-and-occlusion.md.

Run from the repository root: ``python docs/scripts/mixing_pictures.py``. Writes small PNGs to
docs/images/ (the same seed always draws the same pictures).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import invariance as A
from invariance.data import sample_scene
from invariance.viz import draw_targets, make_grid, save_png

OUT = Path(__file__).resolve().parents[1] / "images"
H, W = 150, 200


def scene(seed: int) -> dict[str, Any]:
    data = sample_scene(H, W, seed=seed)
    # One instance mask per box (the scene's class ids follow its label order), for Copy-Paste.
    ids = {"sun": 1, "house": 2, "tree": 3, "car": 4}
    data["masks"] = [(data["mask"] == ids[name]).astype(np.uint8) for name in data["labels"]]
    return data


def shifted(seed: int, dx: int) -> dict[str, Any]:
    """A second scene with its objects elsewhere: the first scene rolled sideways."""
    data = scene(seed)
    data["image"] = np.roll(data["image"], dx, axis=1)
    data["mask"] = np.roll(data["mask"], dx, axis=1)
    data["masks"] = [np.roll(m, dx, axis=1) for m in data["masks"]]
    boxes = []
    for x0, y0, x1, y1 in data["bboxes"]:
        boxes.append([(x0 + dx) % W, y0, (x0 + dx) % W + (x1 - x0), y1])
    keep = [i for i, b in enumerate(boxes) if b[2] <= W]
    data["bboxes"] = [boxes[i] for i in keep]
    data["labels"] = [data["labels"][i] for i in keep]
    data["masks"] = [data["masks"][i] for i in keep]
    data["keypoints"], data["keypoint_labels"] = [], []
    return data


def pipeline(transform: Any) -> A.Compose:
    return A.Compose(
        [transform],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.3),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["keypoint_labels"]),
        seed=7,
    )


def show(out: dict[str, Any]) -> np.ndarray:
    return draw_targets(
        out["image"],
        mask=out.get("mask"),
        bboxes=out.get("bboxes"),
        labels=out.get("labels"),
        keypoints=out.get("keypoints"),
        keypoint_labels=out.get("keypoint_labels"),
    )


def occlusion() -> None:
    data = scene(0)
    transforms = [
        A.CoarseDropout(
            num_holes_range=(4, 6), hole_height_range=(0.1, 0.2), hole_width_range=(0.1, 0.2), p=1.0
        ),
        A.Erasing(scale=(0.1, 0.2), fill="random", p=1.0),
        A.GridDropout(ratio=0.4, unit_size_range=(30, 30), fill_mask=0, p=1.0),
        A.XYMasking(num_masks_x=2, mask_x_length=(8, 16), num_masks_y=1, mask_y_length=(8, 12), p=1.0),
        A.MaskDropout(max_objects=2, fill="inpaint_telea", p=1.0),
        A.ConstrainedCoarseDropout(
            num_holes_range=(2, 3),
            hole_height_range=(0.3, 0.5),
            hole_width_range=(0.3, 0.5),
            bbox_labels=["house"],
            p=1.0,
        ),
        A.PixelDropout(dropout_prob=0.08, p=1.0),
    ]
    tiles = [show(data)] + [show(pipeline(t)(**data)) for t in transforms]
    save_png(str(OUT / "occlusion_gallery.png"), make_grid(tiles, columns=4, cell=150))


def mixing() -> None:
    data = scene(0)
    other = shifted(1, 90)
    tiles = [show(data), show(other)]
    tiles.append(show(pipeline(A.MixUp(alpha=8.0, p=1.0))(**data, mixup_metadata=other)))
    tiles.append(show(pipeline(A.CutMix(alpha=2.0, p=1.0))(**data, cutmix_metadata=other)))
    mosaic = A.Mosaic(target_size=(H, W), cell_shape=(H // 2 + 20, W // 2 + 20), p=1.0)
    tiles.append(show(pipeline(mosaic)(**data, mosaic_metadata=[scene(2), other, scene(3)])))
    pasted = pipeline(A.CopyPaste(num_objects_range=(2, 3), p=1.0))(**data, copy_paste_metadata=other)
    tiles.append(show(pasted))
    save_png(str(OUT / "mixing_gallery.png"), make_grid(tiles, columns=3, cell=160))


def views() -> None:
    data = scene(0)
    crops = A.dino_multicrop(global_size=128, local_size=56, n_local=6, seed=3)(image=data["image"])
    save_png(str(OUT / "views_multicrop.png"), make_grid([c["image"] for c in crops], columns=4, cell=96))


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    occlusion()
    mixing()
    views()
    for path in sorted(OUT.glob("*")):
        if path.name.startswith(("occlusion_", "mixing_", "views_")):
            print(path, path.stat().st_size // 1024, "KB")
