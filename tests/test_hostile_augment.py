"""``invariance augment`` under hostile folder layouts, file names and annotations (issue 20).

The contract, whatever the input: a documented error (``AugmentError``, ``AnnotationError``) or
a correct result, in bounded time, and no file touched outside the run's own outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import invariance as A
from invariance.tools.annotations import AnnotationError
from invariance.tools.augment import AugmentError, AugmentJob, augment_dataset
from invariance.tools.cli import app
from invariance.tools.sample_data import write_sample_dataset

runner = CliRunner()


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# -- folders that overlap --------------------------------------------------------------------------


def test_output_inside_the_input_is_refused(tmp_path: Path) -> None:
    src = write_sample_dataset(tmp_path / "data", "images", count=1, height=40, width=40)
    result = runner.invoke(app, ["augment", str(src), str(src / "aug")])
    assert result.exit_code == 2
    assert "inside the dataset directory" in result.output
    assert not (src / "aug").exists()


def test_input_inside_the_output_is_refused_and_nothing_is_touched(tmp_path: Path) -> None:
    src = write_sample_dataset(tmp_path / "work" / "data", "coco", count=1, height=40, width=40)
    (tmp_path / "work" / ".draft.tmp").write_text("mine")
    (src / ".keep.tmp").write_text("mine too")
    before = snapshot(tmp_path / "work")
    result = runner.invoke(app, ["augment", str(src), str(tmp_path / "work")])
    assert result.exit_code == 2
    assert "inside the output directory" in result.output
    assert snapshot(tmp_path / "work") == before


def test_a_symlinked_output_into_the_input_is_refused(tmp_path: Path) -> None:
    src = write_sample_dataset(tmp_path / "data", "images", count=1, height=40, width=40)
    (tmp_path / "link").symlink_to(src, target_is_directory=True)
    with pytest.raises(AugmentError, match="must differ"):
        augment_dataset(src, tmp_path / "link")


# -- invalid COCO annotations ----------------------------------------------------------------------


def _coco_with(tmp_path: Path, **changes: object) -> Path:
    src = write_sample_dataset(tmp_path / "src", "coco", count=1, height=60, width=80)
    path = next(src.rglob("*.json"))
    doc = json.loads(path.read_text())
    ann = doc["annotations"][0]
    ann.update(changes)
    path.write_text(json.dumps(doc))
    return src


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"bbox": [5, 5, -10, 8]}, "zero or negative width"),
        ({"category_id": 999}, "unknown category_id"),
        ({"image_id": 12345}, "unknown image_id"),
        ({"bbox": ["a", 1, 2]}, "not 4 finite numbers"),
    ],
)
def test_invalid_coco_annotations_stop_the_run_with_counts(tmp_path: Path, change: dict, kind: str) -> None:
    src = _coco_with(tmp_path, **change)
    out = tmp_path / "out"
    result = runner.invoke(app, ["augment", str(src), str(out)])
    assert result.exit_code == 2, result.output
    assert "1 invalid annotation" in result.output and kind in result.output
    assert "--drop-invalid" in result.output
    assert not out.exists()


def test_drop_invalid_drops_them_and_says_how_many(tmp_path: Path) -> None:
    src = _coco_with(tmp_path, bbox=[5, 5, -10, 8], category_id=999)
    policy = tmp_path / "flip.json"
    A.save(A.Compose([A.HorizontalFlip(p=1)]), str(policy))
    result = runner.invoke(
        app, ["augment", str(src), str(tmp_path / "out"), "--drop-invalid", "-p", str(policy)]
    )
    assert result.exit_code == 0, result.output
    assert "dropped 1 invalid annotation" in result.output
    doc = json.loads(next((tmp_path / "out").rglob("*.json")).read_text())
    known = {c["id"] for c in doc["categories"]}
    assert all(a["category_id"] in known and a["bbox"][2] > 0 for a in doc["annotations"])


# -- workers die with their parent -----------------------------------------------------------------

_RUN = """
import sys
import time

import invariance as A
from invariance.tools.augment import augment_dataset


def slow(image, **kwargs):
    time.sleep(60)  # a long job: the workers are busy when the parent dies
    return image


if __name__ == "__main__":
    augment_dataset(sys.argv[1], sys.argv[2], A.Compose([A.Lambda(image=slow, p=1)]), variants=4, workers=2)
