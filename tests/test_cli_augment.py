"""``invariance augment``: formats, seeding, parallel workers, atomic writes, resuming after a kill."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from invariance.tools.annotations import read_dataset
from invariance.tools.augment import augment_dataset
from invariance.tools.cli import app
from invariance.tools.runner import derive_seed
from invariance.tools.sample_data import write_sample_dataset

runner = CliRunner()


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under root."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("fmt", ["coco", "yolo", "voc", "images"])
def test_augment_writes_k_variants_in_the_same_format(tmp_path, fmt):
    src = write_sample_dataset(tmp_path / "src", fmt, count=2, height=90, width=120, masks=True)
    out = tmp_path / "out"
    result = runner.invoke(app, ["augment", str(src), str(out), "-k", "3", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "6 written" in result.output
    data = read_dataset(out)
    assert data.format == fmt
    keys = sorted(r.key for r in data.records)
    assert keys == sorted(f"images/scene_00{i}_aug{k}.png" for i in range(2) for k in range(3))
    for record in data.records:
        image = cv2.imread(str(record.image_path))
        assert image.shape[:2] == (record.height, record.width) == (512, 512)  # the starter's crop size
        assert record.mask_path is not None
        assert cv2.imread(str(record.mask_path), cv2.IMREAD_UNCHANGED).shape == (512, 512)
        for obj in record.objects:
            x0, y0, x1, y1 = obj.bbox
            assert -1 <= x0 < x1 <= 513 and -1 <= y0 < y1 <= 513
        if fmt != "images":
            assert record.objects, "the starter policy keeps most boxes"
    assert not list(out.rglob("*.tmp"))


def test_coco_output_keeps_polygons_keypoints_and_their_geometry(tmp_path):
    import invariance as A

    src = write_sample_dataset(tmp_path / "src", "coco", count=1, height=90, width=120)
    out = tmp_path / "out"
    augment_dataset(src, out, A.Compose([A.HorizontalFlip(p=1.0)]), variants=1)
    before, after = read_dataset(src).records[0], read_dataset(out).records[0]
    for old, new in zip(before.objects, after.objects):
        assert old.label == new.label
        np.testing.assert_allclose(new.bbox, (120 - old.bbox[2], old.bbox[1], 120 - old.bbox[0], old.bbox[3]))
        if old.keypoints:
            assert new.keypoints == [(119 - x, y, v) for x, y, v in old.keypoints]
        assert new.polygons
        xs = np.concatenate([np.asarray(p[0::2]) for p in new.polygons])
        assert abs(xs.min() - new.bbox[0]) <= 1.0 and abs(xs.max() - new.bbox[2]) <= 1.0


def test_same_seed_same_files_whatever_the_number_of_workers(tmp_path):
    src = write_sample_dataset(tmp_path / "src", "yolo", count=3, height=90, width=120)
    one = augment_dataset(src, tmp_path / "a", variants=2, seed=7, workers=1)
    two = augment_dataset(src, tmp_path / "b", variants=2, seed=7, workers=2)
    augment_dataset(src, tmp_path / "c", variants=2, seed=8, workers=1)
    assert one.written == two.written == 6
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    assert snapshot(tmp_path / "a") != snapshot(tmp_path / "c")


def test_seeds_depend_on_the_file_and_variant_not_on_order():
    assert derive_seed(0, "a.png", 0) == derive_seed(0, "a.png", 0)
    seeds = {derive_seed(0, k, v) for k in ("a.png", "b.png") for v in range(3)}
    assert len(seeds) == 6
    assert derive_seed(1, "a.png", 0) != derive_seed(0, "a.png", 0)


def test_rerun_skips_complete_outputs_and_removes_stale_temporaries(tmp_path):
    src = write_sample_dataset(tmp_path / "src", "voc", count=2, height=60, width=80)
    out = tmp_path / "out"
    first = augment_dataset(src, out, variants=2)
    before = snapshot(out)
    # a crash mid-write leaves at most a temporary file (named for one of the run's outputs)
    (out / "images" / ".scene_000_aug0.png.invariance-abc.tmp").write_bytes(b"partial")
    (out / "Annotations" / "scene_001_aug1.xml").unlink()  # an output whose last file is missing
    # files the run did not create survive, whatever their names
    foreign = [
        out / ".notes.tmp",
        out / "images" / ".scene_000.png.abc.tmp",
        out / "images" / ".x.invariance-1.tmp",
    ]
    for path in foreign:
        path.write_bytes(b"mine")
    second = augment_dataset(src, out, variants=2)
    assert (first.written, second.written, second.skipped) == (4, 1, 3)
    for path in foreign:
        assert path.read_bytes() == b"mine"
        path.unlink()
    assert snapshot(out) == before


def test_output_must_differ_from_input(tmp_path):
    src = write_sample_dataset(tmp_path, "images", count=1, height=40, width=40)
    result = runner.invoke(app, ["augment", str(src), str(src)])
    assert result.exit_code == 2 and "must differ" in result.output


def test_killed_run_resumes_without_duplicates_losses_or_partial_files(tmp_path):
    src = write_sample_dataset(tmp_path / "src", "yolo", count=16, height=120, width=160)
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    augment_dataset(src, reference, variants=2, seed=3, workers=1)
    total = 32
    command = [sys.executable, "-m", "invariance.tools.cli", "augment", str(src), str(resumed)]
    command += ["-k", "2", "--seed", "3", "--workers", "1"]
    proc = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    labels = resumed / "labels"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if labels.is_dir() and len(list(labels.glob("*.txt"))) >= 6:
                break
            time.sleep(0.005)
        interrupted = proc.poll() is None
        os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: parent and workers
    finally:
        proc.wait(timeout=30)
    done = len(list(labels.glob("*.txt"))) if labels.is_dir() else 0
    if not interrupted or done >= total:
        pytest.skip("the run finished before it could be interrupted on this machine")
    for image in (resumed / "images").glob("*.png"):  # every final image decodes
        assert cv2.imread(str(image)) is not None
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert f"{total - done} written" in result.stdout or "written" in result.stdout
    assert not list(resumed.rglob("*.tmp"))
    assert snapshot(resumed) == snapshot(reference)
    assert len(list((resumed / "images").glob("*.png"))) == total


SCRIPT = """
import cv2, numpy as np, sys
from invariance.tools.augment import augment_dataset

