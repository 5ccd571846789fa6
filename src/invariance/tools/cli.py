"""The ``invariance`` command."""

from __future__ import annotations

from pathlib import Path

import typer

from invariance.explore.cli import explore_command
from invariance.tools import ablate, augment, check_eval, policy_diff, preview, validate
from invariance.tools.catalogue import presets_command
from invariance.tools.profile import profile_command
from invariance.tools.robustness_cli import robustness_command

app = typer.Typer(
    name="invariance",
    help="Image augmentation for computer-vision training: try, inspect and run policies.",
    no_args_is_help=True,
    add_completion=False,
    # Help texts are plain text: with rich markup, "invariance[plot]" in a help line lost its brackets.
    rich_markup_mode=None,
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
    from invariance.tools.console import console, styled
    from invariance.tools.demo import run_demo

    path = run_demo(output, samples=samples, seed=seed)
    console.print(
        styled(
            f"Wrote {samples} augmented samples (plus the original, top-left) to ",
            (str(path.resolve()), "bold"),
        )
    )


@app.command("list")
def list_transforms(
    family: str = typer.Option(None, "--family", "-f", help="Show one family only (geometric, pixel...)."),
) -> None:
    """List the catalogue: transforms by family, with their targets and dtypes."""
    from invariance.core.errors import ParameterError
    from invariance.tools.catalogue import print_catalogue
    from invariance.tools.console import fail

    try:
        print_catalogue(family)
    except ParameterError as error:
        fail(str(error))


# Each subcommand lives in its own module with its Python API; register new ones here.
app.command("preview")(preview.command)
app.command("augment")(augment.command)
app.command("validate")(validate.command)
app.command("diff")(policy_diff.command)
app.command("check-eval")(check_eval.command)
app.command("presets")(presets_command)
app.command("robustness")(robustness_command)
app.command("explore")(explore_command)
app.command("profile")(profile_command)
app.command("ablate")(ablate.command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
