"""``invariance diff A B``: what changed between two policies, for code review.

Both policies are built first (so ``limit: 10`` and ``limit: [-10, 10]`` compare equal, as they
mean the same) and compared structurally with :func:`invariance.diff`; a file that cannot be built
(a transform missing from this install) is compared as written. Both fingerprints are shown: equal
fingerprints mean equal policies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

import invariance as A
from invariance.core.errors import SerializationError
from invariance.core.serialization import read_policy


@dataclass
class PolicyDiff:
    """Fingerprints of both sides and the list of changes (empty when they are the same policy)."""

    left: str
    right: str
    left_fingerprint: str
    right_fingerprint: str
    changes: list[str]

    @property
    def same(self) -> bool:
        return self.left_fingerprint == self.right_fingerprint and not self.changes


def _as_policy(source: Any) -> Any:
    """A built transform when possible, else the file's raw dict."""
    if not isinstance(source, (str, Path)):
        return source
    path = Path(source)
    if not path.is_file():
        from invariance.tools.runner import load_policy

        return load_policy(str(source))
    document = read_policy(path)  # under the size, depth, alias and integer limits
    try:
        return A.from_dict(document)
    except A.InvarianceError:
        if not isinstance(document, Mapping):
            raise SerializationError(
                f"{str(path)!r}: a policy must be a mapping, got {type(document).__name__}"
            ) from None
        return document


def diff_policies(a: Any, b: Any) -> PolicyDiff:
    """Compare two policies given as files, preset names, transforms or dicts."""
    left, right = _as_policy(a), _as_policy(b)
    return PolicyDiff(
        str(a) if isinstance(a, (str, Path)) else type(a).__name__,
        str(b) if isinstance(b, (str, Path)) else type(b).__name__,
        A.fingerprint(left),
        A.fingerprint(right),
        A.diff(left, right),
    )


def command(
    a: str = typer.Argument(..., help="The old policy (file or preset name)."),
    b: str = typer.Argument(..., help="The new policy (file or preset name)."),
    exit_code: bool = typer.Option(
        False, "--exit-code", help="Exit 1 when the policies differ (like git diff)."
    ),
) -> None:
    """Structural difference between two policies, with both fingerprints (for code review)."""
    from invariance.tools.console import console, fail

    try:
        result = diff_policies(a, b)
    except (A.InvarianceError, OSError, ValueError) as error:
        fail(f"cannot read the policies: {error}")
    console.print(f"--- {result.left}  fingerprint {result.left_fingerprint}")
    console.print(f"+++ {result.right}  fingerprint {result.right_fingerprint}")
    if result.same:
        console.print("identical policies", style="green")
        return
    for line in result.changes:
        style = "red" if ": removed" in line else "green" if ": added" in line else "yellow"
        console.print(line, style=style)
    console.print(f"{len(result.changes)} change(s)")
    if exit_code:
        raise typer.Exit(1)
