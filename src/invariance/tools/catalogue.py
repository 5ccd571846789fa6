"""``invariance list``: the catalogue of transforms by family, with targets and dtypes."""

from __future__ import annotations

from typing import Any

import typer


def catalogue() -> dict[str, list[dict[str, Any]]]:
    """``{family: [{"name", "targets", "dtypes", "channels"}, ...]}`` for every registered transform."""
    import invariance  # noqa: F401  (registers the catalogue)
    from invariance.core import registry
    from invariance.core.transform import BasicTransform

    families: dict[str, list[dict[str, Any]]] = {}
    for name, cls in sorted(registry.registered().items()):
        if not isinstance(cls, type) or not issubclass(cls, BasicTransform) or name.startswith("_"):
            continue
        if cls.__module__.startswith("invariance.core"):
            continue
        if registry.is_base(cls):
            continue  # a base class (OcclusionTransform...), not a transform to use
        families.setdefault(cls.family, []).append(
            {
                "name": name,
                "targets": list(cls.supported_targets),
                "dtypes": list(cls.supported_dtypes),
                "channels": cls.supported_channels,
            }
        )
    return dict(sorted(families.items()))


def base_classes() -> list[str]:
    """Names of the registered bases for user transforms (``Transform3D``, ``VolumeOnlyTransform``...)."""
    import invariance  # noqa: F401  (registers the catalogue)
    from invariance.core import registry

    registered = registry.registered().items()
    return sorted(name for name, cls in registered if isinstance(cls, type) and registry.is_base(cls))


def print_catalogue(family: str | None = None) -> None:
    """Print the catalogue as a table, or one family of it.

    Raises:
        ParameterError: ``family`` is not one of the catalogue's families (the message lists them).
    """
    from rich.table import Table
    from rich.text import Text

    from invariance.core.errors import ParameterError
    from invariance.tools.console import console

    entries = catalogue()
    if family is not None:
        wanted = family.strip().lower()
        if wanted not in entries:
            raise ParameterError(
                f"--family {family!r} is not a family of the catalogue; expected one of {', '.join(entries)}"
            )
        entries = {wanted: entries[wanted]}
    table = Table(title=Text(f"invariance transforms ({sum(len(v) for v in entries.values())})"))
    for column in ("family", "transform", "targets", "dtypes", "channels"):
        table.add_column(column)
    for fam, rows in entries.items():
        for i, row in enumerate(rows):
            table.add_row(
                fam if i == 0 else "",
                row["name"],
                ", ".join(row["targets"]),
                ", ".join(row["dtypes"]),
                row["channels"],
                end_section=i == len(rows) - 1,
            )
    console.print(table)
    if family is None:
        console.print(f"Bases for your own transforms (subclass them): {', '.join(base_classes())}")


def presets_command(
    name: str = typer.Argument(None, help="Print this preset's YAML (e.g. detection/medium)."),
) -> None:
    """List the task presets (or print one, to copy and edit)."""
    from rich.table import Table
    from rich.text import Text

    from invariance.core.errors import InvarianceError
    from invariance.presets import available_presets, preset_description, preset_text
    from invariance.tools.console import fail

    if name:
        try:
            text = preset_text(name)
        except InvarianceError as error:
            fail(str(error))
        # Written as it is, never through rich: a console would wrap long lines at its width and
        # the YAML would no longer parse (``invariance presets NAME > p.yaml``).
        typer.echo(text, nl=not text.endswith("\n"))
        return
    from invariance.tools.console import console

    table = Table(title=Text("invariance presets (load_preset(name), or --policy name)"))
    table.add_column("preset")
    table.add_column("description")
    for preset in available_presets():
        table.add_row(preset, preset_description(preset))
    console.print(table)
