"""``chipgap infer``: prefill, decode and offline serving of an LLM on chips, clusters and CPUs."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from chipgap.analyses.answer import SERVE_METRICS, Answer, answer
from chipgap.analyses.infer import DECODE_BREAKDOWN
from chipgap.catalog.question import MAX_DRAFT_TOKENS, ServeQuestion
from chipgap.cli import get_catalog
from chipgap.limits import MAX_BATCH, MAX_INSTANCE_CHIPS, MAX_REQUESTS, MAX_SEED, MAX_SEQ_LEN
from chipgap.cli.output import (Format, console, num, print_csv, print_json, print_spread, print_table,
                                question_from, save_figure, shown_default)

Opt = typer.Option
Lay = "Layout of one serving instance, in devices (an Ascend 910C package is 2; default: searched)"
Fmt = "Number formats and weight offload"
Spec = "Speculative decoding"
Dis = "Disaggregated deployments (pools: N chips, key=value...)"
POOL = "N[,key=value...]: N chips per instance; tp, pp, ep, dp, batch, instances, chip, system"


def _pool(spec: str | None, option: str) -> dict | None:
    """A pool spec, ``16,dp=16,ep=16`` or ``chips=8,chip=h200,instances=2``, as the fields of a
    `chipgap.catalog.question.ServePool` (the record checks them)."""
    if spec is None:
        return None
    out: dict = {}
    for i, part in enumerate(p.strip() for p in spec.split(",")):
        key, sep, value = part.partition("=")
        if not sep and i == 0:
            key, value = "chips", part
        elif not sep or not key.strip():
            raise typer.BadParameter(f"'{part}' is not key=value ({POOL})", param_hint=option)
        value = value.strip()
        out[key.strip()] = int(value) if re.fullmatch(r"\d{1,9}", value) else value
    return out


def _d(field: str) -> str:
    return shown_default(ServeQuestion, field)


class Phase(str, Enum):
    prefill = "prefill"
    decode = "decode"
    serve = "serve"


def infer(
    ctx: typer.Context,
    model: Annotated[str, Opt("--model", "-m", help="Workload id or alias, or a config.json path.")],
    chip: Annotated[str, Opt("--chip", "-c", help="Chip id or alias (GPUs, NPUs and CPUs).")],
    chips: Annotated[int | None, Opt("--chips", "-n", min=1, max=MAX_INSTANCE_CHIPS, help="Chips of one serving instance.",
                                     show_default=_d("chips"))] = None,
    system: Annotated[str | None, Opt(help="System (default: the chip's usual server).")] = None,
    phase: Annotated[Phase | None, Opt(help="prefill, decode or serve (offline, both phases).",
                                       show_default=_d("phase"))] = None,
    input_len: Annotated[int | None, Opt("--input-len", min=1, max=MAX_SEQ_LEN, help="Prompt tokens (decode: KV context).",
                                         show_default=_d("input_len"))] = None,
    output_len: Annotated[int | None, Opt("--output-len", min=1, max=MAX_SEQ_LEN, help="Generated tokens per request.",
                                          show_default=_d("output_len"))] = None,
    cached_len: Annotated[int | None, Opt("--cached-len", min=0, max=MAX_SEQ_LEN, show_default=_d("cached_len"),
                                   help="Prompt tokens already in the KV cache (prefix-cache hit): "
                                        "attended to, not computed.")] = None,
    requests: Annotated[int | None, Opt(min=1, max=MAX_REQUESTS, help="Offline job of this many requests, queued at once "
                                                    "(serve): throughput over its makespan, last "
                                                    "partial wave included. Default: steady state.")] = None,
    kv_reserve: Annotated[str | None, Opt("--kv-reserve", show_default=_d("kv_reserve"),
                                   help="KV an engine holds per sequence: used (paged, preempting: vLLM, "
                                        "SGLang) or full (prompt + whole output reserved on admission: "
                                        "TensorRT-LLM's default).")] = None,
    max_batch: Annotated[int | None, Opt("--max-batch", min=1, max=MAX_BATCH,
                                         help="Engine's max sequences in flight on the instance.")] = None,
    overlap_scheduler: Annotated[bool | None, Opt("--overlap-scheduler/--serial-scheduler",
                                           help="The engine schedules the next step while the chips run "
                                                "(SGLang from v0.4, TensorRT-LLM), or between steps, the "
                                                "chips idle (SGLang before v0.4: steps 1.1x as long).",
                                           show_default="--overlap-scheduler")] = None,
    batch: Annotated[int | None, Opt(min=1, max=MAX_BATCH, help="Concurrent sequences of the instance (default: searched).")] = None,
    precision: Annotated[str | None, Opt(help="Weights: bf16, fp8, mxfp8, int8, int4, nvfp4 or mxfp4.",
                                         show_default=_d("weight_precision"))] = None,
    compute_precision: Annotated[str | None, Opt("--compute-precision", rich_help_panel=Fmt,
                                                 help="What the GEMMs multiply in: bf16, fp8, mxfp8, int8 "
                                                      "(W4A8 with int4 weights), nvfp4 or mxfp4 (default: the "
                                                      "weights' own format, bf16 for int4). A chip without "
                                                      "such units runs bf16, and the answer says so.")] = None,
    attention_weight_precision: Annotated[str | None, Opt("--attention-weight-precision", rich_help_panel=Fmt,
                                                          help="The attention projections' weights where a "
                                                               "checkpoint keeps them apart (default: as "
                                                               "--precision).")] = None,
    dispatch_precision: Annotated[str | None, Opt("--dispatch-precision", rich_help_panel=Fmt,
                                                  help="What expert-parallel dispatch sends: bf16, fp8, int8 or "
                                                       "nvfp4.", show_default=_d("dispatch_precision"))] = None,
    kv_precision: Annotated[str | None, Opt("--kv-precision", help="KV cache: bf16, fp8 or int8.",
                                            show_default=_d("kv_precision"))] = None,
    attention_precision: Annotated[str | None, Opt("--attention-precision",
                                                   help="What attention multiplies in: bf16, or fp8 where the engine "
                                                        "runs FP8 attention kernels (FA3 FP8, FlashMLA FP8).",
                                                   show_default=_d("attention_precision"))] = None,
    tp: Annotated[int | None, Opt(min=1, max=MAX_INSTANCE_CHIPS, help="Tensor parallel.", rich_help_panel=Lay)] = None,
    pp: Annotated[int | None, Opt(min=1, max=MAX_INSTANCE_CHIPS, help="Pipeline stages.", rich_help_panel=Lay)] = None,
    ep: Annotated[int | None, Opt(min=1, max=MAX_INSTANCE_CHIPS, help="Expert parallel (default: all chips).", rich_help_panel=Lay)] = None,
    dp: Annotated[int | None, Opt(min=1, max=MAX_INSTANCE_CHIPS, help="Data-parallel attention groups.", rich_help_panel=Lay)] = None,
    mtp_accept: Annotated[float | None, Opt("--mtp-accept", min=0, max=1, rich_help_panel=Spec,
                                            help="Acceptance rate of one MTP draft token (--draft-tokens 1).")] = None,
    draft_tokens: Annotated[int | None, Opt("--draft-tokens", min=0, max=MAX_DRAFT_TOKENS, rich_help_panel=Spec,
                                            help="Draft tokens per step, verified together (default with "
                                                 "--accept-rates: 0 to their count, searched).")] = None,
    accept_rates: Annotated[str | None, Opt("--accept-rates", rich_help_panel=Spec,
                                            help="Acceptance of each draft position given the ones before, "
                                                 "e.g. '0.85,0.7,0.6'.")] = None,
    accept_length: Annotated[float | None, Opt("--accept-length", min=1, max=MAX_DRAFT_TOKENS + 1,
                                               rich_help_panel=Spec,
                                               help="Mean tokens a step emits (accepted drafts + 1), as engines "
                                                    "print it; needs --draft-tokens.")] = None,
    draft_model: Annotated[str | None, Opt("--draft-model", rich_help_panel=Spec, show_default=_d("draft_model"),
                                           help="mtp (the model's own module) or a catalog workload (an "
                                                "EAGLE-3 head).")] = None,
    weight_offload: Annotated[str | None, Opt("--weight-offload", rich_help_panel=Fmt,
                                              help="Fraction of the weights in host memory, streamed over the "
                                                   "host link each pass (NVLink-C2C, PCIe), or 'auto': the "
                                                   "least that fits.", show_default=_d("weight_offload"))] = None,
    ttft_ms: Annotated[float | None, Opt("--ttft-ms", min=0, help="Time-to-first-token SLO.")] = None,
    tpot_ms: Annotated[float | None, Opt("--tpot-ms", min=0, help="Time-per-output-token SLO.")] = None,
    memory_gb: Annotated[float | None, Opt("--memory-gb", min=1, max=1e7, help="DRAM per CPU socket (CPUs only).")] = None,
    ep_overlap: Annotated[bool | None, Opt("--ep-overlap/--no-ep-overlap",
                                          help="Overlap expert all-to-all with compute (two-batch overlap), as large "
                                               "expert-parallel deployments run.",
                                          show_default=_d("ep_overlap"))] = None,
    prefill: Annotated[str | None, Opt("--prefill", help="Prefill pool (with --decode): " + POOL + ". The "
                                                          "prefill-to-decode ratio is searched unless instances are "
                                                          "given; --chips above 1 caps both pools' chips.",
                                       rich_help_panel=Dis)] = None,
    decode: Annotated[str | None, Opt("--decode", help="Decode pool (with --prefill): " + POOL + ".",
                                      rich_help_panel=Dis)] = None,
    kv_transfer: Annotated[str | None, Opt("--kv-transfer", rich_help_panel=Dis,
                                           help="Fabric of the KV hand-off: scaleup or scaleout (default: scale-up "
                                                "where a prefill and a decode instance fit one scale-up domain).")] = None,
    attention: Annotated[str | None, Opt("--attention", help="Attention pool of an attention-FFN split (with "
                                                             "--experts; --phase decode): N[,tp=..,dp=..,batch=..,"
                                                             "chip=ID,system=ID]; batch counts the deployment's "
                                                             "sequences.",
                                         rich_help_panel=Dis)] = None,
    experts: Annotated[str | None, Opt("--experts", help="Expert pool of an attention-FFN split: N[,chip=ID,"
                                                         "system=ID] (the routed experts over all its devices).",
                                       rich_help_panel=Dis)] = None,
    microbatches: Annotated[int | None, Opt("--microbatches", min=1, max=16, rich_help_panel=Dis,
                                            help="Micro-batches of the attention-FFN ping-pong (default: 1-4 "
                                                 "searched).")] = None,
    ep_imbalance: Annotated[float | None, Opt("--ep-imbalance", min=1, max=1e4, show_default=_d("ep_imbalance"),
                                       help="Routed tokens on the busiest expert-parallel rank over the mean "
                                            "(1: balanced; ~2.6 without a load balancer, ~1.1 with one, in "
                                            "TensorRT-LLM's 32-rank DeepSeek-R1 example).")] = None,
    top: Annotated[int, Opt(min=1, max=100, help="Rows to show.")] = 5,
    chart: Annotated[Path | None, Opt("--chart", dir_okay=False,
                                      help="Also draw the throughput-vs-TPOT Pareto front (.png/.svg; not overwritten).")] = None,
    samples: Annotated[int | None, Opt(min=10, max=1_000_000,
                                       help="Also draw the chip's ranged specs this many times and show "
                                            "P10-P50-P90 of the best configuration per sample.")] = None,
    seed: Annotated[int | None, Opt(min=0, max=MAX_SEED, help="Seed of the draws.", show_default=_d("seed"))] = None,
    fmt: Annotated[Format, Opt("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Serving throughput and latency: the best layouts and batch sizes under the SLOs.

    --batch counts the concurrent sequences of the whole instance; at --phase decode,
    --input-len is each sequence's KV context. Layout options and --batch left out are searched
    in one pass. With --samples the spread that the chip's uncertain specs give is shown too.
    With --prefill and --decode pools, the prefill-to-decode ratio with the most output tokens per
    second per chip under --ttft-ms and --tpot-ms; with --attention and --experts pools, an
    attention-FFN split's decode.
    """
    q = question_from(ServeQuestion, model=model, chip=chip, chips=chips, system=system,
                      phase=phase.value if phase else None, input_len=input_len, output_len=output_len,
                      cached_len=cached_len, requests=requests, kv_reserve=kv_reserve, max_batch=max_batch,
                      overlap_scheduler=overlap_scheduler, batch=batch, weight_precision=precision,
                      kv_precision=kv_precision, attention_precision=attention_precision,
                      compute_precision=compute_precision, dispatch_precision=dispatch_precision,
                      attention_weight_precision=attention_weight_precision,
                      mtp_accept=mtp_accept, draft_tokens=draft_tokens, accept_rates=accept_rates,
                      accept_length=accept_length, draft_model=draft_model,
                      weight_offload=_offload(weight_offload), ttft_ms=ttft_ms, tpot_ms=tpot_ms,
                      memory_gb=memory_gb, ep_overlap=ep_overlap, ep_imbalance=ep_imbalance, samples=samples,
                      seed=seed, layout=dict(tp=tp, pp=pp, ep=ep, dp=dp), prefill_pool=_pool(prefill, "--prefill"),
                      decode_pool=_pool(decode, "--decode"), kv_transfer=kv_transfer,
                      attention_pool=_pool(attention, "--attention"), expert_pool=_pool(experts, "--experts"),
                      afd_microbatches=microbatches)
    if chart is not None and q.disaggregated:
        raise typer.BadParameter("a disaggregated deployment has one row per ratio or pipeline setting, "
                                 "no throughput-vs-TPOT front", param_hint="--chart")
    a = answer(get_catalog(ctx), q)
    if chart is not None:
        _chart(chart, {f"{a.setup.chip} x {q.chips}": a.table}, tpot_ms)
    _render(a, top, fmt)


