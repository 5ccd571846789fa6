"""Speed of two invariance revisions side by side: the per-call cost of the article's pipelines and
a few transforms, before and after a change to the engine.

Each revision runs in its own persistent process (its ``src`` folder first on the path); the
cases are timed in interleaved rounds (A B, then B A, ...) so that a drifting machine load hits
both alike, and the median of the rounds is reported. Albumentations is not involved: this is the
"did my change slow invariance down" check; ``compare.py`` is the comparison with Albumentations.

    git worktree add /tmp/before <rev>
    python benchmarks/revisions.py /tmp/before/src src --rounds 10
    python benchmarks/revisions.py /tmp/before/src src --cases detection,segmentation
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap

WORKER = textwrap.dedent(
    'import sys, time, json\nimport numpy as np\nsrc = sys.argv[1]\nsys.path.insert(0, src)\nimport os\nos.environ.setdefault("OMP_NUM_THREADS", "1")\nimport cv2; cv2.setNumThreads(0)\nimport invariance as A\nfrom skimage import data\nimg = data.astronaut()\nrng = np.random.default_rng(0)\nboxes = []\nfor _ in range(20):\n    x, y = rng.integers(0, 400, 2); boxes.append([float(x), float(y), float(x + 60), float(y + 60)])\nlabels = list(range(20))\nmask = (img[:, :, 0] > 128).astype(np.uint8)\nkps = [[float(x), float(y)] for x, y in rng.integers(10, 500, (16, 2))]\nP = {\n "starter": (A.Compose([A.RandomResizedCrop(size=(512, 512), scale=(0.8, 1.0), p=1.0), A.HorizontalFlip(p=0.5), A.Rotate(limit=10, p=0.3),\n     A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.4), A.GaussianBlur(blur_limit=(3, 5), p=0.1),\n     A.CoarseDropout(num_holes_range=(1, 6), hole_height_range=(0.05, 0.15), hole_width_range=(0.05, 0.15), p=0.2)], seed=1), {"image": img}),\n "classification": (A.Compose([A.RandomResizedCrop(size=(224, 224), p=1), A.HorizontalFlip(p=0.5), A.ColorJitter(p=0.8), A.Normalize()], seed=1), {"image": img}),\n "detection": (A.Compose([A.RandomResizedCrop(size=(384, 384), scale=(0.5, 1.0), p=1), A.HorizontalFlip(p=0.5), A.Affine(rotate=(-10, 10), scale=(0.9, 1.1), p=0.5),\n     A.RandomBrightnessContrast(p=0.5)], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]), seed=1), {"image": img, "bboxes": boxes, "labels": labels}),\n "segmentation": (A.Compose([A.RandomCrop(256, 256, p=1), A.HorizontalFlip(p=0.5), A.RandomRotate90(p=0.5), A.RandomBrightnessContrast(p=0.5)], seed=1), {"image": img, "mask": mask}),\n "keypoints": (A.Compose([A.Affine(rotate=(-20, 20), p=1), A.HorizontalFlip(p=0.5)], keypoint_params=A.KeypointParams(format="xy"), seed=1), {"image": img, "keypoints": kps}),\n "HorizontalFlip": (A.HorizontalFlip(p=1), {"image": img}),\n "RandomCrop": (A.RandomCrop(256, 256, p=1), {"image": img}),\n "Rotate": (A.Rotate(p=1), {"image": img}),\n "Affine": (A.Affine(rotate=(-10, 10), p=1), {"image": img}),\n "RandomBrightnessContrast": (A.RandomBrightnessContrast(p=1), {"image": img}),\n "CoarseDropout": (A.CoarseDropout(p=1), {"image": img}),\n "ElasticTransform": (A.ElasticTransform(p=1), {"image": img}),\n "flip16": (A.HorizontalFlip(p=1), {"image": np.zeros((16, 16, 3), np.uint8)}),\n}\nfor line in sys.stdin:\n    name, seconds = line.split()\n    f, d = P[name]\n    for _ in range(3): f(**d)\n    n = 0; t = time.perf_counter(); end = t + float(seconds)\n    while True:\n        f(**d); n += 1\n        now = time.perf_counter()\n        if now >= end: break\n    print(json.dumps((now - t) / n), flush=True)\n'
)

CASES = "starter,classification,detection,segmentation,keypoints,flip16,HorizontalFlip,RandomCrop,Rotate,Affine,RandomBrightnessContrast,CoarseDropout,ElasticTransform"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", help="the src folder of the first revision")
    parser.add_argument("after", help="the src folder of the second revision")
    parser.add_argument("--cases", default=CASES, help="comma-separated case names")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", WORKER, src], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for name, src in (("before", args.before), ("after", args.after))
    }

    def run(side: str, case: str, seconds: float) -> float:
        proc = procs[side]
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"{case} {seconds}\n")
        proc.stdin.flush()
        return float(json.loads(proc.stdout.readline()))

    for case in args.cases.split(","):
        seconds = 0.05 if case == "flip16" else 0.3
        times: dict[str, list[float]] = {"before": [], "after": []}
        for r in range(args.rounds):
            for side in ("before", "after") if r % 2 == 0 else ("after", "before"):
                times[side].append(run(side, case, seconds))
        b, a = statistics.median(times["before"]), statistics.median(times["after"])
        print(
            f"{case:26s} before {b * 1e3:9.3f} ms  after {a * 1e3:9.3f} ms  speed {b / a:5.2f}x", flush=True
        )


if __name__ == "__main__":
    main()
