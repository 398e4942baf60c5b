"""``chipgap chain``: who each chip depends on, and what a supply shock reaches."""

from __future__ import annotations

from typing import Annotated

import typer

from chipgap.analyses.chain import SHOCKS, exposure, shock
from chipgap.cli import get_catalog
from chipgap.analyses.supply import shock_effect
from chipgap.cli.output import Format, console, num, print_csv, print_json, print_table
from chipgap.limits import MAX_SEED

app = typer.Typer(no_args_is_help=True)


@app.command("exposure")
def exposure_cmd(
    ctx: typer.Context,
    chips: Annotated[list[str] | None, typer.Argument(help="Chip ids or aliases (default: all).")] = None,
    country: Annotated[str | None, typer.Option(help="Only chips designed in this country (CN, US).")] = None,
    shock_name: Annotated[str | None, typer.Option(
        "--shock", help="no-hbm-imports, foundry:COMPANY or node:NODE: list the chips it hits.")] = None,
    supply_scenario: Annotated[str | None, typer.Option(
        "--supply-scenario", help="With a foundry or node --shock: also the change in this supply "
                                  "scenario's output (china-2026-base).")] = None,
    remaining: Annotated[float, typer.Option(min=0.0, max=1.0,
                                             help="Fraction of the shocked capacity left (0.5: it halves).")] = 0.0,
    samples: Annotated[int, typer.Option(min=100, max=1_000_000, help="Monte-Carlo draws.")] = 4000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the draws.")] = 0,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Each chip's designer, foundry and suppliers with their countries; with --shock, the
    chips (and companies behind them) a lost input reaches.

    With --supply-scenario a foundry or node shock also shows the scenario's output before and
    after (an HBM cut-off is a supply scenario of its own: 'chipgap supply --scenario
    china-2026-hbm-cutoff').
    """
    cat = get_catalog(ctx)
    if supply_scenario and not shock_name:
        raise typer.BadParameter("needs --shock", param_hint="--supply-scenario")
    df = shock(cat, shock_name, country or "CN") if shock_name else exposure(cat, chips, country)
    effect = shock_effect(cat, supply_scenario, shock_name, remaining, samples, seed) if supply_scenario else None
    if fmt is Format.json:
        out = {"shock": shock_name, "description": SHOCKS.get((shock_name or "").split(":")[0]),
               "rows": df.to_dict("records")}
        if effect is not None:
            out["supply"] = {"scenario": supply_scenario, "remaining": remaining, "rows": effect.to_dict("records")}
        return print_json(out)
    if fmt is Format.csv:
        return print_csv(df if effect is None else effect)
    if effect is not None:
        p50 = effect[effect["quantile"] == "P50"]
        print_table([[r.total, num(r.chips_before), num(r.chips_after), num(r.h100_equivalents_before),
                      num(r.h100_equivalents_after), r.binding_after] for r in p50.itertuples()],
                    ["total", "chips before", "chips after", "H100-eq before", "H100-eq after", "binding after"],
                    title=f"{supply_scenario} with {shock_name} at {remaining:.0%} (P50)", numeric_from=1)
    if df.empty:
        console.print("nothing in the catalog is exposed")
        return
    cols = list(df.columns) if shock_name else ["chip", "role", "company", "company_country", "foreign", "via"]
    print_table([[str(r[c]) for c in cols] for r in df.to_dict("records")], cols, numeric_from=99,
                title=f"Hit by {shock_name}" if shock_name else "Supply-chain dependencies")
