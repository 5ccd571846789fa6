"""``invariance diff`` and ``A.diff``: structural policy differences with fingerprints."""

from __future__ import annotations

from typer.testing import CliRunner

import invariance as A
from invariance.tools.cli import app
from invariance.tools.policy_diff import diff_policies

runner = CliRunner()


def base():
    return A.Compose([A.HorizontalFlip(p=0.5), A.Rotate(limit=10, p=0.3), A.GaussianBlur(p=0.1)])


def test_diff_names_added_removed_and_changed_steps():
    new = A.Compose([A.HorizontalFlip(p=0.5), A.Rotate(limit=20, p=0.5), A.ToGray(p=0.1)])
    changes = A.diff(base(), new)
    assert "transform.transforms[1]<Rotate>.limit: [-10.0, 10.0] -> [-20.0, 20.0]" in changes
    assert "transform.transforms[1]<Rotate>.p: 0.3 -> 0.5" in changes
    assert any(c.startswith("transform.transforms[2]: removed GaussianBlur(") for c in changes)
    assert any(c.startswith("transform.transforms[2]: added ToGray(") and "p=0.1" in c for c in changes)
    assert len(changes) == 4


def test_an_inserted_step_does_not_mark_later_steps_changed():
    new = A.Compose(
        [A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5), A.Rotate(limit=10, p=0.3), A.GaussianBlur(p=0.1)]
    )
    changes = A.diff(base(), new)
    assert len(changes) == 1 and changes[0].startswith("transform.transforms[1]: added VerticalFlip(")


def test_nested_settings_diff_by_key():
    a = A.Compose([A.NoOp()], bbox_params=A.BboxParams(format="coco", min_visibility=0.1))
    b = A.Compose([A.NoOp()], bbox_params=A.BboxParams(format="coco", min_visibility=0.3))
    assert A.diff(a, b) == ["transform.bbox_params.min_visibility: 0.1 -> 0.3"]


def test_equivalent_files_have_equal_fingerprints_and_no_changes(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.yaml"
    A.save(base(), a)
    A.save(base(), b, data_format="yaml")
    result = diff_policies(a, b)
    assert result.same and result.left_fingerprint == result.right_fingerprint == A.fingerprint(base())
    cli = runner.invoke(app, ["diff", str(a), str(b), "--exit-code"])
    assert cli.exit_code == 0 and "identical policies" in cli.output


def test_cli_shows_both_fingerprints_and_changes(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    A.save(base(), a)
    A.save(A.Compose([A.HorizontalFlip(p=1.0), A.Rotate(limit=10, p=0.3), A.GaussianBlur(p=0.1)]), b)
    result = runner.invoke(app, ["diff", str(a), str(b)])
    assert result.exit_code == 0
    assert A.fingerprint(A.load(a)) in result.output and A.fingerprint(A.load(b)) in result.output
    assert "transform.transforms[0]<HorizontalFlip>.p: 0.5 -> 1.0" in result.output
    assert runner.invoke(app, ["diff", str(a), str(b), "--exit-code"]).exit_code == 1


def test_presets_can_be_diffed_and_unbuildable_files_compare_as_written(tmp_path):
    assert not diff_policies("detection/light", "detection/strong").same
    odd = tmp_path / "odd.json"
    odd.write_text(
        '{"transform": {"__class_fullname__": "Compose", "transforms": [{"__class_fullname__": "Unknown"}]}}'
    )
    changes = diff_policies(odd, "detection/light").changes
    assert any("removed Unknown" in c for c in changes)
