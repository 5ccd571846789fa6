"""Curves of a robustness report, drawn with matplotlib (the optional ``plot`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from invariance.core.errors import InvarianceError

if TYPE_CHECKING:
    from invariance.robustness.runner import RobustnessReport


def plot_curves(report: RobustnessReport, path: str | Path) -> Path:
    """Write one panel per probe family, metric against severity (0 = clean), to a PNG.

    With several seeds, error bars show the standard deviation over the seeds.
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise InvarianceError(
            "plotting robustness curves needs matplotlib: pip install 'invariance[plot]'"
        ) from error
    families = list(dict.fromkeys(r["family"] for r in report.rows if r["corruption"] != "clean"))
    fig, axes = plt.subplots(
        1, max(1, len(families)), figsize=(4 * max(1, len(families)), 3.6), squeeze=False
    )
    for ax, family in zip(axes[0], families, strict=False):
        for name in report.corruptions:
            if next(r["family"] for r in report.rows if r["corruption"] == name) != family:
                continue
            xs, ys = report.curve(name)
            if not all(isinstance(x, (int, float)) for x in xs):
                xs = list(range(len(xs)))  # named severities: evenly spaced, clean first
            errs = [0.0] + [report.spread(name, s)["std"] for s in report.severities(name)]
            ax.errorbar(xs, ys, yerr=errs if any(errs) else None, marker="o", label=name, capsize=2)
        ax.set_title(family)
        ax.set_xlabel("severity (0 = clean)")
        ax.set_ylabel(report.metric_name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