if __name__ == "__main__":
    big = np.zeros((1500, 1500, 3), np.uint8)
    cv2.GaussianBlur(cv2.resize(big, (1200, 1200)), (31, 31), 0)  # OpenCV's thread pool is now running
    report = augment_dataset(sys.argv[1], sys.argv[2], variants=2, workers=2)
    print(report.written)
"""


def test_workers_do_not_deadlock_after_the_parent_used_opencv_threads(tmp_path):
    # Forked workers inherit OpenCV's thread pool mid-state and hang; the pool uses "spawn".
    src = write_sample_dataset(tmp_path / "src", "images", count=2, height=256, width=256)
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script), str(src), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4"


@pytest.mark.parametrize("by", ["index", "name"])
def test_keypoint_label_mapping_swaps_left_and_right_slots_on_a_flip(tmp_path, by):
    import invariance as A

    src = write_sample_dataset(tmp_path / "src", "coco", count=1, height=90, width=120)
    table = {1: 2, 2: 1} if by == "index" else {"door_left": "door_right", "door_right": "door_left"}
    policy = A.Compose(
        [A.HorizontalFlip(p=1.0)],
        keypoint_params=A.KeypointParams(
            format="xy", label_fields=["names"], label_mapping={"HorizontalFlip": {"names": table}}
        ),
    )
    path = tmp_path / "policy.json"
    A.save(policy, path)  # through a file: JSON turns the integer keys into strings
    augment_dataset(src, tmp_path / "out", str(path))
    before = next(o for o in read_dataset(src).records[0].objects if o.keypoints)
    after = next(o for o in read_dataset(tmp_path / "out").records[0].objects if o.keypoints)
    assert before.keypoints is not None and after.keypoints is not None
    apex, left, right = before.keypoints
    assert after.keypoints[0] == (119 - apex[0], apex[1], 2)
    # the door's right corner, mirrored, is now on the left: it fills the "door_left" slot
    assert after.keypoints[1] == (119 - right[0], right[1], 2)
    assert after.keypoints[2] == (119 - left[0], left[1], 2)
    assert after.keypoints[1][0] < after.keypoints[2][0]


def test_float_policies_are_stored_as_uint8_and_normalized_ones_are_refused(tmp_path):
    import invariance as A

    src = write_sample_dataset(tmp_path / "src", "images", count=1, height=40, width=60)
    to_float = A.Compose([A.Lambda(image=lambda img, **_: img.astype(np.float32) / 255.0)])
    augment_dataset(src, tmp_path / "a", to_float)
    original = cv2.imread(str(src / "images/scene_000.png"))
    assert np.array_equal(cv2.imread(str(tmp_path / "a/images/scene_000_aug0.png")), original)
    with pytest.raises(ValueError, match="normalization"):
        augment_dataset(src, tmp_path / "b", A.Compose([A.Normalize()]))
    assert not list((tmp_path / "b").rglob("*.png"))


def test_decode_aware_augment_matches_full_decode_annotations(tmp_path, monkeypatch):
    """``invariance augment`` decodes JPEGs reduced by default; ``--full-decode`` turns it off. The
    annotations and masks are the same either way (they go through the first step at full size)."""
    import invariance as A
    import invariance.io.decode as decode

    src = write_sample_dataset(
        tmp_path / "src", "coco", count=2, height=900, width=1200, masks=True, suffix=".jpg"
    )
    policy = tmp_path / "policy.json"
    A.save(A.Compose([A.RandomResizedCrop(size=(160, 160), scale=(0.3, 1.0)), A.HorizontalFlip()]), policy)
    factors: list[int] = []
    original = decode._reduced

    def counting(data, header, factor, name):
        factors.append(factor)
        return original(data, header, factor, name)

    monkeypatch.setattr(decode, "_reduced", counting)
    outputs = {}
    for flag in ("--decode-aware", "--full-decode"):
        out = tmp_path / flag.strip("-")
        before = len(factors)
        result = runner.invoke(
            app, ["augment", str(src), str(out), "-k", "3", "--seed", "2", "-p", str(policy), flag]
        )
        assert result.exit_code == 0, result.output
        outputs[flag] = read_dataset(out)
        reduced = len(factors) - before
        assert (reduced > 0) if flag == "--decode-aware" else (reduced == 0)
    aware, full = outputs["--decode-aware"], outputs["--full-decode"]
    assert [r.key for r in aware.records] == [r.key for r in full.records]
    for a, f in zip(aware.records, full.records):
        assert (a.width, a.height) == (f.width, f.height) == (160, 160)
        assert [o.label for o in a.objects] == [o.label for o in f.objects]
        np.testing.assert_allclose([o.bbox for o in a.objects], [o.bbox for o in f.objects], atol=1e-6)
        assert [o.keypoints for o in a.objects] == [o.keypoints for o in f.objects]
        assert [o.polygons for o in a.objects] == [o.polygons for o in f.objects]
        assert a.mask_path is not None and f.mask_path is not None
        assert a.mask_path.read_bytes() == f.mask_path.read_bytes()
        pixels = [cv2.imread(str(r.image_path)).astype(np.float64) for r in (a, f)]
        assert np.abs(pixels[0] - pixels[1]).mean() <= 8.0  # docs/loading.md's bound
