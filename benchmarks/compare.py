"""Side-by-side speed of invariance and two references: single transforms and real pipelines.

The references are Albumentations 2.0.8 (MIT), run in this process, and optionally
AlbumentationsX 2.5.1 (AGPL), run in its own interpreter (``--ax-python``: a separate virtual
environment, never a dependency of invariance; it imports under the same name, ``albumentations``,
so the two cannot share a process). The AlbumentationsX process is this same script started with
``--worker``: it builds the same cases from the same code, on the same image, and times one round
when asked, so its rounds interleave with the local ones. Its telemetry is off
(``ALBUMENTATIONS_NO_TELEMETRY=1``, ``ALBUMENTATIONS_OFFLINE=1`` and ``Compose(telemetry=False)``).

Every side runs single-threaded (OpenCV threading off with ``cv2.setNumThreads(0)``, OpenMP /
OpenBLAS / MKL pools at one thread), on scikit-image's astronaut photograph (512x512 RGB uint8).
Every transform has ``p=1`` and the same arguments on every side. Each case is warmed up, then
timed in rounds whose order alternates (A B C C B A A B C ...) so that a drifting machine load hits
every side alike; the figure is the median time per call over the rounds.

Output: images per second on each side, the ratios (invariance / reference; above 1 means
invariance is faster), invariance's figure as a percentage of the memcpy floor (``image.copy()``
per second, the fastest any transform returning a new image can be), and the geometric mean of the
single-transform ratios against each reference. A transform missing from a library, or failing,
is reported as such and the run goes on. Without ``--ax-python`` (or with a path that does not
exist, as in CI) the AlbumentationsX column is left empty and the run goes on.

    python benchmarks/compare.py                   # full run (a few minutes)
    python benchmarks/compare.py --ax-python ~/venv-ax/bin/python   # with AlbumentationsX
    python benchmarks/compare.py --smoke           # a few seconds, for CI: only shows it still runs
    python benchmarks/compare.py --filter Blur     # names containing "Blur" (case-insensitive)
    python benchmarks/compare.py --markdown        # the table for docs/benchmarks.md
"""

from __future__ import annotations

import os

