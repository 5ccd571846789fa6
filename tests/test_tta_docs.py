"""The worked examples of docs/tta.md and docs/robustness.md run, in order, as written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def run_guide(name: str) -> dict[str, Any]:
    """Run every python block of one page as one script, in a fresh module."""
    path = DOCS / name
    blocks = BLOCK.findall(path.read_text(encoding="utf-8"))
    assert blocks, f"{name} has no python code blocks"
    module = types.ModuleType(f"doc_{path.stem}")
    sys.modules[module.__name__] = module
    try:
        for number, code in enumerate(blocks, 1):
            exec(compile(code, f"{name}[block {number}]", "exec", dont_inherit=True), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


def test_tta_guide_runs() -> None:
    ns = run_guide("tta.md")
    assert ns["probs"].shape == (1, 120, 160, 2)
    assert ns["found"]["labels"].tolist() == [4]
    assert ns["wheels"].shape == (1, 2, 2)


def test_robustness_guide_runs(capsys: pytest.CaptureFixture[str]) -> None:
    ns = run_guide("robustness.md")
    assert ns["report"].clean == 1.0
    assert "## Summary" in capsys.readouterr().out
