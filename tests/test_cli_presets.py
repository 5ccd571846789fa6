"""Task presets load by name, run on every target kind, and the other small commands work."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import invariance as A
from invariance.data import sample_scene
from invariance.presets import available_presets, load_preset, preset_text
from invariance.tools.cli import app
from invariance.tools.validate import validate_policy

runner = CliRunner()
TASKS = ("classification", "detection", "segmentation", "keypoints", "medical", "ocr", "satellite")


def test_every_task_has_three_strengths():
    names = available_presets()
    assert names == sorted(f"{t}/{s}" for t in TASKS for s in ("light", "medium", "strong"))


@pytest.mark.parametrize("name", [f"{t}/{s}" for t in TASKS for s in ("light", "medium", "strong")])
def test_preset_loads_validates_and_runs(name):
    policy = load_preset(
        name,
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["keypoint_labels"]),
        seed=0,
    )
    assert isinstance(policy, A.Compose)
    scene = sample_scene(120, 160)
    image = scene["image"][:, :, :1] if name.startswith("medical") else scene["image"]
    out = policy(**{**scene, "image": image})
    assert out["image"].dtype == np.uint8 and out["mask"].shape == out["image"].shape[:2]
    assert len(out["bboxes"]) == len(out["labels"])
    task = name.split("/")[0]
    report = validate_policy(A.to_dict(load_preset(name)), task=task)
    assert report.ok and not report.warnings, [str(f) for f in report.findings]


def test_aliases_default_strength_and_unknown_names():
    assert A.fingerprint(load_preset("pose/light")) == A.fingerprint(load_preset("keypoints/light"))
    assert A.fingerprint(load_preset("ocr")) == A.fingerprint(load_preset("ocr/medium"))
    assert "description:" in preset_text("satellite/strong")
    with pytest.raises(A.SerializationError, match="unknown preset"):
        load_preset("detection/extreme")


def test_seeded_preset_reproduces():
    scene = sample_scene(60, 80)
    a = load_preset("classification/strong", seed=3)(image=scene["image"])["image"]
    b = load_preset("classification/strong", seed=3)(image=scene["image"])["image"]
    assert np.array_equal(a, b)


def test_presets_and_list_commands():
    result = runner.invoke(app, ["presets"])
    assert result.exit_code == 0 and "detection/medium" in result.output
    result = runner.invoke(app, ["presets", "ocr/light"])
    assert result.exit_code == 0 and "Affine" in result.output
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0 and "HorizontalFlip" in result.output and "geometric" in result.output
    table, bases = result.output.split("Bases for your own transforms")
    assert "OcclusionTransform" not in table, "bases are not listed as transforms to use"
    assert all(name in bases for name in ("OcclusionTransform", "Transform3D", "VolumeOnlyTransform"))
    result = runner.invoke(app, ["list", "--family", "pixel"])
    assert result.exit_code == 0 and "HorizontalFlip" not in result.output


def test_demo_still_writes_its_grid(tmp_path):
    out = tmp_path / "demo.png"
    result = runner.invoke(app, ["demo", "-o", str(out), "--samples", "2"])
    assert result.exit_code == 0 and out.stat().st_size > 1000


def _always(node):
    """A copy of a policy dict with every probability set to 1, so every step runs."""
    if isinstance(node, dict):
        return {k: (1.0 if k == "p" else _always(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_always(v) for v in node]
    return node


@pytest.mark.parametrize("name", [f"{t}/{s}" for t in TASKS for s in ("light", "medium", "strong")])
def test_every_step_of_every_preset_runs_on_all_targets(name):
    body = _always(A.to_dict(load_preset(name)))
    body["transform"]["bbox_params"] = {"format": "pascal_voc", "label_fields": ["labels"]}
    body["transform"]["keypoint_params"] = {"format": "xy", "label_fields": ["keypoint_labels"]}
    body["transform"]["seed"] = 1
    policy = A.from_dict(body)
    scene = sample_scene(96, 128)
    for image in (scene["image"], scene["image"].astype(np.float32) / 255):
        out = policy(**{**scene, "image": image})
        assert out["image"].dtype == image.dtype and np.isfinite(out["image"]).all()
        assert out["mask"].shape == out["image"].shape[:2]
        assert len(out["keypoints"]) == len(out["keypoint_labels"])
