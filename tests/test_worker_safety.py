"""Worker safety with a realistic detection pipeline (boxes, keypoints, masks).

tests/test_randomness.py checks the drawn angles of one transform; here whole samples are
compared: a PyTorch DataLoader with two (fork-started) workers gives distinct streams per
worker, the same samples for the same torch seed, and new samples every epoch; and pipelines
pickle into spawn-started processes, mid-stream too, and produce there what they produce here.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import pickle
import sys

import numpy as np
import pytest

import invariance as A
from invariance.data import sample_scene

SCENE = sample_scene(96, 128)


def detection_pipeline(seed: int | None = 7) -> A.Compose:
    return A.Compose(
        [
            A.RandomResizedCrop(size=(64, 80), scale=(0.5, 1.0)),
            A.HorizontalFlip(),
            A.Affine(rotate=(-15, 15), scale=(0.9, 1.1), p=0.7),
            A.ColorJitter(p=0.8),
            A.GaussNoise(p=0.3),
            A.CoarseDropout(num_holes_range=(1, 3), fill_mask=0, p=0.5),
        ],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xy", label_fields=["keypoint_labels"]),
        seed=seed,
    )


def digest(out: dict) -> str:
    h = hashlib.sha256()
    for key in ("image", "mask"):
        h.update(np.ascontiguousarray(out[key]).tobytes())
    for key in ("bboxes", "labels", "keypoints", "keypoint_labels"):
        h.update(repr(out[key]).encode())
    return h.hexdigest()


class Scenes:
    """Every item is the same scene, so any difference comes from the random stream."""

    def __init__(self, pipeline: A.Compose, n: int = 8) -> None:
        self.pipeline = pipeline
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> tuple[int, int, str]:
        import torch.utils.data

        info = torch.utils.data.get_worker_info()
        worker = -1 if info is None else info.id
        return worker, index, digest(self.pipeline(**SCENE))


def _epochs(seed: int, persistent: bool, epochs: int = 2) -> list[list[tuple[int, int, str]]]:
    import torch
    from torch.utils.data import DataLoader

    torch.manual_seed(seed)
    loader = DataLoader(
        Scenes(detection_pipeline()),
        batch_size=None,
        num_workers=2,
        multiprocessing_context="fork",
        persistent_workers=persistent,
    )
    return [list(loader) for _ in range(epochs)]


@pytest.mark.skipif(sys.platform == "win32", reason="fork start method")
@pytest.mark.parametrize("persistent", [False, True], ids=["fresh-workers", "persistent-workers"])
def test_dataloader_streams_are_distinct_reproducible_and_change_per_epoch(persistent):
    pytest.importorskip("torch", reason="torch is optional: pip install -e '.[test,torch]' to run this test")
    first = _epochs(0, persistent)
    again = _epochs(0, persistent)
    assert first == again, "the same torch seed must reproduce every sample"
    for epoch in first:
        workers = {w for w, _, _ in epoch}
        assert workers == {0, 1}
        per_worker = {w: [d for ww, _, d in epoch if ww == w] for w in workers}
        # streams are distinct: no sample repeats, within a worker or across the two workers
        assert len({d for _, _, d in epoch}) == len(epoch)
        assert not set(per_worker[0]) & set(per_worker[1])
    assert {d for _, _, d in first[0]}.isdisjoint({d for _, _, d in first[1]}), "epochs must differ"
    assert _epochs(1, persistent, epochs=1)[0] != first[0], "another torch seed gives other samples"


def test_dataloader_workers_do_not_repeat_the_parent_stream():
    pytest.importorskip("torch", reason="torch is optional: pip install -e '.[test,torch]' to run this test")
    from torch.utils.data import DataLoader

    pipeline = detection_pipeline()
    parent = {digest(pickle.loads(pickle.dumps(pipeline))(**SCENE))}
    loader = DataLoader(Scenes(pipeline, n=4), batch_size=None, num_workers=2, multiprocessing_context="fork")
    assert parent.isdisjoint({d for _, _, d in loader})


def _run_in_child(payload: bytes) -> list[str]:
    pipeline = pickle.loads(payload)
    return [digest(pipeline(**SCENE)) for _ in range(3)]


def test_pipelines_pickle_into_spawn_processes_and_continue_their_stream():
    fresh = detection_pipeline(seed=11)
    used = detection_pipeline(seed=12)
    for _ in range(2):
        used(**SCENE)  # mid-stream: the copy must continue from here
    payloads = [pickle.dumps(fresh), pickle.dumps(used), pickle.dumps(A.from_dict(A.to_dict(fresh)))]
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        remote = pool.map(_run_in_child, payloads)
    local = [_run_in_child(p) for p in payloads]
    assert remote == local
    assert remote[0] == [digest(fresh(**SCENE)) for _ in range(3)]
    assert remote[1] == [digest(used(**SCENE)) for _ in range(3)]
    assert remote[2] == remote[0], "a dict round trip keeps the seed and the behaviour"
    assert len(set(remote[0])) == 3