# Single-threaded numerics on both sides, set before numpy / OpenCV load their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no network check on import
# AlbumentationsX (the --worker process): no telemetry, no network.
os.environ.setdefault("ALBUMENTATIONS_NO_TELEMETRY", "1")
os.environ.setdefault("ALBUMENTATIONS_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

warnings.filterwarnings("ignore")
cv2.setNumThreads(0)
cv2.ocl.setUseOpenCL(False)

SIZE = 512

# (name, arguments given to both libraries). Defaults unless a default would be a no-op or the
# two libraries' defaults differ in a way that changes the work done.
TRANSFORMS: list[tuple[str, dict[str, Any]]] = [
    # flips and the square's symmetries
    ("HorizontalFlip", {}),
    ("VerticalFlip", {}),
    ("Transpose", {}),
    ("RandomRotate90", {}),
    ("D4", {}),
    # warps
    ("Rotate", {"limit": 45}),
    ("SafeRotate", {"limit": 45}),
    (
        "Affine",
        {"scale": (0.9, 1.1), "rotate": (-15, 15), "translate_percent": (-0.1, 0.1), "shear": (-10, 10)},
    ),
    ("ShiftScaleRotate", {}),
    ("Perspective", {"scale": (0.05, 0.1)}),
    ("ElasticTransform", {"alpha": 50, "sigma": 5}),
    ("GridDistortion", {}),
    ("OpticalDistortion", {"distort_limit": 0.3}),
    ("PiecewiseAffine", {}),
    # crops, resizes, pads
    ("RandomCrop", {"height": 224, "width": 224}),
    ("CenterCrop", {"height": 224, "width": 224}),
    ("RandomResizedCrop", {"size": (224, 224)}),
    ("RandomSizedCrop", {"min_max_height": (192, 256), "size": (224, 224)}),
    ("Resize", {"height": 256, "width": 256}),
    ("LongestMaxSize", {"max_size": 640}),
    ("SmallestMaxSize", {"max_size": 256}),
    ("RandomScale", {"scale_limit": 0.2}),
    ("PadIfNeeded", {"min_height": 640, "min_width": 640}),
    ("Pad", {"padding": 32}),
    # tone and colour
    ("RandomBrightnessContrast", {}),
    ("ColorJitter", {}),
    ("HueSaturationValue", {}),
    ("RGBShift", {}),
    ("RandomGamma", {}),
    ("RandomToneCurve", {}),
    ("CLAHE", {}),
    ("Equalize", {}),
    ("Posterize", {}),
    ("Solarize", {}),
    ("InvertImg", {}),
    ("ToGray", {}),
    ("ToSepia", {}),
    ("ChannelShuffle", {}),
    ("PlanckianJitter", {}),
    ("FancyPCA", {}),
    ("Normalize", {}),
    # blur and sharpen
    ("Blur", {"blur_limit": (3, 7)}),
    ("GaussianBlur", {"blur_limit": (3, 7)}),
    # One kernel size: OpenCV's median is ~50x slower at 7x7 than at 3x3 (another algorithm), so a
    # random size would measure which sizes each side happened to draw.
    ("MedianBlur", {"blur_limit": (5, 5)}),
    ("MotionBlur", {"blur_limit": (3, 7)}),
    ("Defocus", {}),
    ("Sharpen", {}),
    # noise
    ("GaussNoise", {}),
    ("ISONoise", {}),
    ("MultiplicativeNoise", {}),
    ("SaltAndPepper", {}),
    # quality
    ("ImageCompression", {"quality_range": (50, 90)}),
    ("Downscale", {}),
    # dropout
    (
        "CoarseDropout",
        {"num_holes_range": (1, 8), "hole_height_range": (0.05, 0.15), "hole_width_range": (0.05, 0.15)},
    ),
    ("GridDropout", {}),
    ("PixelDropout", {}),
    ("ChannelDropout", {}),
    # weather
    ("RandomRain", {}),
    ("RandomFog", {}),
    ("RandomShadow", {}),
    ("RandomSnow", {}),
    ("RandomSunFlare", {"src_radius": 200}),
]


#: AlbumentationsX 2.5.1 transforms that Albumentations 2.0.8 lacks: timed on invariance alone
#: (their own table section), left out of the ratios and the geometric mean.
INVARIANCE_ONLY: list[tuple[str, dict[str, Any]]] = [
    ("Vignetting", {}),
    ("FilmGrain", {}),
    ("ChannelSwap", {}),
    ("Colorize", {}),
    ("Dithering", {}),
    ("Dithering", {"method": "ordered"}),
    ("Enhance", {}),
    ("Halftone", {}),
    ("ModeFilter", {}),
    ("AtmosphericFog", {}),
    ("LensFlare", {}),
    ("StochasticConvolution", {}),
    ("ExposureMatching", {}),
    ("AnnotationArtifacts", {}),
    ("PixelSpread", {}),
    ("WaterRefraction", {}),
    ("LetterBox", {"size": (640, 480)}),
    ("BBoxSubsetSafeRandomCrop", {}),
    ("GridMask", {}),
    ("GuidedCoarseDropout", {"num_holes_range": (1, 8)}),
]


@dataclass
class Case:
    """One benchmark line: how to build each side and the targets it is called with."""

    name: str
    kind: str  # "transform", "pipeline", or "solo" (invariance alone: no Albumentations 2.0.8 equivalent)
    build: Callable[[Any], Any]  # library module -> callable transform / pipeline
    data: dict[str, Any] = field(default_factory=dict)  # keyword arguments besides ``image``
    target: str = "image"  # "volume": a (D, H, W) volume built from the image; "gray": its grey version


#: Volumes are 64 slices of 128 x 128 (a CT-like crop), uint8.
VOLUME_SHAPE = (64, 128, 128)


def volume_of(image: np.ndarray) -> np.ndarray:
    """A ``VOLUME_SHAPE`` uint8 volume: grey slices of the photo, each shifted a little."""
    d, h, w = VOLUME_SHAPE
    grey = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (w + d, h), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(np.stack([grey[:, i : i + w] for i in range(d)]))


def gray_of(image: np.ndarray) -> np.ndarray:
    """The photo's luminance as a single-channel (H, W) image, for transforms made for grey input."""
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))


