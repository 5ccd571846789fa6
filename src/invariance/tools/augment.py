"""``invariance augment``: offline augmentation of a dataset directory into another.

Each input image gives ``variants`` output images, with annotations in the input's format (COCO,
YOLO, VOC; a semantic mask in ``masks/`` too). Guarantees:

- **Seeded.** Variant ``k`` of file ``key`` uses the seed ``SeedSequence([seed, id(key), k])``
  where ``id`` is a hash of the file's relative path: the same seed writes the same files whatever
  the number of workers or the order they run in.
- **Atomic.** Every file is written to ``.<name>.invariance-<random>.tmp`` in its directory, then
  renamed over the final name (``os.replace``): a crash never leaves a half-written file.
- **Resumable.** The annotation (or, without one, the image) is written last; an output whose
  last file exists is complete and is skipped on the next run, and the temporary files of a
  killed run are removed, by name: only those of this run's own outputs. A rerun after an
  interruption neither duplicates nor loses a file, and no other file is touched.
- **Separate folders.** The output folder may neither be, contain nor lie inside the input.
- **Checked annotations.** Invalid COCO annotations stop the run with their counts and first
  examples (``--drop-invalid`` drops them instead, and the summary says how many).
- **Workers die with the run.** Worker processes end when the parent dies, even by ``kill -9``.

The run itself is an :class:`~invariance.tools.augment_job.AugmentJob`, which the Ray engine
(``--engine ray``) runs too.

Python API::

    from invariance.tools.augment import augment_dataset
    report = augment_dataset("data/", "data_aug/", policy="detection/medium", variants=4, workers=4)
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import typer

from invariance.tools.annotations import Format
from invariance.tools.augment_job import (
    PARTS_DIR,
    AugmentError,
    AugmentJob,
    AugmentReport,
    Outputs,
    check_folders,
    jobs_for,
    outputs_for,
    variant_path,
)

__all__ = [
    "PARTS_DIR",
    "AugmentError",
    "AugmentJob",
    "AugmentReport",
    "Outputs",
    "augment_dataset",
    "check_folders",
    "jobs_for",
    "outputs_for",
    "run_job",
    "variant_path",
]

_WORKER_JOB: AugmentJob | None = None  # the job of a local worker process (set by its initializer)


def _die_with_parent(parent: int) -> None:
    """Make this worker process end when the process that started it dies (even by ``kill -9``).

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, the kernel's own mechanism. Everywhere (and on
    Linux as a second line, since the kernel ties that signal to the thread that started the
    worker): a daemon thread that checks twice a second that the parent is still there.
    ``parent`` is the pid of the process that started the worker: a parent that died while
    the worker was still starting is noticed too.
    """
    import signal
    import sys
    import threading

    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(ctypes.c_int(1), ctypes.c_ulong(int(signal.SIGKILL)), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="invariance-parent-watch", daemon=True).start()


def _init_worker(job: AugmentJob, parent: int) -> None:
    global _WORKER_JOB
    import cv2

    _die_with_parent(parent)
    cv2.setNumThreads(1)
    _WORKER_JOB = job


def _run_in_worker(index: int, k: int) -> str:
    assert _WORKER_JOB is not None, "the worker initializer did not run"
    return _WORKER_JOB.run(index, k)


def augment_dataset(
    source: str | Path,
    output: str | Path,
    policy: Any = None,
    variants: int = 1,
    seed: int = 0,
    workers: int = 1,
    format: Format | None = None,
    progress: Callable[[int, int], None] | None = None,
    drop_invalid: bool = False,
    decode_aware: bool = True,
) -> AugmentReport:
    """Write ``variants`` augmented copies of every image under ``source`` into ``output``.

    ``policy`` is a transform, a policy file, a preset name or None (the article's starter).
    ``progress(done, total)`` is called after each file. See the module docstring for the seeding,
    atomic-write and resume guarantees. Invalid annotations raise :class:`AugmentError` unless
    ``drop_invalid`` is true (then they are dropped and counted in the report). ``decode_aware``
    decodes each JPEG only as far as the policy's first crop or resize needs (see docs/loading.md);
    False decodes every image in full.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    job = AugmentJob.plan(source, output, policy, variants, seed, format, drop_invalid, decode_aware)
    return run_job(job, workers, progress)


def run_job(
    job: AugmentJob, workers: int = 1, progress: Callable[[int, int], None] | None = None
) -> AugmentReport:
    """Run ``job`` on this machine, in ``workers`` processes (the local engine)."""
    job.prepare()
    pending = job.pending()
    total = job.total
    done = total - len(pending)
    if progress is not None:
        progress(done, total)
    start = time.perf_counter()
    if workers == 1 or len(pending) <= 1:
        for i, k in pending:
            job.run(i, k)
            done += 1
            if progress is not None:
                progress(done, total)
    else:
        # "spawn", not "fork": a forked child inherits OpenCV's (and rich's) threads mid-state and
        # can deadlock in its first parallel OpenCV call. Workers die with this process.
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(job, os.getpid()),
        ) as pool:
            queue = iter(pending)
            running: set[Future[str]] = set()
            for i, k in queue:
                running.add(pool.submit(_run_in_worker, i, k))
                if len(running) >= 4 * workers:
                    break
            while running:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    done += 1
                    if progress is not None:
                        progress(done, total)
                    nxt = next(queue, None)
                    if nxt is not None:
                        running.add(pool.submit(_run_in_worker, *nxt))
    seconds = time.perf_counter() - start
    job.finish()
    return job.report(len(pending), seconds)


