"""``invariance profile``: where the time goes inside a real pipeline, transform by transform.

The pipeline runs many times on one image (yours, or the built-in scene). Every leaf transform is
timed where it runs, including the parameter draw and the work on every target; compositions
(``OneOf``, ``SomeOf``...) are looked through. Warp fusion defers resampling: the single resample
of a fused chain is reported on its own row ("fused warps (resample)"), not charged to the pixel
transform that happened to trigger it. What is left (input validation, target conversion, the
output dict) is the pipeline's own overhead ("pipeline overhead").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import typer

from invariance.core.call import Call
from invariance.core.compose import BaseCompose, Compose
from invariance.core.effects import Effects
from invariance.core.sample import Sample
from invariance.core.transform import BasicTransform


@dataclass
class StepTiming:
    """The time one leaf transform took over all profiled calls."""

    path: str  # position in the pipeline, e.g. "2" or "3.OneOf.1"
    name: str
    p: float
    calls: int = 0  # times the pipeline reached it (inside a OneOf: times the OneOf chose it)
    fired: int = 0  # times it applied (its p, or its block, chose it)
    seconds: float = 0.0

    def fired_share(self, runs: int) -> float:
        """The share of the ``runs`` pipeline calls in which this step applied.

        Counted against every pipeline call, not against ``calls``: a step inside a ``OneOf`` is
        reached only when the block picks it, and then always applies, so ``fired / calls`` would
        read 100% for a step that ran on a tenth of the images.
        """
        return self.fired / runs if runs > 0 else 0.0


@dataclass
class ProfileReport:
    """Per-transform times of ``runs`` calls of a pipeline (see :func:`profile_pipeline`)."""

    steps: list[StepTiming]
    runs: int
    total_seconds: float
    resample_seconds: float
    image_shape: tuple[int, ...]

    @property
    def per_image_ms(self) -> float:
        return 1000.0 * self.total_seconds / self.runs

    @property
    def overhead_seconds(self) -> float:
        return max(self.total_seconds - self.resample_seconds - sum(s.seconds for s in self.steps), 0.0)

    def share(self, seconds: float) -> float:
        return seconds / self.total_seconds if self.total_seconds > 0 else 0.0


def _leaves(node: Any, path: str) -> Iterator[tuple[str, BasicTransform]]:
    if isinstance(node, BasicTransform):
        yield path, node
    elif isinstance(node, BaseCompose):
        for index, child in enumerate(node.transforms):
            prefix = f"{path}.{type(node).__name__}." if path else ""
            yield from _leaves(child, f"{prefix}{index}")


class _Clock:
    """Wall time of leaf runs and fused resamples; a resample inside a leaf is not the leaf's."""

    def __init__(self) -> None:
        self.resample = 0.0
        self.inside = 0.0  # resample seconds spent during the current leaf's run


@contextmanager
def _instrumented(leaves: list[tuple[StepTiming, BasicTransform]]) -> Iterator[_Clock]:
    clock = _Clock()
    original_flush = Call.flush

    def timed_flush(self: Call) -> None:
        if not self.buffer:
            original_flush(self)
            return
        start = time.perf_counter()
        original_flush(self)
        spent = time.perf_counter() - start
        clock.resample += spent
        clock.inside += spent

    def wrap(timing: StepTiming, transform: BasicTransform) -> None:
        run = transform.run
        effect = transform.effect

        def timed_run(call: Call, rng: np.random.Generator, force_apply: bool = False) -> None:
            timing.calls += 1
            outer = clock.inside
            clock.inside = 0.0
            start = time.perf_counter()
            try:
                run(call, rng, force_apply=force_apply)
            finally:
                timing.seconds += time.perf_counter() - start - clock.inside
                clock.inside = outer + clock.inside

        def counted_effect(params: dict[str, Any], sample: Sample) -> Effects:
            timing.fired += 1
            return effect(params, sample)

        transform.run = timed_run  # type: ignore[method-assign]
        transform.effect = counted_effect  # type: ignore[method-assign]

    for timing, transform in leaves:
        wrap(timing, transform)
    Call.flush = timed_flush  # type: ignore[method-assign]
    try:
        yield clock
    finally:
        Call.flush = original_flush  # type: ignore[method-assign]
        for _, transform in leaves:
            for name in ("run", "effect"):
                transform.__dict__.pop(name, None)


