"""``chipgap supply``: chips and compute a supply scenario yields, and what binds it."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from chipgap.analyses.supply import SupplyAnswer, supply_answer, supply_overview
from chipgap.cli import get_catalog
from chipgap.cli.output import Format, num, print_csv, print_json, print_table, save_figure
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
    views = ("lines", "inputs", "estimates") if fmt is Format.json else ("lines", view.value)
    a = supply_answer(cat, year, scenario, samples, seed, views)
    if chart is not None:
        from chipgap.plots.econ import supply_chart

        save_figure(chart, lambda: supply_chart(supply_overview(cat, samples=samples, seed=seed).lines))
    if fmt is Format.json:
        total = a.total()
        return print_json({"scenario": a.scenario, "year": a.year, "chips": total.chips,
                           "h100_equivalents": total.h100_equivalents_spec,
                           "h100_equivalents_workload": total.h100_equivalents_workload,
                           "binding_constraint": a.binding, "rows": a.lines.to_dict("records"),
                           "inputs": a.inputs.to_dict("records"), "estimates": a.estimates.to_dict("records")})
    if view is View.inputs:
        return _inputs(a.inputs, a.name, fmt)
    if view is View.estimates:
        return _estimates(a.estimates, a.name, fmt)
    _lines(a, fmt)


def _lines(a: SupplyAnswer, fmt: Format) -> None:
    if fmt is Format.csv:
        return print_csv(a.lines)
    rows = []
    for line, part in a.lines.groupby("line", sort=False):
        q = {r["quantile"]: r for r in part.to_dict("records")}
        rows.append([line, *(_cell(q, k) for k in ("planned_chips", "chips", "bf16_pflops", "h100_equivalents_spec",
                                                    "h100_equivalents_workload"))])
    print_table(rows, ["line", "reported chips", "chips", "BF16 PFLOPS", "H100-eq (spec)", "H100-eq (workload)"],
                title=f"{a.name}: P50 (P10-P90)",
                caption=f"binding input for domestic lines: {a.binding} ('volumes': no modelled capacity falls short "
                        "of the reported volumes); --view inputs for each capacity", numeric_from=1)


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
