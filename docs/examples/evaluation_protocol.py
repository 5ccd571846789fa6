"""The evaluation protocol, end to end, on a small built-in example (docs/guide/evaluation-protocol.md).

The reference article's six steps with invariance's tools: a no-augmentation baseline, one-axis
ablations, stress tests that probe the invariances the policy assumes, per-class and per-subgroup
metrics, at least two seeds, and the loader / cache / checkpoint steps that ship the result.

The example is small enough to run in seconds on a CPU: crops of the built-in scene
(``invariance.data.sample_scene``) showing a sun, a house, a tree or a car, to be classified. The
training crops are all in daylight, with the object in the left part of the frame; half of the
validation crops are "night" (darkened), the subgroup the deployment cares about. The model is a
nearest-neighbour classifier over 8x8 thumbnails of the (augmented) training crops: augmentation
acts on it exactly as it does on a network, by adding the varied examples it learns from.

    python docs/examples/evaluation_protocol.py      # prints each step's findings

Step 6 needs torch (``pip install 'invariance[torch]'``) and is skipped without it.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

import invariance as A
from invariance import robustness
from invariance.data import sample_scene

CLASSES = ["sun", "house", "tree", "car"]
Model = Callable[[Any], np.ndarray]


# --8<-- [start:data]
def make_split(count: int, seed: int, night_share: float) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """``count`` 32x32 crops of built-in scenes: images, class ids, and a subgroup per crop."""
    rng = np.random.default_rng(seed)
    images, labels, groups = [], [], []
    for index in range(count):
        scene = sample_scene(96, 128, seed=int(rng.integers(2**31)))
        label = index % len(CLASSES)
        x0, y0, x1, y1 = scene["bboxes"][scene["labels"].index(CLASSES[label])]
        side = max(x1 - x0, y1 - y0) * rng.uniform(1.5, 1.9)
        left = (x0 + x1) / 2 - side * rng.uniform(0.2, 0.35)  # the object sits left of centre
        top = (y0 + y1) / 2 - side * rng.uniform(0.35, 0.65)
        scale = 32 / side
        warp = np.float32([[scale, 0, -left * scale], [0, scale, -top * scale]])
        crop = cv2.warpAffine(
            scene["image"], warp, (32, 32), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT
        )
        night = rng.random() < night_share
        images.append((crop * 0.35).astype(np.uint8) if night else crop)
        labels.append(label)
        groups.append("night" if night else "day")
    return images, np.asarray(labels), np.asarray(groups)


# --8<-- [end:data]


# --8<-- [start:model]
def thumbnails(batch: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    return (
        np.stack([cv2.resize(np.asarray(im), (8, 8), interpolation=cv2.INTER_AREA) for im in batch])
        .reshape(len(batch), -1)
        .astype(np.float32)
        / 255
    )


def train(images: list[np.ndarray], labels: np.ndarray, policy: Any, seed: int, copies: int = 4) -> Model:
    """A nearest-neighbour classifier over ``copies`` augmented versions of each training image
    (the images themselves when ``policy`` is None). Returns ``predict(batch) -> class ids``."""
    if policy is None:
        bank, bank_labels = thumbnails(images), labels
    else:
        policy.set_random_seed(seed)
        bank = thumbnails([policy(image=im)["image"] for _ in range(copies) for im in images])
        bank_labels = np.tile(labels, copies)

    def predict(batch: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        distances = ((thumbnails(batch)[:, None, :] - bank[None]) ** 2).sum(-1)
        return np.asarray(bank_labels[distances.argmin(1)])

    return predict


# --8<-- [end:model]


# --8<-- [start:policy]
def make_policy() -> A.Compose:
    """The candidate training policy: one transform per invariance we assume."""
    return A.Compose(
        [
            A.HorizontalFlip(p=0.5),  # left/right framing does not change the class
            A.RandomBrightnessContrast(brightness_limit=(-0.6, 0.2), contrast_limit=0.2, p=0.8),  # exposure
            A.Affine(scale=(0.9, 1.1), translate_percent=(-0.1, 0.1), p=0.5),  # small framing shifts
        ]
    )


# --8<-- [end:policy]


def accuracy(model: Model, images: Sequence[np.ndarray], labels: np.ndarray) -> float:
    return float(np.mean(model(images) == labels)) if len(labels) else float("nan")


# --8<-- [start:probe]
def brighten(shift: float) -> A.RandomBrightnessContrast:
    """Exposure raised by exactly ``shift`` (a fraction of the maximum value)."""
    return A.RandomBrightnessContrast(brightness_limit=(shift, shift), contrast_limit=0, p=1.0)


PROBES = [
    robustness.probe("flip", A.HorizontalFlip(p=1.0)),  # any transform or policy is a probe
    robustness.probe("brighten", at=brighten, severities=[0.1, 0.3]),  # at the severities you choose
    robustness.Probe.corruption("darken", severities=[1, 3, 5]),  # a preset: brightness -0.1, -0.3, -0.5
    robustness.Probe.corruption("contrast", severities=[1, 3, 5]),
    robustness.Probe.corruption("gaussian_noise", severities=[5]),
]


def stress(model: Model, dataset: list[tuple[Any, ...]], seed: int = 0) -> robustness.RobustnessReport:
    """``model`` on ``dataset`` (``(image, label, subgroup)`` items), clean and under every probe,
    overall, per class and per subgroup."""
    return robustness.evaluate_robustness(model, dataset, probes=PROBES, seed=seed, class_names=CLASSES)


# --8<-- [end:probe]


def run(copies: int = 4, verbose: bool = True) -> dict[str, Any]:
    """Run the six steps; return every number the guide quotes (the test checks them)."""
    say: Callable[..., None] = print if verbose else (lambda *args, **kwargs: None)
    train_images, train_labels, _ = make_split(80, seed=0, night_share=0.0)
    val_images, val_labels, val_groups = make_split(80, seed=1, night_share=0.5)
    validation = list(zip(val_images, val_labels.tolist(), val_groups.tolist()))
    results: dict[str, Any] = {}

    # --8<-- [start:step1]
    baseline = train(train_images, train_labels, policy=None, seed=0)
    augmented = train(train_images, train_labels, make_policy(), seed=0, copies=copies)
    results["baseline"] = accuracy(baseline, val_images, val_labels)
    results["policy"] = accuracy(augmented, val_images, val_labels)
    say(f"1. baseline {results['baseline']:.3f}, with the policy {results['policy']:.3f}")
    # --8<-- [end:step1]

    with tempfile.TemporaryDirectory() as scratch:
        # --8<-- [start:step2]
        from invariance.tools.ablate import write_ablations  # the CLI: invariance ablate POLICY --out DIR

        sweep = Path(scratch) / "sweep"
        manifest = write_ablations(make_policy(), sweep)
        flip = [robustness.probe("flip", A.HorizontalFlip(p=1.0))]
        ablations = {}
        for variant in manifest["variants"]:  # one model per variant file: one change each
            model = train(train_images, train_labels, A.load(sweep / variant["file"]), seed=0, copies=copies)
            report = robustness.evaluate_robustness(model, validation, probes=flip, per_class=False)
            ablations[variant["id"]] = {
                "fingerprint": variant["fingerprint"][:12],
                "change": "removed"
                if variant["axis"] == "remove"
                else f"{variant['argument']} {variant['before']} -> {variant['after']}",
                "val": report.clean,
                "flipped": report.value("flip", 1),
            }
        say(f"2. {len(ablations)} variants of {manifest['base']['fingerprint'][:12]}:")
        for name, row in ablations.items():
            say(f"   {name} ({row['fingerprint']}, {row['change']}): ", end="")
            say(f"val {row['val']:.3f}, flipped {row['flipped']:.3f}")
        # --8<-- [end:step2]
    results["ablations"] = ablations

    # --8<-- [start:step3]
    day = [item for item in validation if item[2] == "day"]  # probes start from clean daylight images
    reports = {"baseline": stress(baseline, day), "policy": stress(augmented, day)}
    for name, report in reports.items():
        say(f"3. {name}: clean {report.clean:.3f}")
        for probe in report.probes:
            values = ", ".join(f"{s}: {report.value(probe, s):.3f}" for s in report.severities(probe))
            say(f"   {probe} at {values}")
        for advice in report.recommendations(tolerance=0.05):
            say(
                f"   {advice['probe']} fails (-{advice['drop']:.3f} at {advice['worst_severity']}): "
                f"{advice['failure']} failure, add {advice['families']} ({', '.join(advice['transforms'])})"
            )
    # --8<-- [end:step3]
    results["stress"] = {
        name: {
            "clean": report.clean,
            **{f"{p} {s}": report.value(p, s) for p in report.probes for s in report.severities(p)},
        }
        for name, report in reports.items()
    }
    results["recommendations"] = {
        name: report.recommendations(tolerance=0.05) for name, report in reports.items()
    }

    # --8<-- [start:step4]
    reports = {"baseline": stress(baseline, validation), "policy": stress(augmented, validation)}
    for name, report in reports.items():
        for slice_ in ("class", "group"):
            values = {key: report.value("clean", 0, slice_, key) for key in report.keys(slice_)}
            say(f"4. {name}, per {slice_}: " + ", ".join(f"{k} {v:.3f}" for k, v in values.items()))
    say(reports["policy"].to_markdown())  # with each class's and subgroup's worst probe
    # --8<-- [end:step4]
    results["per_class"] = {
        name: {c: r.value("clean", 0, "class", c) for c in r.keys("class")} for name, r in reports.items()
    }
    results["per_group"] = {
        name: {g: r.value("clean", 0, "group", g) for g in r.keys("group")} for name, r in reports.items()
    }
    results["night_under"] = {  # the policy's night subgroup under each probe, at its worst severity
        p: min(reports["policy"].value(p, s, "group", "night") for s in reports["policy"].severities(p))
        for p in reports["policy"].probes
    }
    results["day_under"] = {
        p: min(reports["policy"].value(p, s, "group", "day") for s in reports["policy"].severities(p))
        for p in reports["policy"].probes
    }

    # --8<-- [start:step5]
    runs = []
    for seed in [0, 1, 2]:  # train and probe again with each seed
        model = train(train_images, train_labels, make_policy(), seed=seed, copies=copies)
        runs.append(stress(model, validation, seed=seed))
    over_seeds = robustness.RobustnessReport(  # the runs as one report, one seed each
        runs[0].metric_name,
        rows=[row for run in runs for row in run.rows],
        slices=[row for run in runs for row in run.slices],
        failures=runs[0].failures,
    )
    for probe, severity in (("clean", 0), ("contrast", 3)):
        night = over_seeds.spread(probe, severity, "group", "night")
        say(
            f"5. night, {probe} {severity}, seeds {over_seeds.seeds}: mean {night['mean']:.3f}, "
            f"min {night['min']:.3f}, max {night['max']:.3f}, std {night['std']:.3f}"
        )
    for advice in over_seeds.recommendations(tolerance=0.05):
        say(f"   over the seeds, {advice['probe']} fails (-{advice['drop']:.3f}): add {advice['families']}")
    # --8<-- [end:step5]
    results["seeds"] = {
        "night": [run.value("clean", 0, "group", "night") for run in runs],
        "spread": over_seeds.spread("clean", 0, "group", "night"),
        "failing": [advice["probe"] for advice in over_seeds.recommendations(tolerance=0.05)],
    }

    if importlib.util.find_spec("torch") is None:
        say("6. skipped: torch is not installed (pip install 'invariance[torch]')")
        return results
    with tempfile.TemporaryDirectory() as scratch:
        results.update(ship(Path(scratch), train_images, train_labels, say))
    return results


def ship(
    folder: Path, images: list[np.ndarray], labels: np.ndarray, say: Callable[..., None]
) -> dict[str, Any]:
    """Step 6: profile the loader, cache the deterministic head, ship the policy with the model."""
    # --8<-- [start:step6]
    from invariance.integrations.checkpoint import load_checkpoint, save_checkpoint
    from invariance.integrations.torch import CachedDataset, ToTensorV2
    from invariance.tools.loader_profile import profile_loader

    for index, image in enumerate(images[:16]):  # a folder of training files, as a loader reads them
        cv2.imwrite(str(folder / f"{index:03d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    training = A.Compose([A.Resize(32, 32), *make_policy().transforms, ToTensorV2()], seed=0)

    report = profile_loader([folder], training, workers=[0], batch_size=8, batches=2, model_step_ms=5.0)
    say("6. " + " ".join(report.verdict()[:2]))

    dataset = CachedDataset(folder, training, cache="disk", cache_dir=folder / "cache")
    say(
        f"6. cached head: {dataset.split.head_names}, random tail: {len(dataset.split.tail.transforms)} steps"
    )
    first_epoch = [dataset[i][0] for i in range(len(dataset))]

    save_checkpoint(folder / "model.pt", {"model": {"bank_size": len(images)}}, training)
    _, policy = load_checkpoint(folder / "model.pt", current=training)
    say(
        f"6. checkpoint policy {A.fingerprint(policy)[:12]} == training policy {A.fingerprint(training)[:12]}"
    )
    # --8<-- [end:step6]
    return {
        "loader_recommended_workers": report.recommended_workers,
        "cached_head": dataset.split.head_names,
        "cached_samples": len(first_epoch),
        "checkpoint_matches": A.fingerprint(policy) == A.fingerprint(training),
    }


if __name__ == "__main__":
    run()
