"""``invariance profile POLICY --loader DIR``: the policy inside a real PyTorch DataLoader.

Two measurements over your own images:

1. **Where one worker's time goes**, stage by stage, in this process: decoding the file, the
   policy's deterministic head (what :class:`~invariance.integrations.torch.CachedDataset` would
   store once: resize to base resolution, fixed crops), the random augmentation (the tail), and
   collating a batch.
2. **Throughput at 0, 1, 2 ... N workers** (N defaults to the usable cores; above 8 the counts
   go 0, 1, 2, 4, 8 ... N), each worker single-threaded (``cv2.setNumThreads(0)``,
   ``torch.set_num_threads(1)``), as we recommend for training. The stage times and the 0-worker
   run use the same settings in this process (restored afterwards).

From these it recommends a worker count and says which side is the bottleneck: given the model's
time per training step (``model_step_ms``, or a ``model_step`` callable that is timed on a real
batch), the loader is the bottleneck when its best throughput is below the images per second the
model consumes. torch is imported only when profiling runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

from invariance.core.errors import ParameterError

#: Throughput within this fraction of the best counts as "as fast" when recommending workers.
NEAR_BEST = 0.95
#: Headroom over the model's consumption rate that a recommended worker count must deliver.
MARGIN = 1.10


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def worker_counts(max_workers: int) -> list[int]:
    """0, 1, 2 ... ``max_workers``; above 8 the counts double (0, 1, 2, 4, 8, 16 ...) and end at the max."""
    if max_workers < 0:
        raise ParameterError(f"max_workers = {max_workers} is invalid: expected 0 or more")
    if max_workers <= 8:
        return list(range(max_workers + 1))
    counts = [0, 1]
    while counts[-1] * 2 < max_workers:
        counts.append(counts[-1] * 2)
    return [*counts, max_workers]


def collect_images(sources: Sequence[str | Path]) -> list[tuple[Path, int]]:
    """``(path, class_index)`` for every image in the given folders and files, in order.

    A folder with class subfolders gives their indices (as ``image_folder`` does); other images get
    ``-1``. Raises ParameterError naming a source that does not exist or holds no image.
    """
    items: list[tuple[Path, int]] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            from invariance.integrations.torch import IMAGE_EXTENSIONS, image_folder  # needs torch

            found, _ = image_folder(path)
            if not found:
                raise ParameterError(
                    f"--loader: no images ({', '.join(IMAGE_EXTENSIONS)}) under {str(path)!r}"
                )
            items += found
        elif path.is_file():
            items.append((path, -1))
        else:
            raise ParameterError(f"--loader: {str(path)!r} is neither a folder nor an image file")
    if not items:
        raise ParameterError("--loader: give at least one folder or image file")
    return items


class _Cycle:
    """``length`` items taken round-robin from ``items`` (a dataset larger than the folder)."""

    def __init__(self, items: Sequence[tuple[Path, int]], length: int) -> None:
        self.items = list(items)
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[Path, int]:
        return self.items[index % len(self.items)]


def _worker_init(_: int) -> None:
    import cv2
    import torch

    cv2.setNumThreads(0)
    torch.set_num_threads(1)


@contextmanager
def _like_a_worker() -> Iterator[None]:
    """This process single-threaded, as a worker is, for the stage times and the 0-worker run.

    Without it the figures measure thread contention: on a busy machine torch's own thread pool
    made collating a batch 30 times slower than one thread does.
    """
    import cv2
    import torch

    cv_threads, torch_threads = cv2.getNumThreads(), torch.get_num_threads()
    cv2.setNumThreads(0)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(cv_threads)
        torch.set_num_threads(torch_threads)


@dataclass
class WorkerRun:
    """One DataLoader pass: ``images`` images in ``batches`` batches with ``workers`` workers."""

    workers: int
    images: int
    seconds: float  # from the first batch to the last (steady state)
    startup_seconds: float  # from creating the iterator to the first batch

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class LoaderReport:
    """What :func:`profile_loader` measured, with its conclusions."""

    images: int  # distinct images found
    batch_size: int
    stages: dict[str, float]  # seconds per image: decode, head, augmentation, collate
    head_names: tuple[str, ...]
    head_stop: str
    runs: list[WorkerRun]
    cores: int
    model_step_ms: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def per_image_seconds(self) -> float:
        return sum(self.stages.values())

    @property
    def best(self) -> WorkerRun:
        return max(self.runs, key=lambda r: r.images_per_second)

    @property
    def model_images_per_second(self) -> float | None:
        """Images per second the model consumes (None without a model step time)."""
        if self.model_step_ms is None or self.model_step_ms <= 0:
            return None
        return self.batch_size * 1000.0 / self.model_step_ms

    @property
    def loader_bound(self) -> bool | None:
        """True when even the best worker count feeds the model more slowly than it trains."""
        need = self.model_images_per_second
        return None if need is None else self.best.images_per_second < need

    @property
    def recommended_workers(self) -> int:
        """The fewest workers that keep up with the model (with 10% headroom), or, without a
        model time or when none keeps up, the fewest within 5% of the best throughput."""
        need = self.model_images_per_second
        ordered = sorted(self.runs, key=lambda r: r.workers)
        if need is not None:
            for run in ordered:
                if run.images_per_second >= MARGIN * need:
                    return run.workers
        best = self.best.images_per_second
        return next(r.workers for r in ordered if r.images_per_second >= NEAR_BEST * best)

    @property
    def cacheable_share(self) -> float:
        """Share of one worker's time that a cached head would save (decode plus head)."""
        total = self.per_image_seconds
        return (self.stages["decode"] + self.stages["head"]) / total if total > 0 else 0.0

    def verdict(self) -> list[str]:
        """The conclusions, one sentence each."""
        best = self.best
        lines = []
        need = self.model_images_per_second
        if need is None:
            batch_ms = 1000.0 * self.batch_size / best.images_per_second
            lines.append(
                f"The loader delivers at most {best.images_per_second:.0f} images/s ({_workers(best.workers)}), "
                f"one batch of {self.batch_size} every {batch_ms:.1f} ms: if a training step takes less "
                "than that, the loader is the bottleneck (pass --model-step-ms to compare)."
            )
        elif self.loader_bound:
            wait = 1.0 - best.images_per_second / need
            lines.append(
                f"The LOADER is the bottleneck: at best {best.images_per_second:.0f} images/s "
                f"({_workers(best.workers)}) against {need:.0f} images/s the model consumes "
                f"({self.model_step_ms:g} ms per batch of {self.batch_size}); the model would wait "
                f"about {100 * wait:.0f}% of the time."
            )
        else:
            lines.append(
                f"The MODEL is the bottleneck: {best.images_per_second:.0f} images/s from the loader "
                f"({_workers(best.workers)}) exceed the {need:.0f} images/s the model consumes "
                f"({self.model_step_ms:g} ms per batch of {self.batch_size})."
            )
        lines.append(f"Recommended: num_workers={self.recommended_workers} (of {self.cores} usable cores).")
        if self.loader_bound:
            slowest = max(self.stages, key=lambda k: self.stages[k])
            lines.append(
                f"Where to win: {STAGE_LABELS[slowest]} is the largest stage; run `invariance profile POLICY "
                "--image FILE` for the augmentation's per-transform times, cache the deterministic head, "
                "or give the loader more cores."
            )
        if self.head_names:
            saved = self.cacheable_share
            lines.append(
                f"Decode and the deterministic head ({', '.join(self.head_names)}) take {100 * saved:.0f}% "
                "of a worker's time; CachedDataset stores them once "
                f"(up to {1 / max(1 - saved, 1e-9):.1f}x per worker after the first epoch)."
            )
        else:
            lines.append(
                f"Decode takes {100 * self.cacheable_share:.0f}% of a worker's time; the policy has no "
                f"deterministic head to cache ({self.head_stop or 'it is empty'})."
            )
        return lines + self.notes


