"""Soak test: many samples through the article's starter pipeline, watching resident memory.

The starter pipeline of the reference article (RandomResizedCrop 512, HorizontalFlip, Rotate,
RandomBrightnessContrast, GaussianBlur, CoarseDropout) runs on random ~512x512 scenes (a pool of
``--pool`` scenes of slightly different sizes, cycled), with a mask, boxes (with string labels)
and keypoints (with labels). Resident memory (psutil when installed, else
VmRSS from /proc/self/status) is read every ``--every`` samples. The series is printed, and the
run is called stable when the memory after warm-up grows by less than ``--tolerance-mib`` from
the first to the last quarter of the run (a leak of a few bytes per sample over 100,000 samples
shows up as a steady climb).

Not part of CI. Run from the repository root::

    python benchmarks/soak.py                      # 100,000 samples
    python benchmarks/soak.py --samples 20000 --every 1000
    python benchmarks/soak.py --max-seconds 900    # stop early, report what ran

Exit status 0 when stable, 1 when memory grew.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time

import numpy as np

import invariance as A


def rss_mib() -> float:
    """Resident set size of this process in MiB."""
    try:
        import psutil

        return float(psutil.Process(os.getpid()).memory_info().rss) / 2**20
    except ImportError:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return float(line.split()[1]) / 1024
    raise RuntimeError("cannot read resident memory (no psutil, no /proc/self/status)")


def starter_pipeline(seed: int) -> A.Compose:
    """The article's starter pipeline, with boxes and keypoints declared."""
    return A.Compose(
        [
            A.RandomResizedCrop(size=(512, 512), scale=(0.8, 1.0), p=1.0),
            A.HorizontalFlip(p=0.5),
            A.Rotate(limit=10, p=0.3),
            A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.4),
            A.GaussianBlur(blur_limit=(3, 5), p=0.1),
            A.CoarseDropout(
                num_holes_range=(1, 6),
                hole_height_range=(0.05, 0.15),
                hole_width_range=(0.05, 0.15),
                fill_mask=0,
                p=0.2,
            ),
        ],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.1),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["keypoint_labels"]),
        seed=seed,
    )


def make_sample(rng: np.random.Generator, size: int) -> dict:
    """A random scene: sizes vary by a few pixels so no buffer is reused by luck."""
    h = size + int(rng.integers(-16, 17))
    w = size + int(rng.integers(-16, 17))
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.uint8)
    n = int(rng.integers(1, 8))
    x0 = rng.uniform(0, w * 0.7, n)
    y0 = rng.uniform(0, h * 0.7, n)
    x1 = np.minimum(x0 + rng.uniform(8, w * 0.3, n), w)
    y1 = np.minimum(y0 + rng.uniform(8, h * 0.3, n), h)
    boxes = np.stack([x0, y0, x1, y1], axis=1)
    for i, (a, b, c, d) in enumerate(boxes.astype(int)):
        mask[b:d, a:c] = i + 1
    keypoints = np.stack([rng.uniform(0, w - 1, 2 * n), rng.uniform(0, h - 1, 2 * n)], axis=1)
    return {
        "image": image,
        "mask": mask,
        "bboxes": boxes.tolist(),
        "labels": [f"object-{i}" for i in range(n)],
        "keypoints": keypoints.tolist(),
        "keypoint_labels": list(range(2 * n)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=5_000, help="read memory every N samples")
    parser.add_argument("--size", type=int, default=512, help="scene side in pixels (about)")
    parser.add_argument("--warmup", type=int, default=1_000, help="samples before the baseline reading")
    parser.add_argument("--tolerance-mib", type=float, default=16.0)
    parser.add_argument("--max-seconds", type=float, default=None, help="stop early after this long")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pool", type=int, default=32, help="distinct scenes cycled through")
    parser.add_argument("--json", help="also write the series to this file")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    pipeline = starter_pipeline(args.seed)
    # A pool of scenes (sizes differ by a few pixels) so the rate measures the pipeline, not the
    # random number generator; the pipeline never writes into its inputs, so they can be reused.
    pool = [make_sample(rng, args.size) for _ in range(args.pool)]
    series: list[tuple[int, float, float]] = [(0, time.perf_counter(), rss_mib())]
    start = series[0][1]
    done = 0
    boxes_out = 0
    print(f"{'samples':>9} {'seconds':>9} {'rss MiB':>9} {'samples/s':>10}", flush=True)
    while done < args.samples:
        out = pipeline(**pool[done % len(pool)])
        assert out["image"].shape == (512, 512, 3) and out["mask"].shape == (512, 512)
        assert len(out["bboxes"]) == len(out["labels"])
        boxes_out += len(out["bboxes"])
        done += 1
        if done % args.every == 0 or done == args.warmup or done == args.samples:
            gc.collect()
            now = time.perf_counter()
            series.append((done, now - start, rss_mib()))
            print(
                f"{done:9d} {now - start:9.1f} {series[-1][2]:9.1f} {done / (now - start):10.1f}", flush=True
            )
            if args.max_seconds is not None and now - start > args.max_seconds:
                print(f"stopping early after {now - start:.0f} s (--max-seconds)")
                break
    after = [(n, s, m) for n, s, m in series if n >= args.warmup]
    quarter = max(len(after) // 4, 1)
    first = float(np.mean([m for _, _, m in after[:quarter]])) if after else float("nan")
    last = float(np.mean([m for _, _, m in after[-quarter:]])) if after else float("nan")
    growth = last - first
    stable = bool(after) and growth < args.tolerance_mib
    elapsed = series[-1][1]
    print(
        f"\n{done} samples in {elapsed:.0f} s ({done / elapsed:.1f} samples/s), {boxes_out} boxes out; "
        f"RSS after warm-up {first:.1f} -> {last:.1f} MiB (growth {growth:+.1f} MiB): "
        + ("STABLE" if stable else "GROWING")
    )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"samples": done, "series": series, "growth_mib": growth, "stable": stable}, handle)
    return 0 if stable else 1


if __name__ == "__main__":
    sys.exit(main())