def volume_cases() -> list[Case]:
    """Volumetric transforms both libraries have, and 2-D transforms applied to every slice."""
    cases = [
        ("Pad3D", {"padding": 8}),
        ("PadIfNeeded3D", {"min_zyx": (80, 144, 144)}),
        ("CenterCrop3D", {"size": (48, 96, 96)}),
        ("RandomCrop3D", {"size": (48, 96, 96)}),
        ("CoarseDropout3D", {"num_holes_range": (2, 4)}),
        ("CubicSymmetry", {}),
        ("HorizontalFlip", {}),
        ("Affine", {"rotate": (-15, 15), "scale": (0.9, 1.1)}),
        ("ElasticTransform", {"alpha": 30.0, "sigma": 5.0}),
        ("GaussianBlur", {"blur_limit": (3, 5)}),
    ]
    out = []
    for name, kwargs in cases:

        def build(lib: Any, name: str = name, kwargs: dict[str, Any] = kwargs) -> Any:
            return lib.Compose([getattr(lib, name)(**kwargs, p=1.0)], seed=0)

        out.append(Case(f"volume:{name}", "transform", build, target="volume"))
    return out


def transform_case(name: str, kwargs: dict[str, Any]) -> Case:
    return Case(name, "transform", lambda lib: getattr(lib, name)(**kwargs, p=1.0))


def solo_case(name: str, kwargs: dict[str, Any], size: int = SIZE) -> Case:
    """A transform only invariance has, with the call data it needs (a dropout region)."""
    label = name if not kwargs or name in ("LetterBox", "GuidedCoarseDropout") else f"{name}({kwargs})"
    data: dict[str, Any] = {}
    if name == "GuidedCoarseDropout":
        region = np.zeros((size, size), np.uint8)
        region[:, size // 2 :] = 1
        data["dropout_region"] = region
    # Colorize maps a grey image to colours (AlbumentationsX documents single-channel input and
    # returns an RGB image unchanged): both sides get the photo's grey version.
    target = "gray" if name == "Colorize" else "image"
    return Case(label, "solo", lambda lib: getattr(lib, name)(**kwargs, p=1.0), data, target=target)


def make_boxes(rng: np.random.Generator, count: int, size: int) -> list[list[float]]:
    xy = rng.uniform(0, size * 0.8, (count, 2))
    wh = rng.uniform(size * 0.05, size * 0.2, (count, 2))
    return np.concatenate([xy, np.minimum(xy + wh, size)], axis=1).round(1).tolist()


def classification_pipeline(lib: Any) -> Any:
    """RandomResizedCrop 224, HorizontalFlip, ColorJitter, Normalize in ``lib`` (also loader.py's and dataloader.py's)."""
    return lib.Compose(
        [
            lib.RandomResizedCrop(size=(224, 224), p=1.0),
            lib.HorizontalFlip(p=0.5),
            lib.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, p=0.8),
            lib.Normalize(p=1.0),
        ],
        seed=0,
    )


def detection_pipeline(lib: Any) -> Any:
    """LongestMaxSize 640, PadIfNeeded, HorizontalFlip, Affine, brightness/contrast, pascal_voc boxes
    labelled ``labels``, in ``lib`` (also loader.py's)."""
    return lib.Compose(
        [
            lib.LongestMaxSize(max_size=640, p=1.0),
            lib.PadIfNeeded(min_height=640, min_width=640, border_mode=cv2.BORDER_CONSTANT, p=1.0),
            lib.HorizontalFlip(p=0.5),
            lib.Affine(scale=(0.8, 1.2), rotate=(-10, 10), translate_percent=(-0.1, 0.1), p=0.7),
            lib.RandomBrightnessContrast(p=0.5),
        ],
        bbox_params=lib.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.1),
        seed=0,
    )


