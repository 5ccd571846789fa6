"""Per-call cost on a tiny image: invariance against Albumentations 2.0.8, standalone and as a
one-step Compose.

On a 16x16 image the kernels cost a microsecond or two, so what is measured is the call itself:
checking the input, drawing the parameters, dispatching the effect, building the output. Every
round times a small batch of each variant in turn (so a drifting machine load hits all of them
alike) and the fastest batch of each variant is kept.

    python benchmarks/percall.py              # markdown table
    python benchmarks/percall.py --rounds 60  # steadier
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

cv2.setNumThreads(0)

CASES: dict[str, Callable[[Any], Any]] = {
    "HorizontalFlip": lambda lib: lib.HorizontalFlip(p=1.0),
    "VerticalFlip": lambda lib: lib.VerticalFlip(p=1.0),
    "RandomCrop (8x8)": lambda lib: lib.RandomCrop(8, 8, p=1.0),
    "CenterCrop (8x8)": lambda lib: lib.CenterCrop(8, 8, p=1.0),
    "InvertImg": lambda lib: lib.InvertImg(p=1.0),
    "RandomBrightnessContrast": lambda lib: lib.RandomBrightnessContrast(p=1.0),
    "Normalize": lambda lib: lib.Normalize(p=1.0),
}


def best_of(functions: dict[str, Callable[[], Any]], rounds: int, batch: int) -> dict[str, float]:
    """The fastest batch of each function, in microseconds per call, over interleaved rounds."""
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(rounds):
        for name, function in functions.items():
            start = time.perf_counter()
            for _ in range(batch):
                function()
            best[name] = min(best[name], (time.perf_counter() - start) / batch * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--batch", type=int, default=300)
    parser.add_argument("--size", type=int, default=16)
    args = parser.parse_args()

    import albumentations

    import invariance

    image = np.random.default_rng(0).integers(0, 256, (args.size, args.size, 3), dtype=np.uint8)
    print(f"{args.size}x{args.size} RGB uint8, µs per call (fastest of {args.rounds} interleaved rounds)")
    print()
    print(
        "| transform | Albumentations alone | invariance alone | ratio | Albumentations Compose | invariance Compose | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, make in CASES.items():
        functions: dict[str, Callable[[], Any]] = {}
        for tag, lib in (("theirs", albumentations), ("ours", invariance)):
            alone, pipeline = make(lib), lib.Compose([make(lib)])
            functions[f"{tag} alone"] = lambda t=alone: t(image=image)
            functions[f"{tag} compose"] = lambda t=pipeline: t(image=image)
        best = best_of(functions, args.rounds, args.batch)
        a1, i1, a2, i2 = (best[k] for k in ("theirs alone", "ours alone", "theirs compose", "ours compose"))
        print(
            f"| {name} | {a1:.1f} | {i1:.1f} | {a1 / i1:.2f}x | {a2:.1f} | {i2:.1f} | {a2 / i2:.2f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