def _workers(count: int) -> str:
    return f"{count} worker" if count == 1 else f"{count} workers"


def _stage_times(
    items: Sequence[tuple[Path, int]],
    split: Any,
    read: Callable[[Path], np.ndarray],
    collate: Callable[[list[Any]], Any],
    batch_size: int,
    samples: int,
) -> tuple[dict[str, float], list[Any]]:
    from invariance.integrations.cache import run_head

    warm = [(split.tail(**run_head(split, {"image": read(items[0][0])}))["image"], 0)] * min(batch_size, 2)
    collate(warm)  # first calls pay one-off set-up (torch, OpenCV): keep it out of the figures
    decode = head = tail = 0.0
    outputs: list[Any] = []
    for index in range(samples):
        path, label = items[index % len(items)]
        start = time.perf_counter()
        image = read(path)
        decoded = time.perf_counter()
        data = run_head(split, {"image": image})
        headed = time.perf_counter()
        out = split.tail(**data)["image"]
        done = time.perf_counter()
        decode, head, tail = decode + decoded - start, head + headed - decoded, tail + done - headed
        outputs.append((out, label))
    collate_seconds = 0.0
    for first in range(0, samples, batch_size):
        batch = outputs[first : first + batch_size]
        start = time.perf_counter()
        try:
            collate(batch)
        except (RuntimeError, TypeError, ValueError) as error:
            shapes = sorted({tuple(np.shape(o)) for o, _ in batch})
            raise ParameterError(
                f"the policy's outputs cannot be batched: {error}; shapes seen {shapes[:3]}. End the policy "
                "with a fixed-size resize or crop, or profile with --batch-size 1"
            ) from None
        collate_seconds += time.perf_counter() - start
    stages = {"decode": decode, "head": head, "augmentation": tail, "collate": collate_seconds}
    return {k: v / samples for k, v in stages.items()}, outputs


