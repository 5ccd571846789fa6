"""``benchmarks/loader.py --smoke`` runs end to end (issue 23, item 6): JPEGs written, both readers
through a DataLoader, the table printed. Speed is not checked here (it belongs in the benchmark)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="torch is optional: pip install -e '.[test,torch]' to run this test")
pytest.importorskip("albumentations", reason="the benchmark compares against albumentations (the test extra)")
pytest.importorskip("skimage", reason="the benchmark's photos come from scikit-image (the test extra)")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "loader.py"


def test_the_smoke_mode_runs_and_prints_the_loader_table(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--images", str(tmp_path / "jpegs")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list((tmp_path / "jpegs").glob("*.jpg"))) == 4
    rows = [
        line for line in result.stdout.splitlines() if line.startswith(("| classification", "| detection"))
    ]
    assert len(rows) == 4  # two pipelines at 0 and 1 workers
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[2]) > 0 and float(cells[3]) > 0 and cells[4].endswith("x")
