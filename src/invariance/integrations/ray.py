"""Offline augmentation on Ray Data (``pip install invariance[ray]``).

Ray schedules the work; this module only maps a policy over a ``ray.data.Dataset`` with
``map_batches``. Every row's randomness comes from ``SeedSequence([seed, id(row), variant])``
(:func:`invariance.tools.runner.derive_seed`), where ``id`` is a hash of a stable row id (a
file path or an id column), never of the row's position: results are the same whatever the
number of blocks, workers or machines. Input batches are never modified: each output batch is
built from new arrays.

Importing this module imports ray. On a laptop, ``ray.init(num_cpus=4)`` (or nothing: the first
call starts a local instance); on a cluster, ``ray.init(address="auto")`` on a node of the
cluster, or ``RAY_ADDRESS=ray://head:10001`` for a client (see docs/integrations.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from invariance.core.compose import BaseCompose, Compose
from invariance.core.errors import InputError, ParameterError
from invariance.core.targets import BboxParams, KeypointParams
from invariance.integrations import require
from invariance.tools.annotations import Format, encode_image, write_atomic
from invariance.tools.augment_job import AugmentJob, AugmentReport, variant_path
from invariance.tools.runner import derive_seed

ray: Any = require("ray", "ray")

__all__ = [
    "augment_dataset",
    "augment_directory_with_ray",
    "encode_images",
    "run_job_with_ray",
    "write_images",
]

#: Keywords of a pipeline call that hold targets (moved with the image) rather than metadata.
TARGET_KEYS = ("image", "mask", "masks", "bboxes", "keypoints")


def _ensure_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"ignore_reinit_error": True, "log_to_driver": False}
        if address is not None:
            kwargs["address"] = address
        elif num_cpus is not None:
            kwargs["num_cpus"] = num_cpus
        ray.init(**kwargs)


def _as_pipeline(
    policy: Any, bbox_params: BboxParams | Mapping[str, Any] | None, keypoint_params: Any
) -> BaseCompose:
    if isinstance(policy, BaseCompose):
        if bbox_params is not None or keypoint_params is not None:
            raise ParameterError(
                "augment_dataset: pass bbox_params / keypoint_params in the Compose, not beside it"
            )
        return policy
    return Compose([policy], bbox_params=bbox_params, keypoint_params=keypoint_params)


def _cell(value: Any) -> Any:
    """A batch cell as the pipeline wants it: arrays stay arrays, ragged object arrays become lists."""
    if isinstance(value, np.ndarray) and value.dtype == object:
        return [_cell(v) for v in value]
    return value


def _row_id(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


class _BatchAugmenter:
    """The ``map_batches`` function: one output row per (input row, variant), from fresh arrays."""

    def __init__(
        self, pipeline: BaseCompose, seed: int, id_column: str, variants: int, columns: Mapping[str, str]
    ) -> None:
        self.pipeline = pipeline
        self.seed = seed
        self.id_column = id_column
        self.variants = variants
        self.columns = dict(columns)

    def __call__(self, batch: Mapping[str, np.ndarray]) -> dict[str, Any]:
        if self.id_column not in batch:
            raise InputError(
                f"augment_dataset: the id column {self.id_column!r} is missing (columns: {sorted(batch)})"
            )
        missing = [c for c in self.columns.values() if c not in batch]
        if missing:
            raise InputError(f"augment_dataset: columns {missing} are missing (columns: {sorted(batch)})")
        size = len(batch[self.id_column])
        passthrough = [c for c in batch if c not in self.columns.values()]
        out: dict[str, list[Any]] = {c: [] for c in passthrough}
        out.update({c: [] for c in self.columns.values()})
        out["variant"] = []
        for row in range(size):
            key = _row_id(batch[self.id_column][row])
            data = {arg: _cell(batch[column][row]) for arg, column in self.columns.items()}
            for k in range(self.variants):
                self.pipeline.set_random_seed(derive_seed(self.seed, key, k))
                result = self.pipeline(**data)
                for arg, column in self.columns.items():
                    value = result[arg]
                    out[column].append(np.asarray(value) if arg in TARGET_KEYS else value)
                for column in passthrough:
                    out[column].append(batch[column][row])
                out["variant"].append(k)
        return {name: _column(values) for name, values in out.items()}


def _column(values: list[Any]) -> Any:
    """A list of cells as a batch column: one array when the cells stack, else an object array."""
    if values and all(isinstance(v, np.ndarray) for v in values):
        shapes = {v.shape for v in values}
        if len(shapes) == 1 and values[0].dtype != object:
            return np.stack(values)
        column = np.empty(len(values), dtype=object)
        column[:] = values
        return column
    return values


def augment_dataset(
    ds: Any,
    policy: Any,
    *,
    seed: int = 0,
    id_column: str = "path",
    variants: int = 1,
    columns: Mapping[str, str] | None = None,
    bbox_params: BboxParams | Mapping[str, Any] | None = None,
    keypoint_params: KeypointParams | Mapping[str, Any] | None = None,
    batch_size: int = 16,
    **map_batches_args: Any,
) -> Any:
    """Map ``policy`` over a ``ray.data.Dataset``: ``variants`` augmented rows per input row (lazy).

    Row ``r``'s variant ``k`` is drawn from ``derive_seed(seed, str(r[id_column]), k)``, so the
    output depends only on the rows, not on how they are split into blocks or scheduled. The
    output rows keep every input column, with the target columns replaced by their augmented
    values, plus an integer ``variant`` column.

    Args:
        ds: the input ``ray.data.Dataset``; images as arrays (HWC or HW) in ``image``.
        policy: a transform or a Compose (box and keypoint formats in its params, or below).
        seed: base seed. Default: 0.
        id_column: a column with a stable id per row (a path, an id). Default: ``path``.
        variants: augmented copies per row, >= 1. Default: 1.
        columns: pipeline argument -> column, for the targets and metadata the policy reads
            (``{"image": "image", "bboxes": "boxes", "labels": "category"}``).
            Default: ``{"image": "image"}``.
        bbox_params, keypoint_params: formats when ``policy`` is not a Compose.
        batch_size: rows per ``map_batches`` call. Default: 16.
        **map_batches_args: passed to ``map_batches`` (``num_cpus``, ``concurrency``...).

    Returns:
        The lazy augmented ``ray.data.Dataset``; write it with :func:`write_images` or
        ``encode_images(ds).write_parquet(path)``.
    """
    if variants < 1:
        raise ParameterError(f"augment_dataset: variants must be at least 1, got {variants}")
    pipeline = _as_pipeline(policy, bbox_params, keypoint_params)
    augmenter = _BatchAugmenter(pipeline, int(seed), id_column, variants, columns or {"image": "image"})
    return ds.map_batches(augmenter, batch_format="numpy", batch_size=batch_size, **map_batches_args)


def _stem_name(key: str, k: int, suffix: str) -> str:
    return str(Path(variant_path(key, k)).with_suffix(suffix))


def _json_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_json_value(v) for v in value] if value.dtype == object else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return value


class _Writer:
    def __init__(self, root: str, id_column: str, image_column: str, annotations: Sequence[str], suffix: str):
        self.root = Path(root)
        self.id_column = id_column
        self.image_column = image_column
        self.annotations = list(annotations)
        self.suffix = suffix

    def __call__(self, batch: Mapping[str, np.ndarray]) -> dict[str, Any]:
        written = []
        for row in range(len(batch[self.id_column])):
            key = _row_id(batch[self.id_column][row])
            k = int(batch["variant"][row]) if "variant" in batch else 0
            name = _stem_name(key, k, self.suffix)
            image = np.asarray(batch[self.image_column][row])
            write_atomic(self.root / name, encode_image(image, self.suffix))
            if self.annotations:
                note = {c: _json_value(batch[c][row]) for c in self.annotations}
                note.update({"image": name, "source": key, "variant": k})
                write_atomic((self.root / name).with_suffix(".json"), json.dumps(note))
            written.append(name)
        return {"file": np.asarray(written, dtype=object)}


def write_images(
    ds: Any,
    root: str | Path,
    *,
    id_column: str = "path",
    image_column: str = "image",
    annotation_columns: Sequence[str] = (),
    suffix: str = ".png",
) -> list[str]:
    """Write each row's image to ``root/<id stem>_aug<variant><suffix>`` (+ a ``.json`` of annotations).

    Every file is written atomically (temporary file + rename). Runs the dataset; returns the
    relative file names written, sorted.
    """
    writer = _Writer(str(root), id_column, image_column, annotation_columns, suffix)
    rows = ds.map_batches(writer, batch_format="numpy").take_all()
    return sorted(str(r["file"]) for r in rows)


def _encode_batch(batch: Mapping[str, np.ndarray], image_column: str, suffix: str) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in batch.items() if k != image_column}
    encoded = [encode_image(np.asarray(img), suffix) for img in batch[image_column]]
    column = np.empty(len(encoded), dtype=object)
    column[:] = encoded
    out[image_column] = column
    return out


def encode_images(ds: Any, image_column: str = "image", suffix: str = ".png") -> Any:
    """Replace the image column by encoded image bytes (for ``write_parquet``; lazy)."""
    return ds.map_batches(
        _encode_batch, batch_format="numpy", fn_kwargs={"image_column": image_column, "suffix": suffix}
    )


# -- the same files as ``invariance augment`` --------------------------------------------------------


class _JobRunner:
    """A Ray actor running jobs of an :class:`AugmentJob` (its seeds, names and atomic writes)."""

    def __init__(self, job: AugmentJob) -> None:
        import cv2

        cv2.setNumThreads(1)
        self.job = job

    def __call__(self, batch: Mapping[str, np.ndarray]) -> dict[str, Any]:
        status = [self.job.run(int(i), int(k)) for i, k in zip(batch["index"], batch["k"])]
        return {"status": np.asarray(status, dtype=object)}


def augment_directory_with_ray(
    source: str | Path,
    output: str | Path,
    policy: Any = None,
    variants: int = 1,
    seed: int = 0,
    format: Format | None = None,
    *,
    num_cpus: int | None = None,
    address: str | None = None,
    concurrency: int | None = None,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
    drop_invalid: bool = False,
) -> AugmentReport:
    """``invariance augment`` on Ray: the same files as the single-process path for the same seed.

    Plans an :class:`~invariance.tools.augment_job.AugmentJob` and runs it with
    :func:`run_job_with_ray`. On a cluster, ``output`` must be a file system every node sees
    (NFS, a mounted bucket).

    Args:
        source, output, policy, variants, seed, format, drop_invalid: as ``invariance augment``.
        num_cpus, address, concurrency, batch_size, progress: as :func:`run_job_with_ray`.
    """
    job = AugmentJob.plan(source, output, policy, variants, seed, format, drop_invalid)
    return run_job_with_ray(
        job,
        num_cpus=num_cpus,
        address=address,
        concurrency=concurrency,
        batch_size=batch_size,
        progress=progress,
    )


def run_job_with_ray(
    job: AugmentJob,
    *,
    num_cpus: int | None = None,
    address: str | None = None,
    concurrency: int | None = None,
    batch_size: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> AugmentReport:
    """Run an offline augmentation job on Ray Data (the Ray engine of ``invariance augment``).

    Pending ``(image, variant)`` pairs become rows of a Ray dataset; actors run
    :meth:`AugmentJob.run` on them, so the output directory is byte-for-byte the one the local
    engine writes for the same job.

    Args:
        job: the planned job (:meth:`AugmentJob.plan`).
        num_cpus: CPUs of a local Ray instance started here (ignored when Ray is running or
            ``address`` is given). Default: all.
        address: a Ray cluster to connect to (``auto``, ``ray://head:10001``). Default: local.
        concurrency: number of actors. Default: the cluster's CPU count.
        batch_size: jobs per ``map_batches`` call. Default: 8.
        progress: called as ``progress(done, total)`` as jobs finish (as the CLI's progress bar).
    """
    job.prepare()
    pending = [{"index": i, "k": k} for i, k in job.pending()]
    total = job.total
    done = total - len(pending)
    if progress is not None:
        progress(done, total)
    start = time.perf_counter()
    if pending:
        _ensure_ray(address, num_cpus)
        actors = concurrency or max(1, int(ray.cluster_resources().get("CPU", 1)))
        blocks = max(1, min(len(pending), actors * 4))
        jobs = ray.data.from_items(pending, override_num_blocks=blocks)
        statuses = jobs.map_batches(
            _JobRunner,
            fn_constructor_args=(job,),
            batch_format="numpy",
            batch_size=batch_size,
            concurrency=actors,
            num_cpus=1,
        )
        finished = 0
        for _ in statuses.iter_rows():
            finished += 1
            if progress is not None:
                progress(done + finished, total)
        if finished != len(pending):  # pragma: no cover - Ray returns one row per job
            raise RuntimeError(f"Ray ran {finished} jobs of {len(pending)}")
    seconds = time.perf_counter() - start
    job.finish()
    return job.report(len(pending), seconds)
