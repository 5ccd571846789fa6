"""Write small synthetic datasets (built-in scene variations) in COCO, YOLO or VOC layout.

For trying the command line, for tests and for benchmarks::

    from invariance.tools.sample_data import write_sample_dataset
    write_sample_dataset("demo_data", "coco", count=4)
    # then: invariance preview demo_data -o preview.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from invariance.data import SCENE_CLASSES, sample_scene
from invariance.tools.annotations import (
    Format,
    ImageRecord,
    ObjectAnnotation,
    encode_image,
    mask_to_polygons,
    voc_text,
    write_atomic,
    yolo_text,
)

CLASSES = [SCENE_CLASSES[i] for i in sorted(SCENE_CLASSES)]
HOUSE_KEYPOINTS = ["roof_apex", "door_left", "door_right"]
HOUSE_SKELETON = [(0, 1), (0, 2), (1, 2)]


def _records(
    count: int, height: int, width: int, suffix: str
) -> list[tuple[ImageRecord, np.ndarray, np.ndarray]]:
    out = []
    for index in range(count):
        scene = sample_scene(height, width, seed=index)
        image = scene["image"]
        if index % 2:  # vary the scenes: mirror every other one
            image, mask = image[:, ::-1].copy(), scene["mask"][:, ::-1].copy()
            boxes = [[width - b[2], b[1], width - b[0], b[3]] for b in scene["bboxes"]]
            points = [[width - 1 - x, y] for x, y in scene["keypoints"]]
        else:
            mask, boxes, points = scene["mask"], scene["bboxes"], scene["keypoints"]
        objects = []
        for box, label in zip(boxes, scene["labels"]):
            class_id = CLASSES.index(label) + 1
            polygons = mask_to_polygons((mask == class_id).astype(np.uint8))
            keypoints = [(float(x), float(y), 2) for x, y in points[:3]] if label == "house" else None
            objects.append(
                ObjectAnnotation(
                    (box[0], box[1], box[2], box[3]), label, keypoints, polygons, {"class_id": class_id - 1}
                )
            )
        key = f"images/scene_{index:03d}{suffix}"
        out.append((ImageRecord(key, Path(key), width, height, objects), image, mask))
    return out


def write_sample_dataset(
    root: str | Path,
    format: Format = "coco",
    count: int = 4,
    height: int = 240,
    width: int = 320,
    masks: bool = False,
    suffix: str = ".png",
) -> Path:
    """Write ``count`` scene images with annotations in ``format`` under ``root``; return ``root``.

    Layouts: ``images/`` plus ``annotations.json`` (COCO: boxes, polygons, house keypoints with a
    skeleton), ``labels/*.txt`` and ``classes.txt`` (YOLO), ``Annotations/*.xml`` (VOC). With
    ``masks=True`` a class-id mask per image goes to ``masks/<stem>.png``.
    """
    base = Path(root)
    records = _records(count, height, width, suffix)
    for record, image, mask in records:
        write_atomic(base / record.key, encode_image(image, suffix))
        if masks:
            write_atomic(base / "masks" / f"{Path(record.key).stem}.png", encode_image(mask, ".png"))
        stem = Path(record.key).stem
        if format == "yolo":
            write_atomic(base / "labels" / f"{stem}.txt", yolo_text(record, CLASSES))
        elif format == "voc":
            write_atomic(base / "Annotations" / f"{stem}.xml", voc_text(record, Path(record.key).name))
    if format == "yolo":
        write_atomic(base / "classes.txt", "\n".join(CLASSES) + "\n")
    if format == "coco":
        categories = [{"id": i + 1, "name": name, "supercategory": "scene"} for i, name in enumerate(CLASSES)]
        categories[CLASSES.index("house")].update(
            keypoints=HOUSE_KEYPOINTS, skeleton=[[a + 1, b + 1] for a, b in HOUSE_SKELETON]
        )
        images: list[dict[str, Any]] = []
        annotations: list[dict[str, Any]] = []
        for image_id, (record, _, _) in enumerate(records, start=1):
            images.append({"id": image_id, "file_name": record.key, "width": width, "height": height})
            for obj in record.objects:
                x0, y0, x1, y1 = obj.bbox
                ann = {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": CLASSES.index(obj.label) + 1,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "area": (x1 - x0) * (y1 - y0),
                    "iscrowd": 0,
                    "segmentation": obj.polygons,
                }
                if obj.keypoints:
                    ann["keypoints"] = [v for x, y, vis in obj.keypoints for v in (x, y, vis)]
                    ann["num_keypoints"] = len(obj.keypoints)
                annotations.append(ann)
        doc = {"images": images, "annotations": annotations, "categories": categories}
        write_atomic(base / "annotations.json", json.dumps(doc))
    return base
