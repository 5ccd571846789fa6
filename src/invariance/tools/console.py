"""Shared console helpers for the subcommands: rich progress bars and error exits."""

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

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Progress]:
    """A rich progress bar with one task (id 0) of ``total`` steps; hidden when not a terminal."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
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
    errors.print(f"[bold red]error:[/bold red] {message}", highlight=False)
    raise typer.Exit(code)
