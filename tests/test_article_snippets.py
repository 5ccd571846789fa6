"""The reference article's code snippets, copied unchanged except for the import line."""

from __future__ import annotations

import numpy as np

import invariance as A


def test_starter_pipeline_snippet(photo):
    train_transform = A.Compose(
        [
            A.RandomResizedCrop(size=(512, 512), scale=(0.8, 1.0), p=1.0),
            A.HorizontalFlip(p=0.5),
            A.Rotate(limit=10, p=0.3),
            A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.4),
            A.GaussianBlur(blur_limit=(3, 5), p=0.1),
            A.CoarseDropout(
                num_holes_range=(1, 6),
                hole_height_range=(0.05, 0.15),
                hole_width_range=(0.05, 0.15),
                p=0.2,
            ),
        ]
    )
    for _ in range(20):
        out = train_transform(image=photo)
        assert out["image"].shape == (512, 512, 3) and out["image"].dtype == np.uint8


def test_multi_target_call_snippet(scene):
    transform = A.Compose(
        [
            A.RandomResizedCrop(size=(64, 64), scale=(0.5, 1.0)),
            A.HorizontalFlip(p=0.5),
            A.Rotate(limit=10, p=0.5),
        ],
        bbox_params=A.BboxParams(format="pascal_voc"),
        keypoint_params=A.KeypointParams(format="xy"),
    )
    img, mask = scene["image"], scene["mask"]
    bboxes = [[*list(b), label] for b, label in zip(scene["bboxes"], scene["labels"])]
    keypoints = scene["keypoints"]

    result = transform(image=img, mask=mask, bboxes=bboxes, keypoints=keypoints)

    assert result["image"].shape[:2] == result["mask"].shape == (64, 64)
    assert all(isinstance(b[4], str) for b in result["bboxes"])


# A stand-in for the full 68-point list: identity labels 0..67.
FACE_68_HFLIP_MAPPING = {
    # Eyes: left (36-41) ↔ right (42-47)
    36: 45,
    37: 44,
    38: 43,
    39: 42,
    40: 47,
    41: 46,
    45: 36,
    44: 37,
    43: 38,
    42: 39,
    47: 40,
    46: 41,
    # Mouth: left ↔ right
    48: 54,
    49: 53,
    50: 52,
    51: 51,
    54: 48,
    53: 49,
    52: 50,
    # ... (full 68-point mapping omitted for brevity)
}


def _face_points(rng: np.random.Generator) -> np.ndarray:
    """68 landmark positions on a 200x200 face: eye and mouth points mirror each other."""
    points = rng.uniform(60, 140, size=(68, 2))
    for left, right in FACE_68_HFLIP_MAPPING.items():
        if left < right:
            points[right] = (199 - points[left][0], points[left][1])
        elif left == right:
            points[left][0] = 99.5  # on the axis of symmetry
    return points


def test_face_landmark_label_mapping_snippet():
    transform = A.Compose(
        [
            A.Resize(256, 256),
            A.HorizontalFlip(p=0.5),
            A.Affine(scale=(0.8, 1.2), rotate=(-20, 20), p=0.7),
        ],
        keypoint_params=A.KeypointParams(
            format="xy",
            label_fields=["keypoint_labels"],
            label_mapping={"HorizontalFlip": {"keypoint_labels": FACE_68_HFLIP_MAPPING}},
        ),
    )
    assert transform.keypoint_params.label_mapping["HorizontalFlip"]["keypoint_labels"][36] == 45

    # Index meaning after a flip: slot 36 must hold the point that is now on the left-eye side,
    # i.e. the mirror image of the original point 45, and its label must still say 36.
    image = np.zeros((200, 200, 3), np.uint8)
    rng = np.random.default_rng(3)
    points = _face_points(rng)
    labels = list(range(68))
    flip_only = A.Compose(
        [A.HorizontalFlip(p=1.0)],
        keypoint_params=A.KeypointParams(
            format="xy",
            label_fields=["keypoint_labels"],
            label_mapping={"HorizontalFlip": {"keypoint_labels": FACE_68_HFLIP_MAPPING}},
        ),
    )
    out = flip_only(image=image, keypoints=points, keypoint_labels=labels)
    assert out["keypoint_labels"] == labels
    flipped = np.asarray(out["keypoints"])
    for slot in range(68):
        source = FACE_68_HFLIP_MAPPING.get(slot, slot)
        expected = (199 - points[source][0], points[source][1])
        np.testing.assert_allclose(flipped[slot], expected, atol=1e-9)
    # Because the face is symmetric, a flip with remapping gives back the same landmarks.
    np.testing.assert_allclose(flipped[36:55], points[36:55], atol=1e-9)

    seen_flip = 0
    for _ in range(30):
        result = transform(image=image, keypoints=points, keypoint_labels=labels)
        assert (
            result["keypoint_labels"] == labels[: len(result["keypoints"])] or len(result["keypoints"]) < 68
        )
        seen_flip += 1
    assert seen_flip == 30
