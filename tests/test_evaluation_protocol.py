"""docs/examples/evaluation_protocol.py (the guide's one script) runs and finds what the guide says."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docs" / "examples" / "evaluation_protocol.py"
PAGE = ROOT / "docs" / "guide" / "evaluation-protocol.md"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("evaluation_protocol", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results() -> dict:
    return _script().run(verbose=False)


def test_step1_the_policy_beats_the_no_augmentation_baseline(results):
    assert results["policy"] > results["baseline"] + 0.2


def test_step2_the_ablate_manifest_gives_one_model_per_one_axis_variant(results):
    ablations = results["ablations"]
    removed = {name: row for name, row in ablations.items() if row["change"] == "removed"}
    assert sorted(removed) == [
        "01-horizontalflip-removed",
        "04-randombrightnesscontrast-removed",
        "11-affine-removed",
    ]
    # p raised and lowered, and magnitude ranges widened and narrowed, for every step
    assert any(row["change"].startswith("p 0.5 -> 0.7") for row in ablations.values())
    assert any(row["change"].startswith("brightness_limit [-0.6, 0.2] ->") for row in ablations.values())
    assert len(ablations) > 3 * len(removed)
    assert len({row["fingerprint"] for row in ablations.values()}) == len(ablations)
    # what each removal costs: the flip only shows on the flipped probe, brightness on validation
    assert removed["01-horizontalflip-removed"]["val"] > 0.9
    assert removed["01-horizontalflip-removed"]["flipped"] < 0.7 < results["stress"]["policy"]["flip 1"]
    assert removed["04-randombrightnesscontrast-removed"]["val"] < results["policy"] - 0.2
    # no other one-axis change moves validation accuracy by as much as a removal does
    others = [row["val"] for name, row in ablations.items() if name not in removed]
    assert min(others) > removed["04-randombrightnesscontrast-removed"]["val"] + 0.2
    assert min(others) > results["policy"] - 0.1


def test_step3_probes_expose_missing_invariances_and_name_the_family_to_add(results):
    baseline, policy = results["stress"]["baseline"], results["stress"]["policy"]
    assert baseline["flip 1"] < 0.7 and policy["flip 1"] > 0.9
    assert baseline["darken 5"] < 0.5 and policy["darken 5"] > 0.8
    # brightness both ways: the policy brightens by at most +0.2, and the +0.3 probe finds the gap
    assert policy["brighten 0.3"] < policy["darken 5"] and policy["brighten 0.1"] > 0.9
    # gaining one invariance can cost another
    assert policy["contrast 3"] < baseline["contrast 3"] - 0.2
    assert policy["gaussian_noise 5"] > 0.9
    failing = {name: {r["probe"]: r for r in found} for name, found in results["recommendations"].items()}
    assert set(failing["baseline"]) >= {"flip", "darken"} and "flip" not in failing["policy"]
    assert "gaussian_noise" not in failing["baseline"] | failing["policy"]
    assert failing["baseline"]["flip"]["failure"] == "viewpoint"
    assert "RandomBrightnessContrast" in failing["baseline"]["darken"]["transforms"]


def test_step4_the_night_subgroup_collapses_without_augmentation(results):
    assert results["per_group"]["baseline"]["day"] == 1.0
    assert results["per_group"]["baseline"]["night"] < 0.5 < results["per_group"]["policy"]["night"]
    assert set(results["per_class"]["baseline"]) == {"sun", "house", "tree", "car"}
    assert (
        min(results["per_class"]["baseline"].values()) < 0.5 < max(results["per_class"]["baseline"].values())
    )
    # the subgroup table shows where a probe bites: darkening costs night far more than day
    assert results["night_under"]["darken"] < results["day_under"]["darken"] - 0.3


def test_step5_seeds_give_a_spread_and_the_failures_hold_over_them(results):
    seeds = results["seeds"]
    assert len(seeds["night"]) == 3 and seeds["spread"]["seeds"] == 3
    assert seeds["spread"]["min"] <= seeds["spread"]["mean"] <= seeds["spread"]["max"]
    assert 0.0 < seeds["spread"]["max"] - seeds["spread"]["min"] < 0.3 and seeds["spread"]["mean"] > 0.7
    assert {"darken", "contrast"} <= set(seeds["failing"]) and "flip" not in seeds["failing"]


def test_step6_loader_cache_and_checkpoint(results):
    pytest.importorskip("torch", reason="torch is not installed: pip install 'invariance[torch]'")
    assert results["cached_head"] == ("Resize",) and results["cached_samples"] == 16
    assert results["checkpoint_matches"] is True and results["loader_recommended_workers"] == 0


def test_the_guide_includes_every_section_of_the_script():
    page = PAGE.read_text()
    script = SCRIPT.read_text()
    included = re.findall(r'--8<-- "docs/examples/evaluation_protocol\.py:(\w+)"', page)
    defined = re.findall(r"# --8<-- \[start:(\w+)\]", script)
    assert included and set(included) == set(defined)
