"""Robustness suite: calibrated severities, seeds, the runner's tables and the CLI."""

from __future__ import annotations

import importlib.util
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

import invariance as A
from invariance import robustness as R
from invariance.data import sample_scene

IMAGE = sample_scene(96, 128, seed=3)["image"]
CLEAN = IMAGE.astype(np.float64)


def mean_abs_change(x: np.ndarray) -> float:
    return float(np.abs(x.astype(np.float64) - CLEAN).mean())


def laplacian_variance(x: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def brightness(x: np.ndarray) -> float:
    return float(x.mean())


def contrast(x: np.ndarray) -> float:
    return float(x.std())


def saturation(x: np.ndarray) -> float:
    return float(cv2.cvtColor(x, cv2.COLOR_RGB2HSV)[..., 1].mean())


def blockiness(x: np.ndarray) -> float:
    """Share of horizontally adjacent pixels that are equal: 1 - 1/block for a pixelated image."""
    return float(np.all(x[:, 1:] == x[:, :-1], axis=2).mean())


# One simple statistic per corruption and the direction it must move as the severity grows.
STATISTICS: dict[str, tuple[Callable[[np.ndarray], float], int]] = {
    "gaussian_noise": (mean_abs_change, +1),
    "shot_noise": (mean_abs_change, +1),
    "impulse_noise": (mean_abs_change, +1),
    "speckle_noise": (mean_abs_change, +1),
    "gaussian_blur": (laplacian_variance, -1),
    "motion_blur": (laplacian_variance, -1),
    "defocus_blur": (laplacian_variance, -1),
    "zoom_blur": (laplacian_variance, -1),
    "glass_blur": (laplacian_variance, -1),
    "fog": (contrast, -1),
    "snow": (brightness, +1),
    "spatter": (mean_abs_change, +1),
    "brightness": (brightness, +1),
    "darken": (brightness, -1),
    "contrast": (contrast, -1),
    "saturate": (saturation, +1),
    "pixelate": (blockiness, +1),
    "jpeg_compression": (mean_abs_change, +1),
    "elastic": (mean_abs_change, +1),
}


def test_suite_size_and_families() -> None:
    assert len(R.CORRUPTIONS) >= 15
    assert set(STATISTICS) == set(R.CORRUPTIONS)
    assert {c.family for c in R.CORRUPTIONS.values()} == set(R.FAMILIES)
    for corruption in R.CORRUPTIONS.values():
        assert len(corruption.severities) == 5
        assert hasattr(A, corruption.transform)


@pytest.mark.parametrize("name", sorted(R.CORRUPTIONS))
def test_severities_are_monotone(name: str) -> None:
    statistic, direction = STATISTICS[name]
    for seed in (0, 1):
        values = [statistic(R.corrupt(IMAGE, name, s, seed=seed)) for s in R.SEVERITIES]
        steps = np.diff([statistic(IMAGE), *values]) * direction
        assert np.all(steps > 0), f"{name}: {[round(v, 3) for v in values]}"


@pytest.mark.parametrize("name", sorted(R.CORRUPTIONS))
def test_corruption_reproduces_from_the_seed(name: str) -> None:
    a = R.corrupt(IMAGE, name, 3, seed=7, index=2)
    np.testing.assert_array_equal(a, R.corrupt(IMAGE, name, 3, seed=7, index=2))
    assert a.shape == IMAGE.shape and a.dtype == IMAGE.dtype
    floats = R.corrupt(IMAGE.astype(np.float32) / 255, name, 3, seed=7)
    assert floats.dtype == np.float32 and floats.min() >= 0 and floats.max() <= 1


def test_noise_depends_on_seed_and_index() -> None:
    a = R.corrupt(IMAGE, "gaussian_noise", 2, seed=0)
    assert not np.array_equal(a, R.corrupt(IMAGE, "gaussian_noise", 2, seed=1))
    assert not np.array_equal(a, R.corrupt(IMAGE, "gaussian_noise", 2, seed=0, index=1))


def test_bad_names_and_severities() -> None:
    with pytest.raises(A.ParameterError, match="unknown corruption"):
        R.corrupt(IMAGE, "hail", 1)
    with pytest.raises(A.ParameterError, match="severity"):
        R.corrupt(IMAGE, "fog", 6)


# -- runner ---------------------------------------------------------------------------------------


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
    """Perfect on clean data: the mean decides the class."""
    return (batch.reshape(len(batch), -1).mean(axis=1) > 127.5).astype(np.int64)


def test_runner_perfect_model_and_sane_table() -> None:
    report = R.evaluate_robustness(
        brightness_model, toy_dataset(), corruptions=["gaussian_blur", "brightness"]
    )
    assert report.clean == 1.0
    assert report.corruptions == ["gaussian_blur", "brightness"]
    assert len(report.rows) == 1 + 2 * 5
    assert all(report.value("gaussian_blur", s) == 1.0 for s in R.SEVERITIES)  # blur keeps the mean
    curve = [report.value("brightness", s) for s in R.SEVERITIES]
    assert curve[-1] == 0.5  # every dark image turned bright
    assert np.all(np.diff(curve) <= 0)
    summary = {r["corruption"]: r for r in report.summary()}
    assert summary["gaussian_blur"]["ce"] == 0 and summary["gaussian_blur"]["relative_robustness"] == 1
    assert summary["brightness"]["ce"] == pytest.approx(1 - np.mean(curve))
    assert summary["mean"]["relative_robustness"] == pytest.approx((1 + np.mean(curve)) / 2)
    md = report.to_markdown()
    assert "| gaussian_blur | blur | 1.0000 |" in md and "mean" in md
    csv = report.to_csv()
    assert csv.splitlines()[0] == "corruption,family,severity,seed,slice,key,n,metric"
    whole = [line for line in csv.splitlines() if ",all,," in line]
    assert len(whole) == 11 and whole[0] == "clean,,0,0,all,,12,1.0"
    assert len(csv.splitlines()) == 1 + 11 * 3  # the whole dataset, then each of the two classes


def test_runner_reproduces_and_accepts_generators_and_callables() -> None:
    def scores_model(batch: np.ndarray) -> np.ndarray:
        mean = batch.reshape(len(batch), -1).mean(axis=1) / 255
        return np.stack([1 - mean, mean], axis=1)

    def gen() -> Iterator[tuple[np.ndarray, int]]:
        yield from toy_dataset(8)

    kwargs = {"corruptions": ["gaussian_noise", "contrast"], "severities": [1, 5], "seed": 3, "batch_size": 3}
    a = R.evaluate_robustness(scores_model, gen(), **kwargs)  # type: ignore[arg-type]
    b = R.evaluate_robustness(scores_model, toy_dataset(8), **kwargs)  # type: ignore[arg-type]
    assert a.rows == b.rows
    errors = R.evaluate_robustness(
        scores_model,
        toy_dataset(8),
        metric=lambda p, y: float(np.mean(p.argmax(1) != y)),
        higher_is_better=False,
    )
    assert errors.clean == 0.0


def test_runner_matches_corrupt() -> None:
    """The runner corrupts image i exactly as corrupt(..., index=i) does."""
    seen: list[np.ndarray] = []

    def spy(batch: np.ndarray) -> np.ndarray:
        seen.extend(batch)
        return brightness_model(batch)

    data = toy_dataset(3)
    R.evaluate_robustness(spy, data, corruptions=["shot_noise"], severities=[2], seed=5, batch_size=2)
    for i, (image, _) in enumerate(data):
        np.testing.assert_array_equal(seen[3 + i], R.corrupt(image, "shot_noise", 2, seed=5, index=i))


def test_baseline_normalised_mce() -> None:
    model = R.evaluate_robustness(brightness_model, toy_dataset(), corruptions=["brightness"])
    always_zero = R.evaluate_robustness(
        lambda b: np.zeros(len(b), int), toy_dataset(), corruptions=["brightness"]
    )
    (row, mean) = model.summary(baseline=always_zero)
    errors = [1 - model.value("brightness", s) for s in R.SEVERITIES]
    assert row["ce"] == pytest.approx(sum(errors) / (5 * 0.5))
    assert row["relative_ce"] != row["relative_ce"]  # the baseline's errors do not change: NaN
    assert mean["ce"] == row["ce"]
    assert "against the baseline" in model.to_markdown(always_zero)


def test_plot_writes_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    report = R.evaluate_robustness(
        brightness_model, toy_dataset(4), corruptions=["fog", "contrast"], severities=[1, 3]
    )
    path = report.plot(tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    report = R.evaluate_robustness(brightness_model, toy_dataset(2), corruptions=["fog"], severities=[1])
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(A.InvarianceError, match=r"invariance\[plot\]"):
        report.plot(tmp_path / "x.png")


# -- CLI ------------------------------------------------------------------------------------------


@pytest.fixture
def labelled_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    for image, label in toy_dataset(6):
        folder = data / ("bright" if label else "dark")
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{len(list(folder.iterdir()))}.png"), image)
    # classes sort as bright=0, dark=1
    (tmp_path / "toy_robust_model.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            def predict(batch):
                return (batch.reshape(len(batch), -1).mean(axis=1) < 127.5).astype(int)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return data


def test_cli_function_end_to_end(labelled_folder: Path, tmp_path: Path) -> None:
    from invariance.tools.robustness_cli import run_robustness

    report = run_robustness(
        labelled_folder,
        "toy_robust_model:predict",
        severities="1,5",
        corruptions="brightness,gaussian_blur",
        out=tmp_path / "report.md",
        csv=tmp_path / "report.csv",
    )
    assert report.clean == 1.0
    assert report.value("brightness", 5) == 0.5
    assert "| brightness | digital | 1.0000 | " in (tmp_path / "report.md").read_text()
    lines = (tmp_path / "report.csv").read_text().splitlines()
    assert len([line for line in lines if ",all,," in line]) == 5  # clean, 2 x 2 (then per class)


def test_cli_command_through_typer(labelled_folder: Path, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from invariance.tools.robustness_cli import robustness_command

    app = typer.Typer()
    app.command("robustness")(robustness_command)
    app.command("other")(lambda: None)  # a second command so "robustness" is a subcommand
    args = ["robustness", "--data", str(labelled_folder), "--model", "toy_robust_model:predict"]
    args += ["--severities", "2", "--corruptions", "fog", "--out", str(tmp_path / "r.md")]
    if importlib.util.find_spec("matplotlib") is not None:
        args += ["--plot", str(tmp_path / "c.png")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "fog" in result.output and (tmp_path / "r.md").exists()
    bad = CliRunner().invoke(
        app, ["robustness", "--data", str(labelled_folder), "--model", "nowhere:predict"]
    )
    assert bad.exit_code == 2 and "cannot import" in bad.output
    bad = CliRunner().invoke(app, [*args[:5], "--severities", "0,9"])
    assert bad.exit_code == 2 and "severities" in bad.output
