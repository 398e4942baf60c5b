"""``chipgap serve``: the workbench in the browser, a thin view over the Python API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Opt = typer.Option


def serve(
    ctx: typer.Context,
    host: Annotated[str, Opt(help="Address to listen on (loopback by default: only this machine).")] = "127.0.0.1",
    port: Annotated[int, Opt(min=1, max=65535, help="Port to listen on.")] = 8050,
    catalog: Annotated[Path | None, Opt("--catalog", file_okay=False, dir_okay=True,
                                        help="Folder of YAML read on top of the bundled catalog "
                                             "(default: the global --catalog).")] = None,
    samples: Annotated[int, Opt(min=100, max=100_000, help="Monte-Carlo draws of the report behind the "
                                                           "overview (chipgap report's default).")] = 2000,
    seed: Annotated[int, Opt(min=0, help="Seed of the draws.")] = 0,
    workers: Annotated[int, Opt(min=1, max=64, help="Threads that compute answers.")] = 2,
    timeout: Annotated[float, Opt(min=1, help="Longest a request waits for its computation, seconds.")] = 120.0,
) -> None:
    """A local web workbench: the report's answers live, every assumption editable (as a scenario
    file to download), the chips side by side, training and serving questions as forms, sweeps
    charted, and a JSON API under /api/ (schema at /api/openapi.json).

    It binds to 127.0.0.1 by default; pages and scripts come from the package, nothing from
    elsewhere. Stop it with Ctrl-C.
    """
    import uvicorn

    from chipgap.web.app import create_app
    from chipgap.web.state import Settings

    root = ctx.find_root().obj or {}
    settings = Settings(catalog_dir=catalog or root.get("catalog_dir"), samples=samples, seed=seed,
                        workers=workers, timeout_s=timeout)
    app = create_app(settings, host=host)
    typer.echo(f"chipgap workbench on http://{'[' + host + ']' if ':' in host else host}:{port}/ (Ctrl-C stops it)",
               err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
