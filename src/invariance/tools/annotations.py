"""Read and write detection / segmentation / keypoint datasets: COCO json, YOLO txt, Pascal VOC xml.

Everything is converted to one in-memory form, :class:`Dataset` of :class:`ImageRecord`, with
boxes in ``pascal_voc`` pixels (continuous frame), class names as labels, COCO keypoints as
``(x, y, v)`` per object and COCO polygons kept per object. Writers take the same form back to
the file format, so ``invariance augment`` writes the format it read.

Layouts recognised under a dataset root (``detect_format``):

- **COCO**: one ``*.json`` with ``images`` and ``annotations`` (``file_name`` relative to the root
  or to ``root/images``).
- **YOLO**: ``*.txt`` label files (``class cx cy w h``, normalised) beside the images or in a
  ``labels/`` tree mirroring ``images/``; class names from ``classes.txt``, ``obj.names`` or
  ``data.yaml`` (``names``).
- **VOC**: ``*.xml`` files (``Annotations/`` or beside the images) naming their image in
  ``<filename>``.
- **images**: plain images (classification); an optional ``masks/<stem>.png`` gives a semantic mask
  for any format.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import yaml

from invariance.core.errors import ImageFileError
from invariance.core.image_io import read_header
from invariance.core.image_io import read_image as safe_read_image

Format = Literal["coco", "yolo", "voc", "images"]
VOC_OBJECT_FIELDS = ("pose", "truncated", "difficult", "occluded")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


class AnnotationError(ValueError):
    """A dataset or annotation file that cannot be read."""


@dataclass
class ObjectAnnotation:
    """One annotated object: a box (pascal_voc pixels) and its class name, optionally more."""

    bbox: tuple[float, float, float, float]
    label: str
    keypoints: list[tuple[float, float, int]] | None = None
    polygons: list[list[float]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImageRecord:
    """One image of a dataset with its objects. ``key`` is its path relative to the root (posix)."""

    key: str
    image_path: Path
    width: int
    height: int
    objects: list[ObjectAnnotation] = field(default_factory=list)
    mask_path: Path | None = None
    annotation_key: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class AnnotationProblem:
    """An annotation the reader found invalid: what is wrong and where.

    ``record`` and ``index`` locate the object in ``Dataset.records[record].objects[index]``
    (``index`` is None when the annotation could not be read into an object at all).
    """

    kind: str
    where: str
    record: int | None = None
    index: int | None = None


@dataclass
class Dataset:
    """A dataset root, its format, its images and the vocabulary shared by all of them.

    ``problems`` lists the invalid annotations the reader met (kept, so the caller decides:
    ``invariance augment`` stops on them unless told to drop them).
    """

    root: Path
    format: Format
    records: list[ImageRecord]
    classes: list[str] = field(default_factory=list)
    keypoint_names: list[str] = field(default_factory=list)
    skeleton: list[tuple[int, int]] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)
    problems: list[AnnotationProblem] = field(default_factory=list)


# -- small helpers ---------------------------------------------------------------------------------


def read_image(path: Path) -> np.ndarray:
    """Read an image as RGB uint8 (grayscale stays 2-D; 16-bit stays 16-bit), its size checked
    from the header before anything is decoded (:mod:`invariance.core.image_io`)."""
    try:
        return safe_read_image(path)
    except ImageFileError as error:
        raise AnnotationError(str(error)) from None


def encode_image(image: np.ndarray, suffix: str) -> bytes:
    """Encode an RGB(A) or grayscale array to the bytes of an image file of type ``suffix``."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    elif array.ndim == 3 and array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_RGBA2BGRA)
    ok, buffer = cv2.imencode(suffix if suffix.startswith(".") else "." + suffix, array)
    if not ok:
        raise AnnotationError(f"cannot encode an image of shape {array.shape} as {suffix}")
    return buffer.tobytes()


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write a file so that it either exists complete or not at all (temp file + ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    # A unique name that says whose it is: ``.<final name>.invariance-<random>.tmp``. A run that
    # is killed mid-write leaves at most this file; the next run removes it by that name only.
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.invariance-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _image_size(path: Path) -> tuple[int, int]:
    """Width and height of an image file, from its header (no pixel is decoded)."""
    try:
        header = read_header(path.read_bytes(), str(path))
    except ImageFileError as error:
        raise AnnotationError(str(error)) from None
    return header.width, header.height


def _list_images(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and "masks" not in p.relative_to(root).parts
    )


def _key(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _mask_for(root: Path, image_path: Path) -> Path | None:
    candidate = root / "masks" / (image_path.stem + ".png")
    return candidate if candidate.is_file() else None


# -- format detection ------------------------------------------------------------------------------


def _coco_files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*.json")):
        try:
            head = path.read_text(encoding="utf-8")[:4096]
        except OSError:
            continue
        if '"images"' in head or '"annotations"' in head:
            found.append(path)
    return found


def detect_format(root: Path) -> Format:
    """Guess a dataset's format from the files under ``root``."""
    if not root.is_dir():
        raise AnnotationError(f"dataset directory {str(root)!r} does not exist")
    if _coco_files(root):
        return "coco"
    if any(root.rglob("*.xml")):
        return "voc"
    if any(p.name not in ("classes.txt", "obj.names") for p in root.rglob("*.txt")):
        return "yolo"
    return "images"


def read_dataset(root: str | Path, format: Format | None = None) -> Dataset:
    """Read the dataset under ``root`` (format detected when not given)."""
    base = Path(root)
    fmt = format or detect_format(base)
    readers = {"coco": read_coco, "yolo": read_yolo, "voc": read_voc, "images": read_images}
    if fmt not in readers:
        raise AnnotationError(f"unknown annotation format {fmt!r}; expected one of {sorted(readers)}")
    dataset = readers[fmt](base)
    if not dataset.records:
        raise AnnotationError(f"no images found under {str(base)!r} (format {fmt})")
    return dataset


# -- plain images ----------------------------------------------------------------------------------


def read_images(root: Path) -> Dataset:
    """Images without annotations (classification); ``masks/<stem>.png`` gives a semantic mask."""
    records = []
    for path in _list_images(root):
        width, height = _image_size(path)
        records.append(ImageRecord(_key(path, root), path, width, height, mask_path=_mask_for(root, path)))
    return Dataset(root, "images", records)


# -- COCO ------------------------------------------------------------------------------------------


def read_coco(root: Path, annotation_file: Path | None = None) -> Dataset:
    """Read a COCO detection / segmentation / keypoints json."""
    files = [annotation_file] if annotation_file else _coco_files(root)
    if not files:
        raise AnnotationError(f"no COCO json under {str(root)!r}")
    path = files[0]
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise AnnotationError(f"{path}: not valid JSON: {error}") from None
    categories = {int(c["id"]): c for c in doc.get("categories", [])}
    classes = [str(c["name"]) for c in categories.values()]
    keypoint_names: list[str] = []
    skeleton: list[tuple[int, int]] = []
    for cat in categories.values():
        if cat.get("keypoints"):
            keypoint_names = [str(k) for k in cat["keypoints"]]
            skeleton = [(int(a) - 1, int(b) - 1) for a, b in cat.get("skeleton", [])]
            break
    by_image: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    problems: list[AnnotationProblem] = []
    for number, ann in enumerate(doc.get("annotations", [])):
        by_image.setdefault(_int_or_none(ann.get("image_id")) or -1, []).append((number, ann))
    known_images = {_int_or_none(info.get("id")) for info in doc.get("images", [])}
    for image_id, anns in by_image.items():
        if image_id not in known_images:
            problems.extend(
                AnnotationProblem(
                    "annotation of an unknown image_id", f"annotations[{n}] image_id={image_id}"
                )
                for n, _ in anns
            )
    records: list[ImageRecord] = []
    for info in doc.get("images", []):
        name = str(info["file_name"])
        candidates = [path.parent / name, root / name, root / "images" / name]
        image_path = next((c for c in candidates if c.is_file()), None)
        if image_path is None:
            raise AnnotationError(
                f"{path}: image {name!r} not found (looked in {[str(c) for c in candidates]})"
            )
        objects: list[ObjectAnnotation] = []
        for number, ann in by_image.get(int(info["id"]), []):
            where = f"annotations[{number}] (id {ann.get('id')}, image {name!r})"
            box = _coco_box(ann.get("bbox"))
            if box is None:
                problems.append(
                    AnnotationProblem(
                        "bbox that is not 4 finite numbers",
                        f"{where} bbox={ann.get('bbox')!r:.60}",
                        len(records),
                    )
                )
                continue
            x, y, w, h = box
            if w <= 0 or h <= 0:
                problems.append(
                    AnnotationProblem(
                        "box with a zero or negative width or height",
                        f"{where} bbox={[x, y, w, h]}",
                        len(records),
                        len(objects),
                    )
                )
            category_id = _int_or_none(ann.get("category_id"))
            if categories and category_id not in categories:
                problems.append(
                    AnnotationProblem(
                        "unknown category_id",
                        f"{where} category_id={ann.get('category_id')!r} (known: {sorted(categories)})",
                        len(records),
                        len(objects),
                    )
                )
            cat = categories.get(category_id or 0, {"name": str(ann.get("category_id"))})
            kps = ann.get("keypoints")
            keypoints = (
                [(float(kps[i]), float(kps[i + 1]), int(kps[i + 2])) for i in range(0, len(kps), 3)]
                if kps
                else None
            )
            seg = ann.get("segmentation")
            polygons = [list(map(float, p)) for p in seg] if isinstance(seg, list) and seg else None
            extra = {k: v for k, v in ann.items() if k not in ("bbox", "keypoints", "segmentation", "area")}
            objects.append(
                ObjectAnnotation((x, y, x + w, y + h), str(cat["name"]), keypoints, polygons, extra)
            )
        width = int(info.get("width") or 0)
        height = int(info.get("height") or 0)
        if not width or not height:
            width, height = _image_size(image_path)
        records.append(
            ImageRecord(
                _key(image_path, root),
                image_path,
                width,
                height,
                objects,
                mask_path=_mask_for(root, image_path),
                meta={"coco_image": info},
            )
        )
    source = {
        "annotation_file": path.relative_to(root).as_posix(),
        "image_base": "",
        "categories": list(categories.values()),
        "document": {k: v for k, v in doc.items() if k not in ("images", "annotations")},
    }
    if records:
        first = records[0]
        name = str(first.meta["coco_image"]["file_name"])
        base = first.image_path.as_posix()[: -len(name)] if first.image_path.as_posix().endswith(name) else ""
        source["image_base"] = Path(base).relative_to(root).as_posix() if base else ""
    return Dataset(root, "coco", records, classes, keypoint_names, skeleton, source, problems)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        return int(value)
    return None


def _coco_box(value: Any) -> tuple[float, float, float, float] | None:
    """A COCO ``[x, y, width, height]`` of finite numbers, or None."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return None
    try:
        numbers = [float(v) for v in value]
    except (TypeError, ValueError, OverflowError):
        return None
    if not all(np.isfinite(numbers)) or any(isinstance(v, bool) for v in value):
        return None
    return numbers[0], numbers[1], numbers[2], numbers[3]


def coco_document(dataset: Dataset, records: Sequence[ImageRecord]) -> dict[str, Any]:
    """A COCO json document for ``records`` (ids renumbered; categories as read)."""
    categories = dataset.source.get("categories") or [
        {"id": i + 1, "name": name} for i, name in enumerate(dataset.classes)
    ]
    ids = {str(c["name"]): int(c["id"]) for c in categories}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for index, record in enumerate(records, start=1):
        info = dict(record.meta.get("coco_image", {}))
        info.update(id=index, file_name=record.meta.get("file_name", record.key), width=record.width)
        info["height"] = record.height
        images.append(info)
        for obj in record.objects:
            x0, y0, x1, y1 = obj.bbox
            ann: dict[str, Any] = {k: v for k, v in obj.extra.items() if k not in ("id", "image_id")}
            ann.update(
                id=len(annotations) + 1,
                image_id=index,
                category_id=ids.get(obj.label, obj.extra.get("category_id", 0)),
                bbox=[round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)],
                area=round((x1 - x0) * (y1 - y0), 3),
            )
            ann.setdefault("iscrowd", 0)
            if obj.polygons is not None:
                ann["segmentation"] = obj.polygons
                area = sum(_polygon_area(p) for p in obj.polygons)
                if area > 0:
                    ann["area"] = round(area, 3)
            if obj.keypoints is not None:
                ann["keypoints"] = [v for x, y, vis in obj.keypoints for v in (round(x, 3), round(y, 3), vis)]
                ann["num_keypoints"] = sum(1 for *_, vis in obj.keypoints if vis > 0)
            annotations.append(ann)
    doc = dict(dataset.source.get("document", {}))
    doc.update(images=images, annotations=annotations, categories=categories)
    return doc


def _polygon_area(points: Sequence[float]) -> float:
    xs, ys = np.asarray(points[0::2], float), np.asarray(points[1::2], float)
    return float(abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1))) / 2)


def polygons_to_mask(polygons: Sequence[Sequence[float]], height: int, width: int) -> np.ndarray:
    """Rasterise COCO polygons (pixel-edge coordinates) into a uint8 0/1 mask."""
    mask = np.zeros((height, width), np.uint8)
    shift = 4
    for poly in polygons:
        pts = np.asarray(poly, np.float64).reshape(-1, 2) - 0.5
        cv2.fillPoly(mask, [np.round(pts * (1 << shift)).astype(np.int32)], 1, cv2.LINE_8, shift)
    return mask


def mask_to_polygons(mask: np.ndarray, min_points: int = 3) -> list[list[float]]:
    """Outer contours of a 0/1 mask as COCO polygons (pixel-edge coordinates)."""
    contours, _ = cv2.findContours((mask > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = []
    for contour in contours:
        if len(contour) < min_points:
            continue
        pts = contour.reshape(-1, 2).astype(np.float64) + 0.5
        polygons.append([round(float(v), 2) for v in pts.reshape(-1)])
    return polygons


# -- YOLO ------------------------------------------------------------------------------------------


def _yolo_classes(root: Path) -> list[str]:
    for name in ("classes.txt", "obj.names"):
        path = root / name
        if path.is_file():
            return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for name in ("data.yaml", "dataset.yaml"):
        path = root / name
        if path.is_file():
            names = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("names", [])
            if isinstance(names, dict):
                return [str(names[k]) for k in sorted(names)]
            return [str(n) for n in names]
    return []


def yolo_label_path(root: Path, image_path: Path) -> Path:
    """Where YOLO keeps the labels of ``image_path``: ``labels/`` mirroring ``images/``, else beside it."""
    rel = image_path.relative_to(root)
    if rel.parts and rel.parts[0] == "images":
        return root.joinpath("labels", *rel.parts[1:]).with_suffix(".txt")
    return image_path.with_suffix(".txt")


def read_yolo(root: Path) -> Dataset:
    """Read YOLO boxes: ``class cx cy w h`` per line, normalised to the image size."""
    classes = _yolo_classes(root)
    records = []
    for image_path in _list_images(root):
        width, height = _image_size(image_path)
        label_path = yolo_label_path(root, image_path)
        objects = []
        if label_path.is_file():
            for number, line in enumerate(label_path.read_text(encoding="utf-8").splitlines(), start=1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) < 5:
                    raise AnnotationError(f"{label_path}:{number}: expected 'class cx cy w h', got {line!r}")
                cls = int(float(parts[0]))
                cx, cy, w, h = (float(v) for v in parts[1:5])
                label = classes[cls] if 0 <= cls < len(classes) else str(cls)
                box = (
                    (cx - w / 2) * width,
                    (cy - h / 2) * height,
                    (cx + w / 2) * width,
                    (cy + h / 2) * height,
                )
                objects.append(ObjectAnnotation(box, label, extra={"class_id": cls}))
        records.append(
            ImageRecord(
                _key(image_path, root),
                image_path,
                width,
                height,
                objects,
                mask_path=_mask_for(root, image_path),
                annotation_key=_key(label_path, root),
            )
        )
    return Dataset(root, "yolo", records, classes)


def yolo_text(record: ImageRecord, classes: Sequence[str]) -> str:
    """The YOLO label file of ``record``."""
    lines = []
    for obj in record.objects:
        cls = obj.extra.get("class_id")
        if obj.label in classes:
            cls = list(classes).index(obj.label)
        if cls is None:
            cls = int(obj.label) if obj.label.isdigit() else 0
        x0, y0, x1, y1 = obj.bbox
        w, h = record.width, record.height
        values = ((x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h)
        lines.append(f"{int(cls)} " + " ".join(f"{v:.6f}" for v in values))
    return "\n".join(lines) + ("\n" if lines else "")


# -- Pascal VOC ------------------------------------------------------------------------------------


def read_voc(root: Path) -> Dataset:
    """Read Pascal VOC xml files (``xmin ymin xmax ymax`` pixels, 1-based as in VOC)."""
    records = []
    classes: list[str] = []
    for xml_path in sorted(root.rglob("*.xml")):
        try:
            tree = ET.parse(xml_path)
        except ET.ParseError as error:
            raise AnnotationError(f"{xml_path}: not valid XML: {error}") from None
        node = tree.getroot()
        filename = node.findtext("filename") or xml_path.with_suffix(".jpg").name
        candidates = [
            xml_path.parent / filename,
            root / filename,
            root / "JPEGImages" / filename,
            root / "images" / filename,
            xml_path.parent.parent / "JPEGImages" / filename,
        ]
        image_path = next((c for c in candidates if c.is_file()), None)
        if image_path is None:
            raise AnnotationError(f"{xml_path}: image {filename!r} not found")
        size = node.find("size")
        width = int(size.findtext("width") or 0) if size is not None else 0
        height = int(size.findtext("height") or 0) if size is not None else 0
        if not width or not height:
            width, height = _image_size(image_path)
        objects = []
        for obj in node.iter("object"):
            name = (obj.findtext("name") or "").strip()
            box = obj.find("bndbox")
            if box is None:
                continue
            x0, y0, x1, y1 = (float(box.findtext(k) or 0) for k in ("xmin", "ymin", "xmax", "ymax"))
            extra = {k: obj.findtext(k) for k in VOC_OBJECT_FIELDS if obj.find(k) is not None}
            objects.append(ObjectAnnotation((x0 - 1, y0 - 1, x1, y1), name, extra=extra))
            if name not in classes:
                classes.append(name)
        records.append(
            ImageRecord(
                _key(image_path, root),
                image_path,
                width,
                height,
                objects,
                mask_path=_mask_for(root, image_path),
                annotation_key=_key(xml_path, root),
            )
        )
    return Dataset(root, "voc", records, classes)


def voc_text(record: ImageRecord, filename: str) -> str:
    """The Pascal VOC xml of ``record`` for an image file called ``filename``."""
    node = ET.Element("annotation")
    ET.SubElement(node, "filename").text = filename
    size = ET.SubElement(node, "size")
    ET.SubElement(size, "width").text = str(record.width)
    ET.SubElement(size, "height").text = str(record.height)
    ET.SubElement(size, "depth").text = str(record.meta.get("depth", 3))
    for obj in record.objects:
        item = ET.SubElement(node, "object")
        ET.SubElement(item, "name").text = obj.label
        for key, value in obj.extra.items():
            if key in VOC_OBJECT_FIELDS and value is not None:
                ET.SubElement(item, key).text = str(value)
        box = ET.SubElement(item, "bndbox")
        x0, y0, x1, y1 = obj.bbox
        for key, value in (("xmin", x0 + 1), ("ymin", y0 + 1), ("xmax", x1), ("ymax", y1)):
            ET.SubElement(box, key).text = str(round(value))
    ET.indent(node)
    return ET.tostring(node, encoding="unicode") + "\n"
