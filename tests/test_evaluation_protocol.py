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


def test_step2_each_one_axis_ablation_shows_what_its_transform_buys(results):
    ablations = results["ablations"]
    assert set(ablations) == {"without HorizontalFlip", "without RandomBrightnessContrast", "without Affine"}
    assert ablations["without HorizontalFlip"]["flipped"] < 0.7 < results["stress"]["policy"]["flip"]
    assert ablations["without RandomBrightnessContrast"]["val"] < results["policy"] - 0.2
    assert len({row["fingerprint"] for row in ablations.values()}) == 3


def test_step3_stress_tests_expose_the_baselines_missing_invariances(results):
    baseline, policy = results["stress"]["baseline"], results["stress"]["policy"]
    assert baseline["flip"] < 0.7 and policy["flip"] > 0.9
    assert baseline["darken x0.5"] < 0.5 and policy["darken x0.5"] > 0.8
    # the policy brightens by at most +0.2: the x1.3 probe finds the gap the guide discusses
    assert policy["brighten x1.3"] < policy["darken x0.5"]


def test_step4_the_night_subgroup_collapses_without_augmentation(results):
    assert results["per_group"]["baseline"]["day"] == 1.0
    assert results["per_group"]["baseline"]["night"] < 0.5 < results["per_group"]["policy"]["night"]
    assert set(results["per_class"]["baseline"]) == {"sun", "house", "tree", "car"}


def test_step5_seeds_give_a_spread(results):
    seeds = results["seeds"]
    assert len(seeds["night"]) == 3 and 0.0 <= seeds["spread"] < 0.3 and seeds["mean"] > 0.7


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