def pipeline_cases(size: int = SIZE) -> list[Case]:
    rng = np.random.default_rng(0)
    boxes = make_boxes(rng, 20, size)
    labels = [i % 5 for i in range(20)]
    mask = np.zeros((size, size), np.uint8)
    mask[size // 5 : size * 3 // 5, size * 3 // 10 : size * 4 // 5] = 1
    mask[size * 7 // 10 : size * 19 // 20, size // 10 : size * 2 // 5] = 2
    keypoints = rng.uniform(size / 25, size * 24 / 25, (16, 2)).round(1).tolist()

    def starter(lib: Any) -> Any:
        return lib.Compose(
            [
                lib.RandomResizedCrop(size=(512, 512), scale=(0.8, 1.0), p=1.0),
                lib.HorizontalFlip(p=0.5),
                lib.Rotate(limit=10, p=0.3),
                lib.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.4),
                lib.GaussianBlur(blur_limit=(3, 5), p=0.1),
                lib.CoarseDropout(
                    num_holes_range=(1, 6),
                    hole_height_range=(0.05, 0.15),
                    hole_width_range=(0.05, 0.15),
                    p=0.2,
                ),
            ],
            bbox_params=lib.BboxParams(format="pascal_voc", label_fields=["labels"], min_visibility=0.2),
            seed=0,
        )

    def segmentation(lib: Any) -> Any:
        return lib.Compose(
            [
                lib.RandomResizedCrop(size=(384, 384), scale=(0.5, 1.0), p=1.0),
                lib.HorizontalFlip(p=0.5),
                lib.Affine(scale=(0.9, 1.1), rotate=(-15, 15), p=0.5),
                lib.RandomBrightnessContrast(p=0.5),
                lib.HueSaturationValue(p=0.3),
            ],
            seed=0,
        )

    def keypoint(lib: Any) -> Any:
        return lib.Compose(
            [
                lib.LongestMaxSize(max_size=384, p=1.0),
                lib.PadIfNeeded(min_height=384, min_width=384, border_mode=cv2.BORDER_CONSTANT, p=1.0),
                lib.HorizontalFlip(p=0.5),
                lib.Affine(scale=(0.8, 1.2), rotate=(-30, 30), p=0.7),
                lib.RandomBrightnessContrast(p=0.5),
            ],
            keypoint_params=lib.KeypointParams(format="xy", remove_invisible=True),
            seed=0,
        )

    return [
        Case("starter (article)", "pipeline", starter, {"bboxes": boxes, "labels": labels}),
        Case("classification", "pipeline", classification_pipeline),
        Case("detection (20 boxes)", "pipeline", detection_pipeline, {"bboxes": boxes, "labels": labels}),
        Case("segmentation (mask)", "pipeline", segmentation, {"mask": mask}),
        Case("keypoints (16)", "pipeline", keypoint, {"keypoints": keypoints}),
    ]


@dataclass
class Result:
    name: str
    kind: str
    ours: float | None = None  # images per second
    theirs: float | None = None  # Albumentations 2.0.8
    ax: float | None = None  # AlbumentationsX
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """invariance / Albumentations 2.0.8."""
        if self.ours is None or self.theirs is None:
            return None
        return self.ours / self.theirs

    @property
    def ratio_ax(self) -> float | None:
        """invariance / AlbumentationsX."""
        if self.ours is None or self.ax is None:
            return None
        return self.ours / self.ax


def _build(lib: Any, case: Case, image: np.ndarray) -> tuple[Callable[[], Any] | None, str]:
    """A zero-argument call of the case on one library, or None and why not."""
    try:
        transform = case.build(lib)
    except AttributeError as error:
        return None, f"missing ({error})"
    except Exception as error:
        return None, f"fails to build: {type(error).__name__}: {error}"
    if hasattr(transform, "set_random_seed") and case.kind != "pipeline":
        transform.set_random_seed(0)
    data = dict(case.data)
    key = "volume" if case.target == "volume" else "image"
    data[key] = {"volume": volume_of, "gray": gray_of}.get(case.target, lambda x: x)(image)

    def call() -> Any:
        return transform(**data)

    try:
        out = call()
        if not isinstance(out.get(key), np.ndarray):
            return None, f"fails: no {key} returned"
    except Exception as error:
        return None, f"fails: {type(error).__name__}: {error}"
    return call, ""


#: The clock rounds are timed with: wall time by default; ``--clock cpu`` (this process's CPU
#: time) is steadier on a shared machine, and equal to wall time on an idle one (single thread).
CLOCK: Callable[[], float] = time.perf_counter


def _round(call: Callable[[], Any], loops: int) -> float:
    start = CLOCK()
    for _ in range(loops):
        call()
    return (CLOCK() - start) / loops


class LocalSide:
    """A case built in this process: a round runs the call ``loops`` times."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.call = call

    def round(self, loops: int) -> float:
        return _round(self.call, loops)


class RemoteSide:
    """A case built in the AlbumentationsX worker process: a round is one request to it."""

    def __init__(self, worker: AxWorker) -> None:
        self.worker = worker

    def round(self, loops: int) -> float:
        return float(self.worker.ask({"op": "round", "loops": loops})["seconds"])


def time_sides(
    sides: list[Any], rounds: int, warmup: int, round_seconds: float, min_loops: int
) -> list[float]:
    """Median seconds per call for each side, rounds alternating A B C, C B A, ..."""
    single = []
    for side in sides:
        if warmup:
            side.round(warmup)
        single.append(side.round(1))
    loops = max(min_loops, int(round_seconds / max(max(single), 1e-7)))
    times: list[list[float]] = [[] for _ in sides]
    for r in range(rounds):
        order = list(range(len(sides)))
        if r % 2:
            order.reverse()
        for i in order:
            times[i].append(sides[i].round(loops))
    return [statistics.median(t) for t in times]


def memcpy_rate(image: np.ndarray, rounds: int) -> float:
    """Copies of the image per second (median of rounds): the floor every figure is compared with."""
    loops = 200
    image.copy()
    return 1.0 / statistics.median(_round(image.copy, loops) for _ in range(max(rounds, 3)))


def load_image(size: int = SIZE) -> np.ndarray:
    """scikit-image's astronaut photograph, RGB uint8, ``size`` x ``size`` (512 is its own size)."""
    from skimage import data

    image = np.ascontiguousarray(data.astronaut())
    if image.shape[:2] != (size, size):
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return image


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def all_cases(size: int, pipelines: bool = True) -> list[Case]:
    """Every case, in table order (the worker process builds the same list to find a case by name)."""
    cases = [transform_case(name, kwargs) for name, kwargs in TRANSFORMS] + volume_cases()
    cases += [solo_case(name, kwargs, size) for name, kwargs in INVARIANCE_ONLY]
    if pipelines:
        cases += pipeline_cases(size)
    return cases


# -- the AlbumentationsX worker ----------------------------------------------------------------------


#: Arguments AlbumentationsX 2.5.1 renamed: the worker passes the same values under its names.
AX_RENAMED: dict[str, dict[str, str]] = {
    "BboxParams": {"format": "coord_format"},
    "KeypointParams": {"format": "coord_format"},
    "MedianBlur": {"blur_limit": "blur_range"},
}


class _AxLibrary:
    """The AlbumentationsX module as the cases call it: ``Compose(telemetry=False)`` and the
    renamed arguments of ``AX_RENAMED`` (everything else passes through)."""

    def __init__(self, lib: Any) -> None:
        self._lib = lib

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._lib, name)
        renames = AX_RENAMED.get(name, {})
        if name != "Compose" and not renames:
            return value

        def build(*args: Any, **kwargs: Any) -> Any:
            kwargs = {renames.get(key, key): item for key, item in kwargs.items()}
            if name == "Compose":
                kwargs.setdefault("telemetry", False)
            return value(*args, **kwargs)

        return build


