"""``invariance profile``: per-transform timing inside a pipeline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import invariance as A
from invariance.core.call import Call
from invariance.tools.profile import default_inputs, profile_command, profile_pipeline, render_report


class Sleepy(A.ImageOnlyTransform):
    """Sleeps a fixed time: a transform whose cost is known."""

    def __init__(self, seconds: float = 0.0, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.seconds = seconds

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        time.sleep(self.seconds)
        return img


def _image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (64, 80, 3), dtype=np.uint8)


def test_the_slow_transform_gets_the_time() -> None:
    pipeline = A.Compose([A.HorizontalFlip(p=1.0), Sleepy(0.004), A.InvertImg(p=1.0)])
    report = profile_pipeline(pipeline, {"image": _image()}, runs=10, warmup=1)
    names = [s.name for s in report.steps]
    assert names == ["HorizontalFlip", "Sleepy", "InvertImg"]
    sleepy = report.steps[1]
    assert sleepy.calls == sleepy.fired == 10
    assert sleepy.seconds >= 10 * 0.004
    assert report.share(sleepy.seconds) > 0.5
    assert sum(s.seconds for s in report.steps) + report.resample_seconds <= report.total_seconds * 1.001


def test_fired_counts_follow_probability_and_seed() -> None:
    pipeline = A.Compose([A.HorizontalFlip(p=0.5), A.OneOf([A.Blur(p=1.0), A.InvertImg(p=1.0)], p=1.0)])
    first = profile_pipeline(pipeline, {"image": _image()}, runs=200, warmup=0, seed=3)
    again = profile_pipeline(pipeline, {"image": _image()}, runs=200, warmup=0, seed=3)
    flip, blur, invert = first.steps
    assert flip.calls == 200 and 60 < flip.fired < 140
    # OneOf reaches one child per call: the two children share the calls.
    assert blur.fired + invert.fired == 200
    assert [s.fired for s in first.steps] == [s.fired for s in again.steps]
    assert [s.path for s in first.steps] == ["0", "1.OneOf.0", "1.OneOf.1"]


def test_fused_resample_is_its_own_row_and_instrumentation_is_removed() -> None:
    pipeline = A.Compose([A.Affine(rotate=(10, 20), p=1.0), A.Rotate(limit=(5, 5), p=1.0), Sleepy(0.0)])
    image = _image()
    pipeline.set_random_seed(0)
    expected = pipeline(image=image)["image"]
    report = profile_pipeline(pipeline, {"image": image}, runs=5, warmup=0, seed=0)
    assert report.resample_seconds > 0
    assert report.overhead_seconds >= 0
    # Afterwards the pipeline is untouched: same output, no leftover wrappers.
    assert "run" not in pipeline.transforms[0].__dict__
    assert Call.flush.__name__ == "flush"
    pipeline.set_random_seed(0)
    np.testing.assert_array_equal(pipeline(image=image)["image"], expected)


def test_default_inputs_carry_declared_targets() -> None:
    pipeline = A.Compose(
        [A.HorizontalFlip(p=1.0)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xy"),
    )
    data = default_inputs(pipeline, np.zeros((240, 320, 3), np.uint8))
    assert data["image"].shape == (240, 320, 3)
    assert len(data["bboxes"]) == len(data["labels"]) > 0
    assert max(b[2] for b in data["bboxes"]) <= 320
    report = profile_pipeline(pipeline, data, runs=3, warmup=0)
    assert report.steps[0].fired == 3


def test_render_report_names_every_row() -> None:
    from rich.console import Console

    report = profile_pipeline(A.Compose([A.Blur(p=1.0)]), {"image": _image()}, runs=3, warmup=0)
    console = Console(width=120, record=True)
    console.print(render_report(report, title="t"))
    text = console.export_text()
    for label in ("Blur", "fused warps (resample)", "pipeline overhead", "total"):
        assert label in text


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(profile_command)
    return app


def test_command_on_a_policy_file_and_image(tmp_path: Path) -> None:
    import cv2

    policy = tmp_path / "policy.json"
    A.save(A.Compose([A.RandomCrop(32, 32, p=1.0), A.GaussianBlur(p=1.0)]), str(policy))
    image_path = tmp_path / "image.png"
    cv2.imwrite(str(image_path), _image())
    result = CliRunner().invoke(_app(), [str(policy), "--image", str(image_path), "--runs", "3"])
    assert result.exit_code == 0, result.output
    assert "RandomCrop" in result.output and "GaussianBlur" in result.output
    assert "64x80x3" in result.output


def test_command_reports_a_missing_policy(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), [str(tmp_path / "nope.yaml"), "--runs", "1"])
    assert result.exit_code == 2
    assert "nope.yaml" in result.output


@pytest.mark.parametrize("policy", ["starter"])
def test_command_on_the_starter(policy: str) -> None:
    result = CliRunner().invoke(_app(), [policy, "--runs", "2"])
    assert result.exit_code == 0, result.output
    assert "RandomResizedCrop" in result.output and "images/s" in result.output


def test_registered_in_the_invariance_command() -> None:
    from invariance.tools.cli import app

    result = CliRunner().invoke(app, ["profile", "starter", "--runs", "2"])
    assert result.exit_code == 0, result.output
    assert "CoarseDropout" in result.output and "pipeline overhead" in result.output
