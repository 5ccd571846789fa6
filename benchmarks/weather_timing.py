"""Speed of the weather, lighting and domain transforms against Albumentations 2.0.8.

Run: ``python benchmarks/weather_timing.py [--repeats N]``. Each transform runs with ``p=1`` on
``skimage.data.astronaut()`` (512x512 RGB uint8), alone in a pipeline; the table shows the median
milliseconds per call over the repeats (after one warm-up call) and the ratio Albumentations/ours
(above 1: we are faster). Both libraries get the same arguments; single-threaded OpenCV.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np


def _median_ms(pipeline: Callable[..., Any], data: dict[str, Any], repeats: int) -> float:
    pipeline(**data)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pipeline(**data)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def cases(reference: np.ndarray) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(transform name, constructor arguments, extra call data)."""
    return [
        ("RandomRain", {}, {}),
        ("RandomSnow", {}, {}),
        ("RandomSnow", {"method": "texture"}, {}),
        ("RandomFog", {}, {}),
        ("RandomSunFlare", {}, {}),
        ("RandomSunFlare", {"method": "physics_based"}, {}),
        ("RandomShadow", {}, {}),
        ("RandomGravel", {}, {}),
        ("Spatter", {}, {}),
        ("Spatter", {"mode": "mud"}, {}),
        ("Illumination", {}, {}),
        ("Illumination", {"mode": "gaussian"}, {}),
        ("PlasmaBrightnessContrast", {}, {}),
        ("PlasmaShadow", {}, {}),
        ("HEStain", {}, {}),
        ("FDA", {}, {"fda_metadata": [reference]}),
        ("HistogramMatching", {}, {"hm_metadata": [reference]}),
        ("PixelDistributionAdaptation", {}, {"pda_metadata": [reference]}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    warnings.simplefilter("ignore")

    from skimage import data

    import invariance as A

    image = np.ascontiguousarray(data.astronaut())
    reference = np.ascontiguousarray(data.coffee())
    try:
        import albumentations as Al
    except ImportError:  # pragma: no cover
        Al = None

    print(f"{'transform':<44} {'invariance ms':>14} {'albumentations ms':>18} {'ratio':>7}")
    for name, kwargs, extra in cases(reference):
        label = name + (f"({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})" if kwargs else "")
        ours = A.Compose([getattr(A, name)(**kwargs, p=1.0)], seed=0)
        ours_ms = _median_ms(ours, {"image": image, **extra}, args.repeats)
        theirs_ms = float("nan")
        if Al is not None and hasattr(Al, name):
            theirs = Al.Compose([getattr(Al, name)(**kwargs, p=1.0)], seed=0)
            theirs_ms = _median_ms(theirs, {"image": image, **extra}, args.repeats)
        ratio = theirs_ms / ours_ms
        print(f"{label:<44} {ours_ms:>14.2f} {theirs_ms:>18.2f} {ratio:>7.2f}")


if __name__ == "__main__":
    main()
