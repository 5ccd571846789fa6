"""Robustness for the evaluation protocol: own probes, darkening, per-class and subgroup metrics,
several seeds, what to add to training, and clear errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import invariance as A
from invariance import robustness as R
from invariance.core import registry


def toy_dataset(n: int = 12, seed: int = 0) -> list[tuple[np.ndarray, int]]:
    """Class 1 images are bright, class 0 dark; each has some texture."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        label = i % 2
        base = 170 if label else 85
        items.append((np.clip(base + rng.normal(0, 8, (32, 32, 3)), 0, 255).astype(np.uint8), label))
    return items


def brightness_model(batch: np.ndarray) -> np.ndarray:
    return (batch.reshape(len(batch), -1).mean(axis=1) > 127.5).astype(np.int64)


def sided_dataset(n: int = 8) -> list[tuple[np.ndarray, int]]:
    """Class 1 has its bright half on the left, class 0 on the right."""
    items = []
    for i in range(n):
        image = np.full((16, 16, 3), 40, np.uint8)
        label = i % 2
        if label:
            image[:, :8] = 220
        else:
            image[:, 8:] = 220
        items.append((image, label))
    return items


def side_model(batch: np.ndarray) -> np.ndarray:
    """Learned 'bright on the left' instead of a flip-invariant feature."""
    return (batch[:, :, :8].mean(axis=(1, 2, 3)) > batch[:, :, 8:].mean(axis=(1, 2, 3))).astype(int)


def test_a_flip_probe_finds_the_missing_invariance_and_names_the_family():
    flip = R.probe("hflip", A.HorizontalFlip(p=1))
    assert flip.failure == "viewpoint" and flip.severities == (1,)
    report = R.evaluate_robustness(side_model, sided_dataset(), probes=[flip])
    assert report.corruptions == ["hflip"]  # own probes only: no built-in corruption unless asked
    assert report.clean == 1.0 and report.value("hflip", 1) == 0.0
    (advice,) = report.recommendations()
    assert advice["probe"] == "hflip" and advice["failure"] == "viewpoint"
    assert advice["transforms"] == ["Rotate", "Affine", "Perspective"]
    md = report.to_markdown()
    assert "**hflip**" in md and "rotate, affine, perspective" in md


def test_brightness_goes_both_ways():
    data = toy_dataset()
    report = R.evaluate_robustness(brightness_model, data, corruptions=["brightness", "darken"])
    assert report.value("brightness", 5) == 0.5  # the dark class turns bright
    assert report.value("darken", 5) == 0.5  # the bright class turns dark
    assert report.value("darken", 5, slice="class", key=1) == 0.0
    assert report.value("darken", 5, slice="class", key=0) == 1.0
    image = data[1][0]
    means = [R.corrupt(image, "darken", s).mean() for s in R.SEVERITIES]
    assert all(np.diff(means) < 0) and means[0] < image.mean()
    assert R.CORRUPTION_FAILURES["darken"] == "illumination"


def test_any_transform_or_policy_at_chosen_severities(tmp_path):
    darken = R.probe(
        "darken_by",
        at=lambda s: A.RandomBrightnessContrast(brightness_limit=(s, s), contrast_limit=0, p=1),
        severities=[-0.05, -0.3, -0.5],
    )
    policy_file = tmp_path / "night.yaml"
    A.save(
        A.Compose([A.RandomBrightnessContrast(brightness_limit=(-0.6, -0.6), contrast_limit=0, p=1)]),
        policy_file,
        "yaml",
    )
    by_mapping = R.probe(
        "policies",
        {
            "dict": A.to_dict(A.Compose([A.HorizontalFlip(p=1)])),
            "file": str(policy_file),
            "callable": lambda image: 255 - image,
        },
    )
    report = R.evaluate_robustness(
        brightness_model, toy_dataset(), probes=[darken, by_mapping, "fog"], severities=[1]
    )
    assert report.corruptions == ["darken_by", "policies", "fog"]
    assert report.severities("darken_by") == [-0.05, -0.3, -0.5]
    assert report.value("darken_by", -0.05) == 1.0 and report.value("darken_by", -0.5) == 0.5
    assert report.value("policies", "dict") == 1.0  # a flip keeps the mean
    assert report.value("policies", "file") == 0.5
    assert report.value("policies", "callable") == 0.0
    assert darken.failure == "illumination" and by_mapping.failure == "viewpoint"
    header, rows = report.table()
    assert header[:3] == ["corruption", "family", "clean"] and len(rows) == 3
    assert "darken_by" in report.to_markdown()


