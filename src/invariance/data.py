"""A built-in synthetic scene with every target kind, for demos, docs and tests (no files needed)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

SCENE_CLASSES = {1: "sun", 2: "house", 3: "tree", 4: "car"}


def sample_scene(height: int = 480, width: int = 640, seed: int = 0) -> dict[str, Any]:
    """A small outdoor scene: an RGB image, a class mask, boxes with labels and keypoints.

    Returns a dict ready to pass to a pipeline: ``image`` (uint8 HxWx3), ``mask`` (uint8 class ids:
    0 background, 1 sun, 2 house, 3 tree, 4 car), ``bboxes`` (pascal_voc) with ``labels`` (class
    names), and ``keypoints`` (xy: the house's roof apex and door corners, the car's wheel centres)
    with ``keypoint_labels``.
    """
    rng = np.random.default_rng(seed)
    sy, sx = height / 480.0, width / 640.0
    yy = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    sky = np.stack([110 + 80 * yy, 160 + 60 * yy, 235 - 20 * yy], axis=2) * np.ones((1, width, 1), np.float32)
    image = sky.astype(np.uint8)
    horizon = int(330 * sy)
    image[horizon:] = (70, 140, 60)
    noise = rng.normal(0, 6, image.shape)
    image = np.clip(image + noise, 0, 255).astype(np.uint8)
    mask = np.zeros((height, width), np.uint8)

    def px(x: float, y: float) -> tuple[int, int]:
        return round(x * sx), round(y * sy)

    boxes: list[list[float]] = []
    labels: list[str] = []

    def add(class_id: int, draw: Any) -> None:
        layer = np.zeros((height, width), np.uint8)
        draw(layer, 255)
        ys, xs = np.nonzero(layer)
        mask[layer > 0] = class_id
        boxes.append([float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)])
        labels.append(SCENE_CLASSES[class_id])

    sun_c, sun_r = px(540, 80), int(45 * min(sx, sy))
    add(1, lambda m, v: cv2.circle(m, sun_c, sun_r, v, -1))
    cv2.circle(image, sun_c, sun_r, (250, 220, 60), -1)

    house = np.array([px(120, 200), px(280, 200), px(280, 360), px(120, 360)], np.int32)
    roof = np.array([px(105, 205), px(200, 120), px(295, 205)], np.int32)
    add(2, lambda m, v: (cv2.fillPoly(m, [house], v), cv2.fillPoly(m, [roof], v)))
    cv2.fillPoly(image, [house], (200, 170, 140))
    cv2.fillPoly(image, [roof], (150, 50, 40))
    cv2.rectangle(image, px(180, 280), px(220, 360), (90, 60, 40), -1)

    trunk0, trunk1 = px(380, 250), px(400, 360)
    crown_c, crown_r = px(390, 215), int(55 * min(sx, sy))
    add(3, lambda m, v: (cv2.rectangle(m, trunk0, trunk1, v, -1), cv2.circle(m, crown_c, crown_r, v, -1)))
    cv2.rectangle(image, trunk0, trunk1, (100, 70, 40), -1)
    cv2.circle(image, crown_c, crown_r, (40, 120, 40), -1)

    body0, body1 = px(450, 340), px(600, 390)
    wheels = [px(480, 395), px(570, 395)]
    wheel_r = int(18 * min(sx, sy))
    add(
        4,
        lambda m, v: (
            cv2.rectangle(m, body0, body1, v, -1),
            [cv2.circle(m, w, wheel_r, v, -1) for w in wheels],
        ),
    )
    cv2.rectangle(image, body0, body1, (200, 30, 40), -1)
    for w in wheels:
        cv2.circle(image, w, wheel_r, (30, 30, 30), -1)

    keypoints = [px(200, 120), px(180, 360), px(220, 360), wheels[0], wheels[1]]
    keypoint_labels = ["roof_apex", "door_left", "door_right", "wheel_left", "wheel_right"]
    return {
        "image": image,
        "mask": mask,
        "bboxes": boxes,
        "labels": labels,
        "keypoints": [[float(x), float(y)] for x, y in keypoints],
        "keypoint_labels": keypoint_labels,
    }