def worker_main(clock: str) -> int:
    """Serve timing requests on stdin / stdout, one JSON object a line (run in the AX interpreter)."""
    import albumentations
    from albumentations.core.analytics.settings import SettingsManager

    global CLOCK
    CLOCK = time.process_time if clock == "cpu" else time.perf_counter
    lib = _AxLibrary(albumentations)
    call: Callable[[], Any] | None = None
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        if op == "hello":
            answer: dict[str, Any] = {
                "albumentationsx": albumentations.__version__,
                "opencv": cv2.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
                "telemetry": bool(SettingsManager().telemetry_enabled),
            }
        elif op == "build":
            size = int(request["size"])
            found = [c for c in all_cases(size) if c.name == request["case"]]
            if not found:
                call, why = None, "no such case"
            else:
                call, why = _build(lib, found[0], load_image(size))
            answer = {"ok": call is not None, "note": why}
        elif op == "round":
            assert call is not None
            answer = {"seconds": _round(call, int(request["loops"]))}
        else:
            answer = {"error": f"unknown op {op!r}"}
        print(json.dumps(answer), flush=True)
    return 0


class AxWorker:
    """This script running with ``--worker`` in the AlbumentationsX interpreter."""

    def __init__(self, python: str, clock: str) -> None:
        env = dict(os.environ)
        env.update(ALBUMENTATIONS_NO_TELEMETRY="1", ALBUMENTATIONS_OFFLINE="1", NO_ALBUMENTATIONS_UPDATE="1")
        self.proc = subprocess.Popen(
            [python, os.path.abspath(__file__), "--worker", "--clock", clock],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=os.path.dirname(os.path.abspath(__file__)),  # not the repository root: no invariance import
        )
        self.info = self.ask({"op": "hello"})
        if self.info.get("telemetry"):
            self.close()
            raise RuntimeError("AlbumentationsX telemetry is still on in the worker; refusing to time it")

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the AlbumentationsX worker stopped (see its error output above)")
        return dict(json.loads(line))

    def build(self, case: Case, size: int) -> tuple[RemoteSide | None, str]:
        answer = self.ask({"op": "build", "case": case.name, "size": size})
        return (RemoteSide(self), "") if answer["ok"] else (None, str(answer["note"]))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def environment(ax: AxWorker | None, ax_note: str) -> dict[str, str]:
    import albumentations

    import invariance

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = "n/a"
    if hasattr(os, "getloadavg"):
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    env = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": f"{cpu} ({os.cpu_count()} logical cores)",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": f"{cv2.__version__} (threads: cv2.setNumThreads(0))",
        "invariance": invariance.__version__,
        "albumentations": albumentations.__version__,
    }
    if ax is not None:
        info = ax.info
        env["albumentationsx"] = (
            f"{info['albumentationsx']} in its own interpreter (python {info['python']}, numpy "
            f"{info['numpy']}, opencv {info['opencv']}, telemetry off)"
        )
    else:
        env["albumentationsx"] = f"not timed ({ax_note})"
    env["load average at the start (1, 5, 15 min)"] = load
    return env


