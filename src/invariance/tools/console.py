"""Shared console helpers for the subcommands: rich progress bars and error exits.

Both consoles print text as it is: rich's markup is off, so brackets in messages (install hints
such as ``pip install 'invariance[plot]'``, YAML error lines, paths) reach the user intact. Styled
output is built from :class:`rich.text.Text` parts (see :func:`styled`), never from markup strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

#: Standard output. ``soft_wrap``: long lines are not cut at the terminal width, so output written
#: to a pipe or a file (``invariance presets NAME > p.yaml``) is exactly the text printed.
console = Console(soft_wrap=True, markup=False, highlight=False)
errors = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)


def styled(*parts: str | tuple[str, str]) -> Text:
    """One line from plain strings and ``(text, style)`` pairs; no part is read as markup."""
    return Text.assemble(*parts)


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Progress]:
    """A rich progress bar with one task (id 0) of ``total`` steps; hidden when not a terminal."""
    progress = Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )
    with progress:
        progress.add_task(description, total=total)
        yield progress


def advance(progress: Progress, completed: int | None = None) -> None:
    """Advance the bar of :func:`progress_bar` by one step, or set it to ``completed``."""
    task = progress.task_ids[0]
    if completed is None:
        progress.advance(task)
    else:
        progress.update(task, completed=completed)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` as an error and exit with ``code``."""
    errors.print(styled(("error:", "bold red"), " ", message))
    raise typer.Exit(code)
