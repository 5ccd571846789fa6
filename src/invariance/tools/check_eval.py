"""``invariance check-eval POLICY``: prove an evaluation policy is deterministic.

The policy runs on sample images (the built-in scene at a few sizes, or the images of
``--dataset``) three times: twice in this process with different pipeline seeds, and once in a
fresh Python process (``python -m invariance.tools.check_eval --digests ...``) with fresh OS
entropy. Every output (image, mask, boxes, keypoints) is hashed; any difference fails the check
with the name of the first input and the runs that disagree.

Python API::

    from invariance.tools.check_eval import check_eval
    result = check_eval("eval.yaml")
    assert result.ok, result.message
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import typer

import invariance as A
from invariance.tools.runner import dataset_pipeline, load_policy, load_record, pipeline_inputs


def sample_inputs(dataset: str | Path | None, limit: int = 8) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(name, pipeline inputs)`` for the built-in scene or the first ``limit`` dataset images."""
    if dataset is None:
        from invariance.data import sample_scene

        for height, width, seed in ((480, 640, 0), (256, 256, 1), (200, 330, 2)):
            scene = sample_scene(height, width, seed)
            n_boxes, n_points = len(scene["bboxes"]), len(scene["keypoints"])
            yield (
                f"scene {height}x{width}",
                {
                    "image": scene["image"],
                    "mask": scene["mask"],
                    "bboxes": scene["bboxes"],
                    "object_index": list(range(n_boxes)),
                    "keypoints": scene["keypoints"],
                    "keypoint_owner": [0] * n_points,
                    "keypoint_slot": list(range(n_points)),
                },
            )
        return
    from invariance.tools.annotations import read_dataset

    data = read_dataset(dataset)
    for record in data.records[:limit]:
        yield record.key, pipeline_inputs(record, load_record(record))


def _digest(value: Any) -> str:
    h = hashlib.sha256()

    def feed(v: Any) -> None:
        if isinstance(v, np.ndarray):
            h.update(f"{v.dtype}{v.shape}".encode())
            h.update(np.ascontiguousarray(v).tobytes())
        elif isinstance(v, (list, tuple)):
            h.update(b"[")
            for item in v:
                feed(item)
            h.update(b"]")
        else:
            h.update(repr(v).encode())

    feed(value)
    return h.hexdigest()


def output_digests(
    policy: Any, dataset: str | Path | None, seed: int | None, limit: int = 8
) -> dict[str, str]:
    """``{input name: digest of every output}`` of one run of ``policy``."""
    pipeline = dataset_pipeline(policy)
    pipeline.set_random_seed(seed)
    digests = {}
    for name, inputs in sample_inputs(dataset, limit):
        out = pipeline(**inputs)
        digests[name] = _digest([out[k] for k in sorted(out)])
    return digests


@dataclass
class CheckEvalResult:
    """Whether all runs agreed; ``message`` says where they did not."""

    ok: bool
    message: str
    inputs: int = 0
    runs: dict[str, dict[str, str]] = field(default_factory=dict)


def check_eval(
    policy: str | Path, dataset: str | Path | None = None, limit: int = 8, timeout: float = 300.0
) -> CheckEvalResult:
    """Run ``policy`` twice in-process and once in a subprocess; compare every output."""
    transform = load_policy(policy)
    runs = {
        "in-process run 1 (seed 0)": output_digests(transform, dataset, 0, limit),
        "in-process run 2 (seed 1)": output_digests(load_policy(policy), dataset, 1, limit),
    }
    failure = _compare(runs)
    if failure is not None:  # already different in this process: no need for the subprocess
        return failure
    command = [sys.executable, "-m", "invariance.tools.check_eval", "--digests", str(policy)]
    command += ["--limit", str(limit)]
    if dataset is not None:
        command += ["--dataset", str(dataset)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        return CheckEvalResult(False, f"the subprocess run failed:\n{proc.stderr.strip()}", runs=runs)
    runs["subprocess run (fresh entropy)"] = json.loads(proc.stdout.strip().splitlines()[-1])
    failure = _compare(runs)
    if failure is not None:
        return failure
    count = len(runs["in-process run 1 (seed 0)"])
    return CheckEvalResult(True, f"{count} inputs, {len(runs)} runs: identical outputs", count, runs)


def _compare(runs: dict[str, dict[str, str]]) -> CheckEvalResult | None:
    """The failure for the first input whose runs disagree, or None when all agree."""
    names = list(runs)
    reference = runs[names[0]]
    for other in names[1:]:
        if set(runs[other]) != set(reference):
            return CheckEvalResult(
                False, f"{other} saw different inputs than {names[0]}", len(reference), runs
            )
        for key in reference:
            if runs[other][key] != reference[key]:
                return CheckEvalResult(
                    False,
                    f"outputs differ on {key!r}: {names[0]} and {other} disagree. The policy is not "
                    "deterministic (random parameters, p < 1, or OneOf/SomeOf); "
                    "run `invariance validate --eval` to see which steps",
                    len(reference),
                    runs,
                )
    return None


def _main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m invariance.tools.check_eval")
    parser.add_argument("--digests", required=True, help="policy file or preset; prints JSON digests")
    parser.add_argument("--dataset", default=None)
    parser.add_argument("--limit", type=int, default=8)
    args = parser.parse_args(argv)
    digests = output_digests(load_policy(args.digests), args.dataset, None, args.limit)
    print(json.dumps(digests))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))


def command(
    policy: str = typer.Argument(..., help="Evaluation policy file (or preset name)."),
    dataset: Path = typer.Option(
        None, "--dataset", "-d", help="Use these images instead of the built-in scene."
    ),
    limit: int = typer.Option(8, min=1, help="At most this many dataset images."),
) -> None:
    """Run an eval policy twice in-process and once in a subprocess; fail if any output differs."""
    from invariance.tools.console import console, fail, styled

    try:
        result = check_eval(policy, dataset, limit)
    except (A.InvarianceError, OSError, ValueError) as error:
        fail(str(error))
    if not result.ok:
        fail(result.message, code=1)
    console.print(styled(("deterministic", "bold green"), f": {result.message}"))