def _as_pipeline(policy: Any) -> Compose:
    if isinstance(policy, Compose):
        return policy
    return Compose([policy])


def default_inputs(pipeline: Compose, image: np.ndarray | None = None) -> dict[str, Any]:
    """Call arguments for ``pipeline``: the image (default: the built-in scene), plus the scene's
    boxes and keypoints with placeholder labels when the pipeline declares them."""
    from invariance.data import sample_scene

    scene = sample_scene()
    data: dict[str, Any] = {"image": scene["image"] if image is None else image}
    h, w = data["image"].shape[:2]
    sy, sx = h / scene["image"].shape[0], w / scene["image"].shape[1]
    if pipeline.bbox_params is not None and pipeline.bbox_params.format == "pascal_voc":
        boxes = [[b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy] for b in scene["bboxes"]]
        data["bboxes"] = boxes
        for name in pipeline.bbox_params.label_fields:
            data[name] = list(scene["labels"])
    if pipeline.keypoint_params is not None and pipeline.keypoint_params.format == "xy":
        data["keypoints"] = [[k[0] * sx, k[1] * sy] for k in scene["keypoints"]]
        for name in pipeline.keypoint_params.label_fields:
            data[name] = list(scene["keypoint_labels"])
    return data


def profile_pipeline(
    policy: Any,
    data: dict[str, Any] | None = None,
    runs: int = 50,
    warmup: int = 3,
    seed: int | None = 0,
) -> ProfileReport:
    """Run ``policy`` (a transform or a Compose) ``runs`` times on ``data`` and time each transform.

    ``data`` defaults to :func:`default_inputs` (the built-in scene). ``seed`` reseeds the pipeline
    first, so the same transforms fire in the same calls each time you profile.
    """
    pipeline = _as_pipeline(policy)
    if data is None:
        data = default_inputs(pipeline)
    if seed is not None:
        pipeline.set_random_seed(seed)
    for _ in range(warmup):
        pipeline(**data)
    if seed is not None:
        pipeline.set_random_seed(seed)
    leaves = [(StepTiming(path, type(t).__name__, float(t.p)), t) for path, t in _leaves(pipeline, "")]
    with _instrumented(leaves) as clock:
        start = time.perf_counter()
        for _ in range(runs):
            pipeline(**data)
        total = time.perf_counter() - start
    image = data.get("image")
    shape = tuple(image.shape) if isinstance(image, np.ndarray) else ()
    return ProfileReport([t for t, _ in leaves], runs, total, clock.resample, shape)


