"""``invariance ablate``: every variant differs from the base in exactly one axis, and loads back."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from typer.testing import CliRunner

import invariance as A
from invariance.tools.ablate import ablations, write_ablations
from invariance.tools.cli import app


def _policy() -> A.Compose:
    return A.Compose(
        [
            A.RandomResizedCrop(size=(64, 64), scale=(0.5, 1.0), p=1.0),
            A.HorizontalFlip(p=0.5),
            A.OneOf(
                [A.GaussianBlur(blur_limit=(3, 5), p=1.0), A.MotionBlur(blur_limit=(3, 7), p=1.0)], p=0.2
            ),
            A.Affine(scale=(0.9, 1.1), rotate=(-10, 10), p=0.3),
            A.CoarseDropout(num_holes_range=(1, 4), p=0.2),
        ],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        seed=3,
    )


@pytest.mark.parametrize("source", ["own", "detection/medium", "ocr/strong"])
def test_each_variant_changes_one_axis_and_loads_back(tmp_path, source):
    policy = _policy() if source == "own" else source
    manifest = write_ablations(policy, tmp_path)
    base = A.load(tmp_path / manifest["base"]["file"])
    assert A.fingerprint(base) == manifest["base"]["fingerprint"]
    assert manifest["variants"], "a policy with steps has variants"
    fingerprints = {manifest["base"]["fingerprint"]}
    for entry in manifest["variants"]:
        loaded = A.load(tmp_path / entry["file"], strict=True)
        document = yaml.safe_load((tmp_path / entry["file"]).read_text())
        assert document["fingerprint"] == entry["fingerprint"] == A.fingerprint(loaded)
        fingerprints.add(entry["fingerprint"])
        (change,) = A.diff(base, loaded)  # exactly one axis
        change = re.sub(r"<\w+>", "", change)  # the diff names each step: transforms[2]<OneOf>
        assert change.startswith(entry["path"]), (change, entry)
        if entry["axis"] == "remove":
            assert ": removed " in change
        elif entry["argument"] == "p":
            assert change.endswith(f".p: {entry['before']!r} -> {entry['after']!r}")
        else:
            low, high = entry["before"]
            new_low, new_high = entry["after"]
            if entry["direction"] == "widened":
                assert new_low <= low and new_high >= high and [new_low, new_high] != [low, high]
            else:
                assert low <= new_low <= new_high <= high and [new_low, new_high] != [low, high]
            assert f".{entry['argument']}: " in change
    assert len(fingerprints) == 1 + len(manifest["variants"]), "no two variants are the same policy"
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert on_disk == manifest


def test_the_axes_cover_every_step():
    result = ablations(_policy(), p_step=0.2, factor=0.5)
    made = {(v.path, v.axis, v.direction, v.argument) for v in result.variants}
    steps = ["transform.transforms[0]", "transform.transforms[1]", "transform.transforms[2]",
             "transform.transforms[2].transforms[0]", "transform.transforms[2].transforms[1]",
             "transform.transforms[3]", "transform.transforms[4]"]  # fmt: skip
    for step in steps:
        assert (step, "remove", "removed", None) in made
    assert ("transform.transforms[1]", "p", "raised", "p") in made
    assert ("transform.transforms[1]", "p", "lowered", "p") in made
    assert ("transform.transforms[3]", "magnitude", "widened", "rotate") in made
    assert ("transform.transforms[3]", "magnitude", "narrowed", "scale.x") in made
    assert ("transform.transforms[0]", "magnitude", "widened", "scale") in made
    raised_crop = [
        s for s in result.skipped if s.path == "transform.transforms[0]" and s.direction == "raised"
    ]
    assert raised_crop and "already 1" in raised_crop[0].reason
    # scale (0.5, 1.0) cannot grow past 1: widened on the low side only.
    crop = next(v for v in result.variants if v.argument == "scale" and v.direction == "widened")
    assert crop.after == [0.25, 1.0]
    flip_p = next(
        v for v in result.variants if v.path == "transform.transforms[1]" and v.direction == "raised"
    )
    assert flip_p.after == pytest.approx(0.7)
    # odd kernel sizes stay odd
    blur = next(v for v in result.variants if v.transform == "GaussianBlur" and v.direction == "widened")
    assert blur.after == [1, 7]


def test_cli_writes_variants_and_manifest(tmp_path):
    A.save(_policy(), tmp_path / "policy.yaml", "yaml")
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        app, ["ablate", str(tmp_path / "policy.yaml"), "--out", str(out)], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(list(out.glob("*.yaml"))) == 1 + len(manifest["variants"])
    assert f"{len(manifest['variants'])} variant(s)" in result.output
    assert "05-" in result.output


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["classification/medium", "--factor", "1.5"], "factor must be in"),
        (["classification/medium", "--p-step", "0"], "p_step must be in"),
        (["classification/medium", "--format", "toml"], "format must be"),
        (["nope/none"], "neither a file nor a preset"),
    ],
)
def test_cli_bad_arguments_are_clear_errors(tmp_path, args, match):
    result = CliRunner().invoke(app, ["ablate", *args, "--out", str(tmp_path / "o")], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and match in result.output and "Traceback" not in result.output


def test_a_single_transform_is_not_a_policy_to_ablate():
    with pytest.raises(A.ParameterError, match="needs a composition"):
        ablations(A.HorizontalFlip(p=0.5))
