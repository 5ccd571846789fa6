"""Time the blur, filter and noise transforms against Albumentations 2.0.8 (not a test).

Each transform runs with p=1 on ``skimage.data.astronaut()`` (512x512x3 uint8; ``--float`` uses
float32 in [0, 1]), both libraries with the same arguments. Rows with default arguments draw
random kernel sizes per call in each library; the rows with pinned sizes compare like for like. The table shows the median time per
call over ``--repeats`` calls and the ratio Albumentations / invariance (> 1: invariance is faster).

    python benchmarks/blur_noise_timing.py [--repeats 30] [--float] [--only Blur,GaussNoise]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

CASES: list[tuple[str, dict[str, Any]]] = [
    ("Blur", {}),
    ("Blur", {"blur_limit": (7, 7)}),
    ("GaussianBlur", {}),
    ("GaussianBlur", {"sigma_limit": (2.0, 2.0)}),
    ("MedianBlur", {}),
    ("MedianBlur", {"blur_limit": (5, 5)}),
    ("MotionBlur", {}),
    ("GlassBlur", {}),
    ("Defocus", {}),
    ("Defocus", {"radius": (5, 5)}),
    ("ZoomBlur", {}),
    ("ZoomBlur", {"max_factor": (1.2, 1.2), "step_factor": (0.02, 0.02)}),
    ("AdvancedBlur", {}),
    ("Sharpen", {}),
    ("UnsharpMask", {}),
    ("Emboss", {}),
    ("RingingOvershoot", {}),
    ("RingingOvershoot", {"blur_limit": (11, 11)}),
    ("Superpixels", {}),
    ("GaussNoise", {}),
    ("ISONoise", {}),
    ("MultiplicativeNoise", {}),
    ("MultiplicativeNoise", {"per_channel": True, "elementwise": True}),
    ("ShotNoise", {}),
    ("SaltAndPepper", {}),
    ("AdditiveNoise", {}),
    ("AdditiveNoise", {"noise_type": "gaussian", "spatial_mode": "per_pixel"}),
]


def _median_times(first: Callable[[], Any], second: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median seconds per call of each, with the calls interleaved so load changes hit both alike."""
    for _ in range(min(3, repeats)):
        first()
        second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for call, bucket in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            call()
            bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--float", action="store_true", help="float32 image in [0, 1] instead of uint8")
    parser.add_argument("--only", default="", help="comma-separated transform names")
    args = parser.parse_args()

    import cv2
    from skimage import data

    import invariance as A

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import albumentations as Al

    cv2.setNumThreads(1)
    image = np.ascontiguousarray(data.astronaut())
    if args.float:
        image = image.astype(np.float32) / 255
    only = {name for name in args.only.split(",") if name}

    print(f"image {image.shape} {image.dtype}, median of {args.repeats} calls, OpenCV threads: 1")
    print(f"{'transform':44s} {'invariance ms':>14s} {'albumentations ms':>18s} {'ratio':>7s}")
    for name, kwargs in CASES:
        if only and name not in only:
            continue
        ours = getattr(A, name)(**kwargs, p=1.0)
        ours.set_random_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = getattr(Al, name)(**kwargs, p=1.0)
        t_ours, t_theirs = _median_times(
            lambda t=ours: t(image=image), lambda t=theirs: t(image=image), args.repeats
        )
        label = name + (f" {kwargs}" if kwargs else "")
        print(f"{label[:44]:44s} {t_ours * 1e3:14.2f} {t_theirs * 1e3:18.2f} {t_theirs / t_ours:7.2f}")


if __name__ == "__main__":
    main()