def _time_model(model_step: Callable[[Any], Any], batch: Any, repeats: int = 5) -> float:
    """Milliseconds per call of ``model_step(batch)``, after one warm-up call.

    CUDA runs asynchronously: without a synchronisation the clock would stop when the kernels are
    queued, not when they finish, so the GPU is synchronised around the timed calls when in use.
    """
    from invariance.integrations import require

    torch: Any = require("torch", "torch")
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    model_step(batch)  # warm-up
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        model_step(batch)
    if cuda:
        torch.cuda.synchronize()
    return 1000.0 * (time.perf_counter() - start) / repeats


def _loader_run(dataset: Any, workers: int, batch_size: int, collate: Any) -> WorkerRun:
    from invariance.integrations import require

    data = require("torch.utils.data", "torch")
    loader = data.DataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=collate,
        worker_init_fn=_worker_init if workers else None,
    )
    created = time.perf_counter()
    first = last = created
    images = 0
    for count, (batch, _) in enumerate(loader):
        last = time.perf_counter()
        if count == 0:
            first = last
        else:
            images += len(batch)
    return WorkerRun(workers, images, last - first, first - created)


def profile_loader(
    sources: Sequence[str | Path],
    policy: Any,
    max_workers: int | None = None,
    workers: Sequence[int] | None = None,
    batch_size: int = 16,
    batches: int = 8,
    model_step_ms: float | None = None,
    model_step: Callable[[Any], Any] | None = None,
    loader: Callable[[Path], np.ndarray] | None = None,
    progress: Callable[[str], None] | None = None,
) -> LoaderReport:
    """Measure ``policy`` in a PyTorch DataLoader over the images of ``sources``.

    Args:
        sources: folders (``root/<class>/*.jpg`` or flat) and image files.
        policy: a transform or Compose. Its outputs must batch (same shape); a numpy output is
            turned into a tensor by the default collate.
        max_workers: the largest worker count tried (default: the usable cores).
        workers: the exact worker counts to try (overrides ``max_workers``).
        batch_size: images per batch.
        batches: batches per DataLoader pass, after the first (which pays the worker start-up and
            is reported separately).
        model_step_ms: the model's time per training step on one batch, to compare with.
        model_step: a callable run on a real collated batch ``(images, labels)`` and timed, when
            ``model_step_ms`` is not given.
        loader: reads a path into an image (default: RGB uint8 through OpenCV).
        progress: called with a short message before each DataLoader pass.

    Raises:
        ImportError: torch is not installed (the message says how to install it).
        ParameterError: bad arguments, no images, or outputs that cannot be batched.
    """
    from invariance.integrations import require

    # The caller's own mistakes first (a bad path, a bad count), then what needs installing.
    if batch_size < 1 or batches < 1:
        raise ParameterError(f"batch_size = {batch_size} and batches = {batches} must both be 1 or more")
    if model_step_ms is not None and model_step_ms <= 0:
        raise ParameterError(f"model_step_ms = {model_step_ms} is invalid: expected a time in ms above 0")
    items = collect_images(sources)
    require("torch", "torch")
    from invariance.integrations.cache import split_policy
    from invariance.integrations.torch import AugmentedDataset, _read_rgb

    data = require("torch.utils.data", "torch")
    cores = usable_cores()
    counts = (
        sorted(set(workers))
        if workers is not None
        else worker_counts(cores if max_workers is None else max_workers)
    )
    if not counts or min(counts) < 0:
        raise ParameterError(f"workers = {list(workers or [])} is invalid: expected counts of 0 or more")
    read = loader or _read_rgb
    split = split_policy(policy)
    collate = data.default_collate
    samples = max(batch_size * 2, min(len(items), 4 * batch_size))
    with _like_a_worker():
        stages, outputs = _stage_times(items, split, read, collate, batch_size, samples)
    notes: list[str] = []
    if model_step_ms is None and model_step is not None:  # with the threads the training loop has
        model_step_ms = _time_model(model_step, collate(outputs[:batch_size]))
        notes.append(f"Measured model step: {model_step_ms:.1f} ms per batch of {batch_size}.")
    cycled = cast(Sequence[Any], _Cycle(items, batch_size * (batches + 1)))  # indexable with len()
    dataset = AugmentedDataset(cycled, policy, loader=loader)
    runs = []
    with _like_a_worker():
        for count in counts:
            if progress is not None:
                progress(f"DataLoader with {_workers(count)}")
            runs.append(_loader_run(dataset, count, batch_size, collate))
    if len(items) < batch_size:
        notes.append(
            f"Only {len(items)} distinct images: they are read again in round robin (the OS file cache "
            "makes reads cheaper than on a real dataset)."
        )
    return LoaderReport(
        images=len(items),
        batch_size=batch_size,
        stages=stages,
        head_names=split.head_names,
        head_stop=split.stop,
        runs=runs,
        cores=cores,
        model_step_ms=model_step_ms,
        notes=notes,
    )


