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


# LEAD(issue 19 merge): replace `probe_accuracy` with the robustness API's own probes once it
# accepts any transform or policy as a probe at chosen severities (and brightness both ways).
# --8<-- [start:probe]
def probe_accuracy(model: Model, images: list[np.ndarray], labels: np.ndarray, transform: Any) -> float:
    """Accuracy on the validation images after ``transform`` (a probe: one assumed invariance)."""
    pipeline = A.Compose([transform], seed=0)
    return accuracy(model, [pipeline(image=im)["image"] for im in images], labels)


PROBES = {
    "flip": A.HorizontalFlip(p=1.0),
    "darken x0.5": A.RandomBrightnessContrast(brightness_limit=(-0.5, -0.5), contrast_limit=0, p=1.0),
    "brighten x1.3": A.RandomBrightnessContrast(brightness_limit=(0.3, 0.3), contrast_limit=0, p=1.0),
}
# --8<-- [end:probe]


# LEAD(issue 19 merge): replace with the robustness report's per-class / per-subgroup metrics
# (the user passes one subgroup key per sample) once they land.
# --8<-- [start:groups]
def per_group_accuracy(
    model: Model, images: list[np.ndarray], labels: np.ndarray, keys: np.ndarray
) -> dict[str, float]:
    """Accuracy of each value of ``keys`` (a class name or a subgroup such as day/night)."""
    predictions = model(images)
    return {
        str(key): float(np.mean(predictions[keys == key] == labels[keys == key])) for key in np.unique(keys)
    }


# --8<-- [end:groups]


def run(copies: int = 4, verbose: bool = True) -> dict[str, Any]:
    """Run the six steps; return every number the guide quotes (the test checks them)."""
    say: Callable[..., None] = print if verbose else (lambda *args, **kwargs: None)
    train_images, train_labels, _ = make_split(80, seed=0, night_share=0.0)
    val_images, val_labels, val_groups = make_split(80, seed=1, night_share=0.5)
    results: dict[str, Any] = {}

    # --8<-- [start:step1]
    baseline = train(train_images, train_labels, policy=None, seed=0)
    augmented = train(train_images, train_labels, make_policy(), seed=0, copies=copies)
    results["baseline"] = accuracy(baseline, val_images, val_labels)
    results["policy"] = accuracy(augmented, val_images, val_labels)
    say(f"1. baseline {results['baseline']:.3f}, with the policy {results['policy']:.3f}")
    # --8<-- [end:step1]

    # LEAD(issue 19 merge): generate these variants with `invariance ablate POLICY` (each transform
    # removed, each p and magnitude raised and lowered, with fingerprints and a manifest) and loop
    # over its manifest instead of building the removals by hand.
    # --8<-- [start:step2]
    ablations = {}
    for index, step in enumerate(make_policy().transforms):
        variant = A.Compose([t for i, t in enumerate(make_policy().transforms) if i != index])
        model = train(train_images, train_labels, variant, seed=0, copies=copies)
        ablations[f"without {type(step).__name__}"] = {
            "fingerprint": A.fingerprint(variant)[:12],
            "val": accuracy(model, val_images, val_labels),
            "flipped": probe_accuracy(model, val_images, val_labels, PROBES["flip"]),
        }
    results["ablations"] = ablations
    for name, row in ablations.items():
        say(f"2. {name} ({row['fingerprint']}): val {row['val']:.3f}, flipped {row['flipped']:.3f}")
    # --8<-- [end:step2]

    # --8<-- [start:step3]
    day = val_groups == "day"
    day_images = [im for im, d in zip(val_images, day) if d]
    stress: dict[str, dict[str, float]] = {}
    for name, model in (("baseline", baseline), ("policy", augmented)):
        stress[name] = {
            probe: probe_accuracy(model, day_images, val_labels[day], t) for probe, t in PROBES.items()
        }
        suite = robustness.evaluate_robustness(
            model,
            list(zip(day_images, val_labels[day])),
            corruptions=["gaussian_noise", "contrast"],
            severities=[1, 3, 5],
            seed=0,
        )
        stress[name]["mean over gaussian_noise, contrast"] = suite.summary()[-1]["mean_metric"]
    results["stress"] = stress
    for name, row in stress.items():
        say(f"3. {name}: " + ", ".join(f"{probe} {value:.3f}" for probe, value in row.items()))
    # --8<-- [end:step3]

    # --8<-- [start:step4]
    class_names = np.asarray(CLASSES)[val_labels]
    results["per_class"] = {
        name: per_group_accuracy(model, val_images, val_labels, class_names)
        for name, model in (("baseline", baseline), ("policy", augmented))
    }
    results["per_group"] = {
        name: per_group_accuracy(model, val_images, val_labels, val_groups)
        for name, model in (("baseline", baseline), ("policy", augmented))
    }
    for name in ("baseline", "policy"):
        say(f"4. {name}: per class {results['per_class'][name]}, per subgroup {results['per_group'][name]}")
    # --8<-- [end:step4]

    # LEAD(issue 19 merge): the robustness report runs several seeds and reports their spread
    # itself; use it here for the stress tests too.
    # --8<-- [start:step5]
    seeds = [0, 1, 2]
    night = ~day
    night_images = [im for im, n in zip(val_images, night) if n]
    runs = [
        accuracy(
            train(train_images, train_labels, make_policy(), seed=s, copies=copies),
            night_images,
            val_labels[night],
        )
        for s in seeds
    ]
    results["seeds"] = {"night": runs, "mean": float(np.mean(runs)), "spread": float(np.ptp(runs))}
    say(f"5. night accuracy over seeds {seeds}: {runs} (mean {np.mean(runs):.3f}, spread {np.ptp(runs):.3f})")
    # --8<-- [end:step5]

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
