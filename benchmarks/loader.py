"""The loader: JPEG files through a PyTorch DataLoader, decode included (issue 23, item 6).

Users feel the loader, not a transform: decode, then the crop, then the rest. This benchmark
writes a folder of real-size JPEGs (1 to 3 megapixels, made from scikit-image's photographs:
upscaled, mirrored and tiled to the size, quality 90) and reads them through a DataLoader at 0, 1
and 2 workers, for two pipelines of ``benchmarks/compare.py``:

- **classification**: RandomResizedCrop 224, HorizontalFlip, ColorJitter, Normalize;
- **detection**: LongestMaxSize 640, PadIfNeeded 640, HorizontalFlip, Affine,
  RandomBrightnessContrast, with 12 boxes per image (pascal_voc, in full-image coordinates).

Two readers are compared, each returning a CHW float32 tensor (and boxes for detection):

- **Albumentations 2.0.8 + cv2.imread**: ``cv2.imread`` then ``cvtColor(BGR2RGB)``, then the pipeline;
- **invariance, decode-aware**: :func:`invariance.io.read_augmented` (the JPEG is decoded at 1/2,
  1/4 or 1/8 when the first crop or resize shrinks it that much).

Workers run OpenCV single-threaded and torch with one thread; the main process too. Each
configuration runs ``--rounds`` passes over the folder per library, the two alternating (ABAB,
then BABA); the table gives each library's median images/s and the median of the per-round
ratios (the speed-up), which a burst of load on a shared machine disturbs least.

``--decoders`` also times the decoders alone on the same files: OpenCV full and reduced
(``IMREAD_REDUCED_COLOR_2/4/8``), and, when they are installed (neither is a dependency),
simplejpeg and PyTurboJPEG (1.x, on the system's libturbojpeg), including the latter's region
decode (a lossless crop on the MCU grid, then a scaled decode).

    python benchmarks/loader.py                 # full run, about 3 minutes on 2 cores
    python benchmarks/loader.py --smoke         # a few small files, one round: checks it runs
    python benchmarks/loader.py --decoders      # plus the decoder timings
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from compare import classification_pipeline, detection_pipeline

#: Megapixels and aspect ratios of the generated photos (cycled through).
SIZES = [
    (1.0, 4 / 3),
    (1.5, 3 / 2),
    (2.0, 4 / 3),
    (2.5, 16 / 9),
    (3.0, 4 / 3),
    (1.2, 1.0),
    (1.8, 3 / 4),
    (2.2, 3 / 2),
]
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina")
BOXES = 12


def make_photo(picture: np.ndarray, megapixels: float, aspect: float) -> np.ndarray:
    """``picture`` brought to ``megapixels`` at width / height ``aspect``: upscaled up to 2x, then
    mirrored and tiled where it is still too small, and cropped to size."""
    height = round((megapixels * 1e6 / aspect) ** 0.5)
    width = round(height * aspect)
    ph, pw = picture.shape[:2]
    zoom = min(2.0, max(height / ph, width / pw))
    if zoom > 1:
        picture = cv2.resize(picture, (round(pw * zoom), round(ph * zoom)), interpolation=cv2.INTER_CUBIC)
    ph, pw = picture.shape[:2]
    tile = np.concatenate([picture, picture[:, ::-1]], axis=1)
    tile = np.concatenate([tile, tile[::-1]], axis=0)
    reps = (-(-height // tile.shape[0]), -(-width // tile.shape[1]), 1)
    return np.ascontiguousarray(np.tile(tile, reps)[:height, :width])


def write_folder(folder: Path, count: int, scale: float = 1.0) -> list[Path]:
    """Write ``count`` JPEGs into ``folder`` (kept between runs: rewritten only when missing)."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    pictures = {}
    for index in range(count):
        name = PHOTOS[index % len(PHOTOS)]
        megapixels, aspect = SIZES[index % len(SIZES)]
        path = folder / f"{index:04d}_{name}_{megapixels * scale:.2f}mp.jpg"
        paths.append(path)
        if path.exists():
            continue
        if name not in pictures:
            picture = getattr(data, name)()
            pictures[name] = picture if picture.ndim == 3 else np.dstack([picture] * 3)
        photo = make_photo(pictures[name][..., :3], megapixels * scale, aspect)
        if not cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90]):
            raise OSError(f"cannot write {path}")
    return paths


def boxes_for(path: Path) -> list[list[float]]:
    """``BOXES`` boxes inside the image (pascal_voc, full-size coordinates), fixed per file."""
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
    rng = np.random.default_rng(abs(hash(path.name)) % 2**32)
    x0 = rng.uniform(0, width * 0.8, BOXES)
    y0 = rng.uniform(0, height * 0.8, BOXES)
    x1 = np.minimum(x0 + rng.uniform(width * 0.05, width * 0.3, BOXES), width)
    y1 = np.minimum(y0 + rng.uniform(height * 0.05, height * 0.3, BOXES), height)
    return np.stack([x0, y0, x1, y1], axis=1).round(1).tolist()


