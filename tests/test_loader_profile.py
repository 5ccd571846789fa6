"""``invariance profile --loader``: stages, worker sweep, recommendation and the bottleneck verdict."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import invariance as A
from invariance.tools.cli import app
from invariance.tools.loader_profile import LoaderReport, WorkerRun, profile_loader, worker_counts
from invariance.tools.sample_data import write_sample_dataset


def _report(rates: dict[int, float], model_step_ms: float | None, head: tuple[str, ...] = ()) -> LoaderReport:
    runs = [WorkerRun(w, images=int(rate * 2), seconds=2.0, startup_seconds=0.1) for w, rate in rates.items()]
    stages = {"decode": 0.004, "head": 0.002 if head else 0.0, "augmentation": 0.003, "collate": 0.001}
    return LoaderReport(16, 32, stages, head, "", runs, cores=8, model_step_ms=model_step_ms)


def test_worker_counts_cover_every_count_then_double():
    assert worker_counts(0) == [0]
    assert worker_counts(4) == [0, 1, 2, 3, 4]
    assert worker_counts(16) == [0, 1, 2, 4, 8, 16]
    assert worker_counts(12) == [0, 1, 2, 4, 8, 12]
    with pytest.raises(A.ParameterError, match="max_workers"):
        worker_counts(-1)


def test_loader_bound_when_the_best_rate_is_below_what_the_model_consumes():
    # 32 images per 10 ms step = 3200 images/s; the loader peaks at 1000
    report = _report({0: 200, 2: 600, 4: 1000, 8: 990}, model_step_ms=10)
    assert report.loader_bound is True
    verdict = "\n".join(report.verdict())
    assert "LOADER is the bottleneck" in verdict and "wait about 69%" in verdict
    assert report.recommended_workers == 4  # none keeps up: the fewest within 5% of the best


def test_model_bound_recommends_the_fewest_workers_that_keep_up():
    # 32 images per 100 ms = 320 images/s; with 10% headroom 352: two workers (600) suffice
    report = _report({0: 200, 1: 340, 2: 600, 4: 1000}, model_step_ms=100)
    assert report.loader_bound is False and report.recommended_workers == 2
    assert "MODEL is the bottleneck" in report.verdict()[0]


def test_without_a_model_time_it_says_how_to_compare():
    report = _report({0: 200, 1: 380, 2: 400}, model_step_ms=None, head=("Resize",))
    assert report.loader_bound is None and report.recommended_workers == 1  # 380 is within 5% of 400
    lines = report.verdict()
    assert "--model-step-ms" in lines[0]
    assert "Resize" in lines[2] and "60%" in lines[2]  # decode 4 + head 2 of 10 ms


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_dataset(tmp_path_factory.mktemp("loader"), "coco", count=6, suffix=".jpg") / "images"


def test_profile_loader_measures_stages_and_worker_counts(images: Path):
    pytest.importorskip("torch", reason="torch is not installed: pip install 'invariance[torch]'")
    policy = A.Compose([A.Resize(64, 80), A.HorizontalFlip(), A.RandomBrightnessContrast(p=0.5)], seed=0)
    calls = []
    report = profile_loader(
        [images],
        policy,
        workers=[0, 1],
        batch_size=4,
        batches=2,
        model_step=lambda batch: calls.append(batch),
    )
    assert report.images == 6 and report.head_names == ("Resize",)
    assert set(report.stages) == {"decode", "head", "augmentation", "collate"}
    assert all(seconds > 0 for seconds in report.stages.values())
    assert [r.workers for r in report.runs] == [0, 1] and all(r.images == 8 for r in report.runs)
    assert report.model_step_ms is not None and calls and tuple(calls[0][0].shape) == (4, 64, 80, 3)


def test_stages_and_the_main_process_run_single_threaded_like_a_worker(images: Path):
    torch = pytest.importorskip("torch", reason="torch is not installed: pip install 'invariance[torch]'")
    import cv2

    seen = []

    def read(path: Path):
        seen.append((torch.get_num_threads(), cv2.getNumThreads()))
        return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)

    before = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(2)
    cv2.setNumThreads(2)
    try:
        profile_loader([images], A.Resize(32, 32), workers=[0], batch_size=2, batches=1, loader=read)
        # thread contention made collate 30x slower on a busy machine; workers run single-threaded
        assert len(seen) > 2 and {threads for threads, _ in seen} == {1}
        assert {cv_threads for _, cv_threads in seen} == {1}  # setNumThreads(0) reads back as 1
        assert (torch.get_num_threads(), cv2.getNumThreads()) == (2, 2)  # restored afterwards
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


def test_a_gpu_model_step_is_timed_to_completion(monkeypatch: pytest.MonkeyPatch):
    torch = pytest.importorskip("torch", reason="torch is not installed: pip install 'invariance[torch]'")
    from invariance.tools import loader_profile

    events: list[str] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: events.append("sync"))
    loader_profile._time_model(lambda batch: events.append("step"), None, repeats=2)
    # queued kernels are waited for before the clock starts and before it stops
    assert events == ["step", "sync", "step", "step", "sync"]


def test_outputs_that_cannot_be_batched_are_explained(tmp_path: Path):
    pytest.importorskip("torch", reason="torch is not installed: pip install 'invariance[torch]'")
    root = write_sample_dataset(tmp_path / "a", "coco", count=1, suffix=".png") / "images"
    other = write_sample_dataset(tmp_path / "b", "coco", count=1, height=100, width=120) / "images"
    with pytest.raises(A.ParameterError, match=r"cannot be batched.*fixed-size"):
        profile_loader([root, other], A.HorizontalFlip(), workers=[0], batch_size=2, batches=1)


def test_cli_loader_on_sample_data_with_a_model_time():
    pytest.importorskip("torch", reason="torch is not installed: pip install 'invariance[torch]'")
    args = ["profile", "--policy", "starter", "--loader", "sample", "--workers", "1"]
    result = CliRunner().invoke(
        app, [*args, "--batch-size", "4", "--batches", "2", "--model-step-ms", "100000"]
    )
    assert result.exit_code == 0, result.output
    for text in ("decode (read the file)", "augmentation (random tail)", "collate", "<- recommended"):
        assert text in result.output
    assert "MODEL is the bottleneck" in result.output and "num_workers=" in result.output


def test_cli_loader_errors_are_named(tmp_path: Path):
    result = CliRunner().invoke(app, ["profile", "starter", "--loader", str(tmp_path / "missing[1]")])
    assert result.exit_code == 2 and "neither a folder nor an image file" in result.output
    assert "missing[1]" in result.output  # brackets in paths are not read as markup
    result = CliRunner().invoke(app, ["profile", "--loader", "sample"])
    assert result.exit_code == 2 and "missing the policy" in result.output
    result = CliRunner().invoke(app, ["profile", "starter", "--policy", "detection/light", "--loader", "x"])
    assert result.exit_code == 2 and "two policies given" in result.output


def test_cli_without_torch_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, images: Path):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    result = CliRunner().invoke(app, ["profile", "starter", "--loader", str(images)])
    assert result.exit_code == 2
    assert "pip install 'invariance[torch]'" in result.output
