"""``invariance demo``: the reference article's starter pipeline on the built-in scene."""

from __future__ import annotations

from pathlib import Path

import invariance as A
from invariance.data import sample_scene
from invariance.viz import draw_targets, make_grid, save_png


def starter_pipeline(seed: int | None = None) -> A.Compose:
    """The starter policy of the reference article, with boxes and keypoints declared."""
    return A.Compose(
        [
            A.RandomResizedCrop(size=(512, 512), scale=(0.8, 1.0), p=1.0),
            A.HorizontalFlip(p=0.5),
            A.Rotate(limit=10, p=0.3),
            A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.4),
            A.GaussianBlur(blur_limit=(3, 5), p=0.1),
            A.CoarseDropout(
                num_holes_range=(1, 6), hole_height_range=(0.05, 0.15), hole_width_range=(0.05, 0.15), p=0.2
            ),
        ],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.2),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["keypoint_labels"]),
        seed=seed,
    )


def run_demo(output: Path, samples: int = 8, seed: int = 0) -> Path:
    """Augment the built-in scene ``samples`` times and write a grid with all targets overlaid."""
    scene = sample_scene()
    pipeline = starter_pipeline(seed)
    tiles = [draw_targets(**scene)] + [draw_targets(**pipeline(**scene)) for _ in range(samples)]
    grid = make_grid(tiles, columns=3, cell=320)
    output.parent.mkdir(parents=True, exist_ok=True)
    save_png(str(output), grid)
    return output
