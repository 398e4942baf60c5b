"""``chipgap scenario``: list the bundled scenarios, run one (or your own file)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from chipgap.analyses.scenario import run_scenario
from chipgap.catalog.scenario import bundled_scenarios_dir, read_scenario
from chipgap.cli.output import Format, console, num, print_csv, print_json, print_table
from chipgap.limits import MAX_SEED

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_cmd(fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table) -> None:
    """The scenarios that ship with chipgap (run one by name)."""
    rows = [read_scenario(p) for p in sorted(bundled_scenarios_dir().glob("*.yaml"))]
    data = [{"name": s.name, "title": s.title, "questions": len(s.questions)} for s in rows]
    if fmt is Format.json:
        return print_json(data)
    if fmt is Format.csv:
        import pandas as pd

        return print_csv(pd.DataFrame(data))
    print_table([[d["name"], d["title"], str(d["questions"])] for d in data], ["name", "title", "questions"])


@app.command("run")
def run_cmd(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(help="A scenario YAML file, or the name of a bundled one.")],
    samples: Annotated[int, typer.Option(min=100, max=1_000_000, help="Monte-Carlo draws per chip.")] = 2000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the draws (same seed, same numbers).")] = 0,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Apply a scenario's catalog changes and answer its questions, with P10/P50/P90 ranges
    and the probability of each claim it states.

    A scenario file has name, title, description, sources, catalog (sections read on top of
    the catalog, like a --catalog folder) and questions (ask: train, serve, spec, supply,
    chip-cost or shock). See the bundled ones with 'chipgap scenario list'.
    """
    root = ctx.find_root().obj or {}
    result = run_scenario(scenario, root.get("catalog_dir"), samples, seed)
    if fmt is Format.json:
        return print_json({"name": result.scenario.name, "title": result.scenario.title,
                           "samples": samples, "seed": seed,
                           "claims": result.claims().to_dict("records"),
                           "questions": {r.question.id: r.table.to_dict("records") for r in result.results}})
    if fmt is Format.csv:
        import pandas as pd

        return print_csv(pd.concat([r.table.assign(question=r.question.id) for r in result.results],
                                   ignore_index=True))
    console.print(f"[bold]{escape(result.scenario.title)}[/]\n{escape(result.scenario.description)}\n")
    for r in result.results:
        _print_question(r)
    claims = result.claims()
    if not claims.empty:
        print_table([[c.question, c.claim, f"{c.probability:.0%}", num(c.a_p50), num(c.b_p50)]
                     for c in claims.itertuples()],
                    ["question", "claim", "P", "A (P50)", "B (P50)"],
                    title=f"Claims ({samples} samples, seed {seed})", numeric_from=2)


def _print_question(r) -> None:  # noqa: ANN001
    title = r.question.title or r.question.id
    t = r.table
    if {"chip", "metric", "p10", "p50", "p90"} <= set(t.columns):
        rows = [[x.chip, x.metric, num(x.p50), f"{num(x.p10)}-{num(x.p90)}"] if x.metric else
                [x.chip, "", "", x.note] for x in t.itertuples()]
        print_table(rows, ["chip", "metric", "P50", "P10-P90"], title=title, numeric_from=2)
    elif "cost_per_chip_usd" in t.columns:  # chip-cost
        p50 = t[t["quantile"] == "P50"]
        print_table([[x.chip, x.case, f"{x.die_yield:.0%}", num(x.cost_per_chip_usd), num(x.price_usd),
                      "" if x.gross_margin != x.gross_margin else f"{x.gross_margin:.0%}"]
                     for x in p50.itertuples()],
                    ["chip", "reported yield", "die yield", "cost/chip USD (P50)", "price USD (P50)", "margin"],
                    title=title, numeric_from=2)
    elif "quantile" in t.columns:  # supply
        p50 = t[(t["quantile"] == "P50") & t.line.str.startswith("total")]
        print_table([[x.scenario, x.line, num(x.chips), num(x.h100_equivalents_spec), x.binding_constraint]
                     for x in p50.itertuples()],
                    ["scenario", "line", "chips (P50)", "H100-eq spec (P50)", "binding"], title=title,
                    numeric_from=2)
    else:
        print_table([[str(v) for v in row] for row in t.itertuples(index=False)], list(t.columns),
                    title=title)
