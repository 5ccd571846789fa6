"""``invariance augment``: offline augmentation of a dataset directory into another.

Each input image gives ``variants`` output images, with annotations in the input's format (COCO,
YOLO, VOC; a semantic mask in ``masks/`` too). Guarantees:

- **Seeded.** Variant ``k`` of file ``key`` uses the seed ``SeedSequence([seed, id(key), k])``
  where ``id`` is a hash of the file's relative path: the same seed writes the same files whatever
  the number of workers or the order they run in.
- **Atomic.** Every file is written to a temporary file in its directory, then renamed over the
  final name (``os.replace``): a crash never leaves a half-written image or annotation.
- **Resumable.** The annotation (or, without one, the image) is written last; an output whose
  last file exists is complete and is skipped on the next run, and stale temporary files of a
  killed run are removed. A rerun after an interruption neither duplicates nor loses a file.

Python API::

    from invariance.tools.augment import augment_dataset
    report = augment_dataset("data/", "data_aug/", policy="detection/medium", variants=4, workers=4)
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import typer

from invariance.tools.annotations import (
    Dataset,
    Format,
    ImageRecord,
    ObjectAnnotation,
    coco_document,
    encode_image,
    read_dataset,
    voc_text,
    write_atomic,
    yolo_label_path,
    yolo_text,
)
from invariance.tools.runner import (
    augmented_record,
    dataset_pipeline,
    derive_seed,
    load_policy,
    load_record,
    pipeline_inputs,
)

PARTS_DIR = ".invariance-parts"


@dataclass(frozen=True)
class Outputs:
    """The files of one (image, variant): written in this order, ``marker`` last."""

    image: Path
    mask: Path | None
    annotation: Path | None
    name: str

    @property
    def marker(self) -> Path:
        return self.annotation or self.image


@dataclass
class AugmentReport:
    """What a run did: files written and skipped, seconds, images per second."""

    written: int
    skipped: int
    seconds: float
    output: Path
    format: Format

    @property
    def images_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


def _variant_path(rel: str, k: int) -> str:
    path = PurePosixPath(rel)
    return str(path.with_name(f"{path.stem}_aug{k}{path.suffix}"))


def outputs_for(dataset: Dataset, record: ImageRecord, k: int, out: Path) -> Outputs:
    """Where variant ``k`` of ``record`` goes under ``out`` (mirroring the input layout)."""
    image_rel = _variant_path(record.key, k)
    image = out / image_rel
    mask = out / "masks" / f"{PurePosixPath(image_rel).stem}.png" if record.mask_path is not None else None
    annotation: Path | None = None
    if dataset.format == "yolo":
        annotation = yolo_label_path(out, image)
    elif dataset.format == "voc" and record.annotation_key:
        annotation = out / _variant_path(record.annotation_key, k)
    elif dataset.format == "coco":
        digest = hashlib.sha1(record.key.encode("utf-8")).hexdigest()[:16]
        annotation = out / PARTS_DIR / f"{digest}_{k}.json"
    return Outputs(image, mask, annotation, PurePosixPath(image_rel).name)


# -- one job ---------------------------------------------------------------------------------------

_STATE: dict[str, Any] = {}


def _init_worker(dataset: Dataset, policy: Any, seed: int, out: Path) -> None:
    import cv2

    cv2.setNumThreads(1)
    _STATE.update(
        dataset=dataset, pipeline=dataset_pipeline(policy, dataset.keypoint_names), seed=seed, out=out
    )


def _coco_file_name(dataset: Dataset, record: ImageRecord, k: int) -> str:
    original = str(record.meta.get("coco_image", {}).get("file_name", record.key))
    return _variant_path(original, k)


def _run_job(index: int, k: int) -> str:
    dataset: Dataset = _STATE["dataset"]
    out: Path = _STATE["out"]
    record = dataset.records[index]
    targets = outputs_for(dataset, record, k, out)
    if targets.marker.exists():
        return "skipped"
    pipeline = _STATE["pipeline"]
    pipeline.set_random_seed(derive_seed(_STATE["seed"], record.key, k))
    loaded = load_record(record)
    result = pipeline(**pipeline_inputs(record, loaded))
    new, mask, _ = augmented_record(record, result, _variant_path(record.key, k))
    if targets.mask is not None and mask is not None:
        write_atomic(targets.mask, encode_image(mask, ".png"))
    write_atomic(targets.image, encode_image(_storable(result["image"]), targets.image.suffix))
    if targets.annotation is not None:
        if dataset.format == "yolo":
            text = yolo_text(new, dataset.classes)
        elif dataset.format == "voc":
            text = voc_text(new, targets.name)
        else:
            text = json.dumps(_record_json(new, _coco_file_name(dataset, record, k)))
        write_atomic(targets.annotation, text)
    return "written"


def _storable(image: Any) -> Any:
    """An image file can hold uint8/uint16; float images in [0, 1] are scaled back to uint8."""
    import numpy as np

    array = np.asarray(image)
    if array.dtype in (np.uint8, np.uint16):
        return array
    if array.dtype.kind == "f" and array.size and float(array.min()) >= 0.0 and float(array.max()) <= 1.0:
        return (array * 255.0).round().astype(np.uint8)
    raise ValueError(
        f"the policy returns {array.dtype} images outside [0, 1] (Normalize?), which no image file can "
        "hold; offline augmentation needs a policy without normalization (normalize when training)"
    )


def _record_json(record: ImageRecord, file_name: str) -> dict[str, Any]:
    return {
        "file_name": file_name,
        "width": record.width,
        "height": record.height,
        "coco_image": record.meta.get("coco_image", {}),
        "objects": [
            {
                "bbox": list(o.bbox),
                "label": o.label,
                "keypoints": None if o.keypoints is None else [list(k) for k in o.keypoints],
                "polygons": o.polygons,
                "extra": o.extra,
            }
            for o in record.objects
        ],
    }


def _record_from_json(data: dict[str, Any], key: str, path: Path) -> ImageRecord:
    objects = [
        ObjectAnnotation(
            (o["bbox"][0], o["bbox"][1], o["bbox"][2], o["bbox"][3]),
            o["label"],
            None if o["keypoints"] is None else [(k[0], k[1], int(k[2])) for k in o["keypoints"]],
            o["polygons"],
            o["extra"],
        )
        for o in data["objects"]
    ]
    meta = {"coco_image": data["coco_image"], "file_name": data["file_name"]}
    return ImageRecord(key, path, int(data["width"]), int(data["height"]), objects, meta=meta)


# -- the run ---------------------------------------------------------------------------------------


def _remove_stale_temporaries(out: Path) -> int:
    removed = 0
    if out.is_dir():
        for temp in out.rglob(".*.tmp"):
            temp.unlink(missing_ok=True)
            removed += 1
    return removed


def _copy_vocabulary(dataset: Dataset, out: Path) -> None:
    for name in ("classes.txt", "obj.names", "data.yaml", "dataset.yaml"):
        source = dataset.root / name
        target = out / name
        if source.is_file() and not target.exists():
            write_atomic(target, source.read_bytes())


def _merge_coco(dataset: Dataset, out: Path, variants: int) -> Path:
    records = []
    for record in dataset.records:
        for k in range(variants):
            part = outputs_for(dataset, record, k, out).annotation
            assert part is not None
            data = json.loads(part.read_text(encoding="utf-8"))
            records.append(_record_from_json(data, _variant_path(record.key, k), out / record.key))
    target = out / dataset.source.get("annotation_file", "annotations.json")
    write_atomic(target, json.dumps(coco_document(dataset, records), indent=1) + "\n")
    return target


def jobs_for(dataset: Dataset, variants: int) -> Iterator[tuple[int, int]]:
    for index in range(len(dataset.records)):
        for k in range(variants):
            yield index, k


def augment_dataset(
    source: str | Path,
    output: str | Path,
    policy: Any = None,
    variants: int = 1,
    seed: int = 0,
    workers: int = 1,
    format: Format | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AugmentReport:
    """Write ``variants`` augmented copies of every image under ``source`` into ``output``.

    ``policy`` is a transform, a policy file, a preset name or None (the article's starter).
    ``progress(done, total)`` is called after each file. See the module docstring for the seeding,
    atomic-write and resume guarantees.
    """
    if variants < 1:
        raise ValueError(f"variants must be at least 1, got {variants}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    root, out = Path(source), Path(output)
    if out.resolve() == root.resolve():
        raise ValueError("the output directory must differ from the dataset directory")
    transform = policy if policy is not None and not isinstance(policy, (str, Path)) else load_policy(policy)
    dataset = read_dataset(root, format)
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(out)
    _copy_vocabulary(dataset, out)
    pending = [
        (i, k)
        for i, k in jobs_for(dataset, variants)
        if not outputs_for(dataset, dataset.records[i], k, out).marker.exists()
    ]
    total = len(dataset.records) * variants
    skipped = total - len(pending)
    done = skipped
    if progress is not None:
        progress(done, total)
    start = time.perf_counter()
    if workers == 1 or len(pending) <= 1:
        _init_worker(dataset, transform, seed, out)
        for i, k in pending:
            _run_job(i, k)
            done += 1
            if progress is not None:
                progress(done, total)
    else:
        # "spawn", not "fork": a forked child inherits OpenCV's (and rich's) threads mid-state and
        # can deadlock in its first parallel OpenCV call.
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(dataset, transform, seed, out),
        ) as pool:
            queue = iter(pending)
            running: set[Future[str]] = set()
            for i, k in queue:
                running.add(pool.submit(_run_job, i, k))
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
                        running.add(pool.submit(_run_job, *nxt))
    seconds = time.perf_counter() - start
    if dataset.format == "coco":
        _merge_coco(dataset, out, variants)
    return AugmentReport(len(pending), skipped, seconds, out, dataset.format)


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
        transform = load_policy(policy)
        dataset = read_dataset(source, format)  # type: ignore[arg-type]
        total = len(dataset.records) * variants
        with progress_bar("augment", total) as bar:
            if engine == "ray":
                from invariance.integrations.ray import augment_directory_with_ray

                report = augment_directory_with_ray(
                    source,
                    output,
                    transform,
                    variants,
                    seed,
                    dataset.format,
                    num_cpus=workers if workers > 1 else None,
                    progress=lambda done, _total: advance(bar, done),
                )
            else:
                report = augment_dataset(
                    source,
                    output,
                    transform,
                    variants,
                    seed,
                    workers,
                    dataset.format,
                    progress=lambda done, _total: advance(bar, done),
                )
    except (InvarianceError, AnnotationError, OSError, ValueError, ImportError) as error:
        fail(str(error))
    console.print(
        f"{report.written} written, {report.skipped} already there (skipped), format {report.format}, "
        f"{report.seconds:.1f} s ({report.images_per_second:.1f} images/s) -> {report.output}",
        soft_wrap=True,
    )
