"""``chipgap train``: step time, throughput and memory of an LLM training layout, or the best ones."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer

from chipgap.analyses.train import (BREAKDOWN_KEYS, LAYOUT_KEYS, MEMORY_KEYS, RESULT_KEYS, check_layout,
                                    chips_needed, evaluate, search, setup, time_to_train_days)
from chipgap.cli import get_catalog
from chipgap.analyses.uncertainty import summarize, train_samples
from chipgap.cli.output import (Format, console, num, print_csv, print_json, print_spread, print_table,
                                spread_json)
from chipgap.limits import (MAX_CHIPS, MAX_GLOBAL_BATCH, MAX_MICRO_BATCH, MAX_PARALLEL, MAX_RATE, MAX_SEED,
                            MAX_SEQ_LEN, MAX_TOKENS_BUDGET)

Opt = typer.Option
Par = "Parallel layout, in devices (an Ascend 910C package is 2; with --search: ignored)"
SPREAD_METRICS = ("tokens_per_s", "tflops_per_chip", "mfu", "step_time_s")


def train(
    ctx: typer.Context,
    model: Annotated[str, Opt("--model", "-m", help="Workload id or alias, or a config.json path.")],
    chip: Annotated[str, Opt("--chip", "-c", help="Chip id or alias.")],
    chips: Annotated[int, Opt("--chips", "-n", min=1, max=MAX_CHIPS, help="Number of chips.")],
    seq_len: Annotated[int, Opt("--seq-len", min=1, max=MAX_SEQ_LEN, help="Tokens per sequence.")] = 4096,
    global_batch: Annotated[int, Opt("--global-batch", min=1, max=MAX_GLOBAL_BATCH, help="Sequences per step.")] = 1024,
    system: Annotated[str | None, Opt(help="System (default: the chip's usual server).")] = None,
    precision: Annotated[str, Opt(help="Matrix precision: bf16 or fp8.")] = "bf16",
    tp: Annotated[int, Opt(min=1, max=MAX_PARALLEL, help="Tensor parallel (with sequence parallelism).", rich_help_panel=Par)] = 1,
    pp: Annotated[int, Opt(min=1, max=MAX_PARALLEL, help="Pipeline stages.", rich_help_panel=Par)] = 1,
    dp: Annotated[int | None, Opt(min=1, max=MAX_PARALLEL, help="Data parallel (default: what the chips leave).",
                                  rich_help_panel=Par)] = None,
    cp: Annotated[int, Opt(min=1, max=MAX_PARALLEL, help="Context parallel.", rich_help_panel=Par)] = 1,
    ep: Annotated[int, Opt(min=1, max=MAX_PARALLEL, help="Expert parallel (MoE).", rich_help_panel=Par)] = 1,
    vpp: Annotated[int, Opt(min=1, max=MAX_PARALLEL, help="Virtual stages per device (interleaved 1F1B).", rich_help_panel=Par)] = 1,
    mbs: Annotated[int, Opt(min=1, max=MAX_MICRO_BATCH, help="Micro-batch size, sequences.", rich_help_panel=Par)] = 1,
    zero: Annotated[int, Opt(min=0, max=3, help="ZeRO stage (3 = FSDP).", rich_help_panel=Par)] = 1,
    recompute: Annotated[str, Opt(help="none, selective (attention core), full, or modules (norms, "
                                       "MLA up-projections, MLP activation).", rich_help_panel=Par)] = "none",
    do_search: Annotated[bool, Opt("--search", help="Search every valid layout instead.")] = False,
    top: Annotated[int, Opt(min=1, max=1000, help="Layouts to show with --search.")] = 5,
    tokens: Annotated[float | None, Opt(min=0, max=MAX_TOKENS_BUDGET, help="Token budget: also print days to train.")] = None,
    target: Annotated[float | None, Opt("--target-tokens-per-s", min=0, max=MAX_RATE,
                                        help="Find the fewest chips reaching this rate (--chips ignored).")] = None,
    samples: Annotated[int | None, Opt(min=10, max=1_000_000,
                                       help="Also draw the chip's ranged specs this many times and show "
                                            "P10-P50-P90 (the best layout per sample with --search).")] = None,
    seed: Annotated[int, Opt(min=0, max=MAX_SEED, help="Seed of the draws.")] = 0,
    fmt: Annotated[Format, Opt("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Training step time, tokens/s, TFLOPS per chip, MFU/HFU and memory for a layout.

    With --search every valid layout is evaluated in one array pass and the fastest shown.
    MFU counts model FLOPs (3 x forward, causal attention) against the dense BF16 peak.
    With --samples the spread that the chip's uncertain specs give is shown too.
    """
    cat = get_catalog(ctx)
    if target is not None:
        return _chips_needed(cat, model, chip, seq_len, global_batch, target, system, precision, fmt)
    s = setup(cat, model, chip, chips, seq_len, global_batch, system, precision)
    if do_search:
        df, every = search(s, top)
    else:
        layout = dict(tp=tp, pp=pp, dp=dp or max(s.job.chips // (tp * pp * cp), 1), cp=cp, ep=ep,
                      vpp=vpp, mbs=mbs, zero=zero, recompute=recompute)
        df, every = evaluate(s, check_layout(s, layout)), None
    inputs = {"model": s.job.workload.id, "chip": s.chip, "system": s.system, "chips": chips,
              "seq_len": seq_len, "global_batch": global_batch, "precision": precision,
              "efficiency_basis": s.efficiency_basis, "devices_per_chip": s.devices}
    rows = [_result(r, tokens) for r in df.to_dict("records")]
    spread = None
    if samples:
        draws = train_samples(cat, model, chip, chips, seq_len, global_batch, system, precision, samples, seed,
                              layout=None if do_search else layout)
        spread = summarize(draws, SPREAD_METRICS)
    if fmt is Format.json:
        out = {"inputs": inputs, **({"layouts_evaluated": len(every)} if every is not None else {}),
               "results" if do_search else "result": rows if do_search else rows[0]}
        if spread is not None:
            out["uncertainty"] = {"samples": samples, "seed": seed, **spread_json(spread)}
        return print_json(out)
    if fmt is Format.csv:
        return print_csv(df)
    _table(df, inputs, every, tokens)
    if spread is not None:
        print_spread(spread, "Spread from the chip's spec ranges", samples, seed)


def _chips_needed(cat, model, chip, seq_len, global_batch, target, system, precision, fmt) -> None:  # noqa: ANN001
    df = chips_needed(cat, model, chip, seq_len, global_batch, target, system, precision)
    if fmt is Format.json:
        return print_json({"target_tokens_per_s": target, "tried": df.to_dict("records"),
                           "chips_needed": int(df.chips.iloc[-1]) if df.reaches.iloc[-1] else None})
    if fmt is Format.csv:
        return print_csv(df.drop(columns="layout"))
    print_table([[f"{r.chips:,}", num(r.tokens_per_s) if r.tokens_per_s else "no layout fits",
                  "" if r.mfu != r.mfu else f"{r.mfu:.1%}", "yes" if r.reaches else "no"]
                 for r in df.itertuples()], ["chips", "best tokens/s", "MFU", "reaches target"],
                title=f"Chips of {chip} needed for {num(target)} tokens/s of {model}", numeric_from=0)


def _result(r: dict, tokens: float | None) -> dict:
    out = {"layout": {k: r[k] for k in LAYOUT_KEYS},
           **{k: r[k] for k in RESULT_KEYS},
           "memory_gb_per_chip": r["memory_gb"],
           "breakdown_s": {k.removesuffix("_s"): r[k] for k in BREAKDOWN_KEYS},
           "memory_breakdown_gb": {k.removeprefix("mem_").removesuffix("_gb"): r[k] for k in MEMORY_KEYS},
           "reason": r["reason"] or None}
    if tokens:
        out["days_to_train"] = time_to_train_days(r["tokens_per_s"], tokens)
    return out


def _layout_text(r: dict) -> str:
    recompute = {0: "", 1: "sel-recompute", 2: "full-recompute", 3: "mod-recompute"}[int(r["recompute"])]
    parts = [f"{k.upper()}{r[k]}" for k in ("tp", "pp", "dp", "cp", "ep", "vpp") if r[k] > 1 or k == "dp"]
    return " ".join(x for x in (*parts, f"mbs{r['mbs']}", f"Z{r['zero']}", recompute) if x)


def _table(df: pd.DataFrame, inputs: dict, every: pd.DataFrame | None, tokens: float | None) -> None:
    if every is not None:
        console.print(f"{len(every):,} layouts evaluated, {int(every.valid.sum()):,} valid "
                      f"(efficiency: {inputs['efficiency_basis']})")
    if df.empty:
        console.print("no valid layout: every layout breaks a rule or runs out of memory")
        return
    rows = [[_layout_text(r), num(r["step_time_s"]), num(r["tokens_per_s"]),
             num(r["tflops_per_chip"]), f"{r['mfu']:.1%}", num(r["memory_gb"]),
             "yes" if r["fits"] else "NO: " + r["reason"]] for r in df.to_dict("records")]
    if tokens:
        for row, r in zip(rows, df.to_dict("records")):
            row.append(num(time_to_train_days(r["tokens_per_s"], tokens)))
    print_table(rows, ["layout", "step s", "tokens/s", "TFLOPS/chip", "MFU", "GB/chip", "fits",
                       *(["days"] if tokens else [])],
                title=f"{inputs['model']} on {inputs['chips']:,} x {inputs['chip']}",
                numeric_from=1)
    best = df.iloc[0]
    parts = [[k.removesuffix("_s"), num(best[k])] for k in BREAKDOWN_KEYS]
    print_table(parts, ["step time part", "seconds"], title="Breakdown of the first layout")
