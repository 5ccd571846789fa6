"""The offline augmentation job: one object that the local engine and the Ray engine both run.

:class:`AugmentJob` is the plan of one ``invariance augment`` run: the dataset it reads, the files
it writes for every ``(image, variant)``, which of them are missing, how one is made, which
temporary files are its own, and how the run is finished. The local engine
(:mod:`invariance.tools.augment`) runs it in worker processes, the Ray engine
(:mod:`invariance.integrations.ray`) in actors; neither reaches into the other.

Guarantees (both engines):

- **Seeded.** Variant ``k`` of file ``key`` uses the seed ``SeedSequence([seed, id(key), k])``.
- **Atomic.** Every file is written to ``.<name>.invariance-<random>.tmp`` in its folder, then
  renamed over the final name: a crash never leaves a half-written image or annotation.
- **Resumable, and touching nothing else.** The annotation (or the image) is written last; an
  output whose last file exists is skipped on the next run. Stale temporary files of a killed
  run are removed by name: only ``.<one of this run's outputs>.invariance-*.tmp``.
- **No overlap.** The output folder may neither be, contain nor lie inside the input folder.
- **Annotations are checked.** Invalid COCO annotations (a box with zero or negative size, an
  unknown ``category_id``, an unknown ``image_id``) stop the run with their counts and first
  examples, unless ``drop_invalid`` asks to drop them (counted in the report).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

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
    run_record,
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
    dropped: int = 0  #: invalid annotations dropped (``drop_invalid``)

    @property
    def images_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


def variant_path(rel: str, k: int) -> str:
    """The relative path of variant ``k`` of the file ``rel``: ``a/b.png`` -> ``a/b_aug{k}.png``."""
    path = PurePosixPath(rel)
    return str(path.with_name(f"{path.stem}_aug{k}{path.suffix}"))


def outputs_for(dataset: Dataset, record: ImageRecord, k: int, out: Path) -> Outputs:
    """Where variant ``k`` of ``record`` goes under ``out`` (mirroring the input layout)."""
    image_rel = variant_path(record.key, k)
    image = out / image_rel
    mask = out / "masks" / f"{PurePosixPath(image_rel).stem}.png" if record.mask_path is not None else None
    annotation: Path | None = None
    if dataset.format == "yolo":
        annotation = yolo_label_path(out, image)
    elif dataset.format == "voc" and record.annotation_key:
        annotation = out / variant_path(record.annotation_key, k)
    elif dataset.format == "coco":
        digest = hashlib.sha1(record.key.encode("utf-8")).hexdigest()[:16]
        annotation = out / PARTS_DIR / f"{digest}_{k}.json"
    return Outputs(image, mask, annotation, PurePosixPath(image_rel).name)


# -- the job ---------------------------------------------------------------------------------------

#: Marker in the names of this tool's temporary files (``.<final name>.invariance-<random>.tmp``).
TEMP_MARKER = ".invariance-"


class AugmentError(ValueError):
    """An ``invariance augment`` run that cannot start: folders that overlap, invalid annotations."""


def check_folders(source: Path, output: Path) -> None:
    """Refuse an output folder that is, contains or lies inside the input folder.

    An output inside the input would be read back as input by the next run; an input inside the
    output would have the run write (and clean up) among the user's own files.
    """
    root, out = source.resolve(), output.resolve()
    if out == root:
        raise AugmentError(f"the output directory must differ from the dataset directory ({str(root)!r})")
    if out.is_relative_to(root):
        raise AugmentError(
            f"the output directory {str(out)!r} lies inside the dataset directory {str(root)!r}: a rerun "
            "would read the outputs as new input; choose a folder beside the dataset "
            f"(for example {str(root.parent / (root.name + '_aug'))!r})"
        )
    if root.is_relative_to(out):
        raise AugmentError(
            f"the dataset directory {str(root)!r} lies inside the output directory {str(out)!r}: the run "
            "would write among your own files; choose an output folder beside the dataset"
        )


@dataclass
class AugmentJob:
    """One offline augmentation run, shared by the local engine and the Ray engine.

    It knows what to read (``dataset``), where every output of ``(image index, variant)`` goes,
    which of them are still missing, how one of them is made (:meth:`run`), which temporary files
    are its own, and how the run is finished (the merged COCO file). It is picklable: each worker
    process (or Ray actor) receives one and builds its pipeline once, on first use.
    """

    dataset: Dataset
    out: Path
    policy: Any
    variants: int = 1
    seed: int = 0
    dropped: int = 0
    #: Decode each JPEG only as far as the policy's first crop or resize needs (``--full-decode`` turns it off).
    decode_aware: bool = True
    _pipeline: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def plan(
        cls,
        source: str | Path,
        output: str | Path,
        policy: Any = None,
        variants: int = 1,
        seed: int = 0,
        format: Format | None = None,
        drop_invalid: bool = False,
        decode_aware: bool = True,
    ) -> AugmentJob:
        """Check the folders and the policy, read the dataset, and check its annotations.

        Raises:
            AugmentError: overlapping folders, invalid annotations (unless ``drop_invalid``,
                which drops them and counts them in :attr:`dropped`), or two images whose outputs
                would share a file name.
            ValueError: ``variants`` below 1. AnnotationError: an unreadable dataset.
        """
        if variants < 1:
            raise ValueError(f"variants must be at least 1, got {variants}")
        root, out = Path(source), Path(output)
        check_folders(root, out)
        transform = (
            policy if policy is not None and not isinstance(policy, (str, Path)) else load_policy(policy)
        )
        dataset = read_dataset(root, format)
        dropped = 0
        if dataset.problems:
            if not drop_invalid:
                raise AugmentError(invalid_annotations_message(dataset))
            dropped = drop_invalid_objects(dataset)
        check_distinct_outputs(dataset, out)
        return cls(dataset, out, transform, variants, int(seed), dropped, bool(decode_aware))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_pipeline"] = None  # built again in each worker
        return state

    @property
    def total(self) -> int:
        return len(self.dataset.records) * self.variants

    def outputs(self, index: int, k: int) -> Outputs:
        """Where variant ``k`` of image ``index`` goes."""
        return outputs_for(self.dataset, self.dataset.records[index], k, self.out)

    def jobs(self) -> Iterator[tuple[int, int]]:
        return jobs_for(self.dataset, self.variants)

    def pending(self) -> list[tuple[int, int]]:
        """The ``(index, variant)`` pairs whose last file is not written yet."""
        return [(i, k) for i, k in self.jobs() if not self.outputs(i, k).marker.exists()]

    def final_files(self) -> Iterator[Path]:
        """Every file this run may write, temporary files aside."""
        for i, k in self.jobs():
            targets = self.outputs(i, k)
            yield targets.image
            if targets.mask is not None:
                yield targets.mask
            if targets.annotation is not None:
                yield targets.annotation
        for name in VOCABULARY_FILES:
            yield self.out / name
        if self.dataset.format == "coco":
            yield self.coco_file

    @property
    def coco_file(self) -> Path:
        return self.out / self.dataset.source.get("annotation_file", "annotations.json")

    def stale_temporaries(self) -> list[Path]:
        """Temporary files a killed run of this job left: ``.<one of our outputs>.invariance-*.tmp``.

        Only names derived from this run's own outputs match; every other file, dot-file or
        ``.tmp`` file in the output folder is left alone. Each output folder is listed once.
        """
        by_folder: dict[Path, set[str]] = {}
        for path in self.final_files():
            by_folder.setdefault(path.parent, set()).add(path.name)
        stale = []
        for folder, names in by_folder.items():
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                name = entry.name
                if not (name.startswith(".") and name.endswith(".tmp") and TEMP_MARKER in name):
                    continue
                final = name[1:].rsplit(TEMP_MARKER, 1)[0]
                if final in names and entry.is_file(follow_symlinks=False):
                    stale.append(Path(entry.path))
        return stale

    def prepare(self) -> int:
        """Create the output folder, remove this job's stale temporaries (by name), copy the
        class vocabulary; return the number of temporaries removed."""
        self.out.mkdir(parents=True, exist_ok=True)
        stale = self.stale_temporaries()
        for path in stale:
            path.unlink(missing_ok=True)
        _copy_vocabulary(self.dataset, self.out)
        return len(stale)

    def run(self, index: int, k: int) -> str:
        """Write variant ``k`` of image ``index``: ``"written"``, or ``"skipped"`` when complete."""
        dataset = self.dataset
        record = dataset.records[index]
        targets = outputs_for(dataset, record, k, self.out)
        if targets.marker.exists():
            return "skipped"
        if self._pipeline is None:
            self._pipeline = dataset_pipeline(self.policy, dataset.keypoint_names)
        pipeline = self._pipeline
        pipeline.set_random_seed(derive_seed(self.seed, record.key, k))
        result = run_record(pipeline, record, self.decode_aware)
        new, mask, _ = augmented_record(record, result, variant_path(record.key, k))
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

    def finish(self) -> None:
        """Write what needs every output (the merged COCO file)."""
        if self.dataset.format == "coco":
            _merge_coco(self.dataset, self.out, self.variants)

    def report(self, written: int, seconds: float) -> AugmentReport:
        return AugmentReport(
            written, self.total - written, seconds, self.out, self.dataset.format, self.dropped
        )


def check_distinct_outputs(dataset: Dataset, out: Path) -> None:
    """Refuse a dataset where two images would write the same output file.

    Names derive from each image's path and stem (``a/b.png`` -> ``a/b_aug0.png``; masks and
    YOLO / VOC labels by stem alone), so two images of one folder that differ only in their
    extension (``00.jpg`` and ``00.png``) would share a label or mask file: the second would
    overwrite the first, or be taken as done by a resumed run. The variant number is appended
    the same way to every name, so variant 0 shows every clash.
    """
    owners: dict[Path, str] = {}
    for record in dataset.records:
        targets = outputs_for(dataset, record, 0, out)
        for path in (targets.image, targets.mask, targets.annotation):
            if path is None:
                continue
            other = owners.setdefault(path, record.key)
            if other != record.key:
                raise AugmentError(
                    f"{other!r} and {record.key!r} would both write {str(path.relative_to(out))!r}: "
                    "outputs (and masks and labels, matched by file stem) are named after the input's "
                    "stem; rename one of them"
                )


def invalid_annotations_message(dataset: Dataset) -> str:
    """What is wrong with the annotations, counted by kind, with the first examples."""
    kinds: dict[str, list[str]] = {}
    for problem in dataset.problems:
        kinds.setdefault(problem.kind, []).append(problem.where)
    lines = [f"{len(dataset.problems)} invalid annotation(s) in {str(dataset.root)!r}:"]
    for kind, where in sorted(kinds.items()):
        examples = "; ".join(where[:3]) + (f"; ... ({len(where) - 3} more)" if len(where) > 3 else "")
        lines.append(f"  {len(where)} x {kind}: {examples}")
    lines.append("fix them, or pass --drop-invalid to drop these objects and augment the rest")
    return "\n".join(lines)


def drop_invalid_objects(dataset: Dataset) -> int:
    """Remove the objects named in ``dataset.problems``; return how many were removed."""
    bad = {(p.record, p.index) for p in dataset.problems if p.index is not None}
    removed = 0
    for r, record in enumerate(dataset.records):
        keep = [obj for i, obj in enumerate(record.objects) if (r, i) not in bad]
        removed += len(record.objects) - len(keep)
        record.objects[:] = keep
    return removed


def _coco_file_name(dataset: Dataset, record: ImageRecord, k: int) -> str:
    original = str(record.meta.get("coco_image", {}).get("file_name", record.key))
    return variant_path(original, k)


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

VOCABULARY_FILES = ("classes.txt", "obj.names", "data.yaml", "dataset.yaml")


def _copy_vocabulary(dataset: Dataset, out: Path) -> None:
    for name in VOCABULARY_FILES:
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
            records.append(_record_from_json(data, variant_path(record.key, k), out / record.key))
    target = out / dataset.source.get("annotation_file", "annotations.json")
    write_atomic(target, json.dumps(coco_document(dataset, records), indent=1) + "\n")
    return target


def jobs_for(dataset: Dataset, variants: int) -> Iterator[tuple[int, int]]:
    for index in range(len(dataset.records)):
        for k in range(variants):
            yield index, k
