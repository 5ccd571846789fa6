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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from invariance.core.errors import ParameterError
from invariance.robustness.corruptions import CORRUPTIONS, SEVERITIES

if TYPE_CHECKING:
    from invariance.robustness.probes import Probe

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
    """Metric of a model on clean data and under each probe and severity, for one or more seeds.

    ``rows`` holds one dict per measurement on the whole dataset: ``corruption`` (the probe's name;
    ``"clean"`` for the clean run), ``family``, ``severity`` (0 for clean), ``seed`` and ``metric``.
    ``slices`` holds the same measurements per class and per subgroup: ``slice`` (``"class"`` or
    ``"group"``), ``key`` (the label, or the subgroup key the user passed), ``n`` (images in the
    slice) and ``metric``. Values are means over the seeds unless a method says otherwise.
    """

    metric_name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    higher_is_better: bool = True
    slices: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, str | None] = field(default_factory=dict)  # probe -> failure class

    @property
    def seeds(self) -> list[int]:
        return list(dict.fromkeys(r.get("seed", 0) for r in self.rows))

    @property
    def clean(self) -> float:
        return self.value("clean", 0)

    @property
    def corruptions(self) -> list[str]:
        """The probes measured, in order (the built-in corruptions among them)."""
        return list(dict.fromkeys(r["corruption"] for r in self.rows if r["corruption"] != "clean"))

    probes = corruptions

    def severities(self, corruption: str) -> list[Any]:
        """The severities measured for one probe, in the order they ran."""
        return list(dict.fromkeys(r["severity"] for r in self.rows if r["corruption"] == corruption))

    def _values(
        self, corruption: str, severity: Any, slice_: str | None = None, key: Any = None
    ) -> list[float]:
        if slice_ is None:
            found = [
                float(r["metric"])
                for r in self.rows
                if r["corruption"] == corruption and r["severity"] == severity
            ]
        else:
            found = [
                float(r["metric"])
                for r in self.slices
                if r["corruption"] == corruption
                and r["severity"] == severity
                and r["slice"] == slice_
                and r["key"] == key
            ]
        if not found:
            where = "" if slice_ is None else f" for {slice_} {key!r}"
            raise ParameterError(
                f"the report has no measurement of {corruption!r} at severity {severity!r}{where}; it has "
                f"{self.corruptions} at severities "
                f"{ {c: self.severities(c) for c in self.corruptions} }"
            )
        return found

    def value(self, corruption: str, severity: Any, slice: str | None = None, key: Any = None) -> float:
        """The metric of ``corruption`` at ``severity``, mean over seeds (of one class or subgroup
        with ``slice="class"`` or ``"group"`` and its ``key``)."""
        return float(np.mean(self._values(corruption, severity, slice, key)))

    def spread(
        self, corruption: str, severity: Any, slice: str | None = None, key: Any = None
    ) -> dict[str, float]:
        """``mean``, ``std`` (population), ``min``, ``max`` and ``seeds`` of a measurement over the seeds."""
        values = np.asarray(self._values(corruption, severity, slice, key))
        return {
            "mean": float(values.mean()),
            "std": float(values.std()),
            "min": float(values.min()),
            "max": float(values.max()),
            "seeds": float(len(values)),
        }

    def curve(self, corruption: str) -> tuple[list[Any], list[float]]:
        """Severities and metric values (means over seeds) of one probe, clean (severity 0) first."""
        severities = self.severities(corruption)
        return [0, *severities], [self.clean, *(self.value(corruption, s) for s in severities)]

    def keys(self, slice: str) -> list[Any]:
        """The classes (``slice="class"``) or subgroups (``"group"``) measured."""
        return list(dict.fromkeys(r["key"] for r in self.slices if r["slice"] == slice))

    def _error(self, metric: float) -> float:
        return 1.0 - metric if self.higher_is_better else metric

    def _family(self, name: str) -> str:
        return str(next(r["family"] for r in self.rows if r["corruption"] == name))

    def summary(self, baseline: RobustnessReport | None = None) -> list[dict[str, Any]]:
        """One row per probe (``ce``, ``relative_ce``, ``relative_robustness``, ``mean_metric``,
        ``worst_drop``) and a final ``mean`` row (``mce``, relative mCE and mean relative robustness).

        With ``baseline`` (a report of a reference model on the same probes and severities) the
        errors are normalised by its errors, as in Hendrycks and Dietterich; otherwise ``ce`` is the
        mean error over severities and ``relative_ce`` the mean error added by the probe. A baseline
        that lacks one of the probes or severities is an error naming what is missing.
        """
        if baseline is not None:
            self._check_baseline(baseline)
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
            drops = [self._drop(v) for v in metrics]
            out.append(
                {
                    "corruption": name,
                    "family": self._family(name),
                    "mean_metric": float(metrics.mean()),
                    "ce": ce,
                    "relative_ce": rce,
                    "relative_robustness": _ratio(metrics.mean(), self.clean),
                    "worst_drop": float(max(drops)),
                    "worst_severity": severities[1:][int(np.argmax(drops))],
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
                    "worst_drop": float(max(r["worst_drop"] for r in out)),
                    "worst_severity": "",
                }
            )
        return out

    def _drop(self, metric: float) -> float:
        """How much worse than clean ``metric`` is (positive: worse)."""
        return self.clean - metric if self.higher_is_better else metric - self.clean

    def _check_baseline(self, baseline: RobustnessReport) -> None:
        missing = [
            f"{name} at severity {severity!r}"
            for name in self.corruptions
            for severity in self.severities(name)
            if not any(r["corruption"] == name and r["severity"] == severity for r in baseline.rows)
        ]
        if not any(r["corruption"] == "clean" for r in baseline.rows):
            missing.insert(0, "the clean run")
        if missing:
            raise ParameterError(
                f"the baseline report lacks {', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''}; "
                f"it has {baseline.corruptions}. Run the baseline model with the same probes and severities"
            )

    def recommendations(self, tolerance: float = 0.05) -> list[dict[str, Any]]:
        """The failing probes and the transform family to add to training for each.

        A probe fails when, at some severity, the metric is more than ``tolerance`` worse than clean
        (means over seeds). Each entry names the probe, its worst severity and drop, its failure
        class and, following the article's failure-to-family table, the families and catalogue
        transforms to add (``None`` when the probe's failure class is unknown: add the probe's own
        transform to the training policy, at milder settings).
        """
        from invariance.robustness.probes import FAILURE_CLASSES

        if tolerance < 0:
            raise ParameterError(f"tolerance must be >= 0, got {tolerance!r}")
        out = []
        for row in self.summary():
            if row["corruption"] == "mean" or row["worst_drop"] <= tolerance:
                continue
            failure = self.failures.get(row["corruption"])
            known = FAILURE_CLASSES.get(failure) if failure else None
            out.append(
                {
                    "probe": row["corruption"],
                    "worst_severity": row["worst_severity"],
                    "drop": row["worst_drop"],
                    "failure": failure,
                    "families": known.families if known else None,
                    "transforms": list(known.transforms) if known else [],
                }
            )
        return out

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """Header and rows of the probe x severity table (means over seeds; clean in its own column).

        Probes with other severities than the rest get ``""`` in the columns they were not run at.
        """
        severities = list(dict.fromkeys(s for name in self.corruptions for s in self.severities(name)))
        if all(isinstance(s, (int, float)) for s in severities):
            severities.sort()
        header = ["corruption", "family", "clean", *(f"s{s}" for s in severities)]
        rows = []
        for name in self.corruptions:
            own = self.severities(name)
            rows.append(
                [
                    name,
                    self._family(name),
                    self.clean,
                    *(self.value(name, s) if s in own else "" for s in severities),
                ]
            )
        return header, rows

    def to_markdown(self, baseline: RobustnessReport | None = None, tolerance: float = 0.05) -> str:
        """The table, the summary, the per-class and per-subgroup tables, the spread over seeds and
        what to add to training, as Markdown."""
        header, rows = self.table()
        seeds = self.seeds
        title = f"## {self.metric_name} under corruption"
        if len(seeds) > 1:
            title += f" (mean over seeds {', '.join(map(str, seeds))})"
        lines = [title, "", _md_row(header), _md_row(["---"] * len(header))]
        lines += [_md_row(row) for row in rows]
        summary = self.summary(baseline)
        if summary:
            keys = ["corruption", "family", "mean_metric", "ce", "relative_ce", "relative_robustness"]
            heading = "mCE against the baseline" if baseline is not None else "errors (E = 1 - metric)"
            lines += ["", f"## Summary ({heading})", "", _md_row(keys), _md_row(["---"] * len(keys))]
            lines += [_md_row([r[k] for k in keys]) for r in summary]
        if len(seeds) > 1:
            lines += self._spread_markdown()
        for slice_, label in (("class", "Per class"), ("group", "Per subgroup")):
            if self.keys(slice_):
                lines += self._slice_markdown(slice_, label)
        lines += self._recommendations_markdown(tolerance)
        return "\n".join(lines) + "\n"

    def _spread_markdown(self) -> list[str]:
        keys = ["corruption", "severity", "mean", "std", "min", "max"]
        lines = [
            "",
            f"## Spread over {len(self.seeds)} seeds",
            "",
            _md_row(keys),
            _md_row(["---"] * len(keys)),
        ]
        for name in ["clean", *self.corruptions]:
            for severity in self.severities(name):
                spread = self.spread(name, severity)
                lines.append(_md_row([name, severity, *(spread[k] for k in keys[2:])]))
        return lines

    def _slice_markdown(self, slice_: str, label: str) -> list[str]:
        """One row per class or subgroup: clean, mean under the probes, and its worst probe."""
        header = [slice_, "n", "clean", "mean under probes", "worst probe", "worst"]
        lines = ["", f"## {label}", "", _md_row(header), _md_row(["---"] * len(header))]
        for key in self.keys(slice_):
            n = next(r["n"] for r in self.slices if r["slice"] == slice_ and r["key"] == key)
            clean = self.value("clean", 0, slice_, key)
            measured = [
                (self.value(name, s, slice_, key), name, s)
                for name in self.corruptions
                for s in self.severities(name)
            ]
            values = [v for v, _, _ in measured]
            worst = min(measured) if self.higher_is_better else max(measured)
            lines.append(
                _md_row(
                    [
                        str(key),
                        n,
                        clean,
                        float(np.nanmean(values)) if values else "",
                        f"{worst[1]} @ {worst[2]}" if measured else "",
                        worst[0] if measured else "",
                    ]
                )
            )
        return lines

    def _recommendations_markdown(self, tolerance: float) -> list[str]:
        found = self.recommendations(tolerance)
        lines = ["", f"## What to add to training (probes more than {tolerance:g} worse than clean)", ""]
        if not found:
            return [*lines, "No probe fails: the model holds the invariances probed here."]
        for r in found:
            advice = (
                f"{r['failure']} failure: add {r['families']} ({', '.join(r['transforms'])})"
                if r["failure"]
                else "no row of the failure-to-family table: add the probe's own transform, at milder settings"
            )
            lines.append(
                f"- **{r['probe']}**: {self.metric_name} drops by {r['drop']:.4f} at severity "
                f"{r['worst_severity']}; {advice}"
            )
        return lines

    def to_csv(self, path: str | Path | None = None) -> str:
        """The long table as CSV (also written to ``path``): one line per measurement, on the whole
        dataset (``slice`` = ``all``) and per class and subgroup, for each seed."""
        buffer = io.StringIO()
        columns = ["corruption", "family", "severity", "seed", "slice", "key", "n", "metric"]
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        families = {r["corruption"]: r["family"] for r in self.rows}
        writer.writerows({**r, "slice": "all", "key": ""} for r in self.rows)
        writer.writerows({**r, "family": families.get(r["corruption"], "")} for r in self.slices)
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