def command(
    source: Path = typer.Argument(
        ..., help="Dataset directory: COCO json, YOLO txt, VOC xml, or plain images."
    ),
    output: Path = typer.Argument(..., help="Output directory (created; an interrupted run resumes here)."),
    policy: str = typer.Option(
        None, "--policy", "-p", help="Policy file (JSON/YAML) or preset name; default: the article's starter."
    ),
    variants: int = typer.Option(1, "--variants", "-k", min=1, help="Augmented copies per image."),
    seed: int = typer.Option(0, help="Base seed: the same seed writes the same files."),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Worker processes."),
    format: str = typer.Option(None, "--format", help="coco, yolo, voc or images (default: detected)."),
    drop_invalid: bool = typer.Option(
        False,
        "--drop-invalid",
        help="Drop invalid annotations (bad boxes, unknown categories) and go on; by default they stop the run.",
    ),
    decode_aware: bool = typer.Option(
        True,
        "--decode-aware/--full-decode",
        help="Decode each JPEG only as far as the policy's first crop or resize needs (docs/loading.md); "
        "--full-decode decodes every image in full.",
    ),
    engine: str = typer.Option(
        "local",
        "--engine",
        help="local (processes on this machine) or ray (Ray Data; pip install 'invariance[ray]').",
    ),
) -> None:
    """Augment a dataset offline: K variants per image, annotations in the same format.

    ``--engine ray`` runs the same jobs on Ray Data and writes the same files for the same seed.
    """
    from invariance.core.errors import InvarianceError
    from invariance.tools.annotations import AnnotationError
    from invariance.tools.console import advance, console, fail, progress_bar

    if engine not in ("local", "ray"):
        fail(f"--engine must be 'local' or 'ray', got {engine!r}")
    try:
        job = AugmentJob.plan(source, output, policy, variants, seed, format, drop_invalid, decode_aware)  # type: ignore[arg-type]
        with progress_bar("augment", job.total) as bar:
            if engine == "ray":
                from invariance.integrations.ray import run_job_with_ray

                report = run_job_with_ray(
                    job,
                    num_cpus=workers if workers > 1 else None,
                    progress=lambda done, _total: advance(bar, done),
                )
            else:
                report = run_job(job, workers, progress=lambda done, _total: advance(bar, done))
    except (InvarianceError, AnnotationError, OSError, ValueError, ImportError) as error:
        fail(str(error))
    if report.dropped:
        console.print(f"dropped {report.dropped} invalid annotation(s) (--drop-invalid)", soft_wrap=True)
    console.print(
        f"{report.written} written, {report.skipped} already there (skipped), format {report.format}, "
        f"{report.seconds:.1f} s ({report.images_per_second:.1f} images/s) -> {report.output}",
        soft_wrap=True,
    )
