"""The README's test command proves what CI proves: the oracle installs, optional torch skips say why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

ROOT = Path(__file__).resolve().parents[1]


def _extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["optional-dependencies"]


def test_the_test_extra_installs_the_oracle_but_not_torch():
    test = _extras()["test"]
    assert "albumentations==2.0.8" in test
    assert not any(re.match(r"torch\b|invariance\[.*torch", dep) for dep in test)


def test_the_readme_opens_with_two_commands_and_says_how_to_add_torch():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line.strip()]
    assert len(commands) == 2
    assert 'pip install -e ".[test]" && python -m pytest' in commands[1]
    assert 'pip install -e ".[test,torch]"' in readme


def test_every_torch_skip_gives_a_reason():
    pattern = re.compile(r"importorskip\(\s*\"(torch[a-z_.0-9]*)\"(?P<rest>[^)]*)\)")
    found = 0
    for path in sorted((ROOT / "tests").glob("*.py")):
        for match in pattern.finditer(path.read_text()):
            found += 1
            assert "reason=" in match.group("rest"), (
                f"{path.name}: importorskip({match.group(1)!r}) without reason"
            )
    assert found >= 8


def test_ci_runs_the_torchvision_adapter_tests():
    # torch and torchvision in one pip command (a pair that imports together), before the tests run.
    script = (ROOT / ".ci" / "run").read_text()
    pair = re.search(r"pip[ _]install [^\n]*\"torch==[\d.]+\" \"torchvision==[\d.]+\"", script)
    assert pair is not None
    assert pair.start() < script.index('echo "== tests"')
    assert "skip in CI" not in script
