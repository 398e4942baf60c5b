"""``chipgap infer``: prefill, decode and offline serving of an LLM on chips, clusters and CPUs."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from chipgap.analyses.infer import DECODE_BREAKDOWN, best, pareto, serve, serving_setup
from chipgap.analyses.uncertainty import SERVE_METRICS, serve_samples, summarize
from chipgap.catalog.serving_job import ServingJob
from chipgap.cli import get_catalog
from chipgap.cli.output import (Format, console, num, print_csv, print_json, print_spread, print_table,
                                save_figure, spread_json)
from chipgap.limits import (MAX_BATCH, MAX_INSTANCE_CHIPS, MAX_REQUESTS, MAX_SEED, MAX_SEQ_LEN)

Opt = typer.Option
Lay = "Layout of one serving instance, in devices (an Ascend 910C package is 2; default: searched)"


class Phase(str, Enum):
    prefill = "prefill"
    decode = "decode"
    serve = "serve"


def infer(
    ctx: typer.Context,
    model: Annotated[str, Opt("--model", "-m", help="Workload id or alias, or a config.json path.")],
    chip: Annotated[str, Opt("--chip", "-c", help="Chip id or alias (GPUs, NPUs and CPUs).")],
    chips: Annotated[int, Opt("--chips", "-n", min=1, max=MAX_INSTANCE_CHIPS, help="Chips of one serving instance.")] = 1,
    system: Annotated[str | None, Opt(help="System (default: the chip's usual server).")] = None,
    phase: Annotated[Phase, Opt(help="prefill, decode or serve (offline, both phases).")] = Phase.serve,
    input_len: Annotated[int, Opt("--input-len", min=1, max=MAX_SEQ_LEN, help="Prompt tokens (decode: KV context).")] = 1024,
    output_len: Annotated[int, Opt("--output-len", min=1, max=MAX_SEQ_LEN, help="Generated tokens per request.")] = 1024,
    cached_len: Annotated[int, Opt("--cached-len", min=0, max=MAX_SEQ_LEN,
                                   help="Prompt tokens already in the KV cache (prefix-cache hit): "
                                        "attended to, not computed.")] = 0,
    requests: Annotated[int | None, Opt(min=1, max=MAX_REQUESTS, help="Offline job of this many requests, queued at once "
                                                    "(serve): throughput over its makespan, last "
                                                    "partial wave included. Default: steady state.")] = None,
    kv_reserve: Annotated[str, Opt("--kv-reserve",
                                   help="KV an engine holds per sequence: used (paged, preempting: vLLM, "
                                        "SGLang) or full (prompt + whole output reserved on admission: "
                                        "TensorRT-LLM's default).")] = "used",
    max_batch: Annotated[int | None, Opt("--max-batch", min=1, max=MAX_BATCH,
                                         help="Engine's max sequences in flight on the instance.")] = None,
    overlap_scheduler: Annotated[bool, Opt("--overlap-scheduler/--serial-scheduler",
                                           help="The engine schedules the next step while the chips run "
                                                "(SGLang from v0.4, TensorRT-LLM), or between steps, the "
                                                "chips idle (SGLang before v0.4: steps 1.1x as long).")] = True,
    batch: Annotated[int | None, Opt(min=1, max=MAX_BATCH, help="Concurrent sequences of the instance (default: searched).")] = None,
    precision: Annotated[str, Opt(help="Weights: bf16, fp8, int8 or int4.")] = "bf16",
    kv_precision: Annotated[str, Opt("--kv-precision", help="KV cache: bf16, fp8 or int8.")] = "bf16",
    tp: Annotated[int | None, Opt(min=1, max=MAX_INSTANCE_CHIPS, help="Tensor parallel.", rich_help_panel=Lay)] = None,
    pp: Annotated[int | None, Opt(min=1, max=MAX_INSTANCE_CHIPS, help="Pipeline stages.", rich_help_panel=Lay)] = None,
    ep: Annotated[int | None, Opt(min=1, max=MAX_INSTANCE_CHIPS, help="Expert parallel (default: all chips).", rich_help_panel=Lay)] = None,
    dp: Annotated[int | None, Opt(min=1, max=MAX_INSTANCE_CHIPS, help="Data-parallel attention groups.", rich_help_panel=Lay)] = None,
    mtp_accept: Annotated[float | None, Opt("--mtp-accept", min=0, max=1, help="MTP draft acceptance rate.")] = None,
    ttft_ms: Annotated[float | None, Opt("--ttft-ms", min=0, help="Time-to-first-token SLO.")] = None,
    tpot_ms: Annotated[float | None, Opt("--tpot-ms", min=0, help="Time-per-output-token SLO.")] = None,
    memory_gb: Annotated[float | None, Opt("--memory-gb", min=1, max=1e7, help="DRAM per CPU socket (CPUs only).")] = None,
    ep_overlap: Annotated[bool, Opt("--ep-overlap", help="Overlap expert all-to-all with compute (two-batch overlap).")] = False,
    ep_imbalance: Annotated[float, Opt("--ep-imbalance", min=1, max=1e4,
                                       help="Routed tokens on the busiest expert-parallel rank over the mean "
                                            "(1: balanced; ~2.6 without a load balancer, ~1.1 with one, in "
                                            "TensorRT-LLM's 32-rank DeepSeek-R1 example).")] = 1.0,
    top: Annotated[int, Opt(min=1, max=100, help="Rows to show.")] = 5,
    chart: Annotated[Path | None, Opt("--chart", dir_okay=False,
                                      help="Also draw the throughput-vs-TPOT Pareto front (.png/.svg; not overwritten).")] = None,
    samples: Annotated[int | None, Opt(min=10, max=1_000_000,
                                       help="Also draw the chip's ranged specs this many times and show "
                                            "P10-P50-P90 of the best configuration per sample.")] = None,
    seed: Annotated[int, Opt(min=0, max=MAX_SEED, help="Seed of the draws.")] = 0,
    fmt: Annotated[Format, Opt("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Serving throughput and latency: the best layouts and batch sizes under the SLOs.

    --batch counts the concurrent sequences of the whole instance; at --phase decode,
    --input-len is each sequence's KV context. Unset layout options are searched in one pass.
    With --samples the spread that the chip's uncertain specs give is shown too.
    """
    s = serving_setup(get_catalog(ctx), model, chip, chips, system, precision, kv_precision,
                      mtp_accept, memory_gb, ep_overlap, ep_imbalance)
    job = ServingJob(phase=phase.value, input_len=input_len, output_len=output_len, cached_len=cached_len,
                     requests=requests, kv_reserve=kv_reserve, max_batch=max_batch,
                     overlap_scheduler=overlap_scheduler)
    df = serve(s, job, batch, tp, pp, ep, dp, ttft_ms, tpot_ms)
    rows = best(df, top)
    if chart is not None:
        _chart(chart, {f"{s.chip} x {chips}": df}, tpot_ms)
    inputs = {"model": s.serving.workload.id, "chip": s.chip, "system": s.system, "chips": chips,
              **job.model_dump(), "precision": precision, "kv_precision": kv_precision,
              "mtp_accept": mtp_accept, "ep_overlap": ep_overlap, "ep_imbalance": ep_imbalance,
              "ttft_ms_slo": ttft_ms, "tpot_ms_slo": tpot_ms, "devices_per_chip": s.devices,
              "assumptions": list(s.assumptions)}
    spread = None
    if samples and not rows.empty:
        layout = {k: v for k, v in dict(tp=tp, pp=pp, ep=ep, dp=dp).items() if v}
        draws = serve_samples(get_catalog(ctx), model, chip, chips, job, system, ttft_ms, tpot_ms, precision,
                              kv_precision, mtp_accept, samples, seed, batch=batch, memory_gb=memory_gb,
                              ep_overlap=ep_overlap, ep_imbalance=ep_imbalance, **layout)
        spread = summarize(draws, SERVE_METRICS)
    if fmt is Format.json:
        out = {"inputs": inputs, "results": [_result(r) for r in rows.to_dict("records")],
               "pareto": pareto(df)[["tpot_ms", "tokens_per_s_per_chip", "batch", "tp",
                                     "pp", "ep", "dp"]].to_dict("records")}
        if spread is not None:
            out["uncertainty"] = {"samples": samples, "seed": seed, **spread_json(spread)}
        return print_json(out)
    if fmt is Format.csv:
        return print_csv(df)
    console.print(escape(f"{s.serving.workload.id} on {chips} x {s.chip} ({'; '.join(s.assumptions)})"))
    if rows.empty:
        console.print("no layout and batch meets the SLOs within memory")
        return
    print_table([[f"TP{r.tp} PP{r.pp} EP{r.ep} DP{r.dp}", str(r.batch), num(r.ttft_ms), num(r.tpot_ms),
                  num(r.tokens_per_s), num(r.tokens_per_s_per_chip), num(r.memory_gb_per_chip)]
                 for r in rows.itertuples()],
                ["layout", "batch", "TTFT ms", "TPOT ms", "tokens/s", "tokens/s/chip", "GB/chip"],
                numeric_from=1)
    first = rows.iloc[0]
    print_table([[k.removesuffix("_s"), num(first[k] * 1e3)] for k in DECODE_BREAKDOWN],
                ["decode step part", "ms"], title="Where a decode step goes (first row)")
    if spread is not None:
        print_spread(spread, "Spread from the chip's spec ranges", samples, seed)


def _chart(path: Path, fronts: dict, tpot_ms: float | None) -> None:
    from chipgap.report.pareto_chart import pareto_chart

    save_figure(path, lambda: pareto_chart(fronts, tpot_ms))


def _result(r: dict) -> dict:
    return {"layout": {k: r[k] for k in ("tp", "pp", "ep", "dp")}, "batch": r["batch"],
            "ttft_ms": r["ttft_ms"], "tpot_ms": r["tpot_ms"], "tokens_per_s": r["tokens_per_s"],
            "tokens_per_s_per_chip": r["tokens_per_s_per_chip"],
            "memory_gb_per_chip": r["memory_gb_per_chip"], "fits": r["fits"],
            "breakdown_ms": {k.removesuffix("_s"): r[k] * 1e3 for k in DECODE_BREAKDOWN}}