def build(library: str, task: str) -> Any:
    """The pipeline of ``benchmarks/compare.py`` for ``task`` in ``library``."""
    if library == "albumentations":
        import albumentations as lib
    else:
        import invariance as lib  # type: ignore[no-redef]
    return classification_pipeline(lib) if task == "classification" else detection_pipeline(lib)


class Files:
    """A map-style dataset over JPEG paths: read, augment, return a CHW float tensor (and boxes)."""

    def __init__(self, library: str, task: str, paths: list[Path]) -> None:
        self.library = library
        self.task = task
        self.paths = paths
        self.boxes = [boxes_for(p) for p in paths] if task == "detection" else None
        self.pipeline = build(library, task)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> Any:
        import torch

        path = self.paths[index]
        targets: dict[str, Any] = {}
        if self.boxes is not None:
            targets = {"bboxes": self.boxes[index], "labels": list(range(BOXES))}
        if self.library == "albumentations":
            image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            out = self.pipeline(image=image, **targets)
        else:
            from invariance.io import read_augmented

            out = read_augmented(path, self.pipeline, **targets)
        image = np.asarray(out["image"], np.float32)
        tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
        if self.boxes is None:
            return tensor
        return tensor, torch.as_tensor(np.asarray(out["bboxes"], np.float32).reshape(-1, 4))


def collate(batch: list[Any]) -> Any:
    """Stack images; keep per-image boxes as a list (detection)."""
    import torch

    if isinstance(batch[0], tuple):
        return torch.stack([b[0] for b in batch]), [b[1] for b in batch]
    return torch.stack(batch)


def worker_init(_: int) -> None:
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def one_pass(loader: Any) -> float:
    """Images per second over one pass of ``loader`` (the workers already started)."""
    start = time.perf_counter()
    count = 0
    for batch in loader:
        count += len(batch[0]) if isinstance(batch, tuple) else len(batch)
    return count / (time.perf_counter() - start)


def measure(
    paths: list[Path], tasks: list[str], workers_list: list[int], rounds: int, batch: int
) -> dict[Any, tuple[float, float, float]]:
    """Per (task, workers): the median images/s of each library over ``rounds`` passes, and the
    median of the per-round ratios. The two libraries alternate within each round (ABAB, then
    BABA), so a burst of load on the shared machine falls on both sides of a pair."""
    from torch.utils.data import DataLoader

    out: dict[Any, tuple[float, float, float]] = {}
    libraries = ("albumentations", "invariance")
    for task in tasks:
        for workers in workers_list:
            loaders = {}
            for library in libraries:
                loaders[library] = DataLoader(
                    Files(library, task, paths),
                    batch_size=batch,
                    num_workers=workers,
                    collate_fn=collate,
                    worker_init_fn=worker_init if workers else None,
                    persistent_workers=workers > 0,
                )
                one_pass(loaders[library])  # warm-up: starts the workers, fills the page cache
            rates: dict[str, list[float]] = {library: [] for library in libraries}
            for round_index in range(rounds):
                for library in libraries if round_index % 2 == 0 else libraries[::-1]:
                    rates[library].append(one_pass(loaders[library]))
            ratios = [ours / theirs for ours, theirs in zip(rates["invariance"], rates["albumentations"])]
            out[(task, workers)] = (
                statistics.median(rates["albumentations"]),
                statistics.median(rates["invariance"]),
                statistics.median(ratios),
            )
            del loaders
    return out


