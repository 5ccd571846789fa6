"""Measure a model under every corruption and severity, and summarise its robustness.

The summary follows Hendrycks and Dietterich, "Benchmarking Neural Network Robustness to Common
Corruptions and Perturbations", ICLR 2019 (arXiv:1903.12261). With error ``E = 1 - metric`` (for a
metric where higher is better, such as accuracy) or ``E = metric`` (lower is better):

- corruption error ``CE_c = sum_s E_{s,c} / sum_s E^base_{s,c}`` against a baseline run, or,
  without one, the mean error over severities;
- relative corruption error ``rCE_c = sum_s (E_{s,c} - E_clean) / sum_s (E^base_{s,c} - E^base_clean)``,
  or, without a baseline, the mean error added by the corruption;
- ``mCE`` and relative ``mCE``: their means over corruptions;
- relative robustness: mean corrupted metric divided by the clean metric (1 = unaffected).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import invariance as A
from invariance.core.errors import ParameterError
from invariance.robustness.corruptions import CORRUPTIONS, SEVERITIES, corruption_seed, get_corruption

Metric = Callable[[np.ndarray, np.ndarray], float]
Model = Callable[[np.ndarray], Any]


def accuracy(preds: np.ndarray, labels: np.ndarray) -> float:
    """Top-1 accuracy: ``preds`` are class ids ``(N,)`` or scores ``(N, C)`` (arg-max taken)."""
    preds = np.asarray(preds)
    if preds.ndim == 2:
        preds = preds.argmax(axis=1)
    labels = np.asarray(labels)
    if len(labels) == 0:
        return float("nan")
    return float(np.mean(preds.reshape(-1) == labels.reshape(-1)))


METRICS: dict[str, Metric] = {"accuracy": accuracy}


@dataclass
class RobustnessReport:
    """Metric of a model on clean data and under each corruption and severity.

    ``rows`` holds one dict per measurement: ``corruption`` (``"clean"`` for the clean run),
    ``family``, ``severity`` (0 for clean) and ``metric``.
    """

    metric_name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    higher_is_better: bool = True

    @property
    def clean(self) -> float:
        return float(next(r["metric"] for r in self.rows if r["corruption"] == "clean"))

    @property
    def corruptions(self) -> list[str]:
        return list(dict.fromkeys(r["corruption"] for r in self.rows if r["corruption"] != "clean"))

    def value(self, corruption: str, severity: int) -> float:
        for r in self.rows:
            if r["corruption"] == corruption and r["severity"] == severity:
                return float(r["metric"])
        raise KeyError((corruption, severity))

    def curve(self, corruption: str) -> tuple[list[int], list[float]]:
        """Severities and metric values of one corruption, clean (severity 0) first."""
        points = [(r["severity"], r["metric"]) for r in self.rows if r["corruption"] == corruption]
        return [0, *(s for s, _ in points)], [self.clean, *(m for _, m in points)]

    def _error(self, metric: float) -> float:
        return 1.0 - metric if self.higher_is_better else metric

    def summary(self, baseline: RobustnessReport | None = None) -> list[dict[str, Any]]:
        """One row per corruption (``ce``, ``relative_ce``, ``relative_robustness``, ``mean_metric``)
        and a final ``mean`` row (``mce``, relative mCE and mean relative robustness).

        With ``baseline`` (a report of a reference model on the same corruptions and severities) the
        errors are normalised by its errors, as in Hendrycks and Dietterich; otherwise ``ce`` is the
        mean error over severities and ``relative_ce`` the mean error added by the corruption.
        """
        clean_error = self._error(self.clean)
        out: list[dict[str, Any]] = []
        for name in self.corruptions:
            severities, values = self.curve(name)
            metrics = np.asarray(values[1:], dtype=np.float64)
            errors = np.asarray([self._error(v) for v in metrics])
            if baseline is None:
                ce = float(errors.mean())
                rce = float((errors - clean_error).mean())
            else:
                base = np.asarray([baseline._error(baseline.value(name, s)) for s in severities[1:]])
                base_clean = baseline._error(baseline.clean)
                ce = _ratio(errors.sum(), base.sum())
                rce = _ratio((errors - clean_error).sum(), (base - base_clean).sum())
            family = next(r["family"] for r in self.rows if r["corruption"] == name)
            out.append(
                {
                    "corruption": name,
                    "family": family,
                    "mean_metric": float(metrics.mean()),
                    "ce": ce,
                    "relative_ce": rce,
                    "relative_robustness": _ratio(metrics.mean(), self.clean),
                }
            )
        if out:
            out.append(
                {
                    "corruption": "mean",
                    "family": "",
                    "mean_metric": float(np.mean([r["mean_metric"] for r in out])),
                    "ce": float(np.mean([r["ce"] for r in out])),
                    "relative_ce": float(np.mean([r["relative_ce"] for r in out])),
                    "relative_robustness": float(np.mean([r["relative_robustness"] for r in out])),
                }
            )
        return out

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """Header and rows of the corruption x severity table (clean value in its own column)."""
        severities = sorted({r["severity"] for r in self.rows if r["corruption"] != "clean"})
        header = ["corruption", "family", "clean", *(f"s{s}" for s in severities)]
        rows = []
        for name in self.corruptions:
            family = next(r["family"] for r in self.rows if r["corruption"] == name)
            rows.append([name, family, self.clean, *(self.value(name, s) for s in severities)])
        return header, rows

    def to_markdown(self, baseline: RobustnessReport | None = None) -> str:
        """The table and the summary as Markdown."""
        header, rows = self.table()
        lines = [
            f"## {self.metric_name} under corruption",
            "",
            _md_row(header),
            _md_row(["---"] * len(header)),
        ]
        lines += [_md_row(row) for row in rows]
        summary = self.summary(baseline)
        if summary:
            keys = ["corruption", "family", "mean_metric", "ce", "relative_ce", "relative_robustness"]
            title = "mCE against the baseline" if baseline is not None else "errors (E = 1 - metric)"
            lines += ["", f"## Summary ({title})", "", _md_row(keys), _md_row(["---"] * len(keys))]
            lines += [_md_row([r[k] for k in keys]) for r in summary]
        return "\n".join(lines) + "\n"

    def to_csv(self, path: str | Path | None = None) -> str:
        """The long table (corruption, family, severity, metric) as CSV; also written to ``path``."""
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=["corruption", "family", "severity", "metric"], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(self.rows)
        text = buffer.getvalue()
        if path is not None:
            Path(path).write_text(text)
        return text

    def plot(self, path: str | Path) -> Path:
        """Write the metric-against-severity curves to a PNG (needs ``invariance[plot]``)."""
        from invariance.robustness.plot import plot_curves

        return plot_curves(self, path)


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b != 0 else float("nan")


def _md_row(values: Sequence[Any]) -> str:
    cells = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in values]
    return "| " + " | ".join(cells) + " |"


def _batches(images: Sequence[np.ndarray], batch_size: int) -> Iterable[tuple[int, np.ndarray]]:
    """Consecutive images of one shape, stacked, at most ``batch_size`` at a time."""
    start = 0
    while start < len(images):
        end = start + 1
        while end < len(images) and end - start < batch_size and images[end].shape == images[start].shape:
            end += 1
        yield start, np.stack(images[start:end])
        start = end


def _predict(model: Model, images: Sequence[np.ndarray], batch_size: int) -> np.ndarray:
    outputs = [np.asarray(model(batch)) for _, batch in _batches(images, batch_size)]
    return np.concatenate(outputs) if outputs else np.zeros(0)


def evaluate_robustness(
    model: Model,
    dataset: Iterable[tuple[np.ndarray, Any]],
    metric: str | Metric = "accuracy",
    corruptions: Sequence[str] | None = None,
    severities: Sequence[int] = SEVERITIES,
    seed: int = 0,
    batch_size: int = 32,
    higher_is_better: bool = True,
    on_step: Callable[[str, int], None] | None = None,
) -> RobustnessReport:
    """Run ``model`` on the clean dataset and on every corruption and severity.

    Args:
        model: callable on a numpy batch ``(N, H, W, C)`` returning ``(N,)`` predictions or
            ``(N, C)`` scores (anything ``metric`` understands, concatenated over batches).
        dataset: iterable of ``(image, label)``. It is read once and kept in memory, so a one-shot
            generator works.
        metric: ``"accuracy"`` or a callable ``(preds, labels) -> float``.
        corruptions: names from ``CORRUPTIONS`` (all by default).
        severities: subset of 1-5.
        seed: run seed; the noise of image ``i`` under a corruption and severity depends only on
            ``(seed, corruption, severity, i)``, so results reproduce.
        batch_size: largest batch handed to the model (consecutive images of equal shape).
        higher_is_better: whether a larger metric is better (error ``1 - metric``), else the metric
            is itself an error.
        on_step: called with ``(corruption, severity)`` before each run (for progress bars).
    """
    if isinstance(metric, str):
        if metric not in METRICS:
            raise ParameterError(f"metric must be one of {sorted(METRICS)} or a callable, got {metric!r}")
        metric_name, metric_fn = metric, METRICS[metric]
    else:
        metric_name, metric_fn = getattr(metric, "__name__", "metric"), metric
    names = list(CORRUPTIONS) if corruptions is None else list(corruptions)
    for name in names:
        get_corruption(name)
    for severity in severities:
        if severity not in SEVERITIES:
            raise ParameterError(f"severities must be within {SEVERITIES}, got {severity!r}")
    if batch_size < 1:
        raise ParameterError(f"batch_size must be >= 1, got {batch_size}")
    items = list(dataset)
    images = [np.asarray(image) for image, _ in items]
    labels = np.asarray([label for _, label in items])
    report = RobustnessReport(metric_name, higher_is_better=higher_is_better)
    report.rows.append(
        {
            "corruption": "clean",
            "family": "",
            "severity": 0,
            "metric": float(metric_fn(_predict(model, images, batch_size), labels)),
        }
    )
    for name in names:
        corruption = get_corruption(name)
        for severity in severities:
            if on_step is not None:
                on_step(name, severity)
            pipeline = A.Compose([corruption.build(severity)])
            corrupted = []
            for index, image in enumerate(images):
                pipeline.set_random_seed(corruption_seed(seed, name, severity, index))
                corrupted.append(pipeline(image=image)["image"])
            value = float(metric_fn(_predict(model, corrupted, batch_size), labels))
            report.rows.append(
                {"corruption": name, "family": corruption.family, "severity": severity, "metric": value}
            )
    return report
