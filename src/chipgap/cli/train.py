"""``chipgap train``: step time, throughput and memory of LLM training layouts, or the chips needed."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import typer

from chipgap.analyses.answer import Answer, answer
from chipgap.analyses.answer_json import TRAIN_SPREAD
from chipgap.analyses.train import BREAKDOWN_KEYS, chips_needed, time_to_train_days
from chipgap.catalog.question import TrainQuestion
from chipgap.cli import get_catalog
from chipgap.limits import (MAX_CHIPS, MAX_GLOBAL_BATCH, MAX_MICRO_BATCH, MAX_PARALLEL, MAX_RATE, MAX_SEED,
                            MAX_SEQ_LEN, MAX_TOKENS_BUDGET)
from chipgap.cli.output import (Format, console, num, print_csv, print_json, print_spread, print_table,
                                question_from, shown_default)

Opt = typer.Option
Par = "Parallel layout, in devices (an Ascend 910C package is 2); an option left out is searched"


def _d(field: str) -> str:
    return shown_default(TrainQuestion, field)


def train(
    ctx: typer.Context,
    model: Annotated[str, Opt("--model", "-m", help="Workload id or alias, or a config.json path.")],
    chip: Annotated[str, Opt("--chip", "-c", help="Chip id or alias.")],
    chips: Annotated[int, Opt("--chips", "-n", min=1, max=MAX_CHIPS, help="Number of chips.")],
    seq_len: Annotated[int | None, Opt("--seq-len", min=1, max=MAX_SEQ_LEN, help="Tokens per sequence.",
                                       show_default=_d("seq_len"))] = None,
    global_batch: Annotated[int | None, Opt("--global-batch", min=1, max=MAX_GLOBAL_BATCH, help="Sequences per step.",
                                            show_default=_d("global_batch"))] = None,
    system: Annotated[str | None, Opt(help="System (default: the chip's usual server).")] = None,
    precision: Annotated[str | None, Opt(help="What the GEMMs run in: bf16, fp8 (per-tensor), mxfp8 or nvfp4 "
                                              "(block-scaled), on units the chip has.",
                                         show_default=_d("precision"))] = None,
    tp: Annotated[int | None, Opt(min=1, max=MAX_PARALLEL, help="Tensor parallel (with sequence parallelism).", rich_help_panel=Par)] = None,
    pp: Annotated[int | None, Opt(min=1, max=MAX_PARALLEL, help="Pipeline stages.", rich_help_panel=Par)] = None,
    dp: Annotated[int | None, Opt(min=1, max=MAX_PARALLEL, help="Data parallel (what the chips leave).", rich_help_panel=Par)] = None,
    cp: Annotated[int | None, Opt(min=1, max=MAX_PARALLEL, help="Context parallel.", rich_help_panel=Par)] = None,
    ep: Annotated[int | None, Opt(min=1, max=MAX_PARALLEL, help="Expert parallel (MoE).", rich_help_panel=Par)] = None,
    vpp: Annotated[int | None, Opt(min=1, max=MAX_PARALLEL, help="Virtual stages per device (interleaved 1F1B).", rich_help_panel=Par)] = None,
    mbs: Annotated[int | None, Opt(min=1, max=MAX_MICRO_BATCH, help="Micro-batch size, sequences.", rich_help_panel=Par)] = None,
    zero: Annotated[int | None, Opt(min=0, max=3, help="ZeRO stage (1 = distributed optimizer, 3 = FSDP).",
                                    rich_help_panel=Par)] = None,
    recompute: Annotated[str | None, Opt(help="none, selective (attention core), full, or modules (norms, "
                                              "MLA up-projections, MLP activation).", rich_help_panel=Par)] = None,
    do_search: Annotated[bool, Opt("--search", help="Search every layout, ignoring the layout options.")] = False,
    top: Annotated[int, Opt(min=1, max=1000, help="Layouts to show when several are evaluated.")] = 5,
    tokens: Annotated[float | None, Opt(min=0, max=MAX_TOKENS_BUDGET, help="Token budget: also print days to train.")] = None,
    target: Annotated[float | None, Opt("--target-tokens-per-s", min=0, max=MAX_RATE,
                                        help="Find the fewest chips reaching this rate (--chips ignored).")] = None,
    samples: Annotated[int | None, Opt(min=10, max=1_000_000,
                                       help="Also draw the chip's ranged specs this many times and show "
                                            "P10-P50-P90 (the best layout per sample).")] = None,
    seed: Annotated[int | None, Opt(min=0, max=MAX_SEED, help="Seed of the draws.", show_default=_d("seed"))] = None,
    fmt: Annotated[Format, Opt("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Training step time, tokens/s, TFLOPS per chip, MFU/HFU and memory.

    Layout options left out are searched (every valid value, in one array pass) and the fastest
    layouts shown. MFU counts model FLOPs (3 x forward, causal attention) against the dense BF16
    peak. With --samples the spread that the chip's uncertain specs give is shown too.
    """
    layout = {} if do_search else dict(tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, vpp=vpp, mbs=mbs, zero=zero,
                                       recompute=recompute)
    q = question_from(TrainQuestion, model=model, chip=chip, chips=chips, seq_len=seq_len,
                      global_batch=global_batch, system=system, precision=precision, samples=samples,
                      seed=seed, layout=layout)
    if target is not None:
        return _render_chips_needed(chips_needed(get_catalog(ctx), q, target), q, target, fmt)
    _render(answer(get_catalog(ctx), q), top, tokens, fmt)


