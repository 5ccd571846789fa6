"""``invariance preview``: grids of augmented samples of the user's own images, targets overlaid.

Python API::

    from invariance.tools.preview import preview_grids
    grids = preview_grids("data/", policy="detection/medium", samples=8, seed=0)
    # [(image key, RGB grid array), ...]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import typer

from invariance.tools.annotations import Dataset, Format, read_dataset
from invariance.tools.runner import (
    augmented_record,
    dataset_pipeline,
    derive_seed,
    load_policy,
    load_record,
    overlay,
    pipeline_inputs,
)
from invariance.viz import html_page, label_tile, make_grid, save_png


def preview_record_grid(
    dataset: Dataset,
    index: int,
    policy: Any,
    samples: int = 8,
    seed: int = 0,
    show_original: bool = True,
    columns: int = 3,
    cell: int = 320,
) -> np.ndarray:
    """One grid: the original (optional) then ``samples`` augmented copies of one image."""
    record = dataset.records[index]
    pipeline = dataset_pipeline(policy, dataset.keypoint_names)
    loaded = load_record(record)
    skeleton = dataset.skeleton
    tiles = []
    if show_original:
        tiles.append(
            label_tile(
                overlay(record, loaded.image, loaded.mask, loaded.instance_masks, skeleton), "original"
            )
        )
    inputs = pipeline_inputs(record, loaded)
    for k in range(samples):
        pipeline.set_random_seed(derive_seed(seed, record.key, k))
        out = pipeline(**inputs)
        new, mask, masks = augmented_record(record, out, record.key)
        tiles.append(label_tile(overlay(new, out["image"], mask, masks, skeleton), f"sample {k + 1}"))
    return make_grid(tiles, columns=columns, cell=cell)


def preview_grids(
    source: str | Path,
    policy: Any = None,
    samples: int = 8,
    seed: int = 0,
    show_original: bool = True,
    limit: int | None = None,
    format: Format | None = None,
    columns: int = 3,
    cell: int = 320,
    progress: Callable[[], None] | None = None,
) -> list[tuple[str, np.ndarray]]:
    """Grids for the first ``limit`` images of a dataset directory: ``[(image key, grid), ...]``.

    ``policy`` is a transform, a policy file, a preset name or None (the article's starter).
    The same seed gives the same grids, whatever the order or number of images previewed.
    """
    transform = policy if policy is not None and not isinstance(policy, (str, Path)) else load_policy(policy)
    dataset = read_dataset(source, format)
    count = len(dataset.records) if limit is None else min(limit, len(dataset.records))
    grids = []
    for index in range(count):
        grid = preview_record_grid(dataset, index, transform, samples, seed, show_original, columns, cell)
        grids.append((dataset.records[index].key, grid))
        if progress is not None:
            progress()
    return grids


def write_preview(
    grids: list[tuple[str, np.ndarray]], output: Path, title: str = "invariance preview"
) -> list[Path]:
    """Write grids: one HTML page (``.html``) or PNG files (one per image; a single grid keeps the name)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() in (".html", ".htm"):
        output.write_text(html_page(title, grids), encoding="utf-8")
        return [output]
    if len(grids) == 1:
        save_png(str(output), grids[0][1])
        return [output]
    written = []
    for key, grid in grids:
        safe = key.replace("/", "__").rsplit(".", 1)[0]
        path = output.with_name(f"{output.stem}_{safe}.png")
        save_png(str(path), grid)
        written.append(path)
    return written


def command(
    source: Path = typer.Argument(
        ..., help="Dataset directory: COCO json, YOLO txt, VOC xml, or plain images."
    ),
    output: Path = typer.Option(
        Path("preview.html"),
        "--output",
        "-o",
        help="'.html': one page with every grid; '.png': one PNG per image.",
    ),
    policy: str = typer.Option(
        None, "--policy", "-p", help="Policy file (JSON/YAML) or preset name; default: the article's starter."
    ),
    samples: int = typer.Option(8, "--samples", "-n", min=1, max=64, help="Augmented samples per image."),
    seed: int = typer.Option(0, help="Base seed (same seed, same grids)."),
    original: bool = typer.Option(True, "--original/--no-original", help="Show the original first."),
    limit: int = typer.Option(16, min=1, help="Preview at most this many images."),
    format: str = typer.Option(None, "--format", help="coco, yolo, voc or images (default: detected)."),
    columns: int = typer.Option(3, min=1, help="Tiles per row."),
    cell: int = typer.Option(320, min=32, help="Tile size in pixels."),
) -> None:
    """Grids of augmented samples of your own images, with masks, boxes, keypoints overlaid."""
    from invariance.core.errors import InvarianceError
    from invariance.tools.annotations import AnnotationError
    from invariance.tools.console import advance, console, fail, progress_bar

    try:
        transform = load_policy(policy)
        dataset = read_dataset(source, format)  # type: ignore[arg-type]
        count = min(limit, len(dataset.records))
        grids = []
        with progress_bar("preview", count) as bar:
            for index in range(count):
                grid = preview_record_grid(dataset, index, transform, samples, seed, original, columns, cell)
                grids.append((dataset.records[index].key, grid))
                advance(bar)
        written = write_preview(grids, output, title=f"invariance preview: {source} ({policy or 'starter'})")
    except (InvarianceError, AnnotationError, OSError) as error:
        fail(str(error))
    console.print(f"Wrote {count} grid(s) of {samples} samples to " + ", ".join(str(p) for p in written[:3]))
