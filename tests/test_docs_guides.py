"""The code in the guides runs as written.

Every ```python block of a guide page runs, in page order, in one namespace (a later block may
use names an earlier one defined), inside a temporary working directory. A block whose first line
is ``# needs: <module>`` is skipped when that module is not installed.
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
GUIDES = [
    "getting-started.md",
    "guide/tasks.md",
    "guide/reproducibility.md",
    "guide/policies.md",
    "guide/migrating.md",
]
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def code_blocks(page: Path) -> list[str]:
    return FENCE.findall(page.read_text())


def test_fence_pattern_finds_blocks() -> None:
    text = "intro\n\n```python\nx = 1\n```\n\n```bash\nls\n```\n\n```python\ny = x + 1\n```\n"
    page = DOCS.parent / "tests" / "_fence_probe.md"
    try:
        page.write_text(text)
        assert code_blocks(page) == ["x = 1\n", "y = x + 1\n"]
    finally:
        page.unlink(missing_ok=True)


@pytest.mark.parametrize("name", GUIDES)
def test_guide_code_runs(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = DOCS / name
    if not page.exists():
        pytest.skip(f"{name} is not written")
    blocks = code_blocks(page)
    assert blocks, f"{name} has no python code blocks"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{Path(name).stem}"}
    for index, block in enumerate(blocks):
        first = block.splitlines()[0] if block.strip() else ""
        needs = re.match(r"#\s*needs:\s*([\w.]+)", first)
        if needs and importlib.util.find_spec(needs.group(1)) is None:
            continue
        code = compile(block, f"{name}[block {index}]", "exec")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            exec(code, namespace)