def _render(a: Answer, top: int, tokens: float | None, fmt: Format) -> None:
    if fmt is Format.json:
        return print_json(a.to_dict(top, tokens))
    rows = a.table if len(a.table) == 1 else a.best(top)
    if fmt is Format.csv:
        return print_csv(rows)
    _table(rows, a, tokens)
    spread = a.spread(TRAIN_SPREAD)
    if spread is not None:
        print_spread(spread, "Spread from the chip's spec ranges", a.question.samples, a.question.seed)


def _render_chips_needed(df: pd.DataFrame, q: TrainQuestion, target: float, fmt: Format) -> None:
    answer_row = df[df.reaches].head(1)
    if fmt is Format.json:
        return print_json({"target_tokens_per_s": target, "tried": df.to_dict("records"),
                           "chips_needed": int(answer_row.chips.iloc[0]) if len(answer_row) else None})
    if fmt is Format.csv:
        return print_csv(df.drop(columns="layout"))
    print_table([[f"{r.chips:,}", num(r.tokens_per_s) if r.tokens_per_s else "no layout fits",
                  "" if r.mfu != r.mfu else f"{r.mfu:.1%}", "yes" if r.reaches else "no"]
                 for r in df.itertuples()], ["chips", "best tokens/s", "MFU", "reaches target"],
                title=f"Chips of {q.chip} needed for {num(target)} tokens/s of {q.model}", numeric_from=0)
    if len(answer_row):
        console.print(f"fewest chips tried that reach it: {int(answer_row.chips.iloc[0]):,}")


def _layout_text(r: dict) -> str:
    recompute = {0: "", 1: "sel-recompute", 2: "full-recompute", 3: "mod-recompute"}[int(r["recompute"])]
    parts = [f"{k.upper()}{r[k]}" for k in ("tp", "pp", "dp", "cp", "ep", "vpp") if r[k] > 1 or k == "dp"]
    return " ".join(x for x in (*parts, f"mbs{r['mbs']}", f"Z{r['zero']}", recompute) if x)


def _table(df: pd.DataFrame, a: Answer, tokens: float | None) -> None:
    inputs = a.inputs()
    if len(a.table) > 1:
        console.print(f"{len(a.table):,} layouts evaluated, {int(a.table.valid.sum()):,} valid "
                      f"(efficiency: {inputs['efficiency_basis']})")
    if df.empty:
        console.print("no valid layout: every layout breaks a rule or runs out of memory")
        return
    rows = [[_layout_text(r), num(r["step_time_s"]), num(r["tokens_per_s"]),
             num(r["tflops_per_chip"]), f"{r['mfu']:.1%}", num(r["memory_gb"]),
             "yes" if r["valid"] else "NO: " + r["reason"]] for r in df.to_dict("records")]
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

