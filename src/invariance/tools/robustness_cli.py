"""``invariance robustness``: run the corruption suite and your own probes on labelled images.

The folder holds one sub-folder per class (``DIR/cat/*.png``, ``DIR/dog/*.jpg``); classes are
numbered in sorted order of their folder names. The model is a Python import path
``package.module:callable``: the callable takes an RGB uint8 batch ``(N, H, W, 3)`` and returns
``(N,)`` class ids or ``(N, C)`` scores. ``--probes FILE`` adds probes of your own (see
:func:`invariance.robustness.probes.probes_from_config`), ``--groups FILE`` a subgroup per image,
``--seeds`` several seeds.
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


def list_folder(data: Path) -> tuple[list[Path], list[int], list[str]]:
    """The image files of a folder-per-class layout, their class ids and the class names."""
    if not data.is_dir():
        raise ParameterError(f"--data must be a folder with one sub-folder per class, got {str(data)!r}")
    classes = sorted(p.name for p in data.iterdir() if p.is_dir())
    if not classes:
        raise ParameterError(f"--data {str(data)!r} has no class sub-folders")
    files: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        for file in sorted((data / name).iterdir()):
            if file.suffix.lower() in IMAGE_SUFFIXES:
                files.append(file)
                labels.append(label)
    if not files:
        raise ParameterError(f"--data {str(data)!r} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files, labels, classes


def load_folder(data: Path) -> tuple[list[tuple[np.ndarray, int]], list[str]]:
    """``(image, class id)`` pairs (RGB uint8) from a folder-per-class layout, and the class names."""
    files, labels, classes = list_folder(data)
    items: list[tuple[np.ndarray, int]] = []
    try:
        items.extend((read_image(file, color="rgb"), label) for file, label in zip(files, labels))
    except ImageFileError as error:
        raise ParameterError(str(error)) from None
    return items, classes


def read_groups(path: Path, data: Path, files: list[Path]) -> list[str]:
    """The subgroup of each image from a CSV of ``file,group`` lines (``file`` relative to ``data``;
    a first line ``file,group`` is a header)."""
    import csv

    if not Path(path).is_file():
        raise ParameterError(f"--groups {str(path)!r} is not a file")
    table: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or (number == 1 and [c.strip().lower() for c in row] == ["file", "group"]):
                continue
            if len(row) != 2:
                raise ParameterError(
                    f"--groups {str(path)!r} line {number}: expected 'file,group', got {row}"
                )
            table[Path(row[0].strip()).as_posix()] = row[1].strip()
    keys = [file.relative_to(data).as_posix() for file in files]
    missing = [key for key in keys if key not in table]
    if missing:
        raise ParameterError(
            f"--groups {str(path)!r} has no group for {len(missing)} image(s), e.g. {missing[:3]} "
            "(paths relative to --data)"
        )
    return [table[key] for key in keys]


def parse_seeds(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ParameterError(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not values or len(set(values)) != len(values):
        raise ParameterError(f"--seeds must be distinct comma-separated integers, got {text!r}")
    return values


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
    on_step: Callable[[str, Any], None] | None = None,
    probes: Path | None = None,
    seeds: str | None = None,
    groups: Path | None = None,
    tolerance: float = 0.05,
) -> Any:
    """The command's work as a Python function; returns the :class:`RobustnessReport`.

    ``metric`` is ``accuracy`` or an import path ``module:function`` of ``(preds, labels) -> float``.
    With ``probes`` (a YAML/JSON probes file) only those probes run, unless ``corruptions`` names
    built-in ones too.
    """
    import yaml

    from invariance.robustness import METRICS, evaluate_robustness
    from invariance.robustness.probes import probes_from_config

    model_fn = load_object(model)
    if not callable(model_fn):
        raise ParameterError(f"--model {model!r} is not callable")
    metric_fn = metric if metric in METRICS else load_object(metric)
    own = None
    if probes is not None:
        if not Path(probes).is_file():
            raise ParameterError(f"--probes {str(probes)!r} is not a file")
        try:
            document = yaml.safe_load(Path(probes).read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ParameterError(f"--probes {str(probes)!r} is not valid YAML: {error}") from None
        own = probes_from_config(document, Path(probes).parent)
    files, _, classes = list_folder(Path(data))
    items, _ = load_folder(Path(data))
    subgroups = read_groups(groups, Path(data), files) if groups is not None else None
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
        probes=own,
        seeds=parse_seeds(seeds) if seeds else None,
        groups=subgroups,
        class_names=classes,
    )
    if out is not None:
        Path(out).write_text(report.to_markdown(tolerance=tolerance))
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
    probes: Path = typer.Option(
        None, "--probes", help="YAML file of your own probes (any transform or policy, your severities)."
    ),
    seeds: str = typer.Option(
        None, help="Comma-separated seeds: run each, report mean and spread (e.g. 0,1,2)."
    ),
    groups: Path = typer.Option(
        None, help="CSV 'file,group' giving each image a subgroup (night/day, camera)."
    ),
    tolerance: float = typer.Option(
        0.05, min=0.0, help="A probe fails when the metric drops more than this; the report says what to add."
    ),
) -> None:
    """Measure a classifier under corruptions and your own probes, per class and subgroup, over seeds."""
    from invariance.core.errors import InvarianceError
    from invariance.tools.console import console, fail

    try:
        report = run_robustness(
            data,
            model,
            metric,
            severities,
            corruptions,
            out,
            plot,
            csv,
            seed,
            batch_size,
            probes=probes,
            seeds=seeds,
            groups=groups,
            tolerance=tolerance,
        )
    except (InvarianceError, OSError, ValueError) as error:
        fail(str(error))
    console.print(report.to_markdown(tolerance=tolerance))
    for path in (out, csv, plot):
        if path is not None:
            console.print(f"wrote {path}")
