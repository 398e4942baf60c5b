"""``chipgap econ``: dies per wafer, yield, and the unit cost of a chip."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from chipgap.analyses.econ import chip_cost, cost_curve, die_economics, tco
from chipgap.analyses.answer import answer
from chipgap.catalog.costs import ChipCost
from chipgap.catalog.quantity import Quantity
from chipgap.catalog.schema import quantity_fields
from chipgap.catalog.question import ServeQuestion
from chipgap.cli import get_catalog
from chipgap.cli.output import Format, num, print_csv, print_json, print_table, save_figure
from chipgap.errors import InputError
from chipgap.limits import MAX_SEED, MAX_SEQ_LEN

app = typer.Typer(no_args_is_help=True)
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


@app.command("die")
def die(
    ctx: typer.Context,
    chip: Annotated[str | None, typer.Option(help="Take the die area from this chip.")] = None,
    die_area: Annotated[float | None, typer.Option("--die-area", min=0, max=100_000, help="Die area, mm2.")] = None,
    wafer_mm: Annotated[float, typer.Option("--wafer-mm", min=0, max=1000, help="Wafer diameter, mm.")] = 300.0,
    edge_mm: Annotated[float, typer.Option("--edge-mm", min=0, max=500, help="Edge exclusion, mm.")] = 3.0,
    scribe_mm: Annotated[float, typer.Option("--scribe-mm", min=0, max=100, help="Scribe lane, mm.")] = 0.1,
    d0: Annotated[float | None, typer.Option("--d0", min=0, max=1000, help="Defect density per cm2.")] = None,
    die_yield: Annotated[float | None, typer.Option("--yield", min=0, max=1, help="Observed die yield (0-1).")] = None,
    model: Annotated[str, typer.Option("--yield-model", help="poisson, murphy, seeds or negbin.")] = "murphy",
    alpha: Annotated[float, typer.Option(min=0, max=1e6, help="Clustering parameter of negbin.")] = 2.0,
    fmt: FormatOpt = Format.table,
) -> None:
    """Gross dies per wafer, die yield and good dies per wafer (give --d0 or --yield)."""
    if (chip is None) == (die_area is None):
        raise typer.BadParameter("give --chip or --die-area (one of them)")
    if chip is not None:
        c = get_catalog(ctx).chip(chip)
        if c.compute_die_area_mm2 is None:
            raise InputError("--chip", "a chip whose die area the catalog holds", c.id)
        die_area = c.compute_die_area_mm2.point
    if d0 is None and die_yield is None:
        node = get_catalog(ctx).node(c.process_node) if chip and c.process_node else None
        if node is None or node.d0_per_cm2 is None:
            raise typer.BadParameter("give --d0 or --yield (the catalog has no defect density here)")
        d0 = node.d0_per_cm2.point
    data = die_economics(die_area, wafer_mm, edge_mm, scribe_mm, d0, die_yield, model, alpha)
    data.update(wafer_mm=wafer_mm, edge_mm=edge_mm, scribe_mm=scribe_mm, chip=chip)
    if fmt is Format.json:
        return print_json(data)
    if fmt is Format.csv:
        return print_csv(pd.DataFrame([data]))
    print_table([[k, num(v) if isinstance(v, float) else str(v)] for k, v in data.items() if v is not None],
                ["", "value"], title="Dies per wafer and yield")


@app.command("chip-cost")
def chip_cost_cmd(
    ctx: typer.Context,
    chip: Annotated[str, typer.Argument(help="Chip id or alias.")],
    die_yield: Annotated[float | None, typer.Option("--yield", min=0, max=1, help="Also evaluate this die yield.")] = None,
    price: Annotated[float | None, typer.Option("--price", min=0, help="Selling price, USD.")] = None,
    samples: Annotated[int, typer.Option(min=100, max=1_000_000, help="Monte-Carlo draws.")] = 4000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the draws.")] = 0,
    chart: Annotated[Path | None, typer.Option("--chart", dir_okay=False,
                                               help="Also draw cost against yield (.png/.svg).")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Cost of one packaged chip at each reported yield: dies, memory, packaging, test, margin.

    Ranged inputs are sampled; rows give P10 / P50 / P90. Each input's sources are in
    'chipgap chips show' and the catalog's chip_costs entry.
    """
    cat = get_catalog(ctx)
    df = chip_cost(cat, chip, die_yield, price, samples, seed)
    if chart is not None:
        from chipgap.plots.econ import cost_vs_yield_chart

        c = cat.chip(chip)
        save_figure(chart, lambda: cost_vs_yield_chart(cost_curve(cat, c.id), cat.chip_cost(c.id), c.name))
    if fmt is Format.json:
        return print_json(_cost_json(cat, df, price))
    if fmt is Format.csv:
        return print_csv(df)
    _cost_table(cat, df, price)


def _cost_json(cat, df, price: float | None) -> dict:  # noqa: ANN001
    price_q = cat.chip(df.chip.iloc[0]).price_usd if price is None else None   # a --price has no source
    inputs = cat.chip_cost(df.chip.iloc[0])
    return {"chip": df.chip.iloc[0], "cost_inputs": inputs.id,
            "sources": sorted({s for q in _quantities(inputs) for s in q.source}),
            "price_sources": list(price_q.source) if price_q else [], "rows": df.to_dict("records")}


