"""Ray Data: per-row seeds independent of partitioning, same files as the single-process path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

import invariance as A  # noqa: E402
from invariance.integrations.ray import (  # noqa: E402
    augment_dataset,
    augment_directory_with_ray,
    encode_images,
    write_images,
)
from invariance.tools.augment import augment_dataset as augment_single  # noqa: E402
from invariance.tools.runner import derive_seed  # noqa: E402
from invariance.tools.sample_data import write_sample_dataset  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


def _rows(n=6):
    rng = np.random.default_rng(0)
    return [
        {
            "path": f"dir/img{i}.png",
            "image": rng.integers(0, 256, (20 + i, 30, 3), dtype=np.uint8),
            "bboxes": np.array([[2.0, 3.0, 12.0, 15.0]]),
            "labels": np.array([i]),
        }
        for i in range(n)
    ]


def _policy():
    return A.Compose(
        [A.HorizontalFlip(p=0.5), A.RandomBrightnessContrast(p=1.0), A.Affine(rotate=(-20, 20), p=1.0)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
    )


def _collect(ds):
    return {(r["path"], int(r["variant"])): r for r in ds.take_all()}


def test_rows_reproduce_whatever_the_partitioning(local_ray):
    rows = _rows()
    columns = {"image": "image", "bboxes": "bboxes", "labels": "labels"}
    outs = []
    for blocks, batch in ((1, 16), (3, 1), (6, 2)):
        ds = ray.data.from_items(rows, override_num_blocks=blocks)
        outs.append(
            _collect(augment_dataset(ds, _policy(), seed=5, variants=2, columns=columns, batch_size=batch))
        )
    assert len(outs[0]) == 12
    # the same row and variant, done by hand with the documented seed
    pipeline = _policy()
    for (path, k), row in outs[0].items():
        source = next(r for r in rows if r["path"] == path)
        pipeline.set_random_seed(derive_seed(5, path, k))
        expected = pipeline(image=source["image"], bboxes=source["bboxes"], labels=source["labels"])
        for other in outs[1:]:
            np.testing.assert_array_equal(other[(path, k)]["image"], row["image"])
            np.testing.assert_allclose(other[(path, k)]["bboxes"], row["bboxes"])
        np.testing.assert_array_equal(row["image"], expected["image"])
        np.testing.assert_allclose(np.asarray(row["bboxes"]).reshape(-1, 4), np.asarray(expected["bboxes"]))
    variants = [outs[0][("dir/img0.png", k)]["image"] for k in (0, 1)]
    assert not np.array_equal(*variants)


def test_input_batches_are_not_mutated(local_ray):
    from invariance.integrations.ray import _BatchAugmenter

    rows = _rows(2)
    batch = {
        "path": np.array([r["path"] for r in rows], dtype=object),
        "image": np.empty(2, dtype=object),
        "bboxes": np.stack([r["bboxes"] for r in rows]),
        "labels": np.stack([r["labels"] for r in rows]),
    }
    batch["image"][:] = [r["image"] for r in rows]
    for value in (batch["bboxes"], *batch["image"]):
        value.setflags(write=False)  # an in-place write would raise
    augmenter = _BatchAugmenter(
        _policy(), 1, "path", 1, {"image": "image", "bboxes": "bboxes", "labels": "labels"}
    )
    out = augmenter(batch)
    assert out["image"] is not batch["image"] and len(out["variant"]) == 2


def test_write_images_and_parquet(local_ray, tmp_path):
    ds = augment_dataset(ray.data.from_items(_rows(3)), A.Compose([A.VerticalFlip(p=1.0)]), variants=1)
    files = write_images(ds, tmp_path / "out", annotation_columns=["labels"])
    assert files == ["dir/img0_aug0.png", "dir/img1_aug0.png", "dir/img2_aug0.png"]
    note = json.loads((tmp_path / "out" / "dir" / "img1_aug0.json").read_text())
    assert note["labels"] == [1] and note["source"] == "dir/img1.png" and note["variant"] == 0
    import cv2

    written = cv2.imread(str(tmp_path / "out" / "dir" / "img1_aug0.png"))[:, :, ::-1]
    np.testing.assert_array_equal(written, _rows(3)[1]["image"][::-1])

    encode_images(ds).write_parquet(str(tmp_path / "pq"))
    table = ray.data.read_parquet(str(tmp_path / "pq")).take_all()
    assert sorted(r["path"] for r in table) == ["dir/img0.png", "dir/img1.png", "dir/img2.png"]
    row = next(r for r in table if r["path"] == "dir/img2.png")
    decoded = cv2.imdecode(np.frombuffer(row["image"], np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
    np.testing.assert_array_equal(decoded, _rows(3)[2]["image"][::-1])


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["coco", "yolo"])
def test_directory_on_ray_writes_the_same_files_as_one_process(local_ray, tmp_path, fmt):
    src = write_sample_dataset(tmp_path / "src", fmt, count=4, height=60, width=80)
    policy = A.Compose([A.HorizontalFlip(p=0.5), A.Affine(rotate=(-15, 15), p=1.0), A.GaussNoise(p=0.5)])
    single = augment_single(src, tmp_path / "single", policy, variants=2, seed=9)
    seen = []
    report = augment_directory_with_ray(
        src,
        tmp_path / "ray",
        policy,
        variants=2,
        seed=9,
        concurrency=2,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen[0] == (0, 8) and seen[-1] == (8, 8) and len(seen) == 9
    assert report.written == single.written == 8
    assert _tree(tmp_path / "ray") == _tree(tmp_path / "single")
    again = augment_directory_with_ray(src, tmp_path / "ray", policy, variants=2, seed=9)
    assert again.written == 0 and again.skipped == 8  # resumable, like the single-process path


def test_cli_engine_ray_matches_the_local_engine(local_ray, tmp_path):
    from typer.testing import CliRunner

    from invariance.tools.cli import app

    src = write_sample_dataset(tmp_path / "src", "yolo", count=3, height=60, width=80)
    runner = CliRunner()
    for engine in ("local", "ray"):
        result = runner.invoke(
            app, ["augment", str(src), str(tmp_path / engine), "-k", "2", "--seed", "4", "--engine", engine]
        )
        assert result.exit_code == 0, result.output
    assert _tree(tmp_path / "ray") == _tree(tmp_path / "local")
    bad = runner.invoke(app, ["augment", str(src), str(tmp_path / "x"), "--engine", "spark"])
    assert bad.exit_code != 0 and "--engine" in bad.output
