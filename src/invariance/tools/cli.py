"""The ``invariance`` command."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    name="invariance",
    help="Image augmentation for computer-vision training: try, inspect and run policies.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """invariance command line."""


@app.command()
def demo(
    output: Path = typer.Option(Path("invariance-demo.png"), "--output", "-o", help="PNG file to write."),
    samples: int = typer.Option(8, min=1, max=64, help="Number of augmented samples."),
    seed: int = typer.Option(0, help="Pipeline seed (same seed, same grid)."),
) -> None:
    """Augment a built-in synthetic scene (image, mask, boxes, keypoints) with the reference
    article's starter pipeline and write a grid with every target overlaid."""
    from rich.console import Console

    from invariance.tools.demo import run_demo

    path = run_demo(output, samples=samples, seed=seed)
    Console().print(
        f"Wrote {samples} augmented samples (plus the original, top-left) to [bold]{path.resolve()}[/bold]"
    )


@app.command("list")
def list_transforms() -> None:
    """List the catalogue: transforms by family, with their targets."""
    from rich.console import Console
    from rich.table import Table

    import invariance  # noqa: F401  (registers the catalogue)
    from invariance.core import registry
    from invariance.core.transform import BasicTransform

    table = Table(title="invariance transforms")
    for column in ("family", "transform", "targets", "dtypes"):
        table.add_column(column)
    rows = []
    for name, cls in registry.registered().items():
        if not isinstance(cls, type) or not issubclass(cls, BasicTransform) or name.startswith("_"):
            continue
        if cls in (BasicTransform,) or cls.__module__.startswith("invariance.core"):
            continue
        rows.append((cls.family, name, ", ".join(cls.supported_targets), ", ".join(cls.supported_dtypes)))
    for row in sorted(rows):
        table.add_row(*row)
    Console().print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