def _metric_or_nan(metric_fn: Metric, preds: np.ndarray, labels: np.ndarray) -> float:
    return float(metric_fn(preds, labels)) if len(labels) else float("nan")


def evaluate_robustness(
    model: Model,
    dataset: Iterable[tuple[Any, ...]],
    metric: str | Metric = "accuracy",
    corruptions: Sequence[str] | None = None,
    severities: Sequence[int] = SEVERITIES,
    seed: int = 0,
    batch_size: int = 32,
    higher_is_better: bool = True,
    on_step: Callable[[str, Any], None] | None = None,
    *,
    probes: Sequence[Probe | str] | None = None,
    seeds: Sequence[int] | None = None,
    groups: Sequence[Any] | None = None,
    per_class: bool = True,
    class_names: Sequence[str] | Mapping[Any, str] | None = None,
) -> RobustnessReport:
    """Run ``model`` on the clean dataset and under every probe and severity, for every seed.

    Args:
        model: callable on a numpy batch ``(N, H, W, C)`` returning ``(N,)`` predictions or
            ``(N, C)`` scores (anything ``metric`` understands, concatenated over batches).
        dataset: iterable of ``(image, label)`` or ``(image, label, group)``, where ``group`` is a
            subgroup key such as ``"night"`` or a camera id. It is read once and kept in memory, so
            a one-shot generator works.
        metric: ``"accuracy"`` or a callable ``(preds, labels) -> float``.
        corruptions: names of built-in corruptions (``CORRUPTIONS``) to run at ``severities``.
            Default: all of them, unless ``probes`` is given.
        severities: the severities (1-5) of the built-in corruptions.
        seed: run seed, used when ``seeds`` is not given.
        batch_size: largest batch handed to the model (consecutive images of equal shape).
        higher_is_better: whether a larger metric is better (error ``1 - metric``), else the metric
            is itself an error.
        on_step: called with ``(probe, severity)`` before each run (for progress bars).
        probes: your own probes (:func:`invariance.robustness.probe`), or built-in corruption names
            (run at ``severities``), measured after ``corruptions``.
        seeds: several run seeds: every probe runs once per seed, and the report gives the mean and
            the spread (``report.spread``). The article's protocol asks for at least two.
        groups: one subgroup key per sample (instead of a third item in ``dataset``).
        per_class: also measure each class on its own (``report.slices``).
        class_names: names of the labels in per-class tables (a sequence indexed by label, or a mapping).

    The probe of image ``i`` depends only on ``(seed, probe, severity, i)``, so results reproduce.
    """
    from invariance.robustness.probes import Probe

    if isinstance(metric, str):
        if metric not in METRICS:
            raise ParameterError(f"metric must be one of {sorted(METRICS)} or a callable, got {metric!r}")
        metric_name, metric_fn = metric, METRICS[metric]
    elif callable(metric):
        metric_name, metric_fn = getattr(metric, "__name__", "metric"), metric
    else:
        raise ParameterError(f"metric must be one of {sorted(METRICS)} or a callable, got {metric!r}")
    for severity in severities:
        if severity not in SEVERITIES:
            raise ParameterError(f"severities must be within {SEVERITIES}, got {severity!r}")
    names = list(CORRUPTIONS) if corruptions is None and probes is None else list(corruptions or [])
    chosen: list[Probe] = [Probe.corruption(name, severities) for name in names]
    for entry in probes or []:
        if isinstance(entry, str):
            chosen.append(Probe.corruption(entry, severities))
        elif isinstance(entry, Probe):
            chosen.append(entry)
        else:
            raise ParameterError(
                f"probes must hold Probe objects (invariance.robustness.probe(...)) or corruption names, "
                f"got {type(entry).__name__}"
            )
    seen = [p.name for p in chosen]
    duplicates = sorted({n for n in seen if seen.count(n) > 1})
    if duplicates:
        raise ParameterError(f"probe names must be unique; repeated: {duplicates}")
    run_seeds = [int(seed)] if seeds is None else [int(s) for s in seeds]
    if not run_seeds or len(set(run_seeds)) != len(run_seeds):
        raise ParameterError(f"seeds must be a non-empty list of distinct integers, got {seeds!r}")
    if batch_size < 1:
        raise ParameterError(f"batch_size must be >= 1, got {batch_size}")
    items = list(dataset)
    for i, item in enumerate(items):
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise ParameterError(
                f"dataset item {i} must be (image, label) or (image, label, group), got {type(item).__name__}"
                + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else "")
            )
    images = [np.asarray(item[0]) for item in items]
    labels = np.asarray([item[1] for item in items])
    if groups is None and items and any(len(item) == 3 for item in items):
        if not all(len(item) == 3 for item in items):
            raise ParameterError("dataset: either every item has a group (image, label, group) or none does")
        groups = [item[2] for item in items]
    if groups is not None:
        groups = list(groups)
        if len(groups) != len(items):
            raise ParameterError(
                f"groups has {len(groups)} keys for {len(items)} samples: pass one per sample"
            )
    slices = _slices(labels, groups, per_class, class_names)

    report = RobustnessReport(metric_name, higher_is_better=higher_is_better)
    report.failures = {p.name: p.failure for p in chosen}

    def measure(name: str, family: str, severity: Any, run_seed: int, batch: Sequence[np.ndarray]) -> None:
        preds = _predict(model, batch, batch_size)
        report.rows.append(
            {
                "corruption": name,
                "family": family,
                "severity": severity,
                "seed": run_seed,
                "n": len(labels),
                "metric": _metric_or_nan(metric_fn, preds, labels),
            }
        )
        for slice_, key, index in slices:
            report.slices.append(
                {
                    "corruption": name,
                    "severity": severity,
                    "seed": run_seed,
                    "slice": slice_,
                    "key": key,
                    "n": len(index),
                    "metric": _metric_or_nan(metric_fn, preds[index], labels[index]),
                }
            )

    for run_seed in run_seeds:
        measure("clean", "", 0, run_seed, images)
        for one in chosen:
            for severity in one.severities:
                if on_step is not None:
                    on_step(one.name, severity)
                apply = one.image_fn(severity)
                corrupted = [
                    apply(image, one.seed_for(run_seed, severity, index))
                    for index, image in enumerate(images)
                ]
                measure(one.name, one.family, severity, run_seed, corrupted)
    return report


def _slices(
    labels: np.ndarray,
    groups: Sequence[Any] | None,
    per_class: bool,
    class_names: Sequence[str] | Mapping[Any, str] | None,
) -> list[tuple[str, Any, np.ndarray]]:
    """``(slice, key, indices)`` of every class and subgroup, in sorted order of their keys."""
    out: list[tuple[str, Any, np.ndarray]] = []
    if per_class and labels.ndim == 1 and len(labels):
        for label in sorted(set(labels.tolist()), key=repr):
            name: Any = label
            if isinstance(class_names, Mapping):
                name = class_names.get(label, label)
            elif class_names is not None and isinstance(label, int) and 0 <= label < len(class_names):
                name = class_names[label]
            out.append(("class", name, np.flatnonzero(labels == label)))
    if groups is not None:
        keys = np.asarray([repr(g) for g in groups])
        out.extend(
            ("group", group, np.flatnonzero(keys == repr(group))) for group in sorted(set(groups), key=repr)
        )
    return out