def test_per_class_and_per_subgroup_metrics():
    data = toy_dataset(12)
    cameras = ["a" if i < 6 else "b" for i in range(12)]
    noisy_on_b = R.probe("b_only_dark", at=lambda s: lambda image: image // s, severities=[2])
    by_items = R.evaluate_robustness(
        brightness_model,
        [(image, label, cam) for (image, label), cam in zip(data, cameras)],
        probes=[noisy_on_b],
        class_names=["dark", "bright"],
    )
    by_arg = R.evaluate_robustness(
        brightness_model, data, probes=[noisy_on_b], groups=cameras, class_names=["dark", "bright"]
    )
    assert by_items.rows == by_arg.rows and by_items.slices == by_arg.slices
    assert by_arg.keys("class") == ["dark", "bright"] and by_arg.keys("group") == ["a", "b"]
    assert by_arg.value("b_only_dark", 2, slice="class", key="bright") == 0.0
    assert by_arg.value("b_only_dark", 2, slice="class", key="dark") == 1.0
    assert by_arg.value("b_only_dark", 2, slice="group", key="a") == 0.5
    md = by_arg.to_markdown()
    assert "## Per class" in md and "## Per subgroup" in md and "| bright | 6 |" in md
    csv = by_arg.to_csv()
    assert "b_only_dark,custom,2,0,group,b,6,0.5" in csv
    with pytest.raises(A.ParameterError, match="groups has 3 keys for 12 samples"):
        R.evaluate_robustness(brightness_model, data, probes=[noisy_on_b], groups=["a", "b", "c"])


def test_several_seeds_give_the_spread():
    def noise_sensitive(batch: np.ndarray) -> np.ndarray:
        """Right when one pixel's noise happens to be above the image mean: a coin per image."""
        return (batch[:, 0, 0, 0] > batch.mean(axis=(1, 2, 3))).astype(int)

    data = [(np.full((16, 16, 3), 128, np.uint8), 1) for _ in range(16)]
    report = R.evaluate_robustness(
        noise_sensitive, data, corruptions=["gaussian_noise"], severities=[2], seeds=[0, 1, 2, 3]
    )
    assert report.seeds == [0, 1, 2, 3]
    assert len(report.rows) == 4 * 2
    spread = report.spread("gaussian_noise", 2)
    values = [r["metric"] for r in report.rows if r["corruption"] == "gaussian_noise"]
    assert spread["mean"] == pytest.approx(np.mean(values)) and spread["std"] == pytest.approx(np.std(values))
    assert spread["min"] == min(values) and spread["max"] == max(values) and spread["seeds"] == 4
    assert len(set(values)) > 1, "different seeds draw different noise"
    again = R.evaluate_robustness(
        noise_sensitive, data, corruptions=["gaussian_noise"], severities=[2], seeds=[0, 1, 2, 3]
    )
    assert again.rows == report.rows
    single = R.evaluate_robustness(
        noise_sensitive, data, corruptions=["gaussian_noise"], severities=[2], seed=2
    )
    assert single.value("gaussian_noise", 2) == [r for r in report.rows if r["seed"] == 2][1]["metric"]
    md = report.to_markdown()
    assert "Spread over 4 seeds" in md and "mean over seeds 0, 1, 2, 3" in md


def test_a_baseline_lacking_a_probe_is_a_clear_error():
    model = R.evaluate_robustness(
        brightness_model, toy_dataset(4), corruptions=["fog", "darken"], severities=[1, 2]
    )
    baseline = R.evaluate_robustness(brightness_model, toy_dataset(4), corruptions=["fog"], severities=[1])
    with pytest.raises(A.ParameterError) as info:
        model.summary(baseline=baseline)
    message = str(info.value)
    assert "fog at severity 2" in message and "darken at severity 1" in message and "same probes" in message
    with pytest.raises(A.ParameterError, match="no measurement of 'hail'"):
        model.value("hail", 1)


def test_every_recommended_transform_is_in_the_catalogue():
    for failure in R.FAILURE_CLASSES.values():
        for name in failure.transforms:
            assert registry.lookup(name) is not None, name
    assert set(R.CORRUPTION_FAILURES) == set(R.CORRUPTIONS)
    assert set(R.CORRUPTION_FAILURES.values()) <= set(R.FAILURE_CLASSES)


def test_a_probe_of_unknown_kind_says_what_to_do():
    report = R.evaluate_robustness(
        brightness_model, toy_dataset(4), probes=[R.probe("invert", lambda image: 255 - image)]
    )
    (advice,) = report.recommendations()
    assert advice["failure"] is None and advice["transforms"] == []
    assert "no row of the failure-to-family table" in report.to_markdown()
    assert report.recommendations(tolerance=1.0) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"transform": A.HorizontalFlip(p=1), "at": lambda s: None}, "either a transform"),
        ({"at": lambda s: A.HorizontalFlip(p=1)}, "needs severities"),
        ({"transform": A.HorizontalFlip(p=1), "severities": [1, 2]}, "one transform is one severity"),
        (
            {"transform": {1: A.HorizontalFlip(p=1)}, "severities": [1, 2]},
            r"no transform for severities \[2\]",
        ),
        ({"transform": 42}, "expected a transform"),
        ({"transform": "no/such-policy"}, "neither a policy file nor a preset"),
        ({"transform": A.HorizontalFlip(p=1), "failure": "lighting"}, "failure='lighting'"),
    ],
)
def test_bad_probes_fail_early(kwargs, match):
    with pytest.raises(A.ParameterError, match=match):
        R.probe("p", **kwargs)


