"""Time the colour, tone, channel, quality and scale transforms against Albumentations 2.0.8.

Each transform runs with p=1 on skimage's astronaut (512x512 RGB uint8), called as a standalone
transform on both sides; the figure is the median of several repeats of a short loop. Prints
milliseconds per call and the ratio (Albumentations time / invariance time; above 1 means
invariance is faster). Run: ``python benchmarks/pixel_color_timing.py [--repeats N] [NAME ...]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")

# (name, arguments shared by both libraries); defaults unless a default would be a no-op.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("RandomBrightnessContrast", {}),
    ("ColorJitter", {}),
    ("HueSaturationValue", {}),
    ("RGBShift", {}),
    ("RandomGamma", {}),
    ("RandomToneCurve", {}),
    ("CLAHE", {}),
    ("Equalize", {}),
    ("AutoContrast", {}),
    ("Posterize", {}),
    ("Solarize", {}),
    ("InvertImg", {}),
    ("ToSepia", {}),
    ("FancyPCA", {}),
    ("ChannelShuffle", {}),
    ("ChromaticAberration", {}),
    ("PlanckianJitter", {}),
    ("ToGray", {}),
    ("ChannelDropout", {}),
    ("ImageCompression", {"quality_range": (50, 90)}),
    ("Downscale", {}),
    ("Normalize", {}),
    ("ToFloat", {}),
]


def median_ms(calls: list[Callable[[], Any]], repeats: int, loops: int) -> list[float]:
    """Median milliseconds per call of each function; repeats alternate between the functions so
    that a busy machine slows them alike."""
    for call in calls:
        call()  # warm up (lookup tables, OpenCV initialisation)
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for call, bucket in zip(calls, times):
            start = time.perf_counter()
            for _ in range(loops):
                call()
            bucket.append((time.perf_counter() - start) / loops)
    return [statistics.median(bucket) * 1000 for bucket in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="only these transforms")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--loops", type=int, default=10)
    args = parser.parse_args()

    import albumentations as Al
    import cv2
    from skimage import data

    import invariance as A
    from invariance.transforms.pixel import scale

    image = np.ascontiguousarray(data.astronaut())
    print(
        f"image {image.shape} {image.dtype}; cv2 threads {cv2.getNumThreads()}; median of {args.repeats} x {args.loops}"
    )
    print(f"{'transform':28s} {'invariance ms':>14s} {'albumentations ms':>18s} {'ratio':>7s}")
    ratios = []
    for name, kwargs in CASES:
        if args.names and name not in args.names:
            continue
        ours_cls = getattr(A, name, None) or getattr(scale, name)
        ours = ours_cls(**kwargs, p=1.0)
        theirs = getattr(Al, name)(**kwargs, p=1.0)
        ours.set_random_seed(0)
        ours_ms, theirs_ms = median_ms(
            [lambda t=ours: t(image=image), lambda t=theirs: t(image=image)], args.repeats, args.loops
        )
        ratio = theirs_ms / ours_ms
        ratios.append(ratio)
        print(f"{name:28s} {ours_ms:14.3f} {theirs_ms:18.3f} {ratio:7.2f}")
    if ratios:
        print(f"geometric mean ratio: {float(np.exp(np.mean(np.log(ratios)))):.2f}")


if __name__ == "__main__":
    main()
