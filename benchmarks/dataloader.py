"""Throughput of an augmentation pipeline inside a PyTorch DataLoader, at 0, 1 and 2 workers.

Each item is skimage's astronaut (512x512 RGB uint8) through the classification train pipeline
(RandomResizedCrop 224, HorizontalFlip, ColorJitter, Normalize), then a CHW float tensor; a batch
holds 32 items. Nothing else is done per item (no decoding), so the figure is the augmentation's
own ceiling. Worker processes set OpenCV to single-threaded mode (``cv2.setNumThreads(0)``) in
``worker_init_fn``, and torch to one thread; the main process is measured with OpenCV threads as
given by ``--main-cv-threads`` (default 0 as well).

    python benchmarks/dataloader.py [--items 1024] [--workers 0 1 2] [--library invariance|albumentations]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import argparse
import statistics
import time
from typing import Any

import cv2
import numpy as np
from compare import classification_pipeline


def build_pipeline(library: str) -> Any:
    """The classification pipeline of ``benchmarks/compare.py`` in ``library``."""
    if library == "albumentations":
        import albumentations as lib
    else:
        import invariance as lib  # type: ignore[no-redef]
    return classification_pipeline(lib)


class AugmentedImages:
    """A map-style dataset: ``length`` augmented copies of one photograph."""

    def __init__(self, library: str, length: int) -> None:
        from skimage import data

        self.image = np.ascontiguousarray(data.astronaut())
        self.pipeline = build_pipeline(library)
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Any:
        import torch

        out = self.pipeline(image=self.image)["image"]
        return torch.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1)))


def worker_init(_: int) -> None:
    """The recommended worker setup: OpenCV single-threaded, torch one thread per worker."""
    import torch

    cv2.setNumThreads(0)
    torch.set_num_threads(1)


def measure(library: str, workers: int, items: int, batch: int, repeats: int) -> float:
    """Median items per second over ``repeats`` full passes (after one untimed warm-up pass)."""
    from torch.utils.data import DataLoader

    dataset = AugmentedImages(library, items)
    loader = DataLoader(
        dataset,
        batch_size=batch,
        num_workers=workers,
        worker_init_fn=worker_init if workers else None,
        persistent_workers=workers > 0,
    )
    rates = []
    for attempt in range(repeats + 1):
        start = time.perf_counter()
        count = 0
        for images in loader:
            count += len(images)
        elapsed = time.perf_counter() - start
        if attempt:  # the first pass starts the workers
            rates.append(count / elapsed)
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--library", choices=("invariance", "albumentations", "both"), default="both")
    parser.add_argument(
        "--main-cv-threads", type=int, default=0, help="cv2.setNumThreads in the main process"
    )
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(args.main_cv_threads)
    libraries = ["invariance", "albumentations"] if args.library == "both" else [args.library]
    print(f"cores: {os.cpu_count()}; load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"torch {torch.__version__}, OpenCV {cv2.__version__}; {args.items} items, batch {args.batch}")
    print(f"{'workers':>7s} " + " ".join(f"{lib + ' items/s':>26s}" for lib in libraries))
    for workers in args.workers:
        rates = [measure(lib, workers, args.items, args.batch, args.repeats) for lib in libraries]
        print(f"{workers:7d} " + " ".join(f"{r:26.0f}" for r in rates))


if __name__ == "__main__":
    main()