def time_decoders(paths: list[Path], repeats: int) -> list[tuple[str, float]]:
    """Milliseconds per file (best of ``repeats`` passes) for each decoder available."""
    blobs = [p.read_bytes() for p in paths]
    cases: list[tuple[str, Any]] = [
        (
            "OpenCV imdecode, full + cvtColor",
            lambda b: cv2.cvtColor(
                cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
            ),
        ),
    ]
    for factor, flag in (
        (2, cv2.IMREAD_REDUCED_COLOR_2),
        (4, cv2.IMREAD_REDUCED_COLOR_4),
        (8, cv2.IMREAD_REDUCED_COLOR_8),
    ):
        cases.append(
            (
                f"OpenCV imdecode, 1/{factor} (DCT) + cvtColor",
                lambda b, flag=flag: cv2.cvtColor(
                    cv2.imdecode(np.frombuffer(b, np.uint8), flag), cv2.COLOR_BGR2RGB
                ),
            )
        )
    try:
        import simplejpeg
    except ImportError:
        simplejpeg = None
    if simplejpeg is not None:
        cases.append(
            (
                "simplejpeg " + simplejpeg.__version__ + ", full (RGB)",
                lambda b: simplejpeg.decode_jpeg(b, "RGB"),
            )
        )

        def scaled(blob: bytes, factor: int) -> Any:
            # simplejpeg scales when asked for a smallest size (min_factor alone does not)
            height, width, _, _ = simplejpeg.decode_jpeg_header(blob)
            return simplejpeg.decode_jpeg(
                blob, "RGB", min_height=-(-height // factor), min_width=-(-width // factor)
            )

        cases.extend(
            (f"simplejpeg, 1/{factor} (DCT, RGB)", lambda b, factor=factor: scaled(b, factor))
            for factor in (2, 4, 8)
        )
    try:
        from turbojpeg import TJPF_RGB, TurboJPEG

        turbo: Any = TurboJPEG()
    except (ImportError, RuntimeError, OSError):  # PyTurboJPEG also needs the libturbojpeg library
        turbo = None
    if turbo is not None:
        cases.append(("PyTurboJPEG, full (RGB)", lambda b: turbo.decode(b, pixel_format=TJPF_RGB)))
        cases.append(
            (
                "PyTurboJPEG, 1/2 (DCT, RGB)",
                lambda b: turbo.decode(b, pixel_format=TJPF_RGB, scaling_factor=(1, 2)),
            )
        )

        def region(blob: bytes) -> Any:
            # a centred window of half the width and height (a quarter of the area), cut losslessly
            # on the MCU grid, then decoded at 1/2: the region decode this library offers
            width, height, _, _ = turbo.decode_header(blob)
            x, y = (width // 4) // 16 * 16, (height // 4) // 16 * 16
            part = turbo.crop(blob, x, y, width // 2, height // 2)
            return turbo.decode(part, pixel_format=TJPF_RGB, scaling_factor=(1, 2))

        cases.append(("PyTurboJPEG, lossless crop to 1/4 of the area + 1/2 (DCT)", region))
    best = {name: float("inf") for name, _ in cases}
    for _ in range(repeats):  # round-robin: every decoder sees the same spells of load
        for name, decode in cases:
            start = time.perf_counter()
            for blob in blobs:
                decode(blob)
            best[name] = min(best[name], (time.perf_counter() - start) / len(blobs))
    results = [(name, best[name] * 1e3) for name, _ in cases]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--images", type=Path, default=None, help="folder of generated JPEGs (kept for reuse)"
    )
    parser.add_argument("--count", type=int, default=64, help="number of JPEGs")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--tasks", nargs="+", choices=("classification", "detection"), default=["classification", "detection"]
    )
    parser.add_argument("--decoders", action="store_true", help="also time the decoders alone")
    parser.add_argument("--smoke", action="store_true", help="a few small files, one round, 0 and 1 workers")
    args = parser.parse_args()
    scale = 1.0
    if args.smoke:
        args.count, args.rounds, args.batch, args.workers, scale = 4, 1, 2, [0, 1], 0.3
    folder = args.images or Path(tempfile.gettempdir()) / (
        "invariance-loader-smoke" if args.smoke else "invariance-loader-jpegs"
    )

    import albumentations
    import torch

    import invariance

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    paths = write_folder(folder, args.count, scale)
    pixels = [cv2.imread(str(p), cv2.IMREAD_REDUCED_GRAYSCALE_8).size * 64 / 1e6 for p in paths[: len(SIZES)]]
    print(f"cores: {os.cpu_count()}; load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"invariance {invariance.__version__}, albumentations {albumentations.__version__}, torch {torch.__version__}, "
        f"OpenCV {cv2.__version__}; {len(paths)} JPEGs of {min(pixels):.1f}-{max(pixels):.1f} MP in {folder}; "
        f"batch {args.batch}, medians of {args.rounds} rounds"
    )
    results = measure(paths, args.tasks, args.workers, args.rounds, args.batch)
    print()
    print(
        "| pipeline | workers | Albumentations 2.0.8 + cv2.imread (img/s) | invariance, decode-aware (img/s) | speed-up |"
    )
    print("|---|---:|---:|---:|---:|")
    for task in args.tasks:
        for workers in args.workers:
            theirs, ours, ratio = results[(task, workers)]
            print(f"| {task} | {workers} | {theirs:.0f} | {ours:.0f} | {ratio:.2f}x |")
    if args.decoders:
        print()
        print("| decoder | ms per file |")
        print("|---|---:|")
        for name, ms in time_decoders(paths, args.rounds):
            print(f"| {name} | {ms:.1f} |")


if __name__ == "__main__":
    main()