def render_report(report: ProfileReport, title: str = "") -> Any:
    """A rich Table of the report: one row per transform, sorted as in the pipeline."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title) if title else None, show_footer=False, header_style="bold")
    table.add_column("#", justify="right", style="dim")
    table.add_column("transform", no_wrap=True)
    table.add_column("p", justify="right")
    table.add_column("fired", justify="right")
    table.add_column("ms when fired", justify="right")
    table.add_column("ms / image", justify="right")
    table.add_column("share", justify="right")
    table.add_column("", no_wrap=True)
    slowest = max((s.seconds for s in report.steps), default=0.0)

    def bar(seconds: float) -> str:
        width = round(10 * report.share(seconds))
        return "#" * width

    for step in report.steps:
        fired = f"{100 * step.fired_share(report.runs):.0f}%" if report.runs else "-"
        when = f"{1000 * step.seconds / step.fired:.3f}" if step.fired else "-"
        name = Text(step.name, style="bold red" if step.seconds == slowest and slowest > 0 else "")
        table.add_row(
            step.path,
            name,
            f"{step.p:g}",
            fired,
            when,
            f"{1000 * step.seconds / report.runs:.3f}",
            f"{100 * report.share(step.seconds):.1f}%",
            bar(step.seconds),
        )
    table.add_section()
    for label, seconds in (
        ("fused warps (resample)", report.resample_seconds),
        ("pipeline overhead", report.overhead_seconds),
    ):
        table.add_row(
            "",
            Text(label, style="italic"),
            "",
            "",
            "",
            f"{1000 * seconds / report.runs:.3f}",
            f"{100 * report.share(seconds):.1f}%",
            bar(seconds),
        )
    table.add_section()
    table.add_row(
        "",
        Text("total", style="bold"),
        "",
        "",
        "",
        Text(f"{report.per_image_ms:.3f}", style="bold"),
        "100%",
        "",
    )
    return table


LOADER_HELP = (
    "Profile a PyTorch DataLoader over these images (a folder or files; repeat the option, or "
    "'sample' for built-in scenes) at 0, 1, 2 ... N workers."
)


def profile_command(
    policy_file: str = typer.Argument(
        None, help="Policy file (JSON/YAML), a preset name, or 'starter' (the article's starter pipeline)."
    ),
    image: Path = typer.Option(None, "--image", "-i", help="Image to run on (default: the built-in scene)."),
    runs: int = typer.Option(50, "--runs", "-n", min=1, help="Pipeline calls to time."),
    seed: int = typer.Option(0, help="Pipeline seed, so the same transforms fire each time."),
    threads: int = typer.Option(
        0, help="OpenCV threads (0: single-threaded, as in a DataLoader worker; -1: OpenCV's default)."
    ),
    loader: list[str] = typer.Option(None, "--loader", help=LOADER_HELP),
    policy_option: str = typer.Option(None, "--policy", "-p", help="The policy (instead of the argument)."),
    workers: int = typer.Option(
        None, "--workers", min=0, help="With --loader: most workers to try (default: cores)."
    ),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="With --loader: images per batch."),
    batches: int = typer.Option(8, "--batches", min=1, help="With --loader: batches timed per worker count."),
    model_step_ms: float = typer.Option(
        None,
        "--model-step-ms",
        min=0.001,
        help="With --loader: the model's ms per training step, to compare.",
    ),
) -> None:
    """Time each transform of a policy on one image, or (--loader) a DataLoader over your images."""
    import cv2

    from invariance.tools.console import fail

    if policy_file is not None and policy_option is not None and policy_file != policy_option:
        fail(f"two policies given: {policy_file!r} and --policy {policy_option!r}; give one")
    policy_file = policy_file or policy_option
    if policy_file is None:
        fail("missing the policy: give a policy file, a preset name or 'starter' (argument or --policy)")
    if loader:
        from invariance.tools.loader_profile import loader_command

        loader_command(policy_file, loader, workers, batch_size, batches, model_step_ms)
        return

    from invariance.core.errors import InvarianceError
    from invariance.core.image_io import read_image
    from invariance.tools.annotations import AnnotationError
    from invariance.tools.console import console
    from invariance.tools.runner import load_policy

    if threads >= 0:
        cv2.setNumThreads(threads)
    try:
        pipeline = _as_pipeline(load_policy(policy_file))
        data = default_inputs(pipeline, None if image is None else read_image(image))
        report = profile_pipeline(pipeline, data, runs=runs, seed=seed)
    except (InvarianceError, AnnotationError, OSError) as error:
        fail(str(error))
    shape = "x".join(str(v) for v in report.image_shape)
    source = str(image) if image is not None else "built-in scene"
    console.print(render_report(report, title=f"{policy_file} on {source} ({shape}), {runs} runs"))
    console.print(
        f"{report.per_image_ms:.2f} ms per image, {1000 / report.per_image_ms:.0f} images/s on one core "
        f"(OpenCV threads: {cv2.getNumThreads()})"
    )


#: ``app.command("profile")(command)`` in the CLI.
command: Callable[..., None] = profile_command
