"""``chipgap chain``: who each chip depends on, and what a supply shock reaches."""

from __future__ import annotations

from typing import Annotated

import typer

from chipgap.analyses.chain import SHOCKS, exposure, shock
from chipgap.cli import get_catalog
from chipgap.cli.output import Format, console, print_csv, print_json, print_table

app = typer.Typer(no_args_is_help=True)


@app.command("exposure")
def exposure_cmd(
    ctx: typer.Context,
    chips: Annotated[list[str] | None, typer.Argument(help="Chip ids or aliases (default: all).")] = None,
    country: Annotated[str | None, typer.Option(help="Only chips designed in this country (CN, US).")] = None,
    shock_name: Annotated[str | None, typer.Option(
        "--shock", help="no-hbm-imports, foundry:COMPANY or node:NODE: list the chips it hits.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Each chip's designer, foundry and suppliers with their countries; with --shock, the
    chips (and companies behind them) a lost input reaches.

    For the change in output, run 'chipgap supply' on a shock scenario (china-2025-hbm-cutoff).
    """
    cat = get_catalog(ctx)
    df = shock(cat, shock_name, country or "CN") if shock_name else exposure(cat, chips, country)
    if fmt is Format.json:
        return print_json({"shock": shock_name, "description": SHOCKS.get((shock_name or "").split(":")[0]),
                           "rows": df.to_dict("records")})
    if fmt is Format.csv:
        return print_csv(df)
    if df.empty:
        console.print("nothing in the catalog is exposed")
        return
    cols = list(df.columns) if shock_name else ["chip", "role", "company", "company_country", "foreign", "via"]
    print_table([[str(r[c]) for c in cols] for r in df.to_dict("records")], cols, numeric_from=99,
                title=f"Hit by {shock_name}" if shock_name else "Supply-chain dependencies")