def run(
    cases: list[Case],
    rounds: int,
    warmup: int,
    round_seconds: float,
    min_loops: int,
    progress: bool,
    size: int = SIZE,
    pipeline_seconds: float | None = None,
    ax: AxWorker | None = None,
) -> tuple[list[Result], float]:
    import albumentations as Al

    import invariance as A

    image = load_image(size)
    results = []
    floor = memcpy_rate(image, rounds)
    for case in cases:
        result = Result(case.name, case.kind)
        ours, why_ours = _build(A, case, image)
        if case.kind == "solo":
            theirs, why_theirs = None, "has no equivalent (AlbumentationsX name)"
        else:
            theirs, why_theirs = _build(Al, case, image)
        remote, why_ax = ax.build(case, size) if ax is not None else (None, "")
        notes = []
        if ours is None:
            notes.append(f"invariance {why_ours}")
        if theirs is None and case.kind != "solo":
            notes.append(f"albumentations {why_theirs}")
        if ax is not None and remote is None:
            notes.append(f"albumentationsx {why_ax}")
        sides: list[Any] = []
        slots: list[str] = []
        for slot, side in (("ours", ours), ("theirs", theirs), ("ax", remote)):
            if side is not None:
                sides.append(LocalSide(side) if callable(side) else side)
                slots.append(slot)
        if sides:
            seconds = round_seconds
            if case.kind == "pipeline" and pipeline_seconds is not None:
                seconds = pipeline_seconds
            timed = time_sides(sides, rounds, warmup, seconds, min_loops)
            for slot, value in zip(slots, timed):
                setattr(result, slot, 1.0 / value)
        result.note = "; ".join(notes)
        results.append(result)
        if progress:
            print(
                f"  {case.name}: {_fmt(result.ours)} vs {_fmt(result.theirs)} vs {_fmt(result.ax)} img/s",
                file=sys.stderr,
            )
    floor = (floor + memcpy_rate(image, rounds)) / 2
    return results, floor


