"""Epoch time with and without caching the deterministic head (decode + resize to base resolution).

Writes a folder of real JPEG photographs (scikit-image's astronaut, coffee, chelsea, rocket and
others, upscaled to 1-3 megapixels with small crops and flips so that every file differs), then
reads the whole folder through a classification policy whose head is ``SmallestMaxSize(256)`` +
``CenterCrop(256)`` and whose tail is random (RandomCrop 224, flip, brightness/contrast, blur,
Normalize, ToTensorV2). Three datasets, each read for several epochs in this process (no worker,
OpenCV single-threaded, as in one DataLoader worker):

- ``AugmentedDataset``: decode + head + tail every epoch (the uncached path);
- ``CachedDataset(cache="memory")``: decode + head once, tail every epoch;
- ``CachedDataset(cache="disk")``: the same, the head's output in ``.npy`` files.

It also checks that the cached samples equal the uncached ones for the seed.

    python benchmarks/prefix_cache.py [--images 48] [--epochs 4] [--folder /tmp/jpegs]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "cat")
#: (height, width) of the written files: 1.2, 1.9 and 2.8 megapixels.
SIZES = ((960, 1280), (1200, 1600), (1365, 2048))


def write_jpegs(folder: Path, count: int, quality: int = 90) -> list[Path]:
    """``count`` distinct JPEG photographs of 1-3 MP under ``folder`` (reused when present)."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    photos = [np.ascontiguousarray(getattr(data, name)()) for name in PHOTOS]
    paths = []
    for index in range(count):
        path = folder / f"photo_{index:04d}.jpg"
        paths.append(path)
        if path.exists():
            continue
        photo = photos[index % len(photos)]
        h, w = photo.shape[:2]
        trim = index // len(photos) % 8  # a slightly different crop for each repeat
        photo = photo[trim : h - trim, trim : w - trim]
        if index // len(photos) % 2:
            photo = photo[:, ::-1]
        height, width = SIZES[index % len(SIZES)]
        big = cv2.resize(np.ascontiguousarray(photo), (width, height), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(path), cv2.cvtColor(big, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return paths


def policy() -> Any:
    import invariance as A
    from invariance.pytorch import ToTensorV2

    return A.Compose(
        [
            A.SmallestMaxSize(max_size=256),
            A.CenterCrop(256, 256),
            A.RandomCrop(224, 224),
            A.HorizontalFlip(),
            A.RandomBrightnessContrast(p=0.4),
            A.GaussianBlur(blur_limit=(3, 5), p=0.1),
            A.Normalize(),
            ToTensorV2(),
        ],
        seed=0,
    )


def epochs(dataset: Any, count: int) -> list[float]:
    """Seconds per full pass over ``dataset``, ``count`` passes."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        for index in range(len(dataset)):
            dataset[index]
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--folder", type=Path, default=None, help="where the JPEGs go (default: a temp dir)")
    args = parser.parse_args()

    import torch

    from invariance.integrations.torch import AugmentedDataset, CachedDataset

    cv2.setNumThreads(0)
    torch.set_num_threads(1)
    scratch = Path(tempfile.mkdtemp(prefix="invariance-cache-bench-"))
    folder = args.folder or scratch / "jpegs"
    paths = write_jpegs(folder, args.images)
    megapixels = statistics.mean(
        np.prod(cv2.imread(str(p), cv2.IMREAD_REDUCED_GRAYSCALE_8).shape) * 64 / 1e6 for p in paths
    )
    size_mb = sum(p.stat().st_size for p in paths) / 1e6
    items = [(p, 0) for p in paths]

    uncached = AugmentedDataset(items, policy())
    memory = CachedDataset(items, policy(), cache="memory")
    disk = CachedDataset(items, policy(), cache="disk", cache_dir=scratch / "cache")
    results = {
        "uncached (AugmentedDataset)": epochs(uncached, args.epochs),
        'CachedDataset(cache="memory")': epochs(memory, args.epochs),
        'CachedDataset(cache="disk")': epochs(disk, args.epochs),
    }
    # same samples for the seed: fresh datasets, one epoch each
    a, b = AugmentedDataset(items, policy()), CachedDataset(items, policy(), cache="memory")
    same = all(torch.equal(a[i][0], b[i][0]) for i in range(len(items)))
    assert disk.store is not None and disk.store.folder is not None
    cache_mb = sum(f.stat().st_size for f in disk.store.folder.glob("*.npy")) / 1e6

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, one process")
    print(f"OpenCV {cv2.__version__}, numpy {np.__version__}, torch {torch.__version__}")
    print(
        f"{len(paths)} JPEGs, {megapixels:.1f} MP on average, {size_mb:.1f} MB; disk cache {cache_mb:.1f} MB"
    )
    print(f"cached samples identical to uncached for the seed: {same}\n")
    base = statistics.median(results["uncached (AugmentedDataset)"][1:])
    print("| dataset | epoch 1 (ms / image) | later epochs (ms / image, median) | speed-up, later epochs |")
    print("|---|---:|---:|---:|")
    for name, times in results.items():
        first = 1000 * times[0] / len(paths)
        later = statistics.median(times[1:])
        print(f"| {name} | {first:.1f} | {1000 * later / len(paths):.1f} | {base / later:.1f}x |")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
