"""``invariance check-eval``: deterministic eval policies pass, random ones fail with a message."""

from __future__ import annotations

from typer.testing import CliRunner

import invariance as A
from invariance.tools.check_eval import check_eval
from invariance.tools.cli import app
from invariance.tools.sample_data import write_sample_dataset

runner = CliRunner()


def test_a_deterministic_policy_passes_in_and_out_of_process(tmp_path):
    path = tmp_path / "eval.json"
    A.save(A.Compose([A.Resize(64, 64), A.Normalize()]), path)
    result = check_eval(path)
    assert result.ok, result.message
    assert len(result.runs) == 3 and result.inputs == 3
    assert len({tuple(sorted(r.items())) for r in result.runs.values()}) == 1
    cli = runner.invoke(app, ["check-eval", str(path)])
    assert cli.exit_code == 0 and "deterministic" in cli.output


def test_a_random_policy_fails_with_a_clear_message(tmp_path):
    path = tmp_path / "eval.yaml"
    A.save(A.Compose([A.Resize(64, 64), A.HorizontalFlip(p=0.5), A.Rotate(limit=5, p=1.0)]), path, "yaml")
    result = check_eval(path)
    assert not result.ok and "outputs differ" in result.message
    cli = runner.invoke(app, ["check-eval", str(path)])
    assert cli.exit_code == 1 and "not deterministic" in cli.output


def test_dataset_images_are_used_when_given(tmp_path):
    root = write_sample_dataset(tmp_path / "d", "coco", count=2, height=60, width=80)
    path = tmp_path / "eval.json"
    A.save(A.Compose([A.CenterCrop(40, 40)]), path)
    result = check_eval(path, dataset=root)
    assert result.ok, result.message
    assert set(next(iter(result.runs.values()))) == {"images/scene_000.png", "images/scene_001.png"}