def _cost_table(cat, df, price: float | None) -> None:  # noqa: ANN001
    price_q = cat.chip(df.chip.iloc[0]).price_usd if price is None else None   # a --price has no source
    cols = ["die_yield", "dies_cost_usd", "memory_usd", "packaging_usd", "cost_per_chip_usd",
            "gross_margin", "break_even_yield"]
    rows = [[r["case"], r["quantile"], *(_fmt(c, r[c]) for c in cols)] for r in df.to_dict("records")]
    p10, p90 = df.price_usd.iloc[0], df.price_usd.iloc[2]
    shown = (_fmt("price_usd", p10) if p10 == p90 or p10 is None
             else f"{_fmt('price_usd', p10)}-{_fmt('price_usd', p90)} P10-P90")
    missing = df.missing.iloc[0]
    caption = "P10/P50/P90 of each column over the ranged inputs; yields of unstated basis are read per die"
    if missing:
        caption += (f"; not public, counted as 0 (cost is a lower bound, so margin is an upper bound and the "
                    f"break-even yield a lower bound): {missing}")
    if price_q is not None:
        caption += f"; price: {', '.join(price_q.source)} ({price_q.confidence})"
    elif price is not None:
        caption += "; price: given with --price"
    print_table(rows, ["reported yield", "", "die yield", "dies", "memory", "packaging", "cost/chip",
                       "margin", "break-even yield"],
                title=f"Unit cost of {df.chip.iloc[0]}, USD (price {shown})", caption=caption, numeric_from=2)


def _fmt(col: str, v: float | None) -> str:
    if v is None:
        return "n/a"
    if col == "break_even_yield":
        return f"{v:.1%}" if v < 0.1 else f"{v:.0%}"     # low break-evens would all round to 1-2%
    return f"{v:.0%}" if col in ("die_yield", "gross_margin") else num(v)


def _quantities(inputs: ChipCost) -> list[Quantity]:
    qs = [getattr(inputs, f) for f in quantity_fields(type(inputs))]
    return [q for q in qs if q is not None] + [r.value for r in inputs.yields]


@app.command("tco")
def tco_cmd(
    ctx: typer.Context,
    system: Annotated[str, typer.Option("--system", help="System id or alias.")],
    region: Annotated[str, typer.Option(help="Defaults for electricity and PUE: us or cn.")] = "us",
    electricity: Annotated[float | None, typer.Option("--electricity-usd-per-kwh", min=0)] = None,
    pue: Annotated[float | None, typer.Option(min=1.0, help="Facility power / IT power.")] = None,
    utilization: Annotated[float, typer.Option(min=0.01, max=1.0, help="Busy fraction of hours.")] = 1.0,
    life_years: Annotated[float | None, typer.Option("--life-years", min=0.1)] = None,
    rate: Annotated[float | None, typer.Option("--tokens-per-s-per-chip", min=0,
                                               help="A sustained rate, for cost per million tokens.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Serve this model to find the rate.")] = None,
    input_len: Annotated[int, typer.Option("--input-len", min=1, max=MAX_SEQ_LEN)] = 1024,
    output_len: Annotated[int, typer.Option("--output-len", min=1, max=MAX_SEQ_LEN)] = 1024,
    precision: Annotated[str, typer.Option(help="Weights when serving --model.")] = "fp8",
    fmt: FormatOpt = Format.table,
) -> None:
    """Cost per chip-hour (capital over the service life plus energy) and per million tokens.

    With --model, the rate is the best offline serving throughput per chip of one system of
    the chips (chipgap infer). Scale-out network and buildings are not included.
    """
    cat = get_catalog(ctx)
    if model is not None and rate is None:
        s = cat.system(system)
        top = answer(cat, ServeQuestion(model=model, chip=s.chip, chips=int(s.chip_count.point), system=s.id,
                                        weight_precision=precision, input_len=input_len,
                                        output_len=output_len)).best(1)
        if top.empty:
            raise InputError("--model", f"a model that fits on one {s.id}", model)
        rate = float(top.tokens_per_s_per_chip[0])
    df = tco(cat, system, region, electricity, pue, utilization, life_years, rate)
    if fmt is Format.json:
        return print_json({"inputs": {"system": df.system[0], "region": region, "utilization": utilization,
                                      "tokens_per_s_per_chip": rate, "model": model},
                           "rows": df.to_dict("records")})
    if fmt is Format.csv:
        return print_csv(df)
    cols = [c for c in df.columns if c not in ("system", "chip", "quantile")]
    print_table([[c, *(num(v) for v in df[c])] for c in cols], ["per chip", "P10", "P50", "P90"],
                title=f"TCO of {df.system[0]} ({df.chip[0]})" + (f" at {num(rate)} tokens/s/chip" if rate else ""),
                caption="capital over the service life plus energy (average draw x PUE x price); "
                        "scale-out network and buildings not included")

