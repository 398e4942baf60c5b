"""``chipgap systems``: list and show servers, racks and superpods."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer

from chipgap.catalog.catalog import record_row, record_to_dict
from chipgap.catalog.schema import System, quantity_fields
from chipgap.cli import get_catalog
from chipgap.cli.output import LEGEND, Format, print_csv, print_json, print_table, quantity_text

app = typer.Typer(no_args_is_help=True)

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


@app.command("list")
def list_systems(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """List servers, racks and superpods with their chips and scale-up domains."""
    systems = list(get_catalog(ctx).systems.values())
    if fmt is Format.json:
        return print_json([record_to_dict(s) for s in systems])
    if fmt is Format.csv:
        return print_csv(pd.DataFrame([record_row(s) for s in systems]))
    rows = [[s.id, s.kind, s.chip, quantity_text(s.chip_count),
             quantity_text(s.scaleup_domain_chips), quantity_text(s.power_kw),
             s.power_basis or ""] for s in systems]
    print_table(rows, ["id", "kind", "chip", "chips", "scale-up domain", "power kW", "power basis"],
                caption=LEGEND, numeric_from=3)


@app.command("show")
def show_system(
    ctx: typer.Context,
    system: Annotated[str, typer.Argument(help="System id or alias (hgx-h100, cm384).")],
    fmt: FormatOpt = Format.table,
) -> None:
    """Show one system: its chip, counts, fabric bandwidths, power and price, with sources.

    Per-chip bandwidths not given for the system are the chip's own.
    """
    cat = get_catalog(ctx)
    s = cat.system(system)
    if fmt is Format.json:
        return print_json(record_to_dict(s))
    chip = cat.chip(s.chip)
    rows = [[k, str(getattr(s, k)), "", ""] for k in
            ("kind", "vendor", "chip", "host_cpu", "power_basis", "year") if getattr(s, k)]
    for f in quantity_fields(System):
        q = getattr(s, f)
        origin = ""
        if q is None and f in ("scaleup_bw_gbps_unidir", "scaleout_bw_gbps_unidir"):
            q, origin = getattr(chip, f), f"from chip {chip.id}"
        if q is not None:
            rows.append([f, quantity_text(q, markup=False), ", ".join(q.source),
                         "; ".join(x for x in (origin, q.note or "") if x)])
    if fmt is Format.csv:
        return print_csv(pd.DataFrame(rows, columns=["field", "value", "source", "note"]))
    print_table(rows, ["field", "value", "source", "note"], title=f"{s.name} ({s.id})",
                caption=LEGEND, numeric_from=1)
