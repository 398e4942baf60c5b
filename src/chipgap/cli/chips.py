"""``chipgap chips``: list, show and compare chips."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape

from chipgap.analyses.compare import SPECS, compare_chips
from chipgap.catalog.catalog import record_row, record_to_dict
from chipgap.catalog.schema import Chip, quantity_fields
from chipgap.cli import get_catalog
from chipgap.cli.output import (LEGEND, Format, console, print_csv, print_json, print_table, short_name,
                                quantity_text)

app = typer.Typer(no_args_is_help=True)

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
LIST_COLUMNS = {"bf16_dense_tflops": "BF16 TFLOPS", "fp8_dense_tflops": "FP8 TFLOPS",
                "memory_capacity_gib": "mem GiB", "memory_bw_gbps": "mem GB/s",
                "scaleup_bw_gbps_unidir": "link GB/s each way", "tdp_w": "TDP W"}


@app.command("list")
def list_chips(
    ctx: typer.Context,
    vendor: Annotated[str | None, typer.Option(help="Only this vendor's chips (a company id).")] = None,
    country: Annotated[str | None, typer.Option(help="Only chips from this country (CN, US).")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List the catalog's chips with their headline specs (dense peaks)."""
    chips = [c for c in get_catalog(ctx).chips.values()
             if (vendor is None or c.vendor == vendor.lower())
             and (country is None or c.country == country.upper())]
    if fmt is Format.json:
        return print_json([record_to_dict(c) for c in chips])
    if fmt is Format.csv:
        return print_csv(pd.DataFrame([record_row(c) for c in chips]))
    rows = [[c.id, str(c.year or ""), c.status,
             *(quantity_text(getattr(c, f)) for f in LIST_COLUMNS)] for c in chips]
    print_table(rows, ["id", "year", "status", *LIST_COLUMNS.values()], caption=LEGEND,
                numeric_from=3)


@app.command("show")
def show_chip(
    ctx: typer.Context,
    chip: Annotated[str, typer.Argument(help="Chip id or alias (h100, 910c).")],
    fmt: FormatOpt = Format.table,
) -> None:
    """Show every spec of one chip with its source and confidence."""
    cat = get_catalog(ctx)
    c = cat.chip(chip)
    if fmt is Format.json:
        return print_json(record_to_dict(c))
    rows = _spec_rows(c)
    if fmt is Format.csv:
        return print_csv(pd.DataFrame(rows, columns=["spec", "value", "confidence", "source", "note"]))
    print_table([[r[0], quantity_text(getattr(c, r[0])) if r[2] else r[1], r[2], r[3]] for r in rows],
                ["spec", "value", "confidence", "source"], title=f"{c.name} ({c.id})",
                caption=LEGEND, numeric_from=1, left=True)
    notes = [(r[0], r[4]) for r in rows if r[4]] + ([("notes", c.notes)] if c.notes else [])
    for field, note in notes:
        console.print(f"[bold]{field}[/]: {escape(note)}", soft_wrap=False)


def _spec_rows(c: Chip) -> list[list[str]]:
    text = [[k, str(getattr(c, k)), "", "", ""] for k in
            ("vendor", "country", "year", "status", "kind", "market", "process_node",
             "default_system", "memory_type", "scaleup_name") if getattr(c, k) is not None]
    nums = [[f, quantity_text(q, markup=False), q.confidence, ", ".join(q.source), q.note or ""]
            for f in quantity_fields(Chip) if (q := getattr(c, f)) is not None]
    return text + nums


@app.command("compare")
def compare(
    ctx: typer.Context,
    chips: Annotated[list[str], typer.Argument(help="Two or more chip ids or aliases.")],
    baseline: Annotated[str | None, typer.Option(
        help="Chip every ratio divides by (default: the last one given).")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Compare chips spec by spec, with the ratio of each to the baseline chip.

    Ranges propagate to the ratios; estimates and rumours are marked.
    """
    if len(chips) < 2 and baseline is None:
        raise typer.BadParameter("give at least two chips", param_hint="CHIPS")
    cat = get_catalog(ctx)
    df = compare_chips(cat, chips, baseline)
    ids = list(dict.fromkeys(df.chip)) or [cat.resolve("chip", c) for c in chips]
    base = cat.resolve("chip", baseline) if baseline else ids[-1]
    if fmt is Format.json:
        return print_json({"chips": ids, "baseline": base, "rows": df.to_dict("records")})
    if fmt is Format.csv:
        return print_csv(df)
    others = [i for i in ids if i != base]
    rows = []
    for spec in dict.fromkeys(df.spec):
        cells = [quantity_text(getattr(cat.chip(i), spec)) for i in ids]
        ratios = []
        for i in others:
            r = df[(df.spec == spec) & (df.chip == i)]
            ratios.append(_ratio_text(r.iloc[0]) if len(r) else "")
        label, unit = SPECS.get(spec, (spec, ""))
        rows.append([label, unit, *cells, *ratios])
    short = {i: short_name(cat.chip(i)) for i in ids}
    print_table(rows, ["spec", "unit", *(short[i] for i in ids),
                       *(f"{short[i]} / {short[base]}" for i in others)],
                caption=LEGEND + "; ratio ranges bound every combination of the inputs",
                numeric_from=2)


def _ratio(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def _ratio_text(row: pd.Series) -> str:
    if pd.isna(row.ratio_point):
        return ""
    text = f"{_ratio(row.ratio_point)}x"
    if row.ratio_high > row.ratio_low * (1 + 1e-9):
        text += f" ({_ratio(row.ratio_low)}-{_ratio(row.ratio_high)})"
    return text
