"""Print the bad-input table of docs/bad-inputs.md from the tested cases.

The cases live in tests/test_validation.py and tests/test_bad_inputs_more.py as
``(name, call, error, match)`` tuples. This script runs every call, records the error type and
the full message invariance gives, and prints a markdown table. docs/bad-inputs.md holds its
output between the ``<!-- table -->`` markers, and a test fails when the page and the script
disagree, so the page cannot drift from the code.

Run from the repository root::

    python docs/scripts/bad_inputs_table.py           # print the table
    python docs/scripts/bad_inputs_table.py --write   # rewrite the table in docs/bad-inputs.md
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "bad-inputs.md"
START, END = "<!-- table -->", "<!-- /table -->"


def cases() -> list[tuple[str, str, Callable[[], Any], type[BaseException]]]:
    """(section, name, call, expected error) for every tested case, in table order."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests import test_bad_inputs_more as more
    from tests import test_validation as first

    out = []
    for section, table in (
        ("Pipeline call", first.CALL_CASES + more.MORE_CALL_CASES),
        ("Construction and policy files", first.CONSTRUCTION_CASES + more.MORE_CONSTRUCTION_CASES),
    ):
        for name, call, error, _match in table:
            out.append((section, name, call, error))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def render() -> str:
    lines: list[str] = []
    section = None
    for where, name, call, expected in cases():
        if where != section:
            if lines:
                lines.append("")
            lines += [f"### {where}", "", "| Case | Error | Message |", "| --- | --- | --- |"]
            section = where
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                call()
            except expected as error:
                message = str(error)
                kind = type(error).__name__
            else:  # pragma: no cover - the tests fail first
                raise AssertionError(f"case {name!r} raised nothing")
        lines.append(f"| {_cell(name)} | `{kind}` | {_cell(message)} |")
    return "\n".join(lines) + "\n"


def page_table() -> str:
    text = PAGE.read_text()
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write() -> None:
    text = PAGE.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    PAGE.write_text(f"{head}{START}\n{render()}{END}{tail}")


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write()
    else:
        sys.stdout.write(render())
