"""``invariance validate``: errors, deprecated names, task pitfalls, eval randomness, exit codes."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

import invariance as A
from invariance.tools.cli import app
from invariance.tools.validate import validate_policy

runner = CliRunner()


def write(tmp_path, transforms, name="policy.yaml", **top):
    doc = {**top, "transform": {"__class_fullname__": "Compose", "transforms": transforms}}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc) if name.endswith(".yaml") else json.dumps(doc))
    return path


def messages(report, level):
    return [f"{f.path}: {f.message}" for f in report.findings if f.level == level]


def test_a_clean_policy_passes_with_its_fingerprint(tmp_path):
    policy = A.Compose([A.HorizontalFlip(p=0.5), A.Rotate(limit=10, p=0.3)])
    path = tmp_path / "p.json"
    A.save(policy, path)
    report = validate_policy(path)
    assert report.ok and not report.findings
    assert report.fingerprint == A.fingerprint(policy)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "OK" in result.output


def test_every_error_is_reported_not_only_the_first(tmp_path):
    path = write(
        tmp_path,
        [
            {"__class_fullname__": "Rotate", "limit": 10, "p": 1.5},
            {"__class_fullname__": "NoSuchTransform"},
            {"__class_fullname__": "GaussianBlur", "sigma": 3},
            {"__class_fullname__": "HorizontalFlip"},
        ],
    )
    report = validate_policy(path)
    errors = messages(report, "error")
    assert len(errors) == 3
    assert "transforms[0] (Rotate)" in errors[0] and "'p'" in errors[0]
    assert "unknown transform 'NoSuchTransform'" in errors[1]
    assert "unknown argument" in errors[2] and "'sigma'" in errors[2]
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and "FAILED 3 error(s)" in result.output


def test_deprecated_aliases_warn_but_pass(tmp_path):
    path = write(tmp_path, [{"__class_fullname__": "CoarseDropout", "max_holes": 4, "p": 0.5}])
    report = validate_policy(path)
    assert report.ok
    assert any("deprecated" in m for m in messages(report, "warning"))
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    assert runner.invoke(app, ["validate", str(path), "--strict"]).exit_code == 1


def test_unparseable_and_missing_files_are_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("transform: [unclosed")
    assert "cannot be parsed" in messages(validate_policy(bad), "error")[0]
    assert not validate_policy(tmp_path / "missing.json").ok


@pytest.mark.parametrize("task", ["ocr", "digits"])
def test_flips_and_large_rotations_warn_for_text(tmp_path, task):
    path = write(
        tmp_path,
        [
            {"__class_fullname__": "HorizontalFlip", "p": 0.5},
            {"__class_fullname__": "Rotate", "limit": 45},
            {"__class_fullname__": "Rotate", "limit": 5},
        ],
    )
    warnings = messages(validate_policy(path, task=task), "warning")
    assert len(warnings) == 2
    assert "HorizontalFlip" in warnings[0] and "45" in warnings[1]
    assert not messages(validate_policy(path, task="classification"), "warning")


def test_colour_shifts_warn_when_colour_is_the_label(tmp_path):
    path = write(tmp_path, [{"__class_fullname__": "ToGray", "p": 0.2}])
    assert messages(validate_policy(path, task="color-label"), "warning")
    assert messages(validate_policy(path, task="medical"), "warning")
    assert not messages(validate_policy(path, task="detection"), "warning")


def test_crops_that_can_drop_every_box_warn_for_detection(tmp_path):
    path = write(
        tmp_path,
        [
            {"__class_fullname__": "RandomCrop", "height": 64, "width": 64},
            {"__class_fullname__": "RandomResizedCrop", "size": [64, 64], "scale": [0.8, 1.0]},
        ],
    )
    warnings = messages(validate_policy(path, task="detection"), "warning")
    assert len(warnings) == 1 and "RandomCrop" in warnings[0] and "BBoxSafeRandomCrop" in warnings[0]


def test_keypoint_flips_without_label_mapping_warn(tmp_path):
    path = write(tmp_path, [{"__class_fullname__": "HorizontalFlip"}])
    assert any("label_mapping" in m for m in messages(validate_policy(path, task="pose"), "warning"))


def test_eval_policies_must_not_be_random(tmp_path):
    fixed = write(
        tmp_path,
        [{"__class_fullname__": "Resize", "height": 32, "width": 32}, {"__class_fullname__": "Normalize"}],
        purpose="eval",
    )
    report = validate_policy(fixed)
    assert report.eval_policy and report.ok and not report.warnings
    random_p = write(tmp_path, [{"__class_fullname__": "HorizontalFlip", "p": 0.5}], name="r.yaml", eval=True)
    warnings = messages(validate_policy(random_p), "warning")
    assert any("p=0.5" in m for m in warnings) and any("changes with the seed" in m for m in warnings)
    random_params = write(tmp_path, [{"__class_fullname__": "Rotate", "limit": 10, "p": 1.0}], name="q.yaml")
    assert not validate_policy(random_params).warnings  # not declared eval
    assert any(
        "changes with the seed" in m
        for m in messages(validate_policy(random_params, eval_policy=True), "warning")
    )
    result = runner.invoke(app, ["validate", str(random_params), "--eval", "--strict"])
    assert result.exit_code == 1


def test_unknown_task_is_an_error(tmp_path):
    path = write(tmp_path, [])
    result = runner.invoke(app, ["validate", str(path), "--task", "astrology"])
    assert result.exit_code == 1 and "unknown task" in result.output


@pytest.mark.oracle
def test_albumentations_files_validate(tmp_path):
    Al = pytest.importorskip("albumentations")
    policy = Al.Compose(
        [Al.HorizontalFlip(p=0.5), Al.RandomBrightnessContrast(p=0.3), Al.CoarseDropout(p=0.2)],
        bbox_params=Al.BboxParams(format="coco", label_fields=["labels"]),
    )
    path = tmp_path / "al.yaml"
    Al.save(policy, str(path), data_format="yaml")
    report = validate_policy(path, task="detection")
    assert report.ok and not report.warnings, [str(f) for f in report.findings]
    assert [type(t).__name__ for t in report.policy.transforms] == [
        "HorizontalFlip",
        "RandomBrightnessContrast",
        "CoarseDropout",
    ]
    assert messages(validate_policy(path, task="ocr"), "warning")  # the flip
