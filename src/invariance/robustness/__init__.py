"""Robustness stress testing: a corruption suite in the spirit of ImageNet-C and a runner.

::

    from invariance import robustness

    report = robustness.evaluate_robustness(model, dataset, metric="accuracy", seed=0)
    print(report.to_markdown())
    report.plot("curves.png")  # needs invariance[plot]

See docs/robustness.md.
"""

from invariance.robustness.corruptions import (
    CORRUPTIONS,
    FAMILIES,
    SEVERITIES,
    Corruption,
    corrupt,
    corruption_seed,
    get_corruption,
)
from invariance.robustness.plot import plot_curves
from invariance.robustness.runner import METRICS, RobustnessReport, accuracy, evaluate_robustness

__all__ = [
    "CORRUPTIONS",
    "FAMILIES",
    "METRICS",
    "SEVERITIES",
    "Corruption",
    "RobustnessReport",
    "accuracy",
    "corrupt",
    "corruption_seed",
    "evaluate_robustness",
    "get_corruption",
    "plot_curves",
]
