"""Every ``$ invariance ...`` example in docs/cli.md shows what the command prints today."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from invariance.tools.cli import app

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
BLOCK = re.compile(r"```\n\$ (invariance [^\n]*)\n(.*?)```\n", re.DOTALL)


def _examples() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(DOC.read_text())]


def test_the_page_has_examples_with_fingerprints():
    examples = _examples()
    assert any("fingerprint" in shown for _, shown in examples)


@pytest.mark.parametrize(("command", "shown"), _examples(), ids=[c for c, _ in _examples()])
def test_example_output_is_current(command, shown, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, shlex.split(command)[1:], env={"COLUMNS": "500"})
    assert result.output == shown, f"docs/cli.md is stale for `{command}`; rerun it and paste the output"