def _offload(text: str | None) -> float | str | None:
    """--weight-offload as the question takes it: 'auto', a number, or the text (refused by the
    question, naming the field)."""
    if text is None or text.strip() == "auto":
        return None if text is None else "auto"
    try:
        return float(text)
    except ValueError:
        return text


def _render(a: Answer, top: int, fmt: Format) -> None:
    if fmt is Format.json:
        return print_json(a.to_dict(top))
    if a.question.disaggregated:
        return print_csv(a.table) if fmt is Format.csv else _render_pools(a, top)
    rows, spread, inputs = a.best(top), a.spread(SERVE_METRICS), a.inputs()
    if fmt is Format.csv:
        return print_csv(a.table)
    console.print(escape(f"{inputs['model']} on {inputs['chips']} x {inputs['chip']} ({'; '.join(inputs['assumptions'])})"))
    if rows.empty:
        console.print("no layout and batch meets the SLOs within memory")
        return
    drafts = "draft_tokens" in rows
    print_table([[f"TP{r.tp} PP{r.pp} EP{r.ep} DP{r.dp}", str(r.batch),
                  *([str(r.draft_tokens), num(r.accept_length)] if drafts else []), num(r.ttft_ms), num(r.tpot_ms),
                  num(r.tokens_per_s), num(r.tokens_per_s_per_chip), num(r.memory_gb_per_chip)]
                 for r in rows.itertuples()],
                ["layout", "batch", *(["drafts", "accepted"] if drafts else []), "TTFT ms", "TPOT ms", "tokens/s",
                 "tokens/s/chip", "GB/chip"],
                numeric_from=1)
    first = rows.iloc[0]
    print_table([[k.removesuffix("_s"), num(first[k] * 1e3)] for k in DECODE_BREAKDOWN],
                ["decode step part", "ms"], title="Where a decode step goes (first row)")
    if spread is not None:
        print_spread(spread, "Spread from the chip's spec ranges", a.question.samples, a.question.seed)


