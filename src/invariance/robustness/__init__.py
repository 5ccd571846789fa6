"""Robustness stress testing: a corruption suite in the spirit of ImageNet-C and a runner.

::

    from invariance import robustness

    report = robustness.evaluate_robustness(model, dataset, metric="accuracy", seeds=[0, 1])
    flip = robustness.probe("hflip", A.HorizontalFlip(p=1))
    report = robustness.evaluate_robustness(model, dataset, probes=[flip, "darken"], seeds=[0, 1])
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
from invariance.robustness.probes import (
    CORRUPTION_FAILURES,
    FAILURE_CLASSES,
    FailureClass,
    Probe,
    failure_class_of,
    probe,
)
from invariance.robustness.runner import METRICS, RobustnessReport, accuracy, evaluate_robustness

__all__ = [
    "CORRUPTIONS",
    "CORRUPTION_FAILURES",
    "FAILURE_CLASSES",
    "FAMILIES",
    "METRICS",
    "SEVERITIES",
    "Corruption",
    "FailureClass",
    "Probe",
    "RobustnessReport",
    "accuracy",
    "corrupt",
    "corruption_seed",
    "evaluate_robustness",
    "failure_class_of",
    "get_corruption",
    "plot_curves",
    "probe",
]
