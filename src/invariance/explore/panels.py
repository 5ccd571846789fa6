"""The explorer's panels beside the single view: per-transform timings, and policy files.

Timings come from the library's profiler (:func:`invariance.tools.profile.profile_pipeline`);
loading a policy uses :func:`invariance.load`, and comparing the page with it uses
:func:`invariance.diff`. Nothing here knows about HTTP: errors are :class:`UploadError`.
"""

from __future__ import annotations

import io
import threading
import time
import warnings
from typing import Any, Literal

import cv2
import numpy as np

import invariance as A
from invariance.core.compose import BaseCompose
from invariance.explore.catalogue import describe, editable_args, plain, transform_classes
from invariance.explore.inputs import UploadError

#: Seconds of pipeline runs one profile request may spend (after one warm-up call).
PROFILE_BUDGET_S = 0.4
MAX_POLICY_CHARS = 1_000_000

# The profiler swaps ``Call.flush`` on the class while it runs; one profile at a time per process.
_PROFILE_LOCK = threading.Lock()


def profile_steps(pipeline: A.Compose, data: dict[str, Any], runs: int) -> dict[str, Any]:
    """Per-transform times of ``pipeline`` on ``data``: at most ``runs`` calls, within the budget.

    One warm-up call measures the pipeline; the number of timed calls is then cut so they fit
    :data:`PROFILE_BUDGET_S`. ``ms_when_fired`` is the cost of a transform each time it applies
    (what its ``p`` multiplies), ``ms_per_image`` its average share of one pipeline call.
    """
    from invariance.tools.profile import profile_pipeline

    start = time.perf_counter()
    pipeline(**data)
    once = max(time.perf_counter() - start, 1e-6)
    runs = max(1, min(runs, int(PROFILE_BUDGET_S / once)))
    with _PROFILE_LOCK:
        report = profile_pipeline(pipeline, data, runs=runs, warmup=0, seed=pipeline.seed)
    steps = [
        {
            "path": step.path,
            "name": step.name,
            "p": step.p,
            "fired": step.fired,
            "calls": step.calls,
            "ms_when_fired": 1000 * step.seconds / step.fired if step.fired else None,
            "ms_per_image": 1000 * step.seconds / report.runs,
            "share": report.share(step.seconds),
        }
        for step in report.steps
    ]
    return {
        "runs": report.runs,
        "steps": steps,
        "resample_ms": 1000 * report.resample_seconds / report.runs,
        "overhead_ms": 1000 * report.overhead_seconds / report.runs,
        "total_ms": report.per_image_ms,
    }


def thumbnail(result: dict[str, Any], side: int, draw: bool) -> np.ndarray:
    """A pipeline output shrunk so its longer side is at most ``side``, targets drawn at that size.

    The targets are scaled with the image and then drawn (:func:`invariance.viz.draw_targets`), so
    lines keep their width in a small tile, and drawing costs what the tile costs, not the image.
    """
    from invariance.viz import draw_targets, to_display

    image = to_display(result["image"])
    height, width = image.shape[:2]
    scale = min(1.0, side / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if scale < 1.0:
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
    if not draw:
        return image
    sx, sy = size[0] / width, size[1] / height
    targets: dict[str, Any] = {k: result[k] for k in ("labels", "keypoint_labels") if k in result}
    if result.get("mask") is not None:
        mask = np.asarray(result["mask"])
        targets["mask"] = mask if scale == 1.0 else cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    if len(result.get("bboxes", [])):
        boxes = np.array(result["bboxes"], np.float64)[:, :4] * [sx, sy, sx, sy]
        targets["bboxes"] = boxes
    if len(result.get("keypoints", [])):
        targets["keypoints"] = np.array(result["keypoints"], np.float64)[:, :2] * [sx, sy]
    return draw_targets(image, **targets)


def load_policy_text(text: str, filename: str) -> Any:
    """The transform or Compose a YAML/JSON policy text describes; :class:`UploadError` when it can't be built."""
    if len(text) > MAX_POLICY_CHARS:
        raise UploadError(f"the policy is {len(text)} characters; the limit is {MAX_POLICY_CHARS}", 413)
    if not text.strip():
        raise UploadError("the policy file is empty")
    data_format: Literal["json", "yaml"] = "json" if filename.lower().endswith(".json") else "yaml"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a hand-edited file's fingerprint note is not an error here
            return A.load(io.StringIO(text), data_format=data_format)
    except (A.InvarianceError, TypeError, ValueError) as error:
        raise UploadError(f"the policy could not be loaded: {error}") from None


def _leaves(policy: Any) -> list[Any]:
    return list(policy.transforms) if isinstance(policy, A.Compose) else [policy]


def policy_steps(policy: Any) -> list[dict[str, Any]]:
    """The builder's steps (``name``, ``args``, ``p``) for a loaded policy.

    The builder holds a flat list of transforms, so a block (``OneOf``, ``SomeOf``, ...) or a
    transform the page cannot run (one that needs metadata) is refused, naming its step.
    """
    classes = transform_classes()
    steps = []
    for index, transform in enumerate(_leaves(policy)):
        name = type(transform).__name__
        where = f"step {index + 1} ({name})"
        if isinstance(transform, BaseCompose):
            raise UploadError(
                f"{where} is a block of transforms; the page builds a flat list, so edit blocks in the file"
            )
        if name not in classes or describe(name)["needs_metadata"]:
            raise UploadError(f"{where} cannot run in the explorer (it needs metadata or is not listed)")
        stored = A.to_dict(transform, with_version=False)
        fields = classes[name].InitSchema.model_fields
        args = {key: plain(value) for key, value in stored.items() if key in fields and key != "p"}
        steps.append({"name": name, "args": editable_args(name, args), "p": float(stored.get("p", 1.0))})
    return steps


def policy_diff(policy: Any, page: A.Compose) -> list[str]:
    """What the page's steps change from ``policy``, one line per change (:func:`invariance.diff`).

    Only the list of transforms is compared: the page's own seed and target settings (which
    follow the uploaded image) are taken from the policy, so they never show as changes.
    """
    reference = A.to_dict(policy, with_version=False)
    steps = A.to_dict(A.Compose(list(page.transforms)), with_version=False)["transforms"]
    if isinstance(policy, A.Compose):
        mine = {**reference, "transforms": steps}
    else:
        mine = (
            steps[0]
            if len(steps) == 1
            else {**A.to_dict(A.Compose([]), with_version=False), "transforms": steps}
        )
    return A.diff(reference, mine)