def _chart(path: Path, fronts: dict, tpot_ms: float | None) -> None:
    from chipgap.plots.pareto import pareto_chart

    save_figure(path, lambda: pareto_chart(fronts, tpot_ms))


def _render_pools(a: Answer, top: int) -> None:
    """A disaggregated deployment: its best ratios (P/D) or pipeline settings (AFD)."""
    inputs, rows = a.inputs(), a.best(top)
    console.print(escape(f"{inputs['model']} on {inputs['chip']}, {a.question.disaggregated.upper()} "
                         f"({'; '.join(inputs['assumptions'])})"))
    if rows.empty:
        console.print(escape(f"no configuration meets the SLOs within memory ({a.table.reason.iloc[0]})"))
        return
    if a.question.disaggregated == "pd":
        lay = lambda r, p: (f"TP{r[p + '_tp']} PP{r[p + '_pp']} EP{r[p + '_ep']} DP{r[p + '_dp']} "  # noqa: E731
                            f"x{r[p + '_batch']}")
        print_table([[f"{r.prefill_instances}:{r.decode_instances}", str(r.chips), lay(r._asdict(), "prefill"),
                      lay(r._asdict(), "decode"), num(r.ttft_ms), num(r.tpot_ms), num(r.tokens_per_s),
                      num(r.tokens_per_s_per_chip), r.bottleneck] for r in rows.itertuples()],
                    ["P:D", "chips", "prefill instance", "decode instance", "TTFT ms", "TPOT ms", "tokens/s",
                     "tokens/s/chip", "binds"], numeric_from=4)
        return
    print_table([[f"TP{r.tp} DP{r.dp}", str(r.batch), str(r.microbatches), num(r.tpot_ms), num(r.tokens_per_s),
                  num(r.tokens_per_s_per_chip), num(r.memory_gb_per_chip), num(r.expert_memory_gb_per_chip)]
                 for r in rows.itertuples()],
                ["attention", "batch", "micro-batches", "TPOT ms", "tokens/s", "tokens/s/chip", "GB/chip attn",
                 "GB/chip experts"], numeric_from=1)
    first = rows.iloc[0]
    print_table([[k.removesuffix("_ms"), num(first[k])] for k in ("attention_ms", "experts_ms", "dispatch_ms",
                                                                     "combine_ms")],
                ["per layer and micro-batch", "ms"], title="Where a layer goes (first row)")
