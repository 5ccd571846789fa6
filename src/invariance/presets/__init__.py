"""Task presets: policies built from the reference article's task-specific advice, shipped as YAML.

``load_preset("detection/medium")`` returns a ready :class:`invariance.Compose`. Tasks:
classification, detection, segmentation, keypoints (alias pose), medical (grayscale), ocr (alias
documents) and satellite (alias aerial); strengths light, medium and strong. The files live next
to this module (``<task>/<strength>.yaml``) and are ordinary policy files: copy one, edit it, and
check it with ``invariance validate``.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from invariance.core.errors import SerializationError

ALIASES = {
    "pose": "keypoints",
    "documents": "ocr",
    "document": "ocr",
    "aerial": "satellite",
    "grayscale": "medical",
}
STRENGTHS = ("light", "medium", "strong")


def available_presets() -> list[str]:
    """The names ``load_preset`` accepts, e.g. ``["classification/light", ...]`` (aliases excluded)."""
    root = resources.files(__name__)
    names: list[str] = []
    for task in sorted(
        entry.name for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith("_")
    ):
        names.extend(
            f"{task}/{strength}"
            for strength in STRENGTHS
            if root.joinpath(task).joinpath(f"{strength}.yaml").is_file()
        )
    return names


def _resolve(name: str) -> tuple[str, str]:
    task, _, strength = name.strip().strip("/").partition("/")
    task = ALIASES.get(task.lower(), task.lower())
    strength = (strength or "medium").lower()
    return task, strength


def preset_text(name: str) -> str:
    """The YAML text of a preset (to copy and edit)."""
    task, strength = _resolve(name)
    path = resources.files(__name__).joinpath(task).joinpath(f"{strength}.yaml")
    if not path.is_file():
        raise SerializationError(
            f"unknown preset {name!r}; available: {', '.join(available_presets())} "
            f"(aliases: {', '.join(f'{k}->{v}' for k, v in ALIASES.items())})"
        )
    return path.read_text(encoding="utf-8")


def preset_description(name: str) -> str:
    """The one-line description stored in a preset file."""
    return str(yaml.safe_load(preset_text(name)).get("description", ""))


def load_preset(
    name: str,
    *,
    bbox_params: Any = None,
    keypoint_params: Any = None,
    seed: int | None = None,
) -> Any:
    """Build a preset policy by name: ``"<task>/<light|medium|strong>"`` (strength defaults to medium).

    ``bbox_params`` / ``keypoint_params`` replace the preset's (for example to read YOLO boxes);
    ``seed`` seeds the pipeline.
    """
    from invariance.core.compose import Compose
    from invariance.core.serialization import from_dict

    document = yaml.safe_load(preset_text(name))
    policy = from_dict(document)
    if isinstance(policy, Compose) and (
        bbox_params is not None or keypoint_params is not None or seed is not None
    ):
        policy = Compose(
            list(policy.transforms),
            bbox_params=bbox_params if bbox_params is not None else policy.bbox_params,
            keypoint_params=keypoint_params if keypoint_params is not None else policy.keypoint_params,
            additional_targets=policy.additional_targets,
            p=policy.p,
            seed=seed,
        )
    return policy
