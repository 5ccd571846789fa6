"""kernels/ holds pure functions: no randomness, no validation. The transforms draw random inputs
(from a Generator rebuilt from the seed they record) and check arguments and inputs at the edge."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import invariance as A
import invariance.kernels as kernels_package

KERNEL_MODULES = sorted(info.name for info in pkgutil.iter_modules(kernels_package.__path__))


def _tree(module: str) -> ast.Module:
    path = Path(kernels_package.__path__[0]) / f"{module}.py"
    return ast.parse(path.read_text())


@pytest.mark.parametrize("module", KERNEL_MODULES)
def test_kernels_draw_no_random_numbers(module):
    names = {node.attr for node in ast.walk(_tree(module)) if isinstance(node, ast.Attribute)}
    names |= {node.id for node in ast.walk(_tree(module)) if isinstance(node, ast.Name)}
    assert not names & {"random", "default_rng", "Generator", "RandomState"}, module
    mod = importlib.import_module(f"invariance.kernels.{module}")
    for name, func in inspect.getmembers(mod, inspect.isfunction):
        if func.__module__ != mod.__name__:
            continue
        params = set(inspect.signature(func).parameters)
        assert not params & {"rng", "seed", "generator", "random_state"}, f"{module}.{name}"


@pytest.mark.parametrize("module", KERNEL_MODULES)
def test_kernels_do_not_validate(module):
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Assert):
            pytest.fail(f"kernels/{module}.py line {node.lineno}: assert in a kernel")
        if isinstance(node, ast.Raise):
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = exc.id if isinstance(exc, ast.Name) else ast.dump(exc) if exc else "re-raise"
            pytest.fail(f"kernels/{module}.py line {node.lineno}: raise {name} in a kernel")


@pytest.mark.parametrize(
    ("transform", "image"),
    [
        (A.ToGray(method="weighted_average", p=1), np.zeros((8, 8, 4), np.uint8)),
        (A.ToGray(method="from_lab", p=1), np.zeros((8, 8, 2), np.float32)),
        (A.Posterize(num_bits=[2, 3, 4, 5], p=1), np.zeros((8, 8, 3), np.uint8)),
    ],
    ids=["to_gray_4ch", "to_gray_lab_2ch", "posterize_bits_per_channel"],
)
def test_checks_moved_out_of_kernels_raise_input_error_at_the_transform(transform, image):
    with pytest.raises(A.InputError, match="channels"):
        A.Compose([transform])(image=image)


@pytest.mark.parametrize(
    "transform",
    [
        A.CoarseDropout(fill="random", num_holes_range=(3, 5), p=1),
        A.CoarseDropout(fill="random_uniform", num_holes_range=(3, 5), p=1),
        A.GridDropout(fill="random", p=1),
        A.PixelDropout(drop_value=None, dropout_prob=0.3, p=1),
        A.PixelDropout(drop_value=None, dropout_prob=0.3, per_channel=True, p=1),
        A.RandomSnow(method="texture", p=1),
        A.RandomFog(p=1),
        A.RandomGravel(p=1),
        A.Spatter(p=1),
        A.Spatter(mode="mud", p=1),
        A.PlasmaBrightnessContrast(plasma_size=32, p=1),
        A.PlasmaShadow(plasma_size=32, p=1),
    ],
    ids=lambda t: repr(t)[:60],
)
def test_random_fills_drawn_by_transforms_replay_from_recorded_params(transform):
    """The random inputs now come from the transform: same seed, same pixels; replaying the
    recorded parameters redraws the same fields; another seed gives other pixels."""
    image = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    runs = [A.ReplayCompose([transform], seed=seed)(image=image) for seed in (7, 7, 8)]
    np.testing.assert_array_equal(runs[0]["image"], runs[1]["image"])
    assert not np.array_equal(runs[0]["image"], runs[2]["image"])
    assert not np.array_equal(runs[0]["image"], image)
    replayed = A.ReplayCompose.replay(runs[0]["replay"], image=image)
    np.testing.assert_array_equal(replayed["image"], runs[0]["image"])


def test_a_missing_codec_is_a_parameter_error_naming_compression_type(monkeypatch):
    """The codec check moved out of the compression kernel to the constructor."""
    from invariance.transforms.pixel import quality

    monkeypatch.setattr(quality, "codec_available", lambda kind: kind != "webp")
    with pytest.raises(A.ParameterError, match=r"compression_type.*webp"):
        A.ImageCompression(compression_type="webp")
    assert A.ImageCompression(compression_type="jpeg").compression_type == "jpeg"
