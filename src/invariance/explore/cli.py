"""``invariance explore``: the command that starts the local explorer page."""

from __future__ import annotations

import typer


def explore_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (keep 127.0.0.1 to stay private)."),
    port: int = typer.Option(0, min=0, max=65535, help="Port to listen on (0: any free port)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open the page in a browser."),
) -> None:
    """Explore transforms on your own image in a local web page (nothing leaves the machine)."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        typer.echo("invariance explore needs the optional extra: pip install 'invariance[explore]'", err=True)
        raise typer.Exit(2) from None
    from invariance.explore.server import serve

    serve(host=host, port=port, open_browser=not no_browser)