def test_bad_runner_arguments_fail_early():
    flip = R.probe("hflip", A.HorizontalFlip(p=1))
    with pytest.raises(A.ParameterError, match="unique"):
        R.evaluate_robustness(brightness_model, toy_dataset(2), probes=[flip, flip])
    with pytest.raises(A.ParameterError, match="seeds"):
        R.evaluate_robustness(brightness_model, toy_dataset(2), probes=[flip], seeds=[])
    with pytest.raises(A.ParameterError, match="Probe objects"):
        R.evaluate_robustness(brightness_model, toy_dataset(2), probes=[A.HorizontalFlip(p=1)])
    with pytest.raises(A.ParameterError, match="dataset item 0"):
        R.evaluate_robustness(brightness_model, [np.zeros((4, 4, 3), np.uint8)], probes=[flip])


# -- CLI ------------------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path, monkeypatch):
    import textwrap

    import cv2

    data = tmp_path / "data"
    for i, (image, label) in enumerate(toy_dataset(8)):
        sub = data / ("bright" if label else "dark")
        sub.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(sub / f"{i}.png"), image)
    (tmp_path / "toy_probe_model.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            def predict(batch):  # classes sort as bright=0, dark=1
                return (batch.reshape(len(batch), -1).mean(axis=1) < 127.5).astype(int)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return data


def test_cli_runs_own_probes_with_groups_and_seeds(folder, tmp_path):
    from typer.testing import CliRunner

    from invariance.tools.cli import app

    A.save(A.Compose([A.HorizontalFlip(p=1)]), tmp_path / "flip.yaml", "yaml")
    (tmp_path / "probes.yaml").write_text(
        "probes:\n"
        "  - name: hflip\n    policy: flip.yaml\n"
        "  - name: darken_by\n    transform: RandomBrightnessContrast\n    argument: brightness_limit\n"
        "    severities: [-0.1, -0.5]\n    args: {contrast_limit: 0}\n"
        "  - name: noise\n    failure: sensor noise\n    severities:\n"
        "      mild: {__class_fullname__: GaussNoise, std_range: [0.02, 0.02], p: 1.0}\n"
        "      strong: {__class_fullname__: GaussNoise, std_range: [0.2, 0.2], p: 1.0}\n"
    )
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png"))
    (tmp_path / "groups.csv").write_text(
        "file,group\n" + "".join(f"{f},{'night' if i % 2 else 'day'}\n" for i, f in enumerate(files))
    )
    args = ["robustness", "--data", str(folder), "--model", "toy_probe_model:predict"]
    args += ["--probes", str(tmp_path / "probes.yaml"), "--groups", str(tmp_path / "groups.csv")]
    args += ["--seeds", "0,1", "--csv", str(tmp_path / "r.csv")]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "| hflip | custom | 1.0000 |" in out
    assert (
        "## Per class" in out and "| bright | 4 |" in out and "## Per subgroup" in out and "| night |" in out
    )
    assert "Spread over 2 seeds" in out
    assert "**darken_by**" in out and "illumination failure: add brightness, gamma, shadow" in out
    assert "gaussian_noise" not in out  # only the user's probes unless --corruptions names some
    assert ",group,night," in (tmp_path / "r.csv").read_text()


@pytest.mark.parametrize(
    ("probes", "groups", "match"),
    [
        ("probes:\n  - name: x\n    polcy: a.yaml\n", None, "give 'policy'"),
        (
            "probes:\n  - name: x\n    policy: {__class_fullname__: HorizontalFlip}\n    extra: 1\n",
            None,
            "unknown key",
        ),
        (
            "probes:\n  - name: x\n    transform: Nope\n    argument: a\n    severities: [1]\n",
            None,
            "not in the catalogue",
        ),
        ("probes: [\n", None, "not valid YAML"),
        (None, "file,group\nbright/1.png,day\n", "no group for 7 image"),
    ],
)
def test_cli_bad_probes_and_groups_are_clear_errors(folder, tmp_path, probes, groups, match):
    from typer.testing import CliRunner

    from invariance.tools.cli import app

    args = ["robustness", "--data", str(folder), "--model", "toy_probe_model:predict", "--corruptions", "fog"]
    if probes is not None:
        (tmp_path / "p.yaml").write_text(probes)
        args += ["--probes", str(tmp_path / "p.yaml")]
    if groups is not None:
        (tmp_path / "g.csv").write_text(groups)
        args += ["--groups", str(tmp_path / "g.csv")]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "Traceback" not in result.output
    assert re.search(match, result.output), result.output


def test_plot_draws_named_severities_and_seed_spread(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is optional: pip install -e '.[plot]'")
    views = R.probe("views", {"mild": A.HorizontalFlip(p=1), "strong": lambda image: image // 3})
    report = R.evaluate_robustness(
        brightness_model, toy_dataset(4), probes=[views, "gaussian_noise"], severities=[3], seeds=[0, 1]
    )
    path = report.plot(tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