"""


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the worker processes")
def test_workers_die_when_the_parent_is_killed(tmp_path: Path) -> None:
    src = write_sample_dataset(tmp_path / "src", "images", count=2, height=40, width=40)
    script = tmp_path / "run.py"
    script.write_text(_RUN)
    proc = subprocess.Popen([sys.executable, str(script), str(src), str(tmp_path / "out")])
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = {
                p for p in _children(proc.pid) if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()
            }
        assert len(workers) >= 2, "the run did not start its two workers"
        time.sleep(3)  # let both workers pick up a (60 s) job
        os.kill(proc.pid, signal.SIGKILL)  # the parent only, not its process group
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.2)
        survivors = [p for p in workers if _alive(p)]
    finally:
        for pid in _children(proc.pid) | ({proc.pid} if proc.poll() is None else set()):
            os.kill(pid, signal.SIGKILL)
    assert not survivors, f"workers {survivors} outlived their parent"


# -- Hypothesis: hostile layouts, names and annotations --------------------------------------------

_NAME = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 _-.[]()'&+#%éß日") + ["\u200b"]), min_size=1, max_size=12
).filter(lambda n: n not in (".", "..") and not n.endswith(" ") and not n.startswith(" "))


@st.composite
def layouts(draw: st.DrawFn) -> dict:
    files = draw(
        st.lists(
            st.tuples(
                st.lists(_NAME, max_size=2), _NAME, st.sampled_from([".png", ".jpg", ".PNG", ".tmp", ".txt"])
            ),
            min_size=1,
            max_size=5,
        )
    )
    foreign = draw(st.lists(st.tuples(_NAME, st.sampled_from([".tmp", ".png", ".json"])), max_size=3))
    return {"files": files, "foreign": foreign, "variants": draw(st.integers(1, 2))}


def _write_layout(root: Path, layout: dict) -> None:
    image = np.full((12, 16, 3), 90, np.uint8)
    for folders, name, suffix in layout["files"]:
        path = root.joinpath(*folders, name + suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix.lower() in (".png", ".jpg"):
            ok, data = cv2.imencode(suffix.lower(), image)
            assert ok
            path.write_bytes(data.tobytes())
        else:
            path.write_text("not an image")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts())
def test_hostile_layouts_give_a_documented_error_or_a_correct_run(
    tmp_path_factory: pytest.TempPathFactory, layout: dict
) -> None:
    base = tmp_path_factory.mktemp("layout")
    src, out = base / "in", base / "out"
    src.mkdir()
    _write_layout(src, layout)
    out.mkdir()
    for name, suffix in layout["foreign"]:  # the user's own files in the output folder
        (out / ("." + name + suffix)).write_text("user data")
        (out / (name + suffix)).write_text("user data")
    input_before, foreign_before = snapshot(src), snapshot(out)
    start = time.perf_counter()
    try:
        report = augment_dataset(src, out, A.Compose([A.HorizontalFlip(p=1)]), variants=layout["variants"])
    except (AugmentError, AnnotationError):
        report = None
    assert time.perf_counter() - start < 30
    assert snapshot(src) == input_before
    after = snapshot(out)
    for rel, digest in foreign_before.items():
        assert after.get(rel) == digest, f"the run changed or removed the user's {rel!r}"
    assert not list(out.rglob("*.invariance-*.tmp"))
    if report is not None:
        images = [p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in (".png", ".jpg")]
        written = set(after) - set(foreign_before)
        assert report.written + report.skipped == len(images) * layout["variants"]
        written_images = [w for w in written if "_aug" in w and Path(w).suffix.lower() in (".png", ".jpg")]
        assert len(written_images) == len(images) * layout["variants"]


_COCO_VALUE = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.none(),
    st.lists(st.integers(-5, 50), max_size=5),
    st.booleans(),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bbox=st.one_of(st.lists(_COCO_VALUE, max_size=5), _COCO_VALUE),
    category_id=_COCO_VALUE,
    image_id=st.one_of(st.just(1), _COCO_VALUE),
)
def test_hostile_coco_annotations_are_planned_or_refused(
    tmp_path_factory: pytest.TempPathFactory, bbox: object, category_id: object, image_id: object
) -> None:
    base = tmp_path_factory.mktemp("coco")
    src = base / "in"
    (src / "images").mkdir(parents=True)
    _, data = cv2.imencode(".png", np.zeros((20, 30, 3), np.uint8))
    (src / "images" / "a.png").write_bytes(data.tobytes())
    doc = {
        "images": [{"id": 1, "file_name": "images/a.png", "width": 30, "height": 20}],
        "annotations": [{"id": 1, "image_id": image_id, "category_id": category_id, "bbox": bbox}],
        "categories": [{"id": 1, "name": "thing"}],
    }
    (src / "annotations.json").write_text(json.dumps(doc, allow_nan=True))
    before = snapshot(src)
    start = time.perf_counter()
    try:
        job = AugmentJob.plan(src, base / "out", A.Compose([A.HorizontalFlip(p=1)]))
    except (AugmentError, AnnotationError):
        job = None
    assert time.perf_counter() - start < 10
    assert snapshot(src) == before
    assert not (base / "out").exists()  # planning writes nothing
    if job is not None:
        objects = job.dataset.records[0].objects
        assert all(o.bbox[2] > o.bbox[0] and o.bbox[3] > o.bbox[1] for o in objects)
        assert all(o.label == "thing" for o in objects)


def test_images_that_would_share_an_output_file_are_refused(tmp_path: Path) -> None:
    # 00.jpg and 00.png in a YOLO folder share the label file 00.txt, and their variants would
    # share 00_aug0.txt: the second image would overwrite it, or a resumed run would skip it.
    src = tmp_path / "in"
    src.mkdir()
    image = np.full((12, 16, 3), 90, np.uint8)
    for suffix in (".jpg", ".png"):
        path = src / f"00{suffix}"
        path.write_bytes(cv2.imencode(suffix, image)[1].tobytes())
    (src / "00.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(AugmentError, match=r"'00\.jpg' and '00\.png' would both write '00_aug0\.txt'"):
        augment_dataset(src, tmp_path / "out", A.Compose([A.HorizontalFlip(p=1)]))
    assert not (tmp_path / "out").exists()
    # Without labels the two images write 00_aug0.jpg and 00_aug0.png: nothing is shared.
    (src / "00.txt").unlink()
    report = augment_dataset(src, tmp_path / "plain", A.Compose([A.HorizontalFlip(p=1)]))
    assert report.written == 2
    assert sorted(p.name for p in (tmp_path / "plain").iterdir()) == ["00_aug0.jpg", "00_aug0.png"]