def _fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def _pct(value: float | None, floor: float) -> str:
    return "-" if value is None else f"{100 * value / floor:.1f}%"


def summary(results: list[Result]) -> dict[str, Any]:
    singles = [r for r in results if r.kind == "transform" and r.ratio is not None]
    singles_ax = [r for r in results if r.kind in ("transform", "solo") and r.ratio_ax is not None]
    return {
        "geomean": geometric_mean([r.ratio for r in singles if r.ratio is not None]),
        "compared": len(singles),
        "geomean_ax": geometric_mean([r.ratio_ax for r in singles_ax if r.ratio_ax is not None]),
        "compared_ax": len(singles_ax),
        "below_1": [r for r in singles if r.ratio is not None and r.ratio < 1.0],
        "below_1_ax": [r for r in singles_ax if r.ratio_ax is not None and r.ratio_ax < 1.0],
        "failed": [r for r in results if r.ratio is None and r.kind != "solo"],
        "pipelines": {r.name: (r.ratio, r.ratio_ax) for r in results if r.kind == "pipeline"},
    }


def _ratio_cell(value: float | None) -> str:
    text = _fmt(value, ".2f")
    return f"**{text}**" if value is not None and value < 1.0 else text


def render(results: list[Result], floor: float, env: dict[str, str], markdown: bool) -> str:
    info = summary(results)
    lines: list[str] = []
    if markdown:
        lines += [f"- **{k}**: {v}" for k, v in env.items()]
        lines += [f"- **memcpy floor**: {floor:,.0f} copies/s of the image (`image.copy()`)", ""]
        for kind, title in (
            ("transform", "Single transforms"),
            ("pipeline", "Pipelines"),
            ("solo", "AlbumentationsX names (no Albumentations 2.0.8 equivalent)"),
        ):
            lines += [
                f"### {title}",
                "",
                "| | invariance img/s | Albumentations 2.0.8 img/s | AlbumentationsX img/s "
                "| ratio vs 2.0.8 | ratio vs AX | invariance % memcpy | note |",
                "|---|---:|---:|---:|---:|---:|---:|---|",
            ]
            for r in results:
                if r.kind != kind:
                    continue
                lines.append(
                    f"| {r.name} | {_fmt(r.ours)} | {_fmt(r.theirs)} | {_fmt(r.ax)} | {_ratio_cell(r.ratio)} "
                    f"| {_ratio_cell(r.ratio_ax)} | {_pct(r.ours, floor)} | {r.note} |"
                )
            lines.append("")
    else:
        lines += [f"{k}: {v}" for k, v in env.items()]
        lines.append(f"memcpy floor: {floor:,.0f} copies/s")
        header = (
            f"{'case':28s} {'invariance':>11s} {'alb 2.0.8':>11s} {'alb X':>11s} {'vs 2.0.8':>8s} "
            f"{'vs AX':>6s} {'inv %cp':>8s}"
        )
        lines.append(header)
        for r in results:
            lines.append(
                f"{r.name:28s} {_fmt(r.ours):>11s} {_fmt(r.theirs):>11s} {_fmt(r.ax):>11s} "
                f"{_fmt(r.ratio, '.2f'):>8s} {_fmt(r.ratio_ax, '.2f'):>6s} {_pct(r.ours, floor):>8s} {r.note}"
            )
    lines.append(
        f"Geometric mean of the single-transform ratios vs Albumentations 2.0.8: {info['geomean']:.2f}x "
        f"over {info['compared']} transforms"
    )
    if info["compared_ax"]:
        lines.append(
            f"Geometric mean of the single-transform ratios vs AlbumentationsX: {info['geomean_ax']:.2f}x "
            f"over {info['compared_ax']} transforms"
        )
    for name, (ratio, ratio_ax) in info["pipelines"].items():
        lines.append(f"Pipeline {name}: {_fmt(ratio, '.2f')}x vs 2.0.8, {_fmt(ratio_ax, '.2f')}x vs AX")
    if info["below_1"]:
        lines.append(
            "Below 1.0x vs 2.0.8: " + ", ".join(f"{r.name} ({r.ratio:.2f})" for r in info["below_1"])
        )
    if info["below_1_ax"]:
        lines.append(
            "Below 1.0x vs AX: " + ", ".join(f"{r.name} ({r.ratio_ax:.2f})" for r in info["below_1_ax"])
        )
    if info["failed"]:
        lines.append("Not compared: " + ", ".join(f"{r.name} ({r.note})" for r in info["failed"]))
    return "\n".join(lines)


