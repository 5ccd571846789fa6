"""``invariance robustness``: run the corruption suite on a folder of labelled images.

The folder holds one sub-folder per class (``DIR/cat/*.png``, ``DIR/dog/*.jpg``); classes are
numbered in sorted order of their folder names. The model is a Python import path
``package.module:callable``: the callable takes an RGB uint8 batch ``(N, H, W, 3)`` and returns
``(N,)`` class ids or ``(N, C)`` scores.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import typer

from invariance.core.errors import ImageFileError, ParameterError
from invariance.core.image_io import read_image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def load_object(path: str) -> Any:
    """The object named by ``package.module:attribute`` (the current directory is importable)."""
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ParameterError(f"expected an import path 'package.module:callable', got {path!r}")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ParameterError(f"cannot import module {module_name!r} from {path!r}: {error}") from error
    obj: Any = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise ParameterError(f"module {module_name!r} has no attribute {attribute!r}")
        obj = getattr(obj, part)
    return obj


def load_folder(data: Path) -> tuple[list[tuple[np.ndarray, int]], list[str]]:
    """``(image, class id)`` pairs (RGB uint8) from a folder-per-class layout, and the class names."""
    if not data.is_dir():
        raise ParameterError(f"--data must be a folder with one sub-folder per class, got {str(data)!r}")
    classes = sorted(p.name for p in data.iterdir() if p.is_dir())
    if not classes:
        raise ParameterError(f"--data {str(data)!r} has no class sub-folders")
    items: list[tuple[np.ndarray, int]] = []
    for label, name in enumerate(classes):
        for file in sorted((data / name).iterdir()):
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                items.append((read_image(file, color="rgb"), label))
            except ImageFileError as error:
                raise ParameterError(str(error)) from None
    if not items:
        raise ParameterError(f"--data {str(data)!r} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return items, classes


def parse_severities(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ParameterError(f"--severities must be comma-separated integers 1-5, got {text!r}") from None
    if not values or any(v not in (1, 2, 3, 4, 5) for v in values):
        raise ParameterError(f"--severities must be comma-separated integers 1-5, got {text!r}")
    return values


def run_robustness(
    data: Path,
    model: str,
    metric: str = "accuracy",
    severities: str = "1,2,3,4,5",
    corruptions: str | None = None,
    out: Path | None = None,
    plot: Path | None = None,
    csv: Path | None = None,
    seed: int = 0,
    batch_size: int = 32,
    on_step: Callable[[str, int], None] | None = None,
) -> Any:
    """The command's work as a Python function; returns the :class:`RobustnessReport`.

    ``metric`` is ``accuracy`` or an import path ``module:function`` of ``(preds, labels) -> float``.
    """
    from invariance.robustness import METRICS, evaluate_robustness

    model_fn = load_object(model)
    if not callable(model_fn):
        raise ParameterError(f"--model {model!r} is not callable")
    metric_fn = metric if metric in METRICS else load_object(metric)
    items, _ = load_folder(Path(data))
    names = [c.strip() for c in corruptions.split(",") if c.strip()] if corruptions else None
    report = evaluate_robustness(
        model_fn,
        items,
        metric=metric_fn,
        corruptions=names,
        severities=parse_severities(severities),
        seed=seed,
        batch_size=batch_size,
        on_step=on_step,
    )
    if out is not None:
        Path(out).write_text(report.to_markdown())
    if csv is not None:
        report.to_csv(csv)
    if plot is not None:
        report.plot(plot)
    return report


def robustness_command(
    data: Path = typer.Option(..., "--data", "-d", help="Folder with one sub-folder of images per class."),
    model: str = typer.Option(
        ..., "--model", "-m", help="Model as an import path 'package.module:callable'."
    ),
    metric: str = typer.Option("accuracy", help="'accuracy' or an import path 'module:function'."),
    severities: str = typer.Option("1,2,3,4,5", help="Comma-separated severities (1-5)."),
    corruptions: str = typer.Option(None, help="Comma-separated corruption names (default: all)."),
    out: Path = typer.Option(None, "--out", "-o", help="Write the Markdown report here."),
    plot: Path = typer.Option(None, "--plot", help="Write the curves to this PNG (needs invariance[plot])."),
    csv: Path = typer.Option(None, "--csv", help="Write the long table as CSV here."),
    seed: int = typer.Option(0, help="Seed of the corruption noise (same seed, same numbers)."),
    batch_size: int = typer.Option(32, min=1, help="Largest batch handed to the model."),
) -> None:
    """Measure a classifier under noise, blur, weather and digital corruptions at 5 severities."""
    from invariance.core.errors import InvarianceError
    from invariance.tools.console import console, fail

    try:
        report = run_robustness(
            data, model, metric, severities, corruptions, out, plot, csv, seed, batch_size
        )
    except (InvarianceError, OSError, ValueError) as error:
        fail(str(error))
    console.print(report.to_markdown(), markup=False, highlight=False)
    for path in (out, csv, plot):
        if path is not None:
            console.print(f"wrote {path}", markup=False)
