"""``chipgap supply``: chips and compute a supply scenario yields, and what binds it."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from chipgap.analyses.supply import compare_estimates, supply, supply_inputs
from chipgap.cli import get_catalog
from chipgap.cli.output import Format, num, print_csv, print_json, print_table, save_figure
from chipgap.errors import InputError
from chipgap.limits import MAX_SEED


class View(str, Enum):
    lines = "lines"
    inputs = "inputs"
    estimates = "estimates"


def supply_cmd(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Option(min=1990, max=2100, help="Year; picks the base scenario of that year.")] = None,
    scenario: Annotated[str | None, typer.Option(help="Scenario id (see the catalog's supply section).")] = None,
    view: Annotated[View, typer.Option(help="lines: chips and compute per line; inputs: each capacity's need "
                                            "and what binds; estimates: published estimates beside the model.")]
    = View.lines,
    samples: Annotated[int, typer.Option(min=100, max=1_000_000, help="Monte-Carlo draws.")] = 4000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the draws.")] = 0,
    chart: Annotated[Path | None, typer.Option("--chart", dir_okay=False,
                                               help="Draw every catalog scenario side by side (.png/.svg).")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Domestic chips, imports, dense BF16 PFLOPS and H100-equivalents in a year, with the
    input (die bank, wafers, HBM or packaging) that binds the reported volumes, and the
    published estimates beside them.

    H100-equivalents come two ways, labelled: 'spec' (dense BF16 peak over the H100's) and
    'workload' (training throughput on Llama 3.1 70B over the H100's, from the training model).
    """
    cat = get_catalog(ctx)
    if scenario is None:
        matches = [s for s in cat.supply_scenarios.values() if s.year == year and s.id.endswith("-base")]
        if not matches:
            raise InputError("--year / --scenario", f"a year with a base scenario ("
                             f"{', '.join(sorted(str(s.year) for s in cat.supply_scenarios.values()))})"
                             " or a scenario id", year)
        scenario = matches[0].id
    sc = cat.supply(scenario)
    if chart is not None:
        from chipgap.report.econ_charts import supply_chart

        ids = sorted(cat.supply_scenarios, key=lambda i: (cat.supply(i).year, i))
        save_figure(chart, lambda: supply_chart(cat, ids, samples))
    if fmt is Format.json:
        df = supply(cat, scenario, samples, seed)
        total = df[(df.line == "total all") & (df["quantile"] == "P50")].iloc[0]
        est = compare_estimates(cat, samples, seed, {sc.year: sc.id})
        return print_json({"scenario": scenario, "year": sc.year, "chips": total.chips,
                           "h100_equivalents": total.h100_equivalents_spec,
                           "h100_equivalents_workload": total.h100_equivalents_workload,
                           "binding_constraint": df[df.line == "total domestic"].binding_constraint.iloc[0],
                           "rows": df.to_dict("records"),
                           "inputs": supply_inputs(cat, scenario, samples, seed).to_dict("records"),
                           "estimates": est.to_dict("records")})
    if view is View.inputs:
        return _inputs(supply_inputs(cat, scenario, samples, seed), sc.name, fmt)
    if view is View.estimates:
        return _estimates(compare_estimates(cat, samples, seed, {sc.year: sc.id}), sc.name, fmt)
    df = supply(cat, scenario, samples, seed)
    if fmt is Format.csv:
        return print_csv(df)
    rows = []
    for line, part in df.groupby("line", sort=False):
        q = {r["quantile"]: r for r in part.to_dict("records")}
        rows.append([line, *(_cell(q, k) for k in ("planned_chips", "chips", "bf16_pflops", "h100_equivalents_spec",
                                                    "h100_equivalents_workload"))])
    print_table(rows, ["line", "reported chips", "chips", "BF16 PFLOPS", "H100-eq (spec)", "H100-eq (workload)"],
                title=f"{sc.name}: P50 (P10-P90)",
                caption=f"binding input for domestic lines: "
                        f"{df[df.line == 'total domestic'].binding_constraint.iloc[0]} ('volumes': no modelled "
                        "capacity falls short of the reported volumes); --view inputs for each capacity",
                numeric_from=1)


def _inputs(df, name: str, fmt: Format) -> None:  # noqa: ANN001
    if fmt is Format.csv:
        return print_csv(df)
    print_table([[r.input, num(r.need_p50), num(r.capacity_p50) or "not modelled",
                  f"{r.need_over_capacity_p50:.0%}" if r.need_over_capacity_p50 == r.need_over_capacity_p50 else "",
                  num(r.chips_lost_p50), f"{r.binds_share:.0%}", num(r.left_p50)] for r in df.itertuples()],
                ["input", "need (P50)", "capacity (P50)", "need / capacity", "chips lost", "binds in", "left"],
                title=f"{name}: what the reported volumes need of each capacity")


def _estimates(df, name: str, fmt: Format) -> None:  # noqa: ANN001
    if fmt is Format.csv:
        return print_csv(df)
    print_table([[r.publisher, r.date, r.scope, r.basis, f"{r.comparator if r.comparator != '=' else ''}{num(r.published)}",
                  f"{num(r.model_p50)} ({num(r.model_p10)}-{num(r.model_p90)})", r.agreement,
                  "yes" if r.input else ""] for r in df.itertuples()],
                ["publisher", "date", "counts", "basis", "published", "model P50 (P10-P90)", "agreement",
                 "also an input"], title=f"Published estimates beside {name}", numeric_from=4)


def _cell(q: dict, key: str) -> str:
    lo, mid, hi = (q[p][key] for p in ("P10", "P50", "P90"))
    if mid is None:
        return "n/a"
    return num(mid) if hi <= lo * (1 + 1e-9) else f"{num(mid)} ({num(lo)}-{num(hi)})"