def start_ax(path: str | None, clock: str) -> tuple[AxWorker | None, str]:
    """The AlbumentationsX worker, or None and why not (no path given, no such interpreter, it fails)."""
    if not path:
        return None, "no --ax-python given"
    if not os.path.exists(path):
        return None, f"no interpreter at {path}"
    try:
        return AxWorker(path, clock), ""
    except (OSError, RuntimeError, ValueError) as error:
        return None, f"{path} does not start: {error}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--filter", action="append", default=[], help="only cases whose name contains this")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds per side (alternating order)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls per side first")
    parser.add_argument("--round-seconds", type=float, default=0.1, help="target length of one round")
    parser.add_argument(
        "--pipeline-seconds",
        type=float,
        default=1.0,
        help="target length of one pipeline round: long, so that each round sees enough random "
        "draws (a rotation with p=0.3 fires in 30%% of calls) for its mean to be representative",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny counts: shows the script runs, no real figures"
    )
    parser.add_argument("--markdown", action="store_true", help="print a markdown table (docs/benchmarks.md)")
    parser.add_argument("--no-pipelines", action="store_true", help="single transforms only")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="wall time, or this process's CPU time"
    )
    parser.add_argument(
        "--ax-python",
        default=os.environ.get("INVARIANCE_AX_PYTHON"),
        help="the Python of a separate environment with albumentationsx==2.5.1 (and scikit-image); "
        "default: $INVARIANCE_AX_PYTHON. Without it the AlbumentationsX column stays empty",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args.clock)

    size = 256 if args.smoke else SIZE
    cases = all_cases(size, pipelines=not args.no_pipelines)
    if args.filter:
        wanted = [f.lower() for f in args.filter]
        cases = [c for c in cases if any(w in c.name.lower() for w in wanted)]
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    rounds, warmup, round_seconds, min_loops = args.rounds, args.warmup, args.round_seconds, 1
    if args.smoke:
        # Shows that every case still builds and runs on every side (on a 256x256 image); the
        # figures mean nothing.
        rounds, warmup, round_seconds = 2, 0, 0.0
        args.pipeline_seconds = 0.0
    ax, ax_note = start_ax(args.ax_python, args.clock)
    if ax is None:
        print(f"AlbumentationsX not timed: {ax_note}", file=sys.stderr)
    env = environment(ax, ax_note)
    env["clock"] = "CPU time of each process" if args.clock == "cpu" else "wall time"
    env["image"] = f"skimage.data.astronaut, {size}x{size} RGB uint8"
    try:
        results, floor = run(
            cases,
            rounds,
            warmup,
            round_seconds,
            min_loops,
            progress=not args.quiet,
            size=size,
            pipeline_seconds=args.pipeline_seconds,
            ax=ax,
        )
    finally:
        if ax is not None:
            ax.close()
    print(render(results, floor, env, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