STAGE_LABELS = {
    "decode": "decode (read the file)",
    "head": "deterministic head",
    "augmentation": "augmentation (random tail)",
    "collate": "collate (per image)",
}


def render_loader_report(report: LoaderReport, title: str = "") -> list[Any]:
    """Rich tables of the report (stages, then worker counts) followed by the verdict lines.

    Every cell is a :class:`rich.text.Text`, so nothing (paths, policy names) is read as markup.
    """
    from rich.table import Table
    from rich.text import Text

    stages = Table(title=Text(title) if title else None, header_style="bold")
    stages.add_column("stage (one worker)")
    stages.add_column("ms / image", justify="right")
    stages.add_column("share", justify="right")
    stages.add_column("", no_wrap=True)
    total = report.per_image_seconds
    for key, seconds in report.stages.items():
        share = seconds / total if total > 0 else 0.0
        label = STAGE_LABELS[key]
        if key == "head":
            label += f": {', '.join(report.head_names)}" if report.head_names else " (none)"
        stages.add_row(Text(label), f"{1000 * seconds:.2f}", f"{100 * share:.0f}%", "#" * round(20 * share))
    stages.add_section()
    stages.add_row(Text("total", style="bold"), Text(f"{1000 * total:.2f}", style="bold"), "100%", "")

    loaders = Table(header_style="bold")
    loaders.add_column("workers", justify="right")
    loaders.add_column("images/s", justify="right")
    loaders.add_column("ms / batch", justify="right")
    loaders.add_column("vs 0 workers", justify="right")
    loaders.add_column("first batch (s)", justify="right")
    base = next(
        (r.images_per_second for r in report.runs if r.workers == 0), report.runs[0].images_per_second
    )
    recommended = report.recommended_workers
    for run in sorted(report.runs, key=lambda r: r.workers):
        rate = run.images_per_second
        mark = " <- recommended" if run.workers == recommended else ""
        loaders.add_row(
            Text(f"{run.workers}{mark}"),
            f"{rate:.0f}",
            f"{1000 * report.batch_size / rate:.1f}",
            f"{rate / base:.2f}x",
            f"{run.startup_seconds:.2f}",
        )
    return [stages, loaders, *(Text(line) for line in report.verdict())]


#: ``--loader sample``: the built-in scenes, written to a temporary folder.
SAMPLE = "sample"


def loader_command(
    policy_file: str,
    sources: Sequence[str],
    max_workers: int | None,
    batch_size: int,
    batches: int,
    model_step_ms: float | None,
) -> None:
    """The ``--loader`` branch of ``invariance profile``: measure, print, and exit 2 on bad input."""
    import tempfile

    import typer
    from rich.text import Text

    from invariance.core.errors import InvarianceError
    from invariance.tools.annotations import AnnotationError
    from invariance.tools.console import console, errors
    from invariance.tools.runner import load_policy
    from invariance.tools.sample_data import write_sample_dataset

    with tempfile.TemporaryDirectory(prefix="invariance-loader-") as scratch:
        paths: list[str | Path] = []
        for source in sources:
            if source == SAMPLE and not Path(source).exists():
                paths.append(write_sample_dataset(Path(scratch), "coco", count=16, suffix=".jpg") / "images")
            else:
                paths.append(source)
        try:
            policy = load_policy(policy_file)
            report = profile_loader(
                paths,
                policy,
                max_workers=max_workers,
                batch_size=batch_size,
                batches=batches,
                model_step_ms=model_step_ms,
                progress=lambda message: console.print(Text(f"{message}...", style="dim")),
            )
        except (InvarianceError, AnnotationError, ImportError, OSError) as error:
            # Text, not a markup string: install hints keep their brackets ('invariance[torch]')
            errors.print(Text.assemble(("error:", "bold red"), " ", str(error)))
            raise typer.Exit(2) from None
    source_text = ", ".join(map(str, sources))
    title = f"{policy_file} in a DataLoader over {report.images} images ({source_text}), batch {batch_size}"
    for part in render_loader_report(report, title):
        console.print(part)
