"""``chipgap export``: classify chips under US rule versions, headroom, timelines, chart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from chipgap.analyses.export import classify_chips, export_status, headroom
from chipgap.cli import get_catalog
from chipgap.cli.output import (Format, num, print_csv, print_json, print_table, save_figure,
                                short_name)
from chipgap.limits import MAX_SEED

app = typer.Typer(no_args_is_help=True)

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
SamplesOpt = Annotated[int, typer.Option(min=1, max=100_000,
                                         help="Monte-Carlo samples of ranged specs.")]
JSON_KEYS = ["chip", "rule", "tpp", "tpp_low", "tpp_high", "performance_density",
             "performance_density_low", "performance_density_high", "area_mm2", "io_bw_gbps_bidir",
             "controlled", "classification", "probability_controlled", "triggered_by", "margins",
             "measures", "tpp_to_change_down", "tpp_to_change_up"]


def _latest_rule(ctx: typer.Context) -> str:
    rules = [r for r in get_catalog(ctx).rules.values() if r.status != "rescinded"]
    return rules[-1].id


def _render(df: pd.DataFrame, fmt: Format, title: str, by: str = "chip",
            names: dict[str, str] | None = None) -> None:
    """Show classifications, one row per ``by`` ('chip' for one rule, 'rule' for a timeline)."""
    if fmt is Format.json:
        return print_json(df[JSON_KEYS].to_dict("records"))
    if fmt is Format.csv:
        flat = df.drop(columns=["margins", "measures"]).assign(
            measures=df.measures.map(lambda ms: "; ".join(m["name"] for m in ms)))
        return print_csv(flat)
    names = names or {}
    rows = [[names.get(getattr(r, by), getattr(r, by)), _range(r.tpp, r.tpp_low, r.tpp_high),
             _range(r.performance_density, r.performance_density_low, r.performance_density_high),
             r.classification, r.triggered_by,
             "" if pd.isna(r.probability_controlled) else f"{r.probability_controlled:.0%}",
             _change(r)] for r in df.itertuples()]
    print_table(rows, [by, "TPP", "TPP/mm2", "status", "why", "P(ctrl)", "status flips at TPP"],
                title=title,
                caption="TPP = 2 x MacTOPS x bit length (dense); TPP/mm2 = performance density; "
                        "flips = the TPP, at the chip's own die area and links, where its status "
                        "would change", numeric_from=1)


def _range(point: float, low: float, high: float) -> str:
    if pd.isna(point):
        return "n/a"
    return num(point) if high <= low * (1 + 1e-9) else f"{num(point)} ({num(low)}-{num(high)})"


def _change(r) -> str:  # noqa: ANN001
    parts = []
    if not pd.isna(r.tpp_to_change_down):
        parts.append(f"<{num(r.tpp_to_change_down)} ({100 * (r.tpp_to_change_down / r.tpp - 1):+.0f}%)")
    if not pd.isna(r.tpp_to_change_up):
        parts.append(f"{num(r.tpp_to_change_up)} ({100 * (r.tpp_to_change_up / r.tpp - 1):+.1f}%)")
    return "; ".join(parts)


@app.command("rules")
def rules(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """List the rule versions in order: effective date, status, tests and other measures."""
    data = [{"rule": r.id, "name": r.name, "citation": r.citation, "effective": r.effective,
             "status": r.status, "ended": r.ended,
             "tests": [p.id for c in r.classifications for p in c.prongs],
             "measures": [f"{m.kind}: {m.name}" for m in r.measures]}
            for r in get_catalog(ctx).rules.values()]
    if fmt is Format.json:
        return print_json(data)
    if fmt is Format.csv:
        return print_csv(pd.DataFrame(data).assign(tests=lambda d: d.tests.str.join("; "),
                                                   measures=lambda d: d.measures.str.join("; ")))
    print_table([[d["rule"], d["effective"], d["status"] + (f" to {d['ended']}" if d["ended"] else ""),
                  d["citation"].split(";")[0], ", ".join(d["tests"])] for d in data],
                ["rule", "effective", "status", "citation", "parametric tests"], numeric_from=99)
    print_table([[d["rule"], m] for d in data for m in d["measures"]], ["rule", "other measures"],
                numeric_from=99)


@app.command("classify")
def classify(
    ctx: typer.Context,
    chips: Annotated[list[str] | None, typer.Argument(help="Chip ids or aliases.")] = None,
    all_chips: Annotated[bool, typer.Option("--all", help="Classify every chip in the catalog.")] = False,
    rule: Annotated[str | None, typer.Option(
        help="Rule version by effective month (2023-10); default the newest one not rescinded.")] = None,
    samples: SamplesOpt = 2000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the Monte-Carlo draws.")] = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    """Classify chips under a rule version: status, the test that caught them, and margins.

    Where a spec is a range that straddles a threshold, the status is 'uncertain' with the
    probability of being controlled.
    """
    if not chips and not all_chips:
        raise typer.BadParameter("give chip ids or --all", param_hint="CHIPS")
    rule = rule or _latest_rule(ctx)
    cat = get_catalog(ctx)
    df = classify_chips(cat, None if all_chips else chips, [rule], samples, seed)
    _render(df, fmt, f"Export-control status under rule {rule}",
            names={c: short_name(cat.chip(c)) for c in df.chip})


@app.command("timeline")
def timeline(
    ctx: typer.Context,
    chip: Annotated[str, typer.Argument(help="Chip id or alias.")],
    samples: SamplesOpt = 2000,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the Monte-Carlo draws.")] = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    """One chip under every rule version, in order of effective date."""
    df = classify_chips(get_catalog(ctx), [chip], None, samples, seed)
    _render(df, fmt, f"{df.chip.iloc[0]} under every rule version", by="rule")


@app.command("status")
def status(
    ctx: typer.Context,
    chips: Annotated[list[str] | None, typer.Argument(help="Chip ids or aliases; default every accelerator.")] = None,
    samples: SamplesOpt = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the Monte-Carlo draws.")] = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    """Every accelerator under every rule version: how an export to China is treated (licence,
    notification, named part, fees), in short form; JSON and CSV carry the words."""
    cat = get_catalog(ctx)
    df = export_status(cat, chips, None, samples, seed)
    keys = ["chip", "rule", "classification", "treatment", "fees", "label", "tpp", "performance_density"]
    if fmt is not Format.table:
        return print_json(df[keys].to_dict("records")) if fmt is Format.json else \
            print_csv(df[keys].assign(fees=df.fees.str.join("; ")))
    wide = df.pivot_table(index="chip", columns="rule", values="short", aggfunc="first", sort=False)
    print_table([[short_name(cat.chip(c)), *wide.loc[c]] for c in wide.index], ["chip", *wide.columns],
                numeric_from=99,
                title="Export to China under each rule version",
                caption="a/b: 3A090.a/.b; denial: presumption of denial; NAC: notification only; named: named "
                        "part; +N% fee; (CN): made in China; ?: not decidable from public specs; -: not controlled")


@app.command("headroom")
def headroom_cmd(
    ctx: typer.Context,
    rule: Annotated[str, typer.Option(help="Rule version by effective month (2023-10).")],
    die_area: Annotated[float, typer.Option("--die-area", min=1e-3,
                                            help="Applicable (FinFET/GAA logic) die area, mm2.")],
    market: Annotated[str, typer.Option(help="datacenter, consumer or workstation.")] = "datacenter",
    io_bw: Annotated[float | None, typer.Option("--io-bw", min=0,
                                                help="Chip-to-chip I/O, GB/s both directions.")] = None,
    memory_bw: Annotated[float | None, typer.Option("--memory-bw", min=0,
                                                    help="Memory bandwidth, GB/s.")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """The most dense throughput a chip of this die area can have and stay uncontrolled.

    Bandwidths not given are assumed to meet any threshold on them (the designer's worst case).
    """
    row = headroom(get_catalog(ctx), rule, die_area, market, io_bw, memory_bw).iloc[0]
    precisions = {c.removeprefix("max_dense_"): row[c] for c in row.index if c.startswith("max_dense_")}
    data = {"rule": row.rule, "die_area_mm2": row.die_area_mm2, "market": market,
            "io_bw_gbps_bidir": io_bw, "memory_bw_gbps": memory_bw, "max_tpp": row.max_tpp,
            "max_dense_tflops": precisions, "binding_test": row.binding_test}
    if fmt is Format.json:
        return print_json(data)
    if fmt is Format.csv:
        return print_csv(pd.DataFrame([{k: v for k, v in data.items() if k != "max_dense_tflops"}
                                       | {f"max_dense_{k}": v for k, v in precisions.items()}]))
    rows = [["max TPP (stay strictly below)", num(row.max_tpp)], ["binding test", row.binding_test]]
    rows += [[f"max dense {k} (T{'OPS' if k == 'int8' else 'FLOPS'})", num(v)] for k, v in precisions.items()]
    print_table(rows, ["", "value"], title=f"Headroom under {row.rule}: {num(die_area)} mm2, {market}")


@app.command("chart")
def chart(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (.png or .svg).",
                                      dir_okay=False)] = Path("tpp-vs-density.png"),
    rule: Annotated[str, typer.Option(help="Rule whose thresholds are drawn.")] = "2023-10",
    force: Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")] = False,
) -> None:
    """Draw TPP against performance density for every chip, with the rule's threshold lines."""
    from chipgap.plots.export import tpp_density_chart

    save_figure(out, lambda: tpp_density_chart(get_catalog(ctx), rule), force)
