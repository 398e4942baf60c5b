"""``chipgap catalog check``: validate a folder of catalog YAML without using it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape

from chipgap.catalog import read_catalog
from chipgap.cli.output import Format, console, err_console, print_csv, print_json

app = typer.Typer(no_args_is_help=True)


@app.command("check")
def check(
    ctx: typer.Context,
    folder: Annotated[Path | None, typer.Argument(
        help="Folder of YAML to check on top of the bundled catalog (default: --catalog, else only the bundled one).",
        file_okay=False)] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Check every file of a catalog folder and report every problem (exit status 2 if any).

    Nothing is written; the folder is read as it would be with --catalog.
    """
    if folder is None and isinstance(ctx.find_root().obj, dict):
        folder = ctx.find_root().obj.get("catalog_dir")
    catalog, problems = read_catalog(folder)
    rows = [{"file": p.file, "entry": p.entry, "field": p.field, "message": p.message}
            for p in problems]
    if fmt is Format.json:
        print_json({"folder": str(folder) if folder else None, "ok": not problems, "problems": rows})
    elif fmt is Format.csv:
        print_csv(pd.DataFrame(rows, columns=["file", "entry", "field", "message"]))
    else:
        for p in problems:
            err_console.print(f"[bold red]error:[/] {escape(str(p))}", soft_wrap=True)
        if not problems and catalog is not None:
            counts = ", ".join(f"{len(getattr(catalog, k))} {k}" for k in
                               ("chips", "systems", "workloads", "rules", "runs", "companies",
                                "nodes", "sources"))
            console.print(escape(f"ok: {folder or 'bundled catalog'} ({counts})"))
    if problems:
        raise typer.Exit(2)
