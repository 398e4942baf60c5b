"""Inference on catalog hardware: prefill, decode, offline serving and SLO-bound search.

Builds the serving instance from the catalog (chip, system, efficiency) and evaluates layouts
and batch sizes as arrays with `chipgap.models.inference`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chipgap.analyses.train import _format_peaks, devices_per_chip, hardware, resolve_workload
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.question import ServeLayout, ServeQuestion
from chipgap.catalog.serving_job import ServingJob
from chipgap.errors import InputError
from chipgap.limits import MAX_INSTANCE_CHIPS
from chipgap.models import inference as inf
from chipgap.analyses.efficiency import efficiency_for
from chipgap.models.sampling import Draw
from chipgap.models.precision import PEAK_FIELD, default_compute
from chipgap.models.speculation import Speculation
from chipgap.models.training import Efficiency, Hardware
from chipgap.models.transformer import layer_work
from chipgap.text import reason_text

BATCHES = np.unique(np.round(np.geomspace(1, 16384, 57)).astype(int))
"""Concurrent sequences tried when the caller gives none: 1 to 16,384, about 19% apart."""
CPU_MEMORY_GB = 256.0
"""DRAM assumed for a CPU socket whose configuration the caller does not give."""


@dataclass(frozen=True)
class ServingSetup:
    serving: inf.Serving
    hardware: Hardware
    efficiency: Efficiency
    chip: str
    system: str | None
    assumptions: tuple[str, ...]
    devices: int = 1
    """Devices per chip: the instance, layouts and hardware count devices (an Ascend 910C
    package is two dies, each its own NPU); per-chip results count packages."""
    question: ServeQuestion | None = None
    """The question the setup answers."""


def serving_setup(catalog: Catalog, q: ServeQuestion) -> ServingSetup:
    """Fix a serving question's instance, hardware and efficiency once (the question's own
    rules were checked when it was built; here its ids are resolved against the catalog)."""
    if not isinstance(q, ServeQuestion):
        raise InputError("question", "a chipgap.catalog.ServeQuestion", q)
    if q.chips > MAX_INSTANCE_CHIPS:
        raise InputError("chips", f"a whole number from 1 to {MAX_INSTANCE_CHIPS:,} (one serving instance)", q.chips)
    c = catalog.chip(q.chip)
    notes, memory_gb = [], q.memory_gb
    if c.kind == "cpu" and c.memory_capacity_gib is None:
        memory_gb = memory_gb or CPU_MEMORY_GB
        notes.append(f"{memory_gb:g} GB of DRAM assumed per socket")
    compute, note = compute_format(c, q.weight_precision, q.compute_precision)
    attn_compute, attn_note = (compute_format(c, q.attention_weight_precision, None)
                               if q.attention_weight_precision else (None, None))
    notes += [n for n in (note, attn_note and f"attention projections: {attn_note}") if n]
    hw, sys_id = hardware(catalog, c.id, q.system, memory_gb=memory_gb, require_compute=c.kind != "cpu",
                          **_format_peaks(compute))
    if c.bf16_dense_tflops is None:
        notes.append("no public bf16 peak: fp32 peak used" if c.fp32_dense_tflops else
                     "no public compute peak: times are memory-bound only (a lower bound)")
    eff, basis = efficiency_for(catalog, c.id)
    notes.append(f"efficiency: {basis}")
    w = resolve_workload(catalog, q.model)
    d = devices_per_chip(catalog, c.id)
    if d > 1:
        notes.append(f"each package is {d} devices; layouts count devices")
    if q.ep_imbalance > 1:
        notes.append(f"the busiest expert-parallel rank gets {q.ep_imbalance:g}x the mean of routed tokens")
    attention = q.attention_precision
    if attention == "fp8" and c.fp8_dense_tflops is None:
        attention = "bf16"
        notes.append("no FP8 units: attention multiplies at the bf16 peak")
    spec = speculation(catalog, q, w)
    if spec is not None:
        notes.append(_speculation_note(spec, q))
    offload = q.weight_offload
    if offload != 0.0:
        if np.all(np.isnan(hw.host_gbps)):
            raise InputError("weight_offload", f"0: {c.id} has no host link bandwidth in the catalog (chip or "
                                               f"system host_io_bw_gbps_bidir) to stream offloaded weights over",
                             offload)
        notes.append(f"weights {'offloaded as memory needs' if offload == 'auto' else f'{offload:.0%} in host memory'}"
                     f", streamed over the host link at {float(np.max(hw.host_gbps)):g} GB/s each way")
    serving = inf.Serving(w, q.chips * d, q.weight_precision, q.kv_precision, None, q.ep_overlap,
                          float(q.ep_imbalance), attention, compute, q.dispatch_precision, spec, offload,
                          q.attention_weight_precision, attn_compute)
    return ServingSetup(serving, hw.per_device(d), eff, c.id, sys_id, tuple(notes), d, q)


def compute_format(chip, weights: str, asked: str | None) -> tuple[str, str | None]:  # noqa: ANN001
    """The format ``chip``'s GEMMs run ``weights`` in when ``asked`` (None: the weights' default,
    `chipgap.models.precision.default_compute`), and the note that says so when the chip has no
    units for it: it falls back to bf16, the format the weights dequantize to."""
    fmt = asked or default_compute(weights)
    if fmt == "bf16" or getattr(chip, PEAK_FIELD[fmt]) is not None:
        return fmt, None
    return "bf16", (f"no {fmt} units: {weights} weights are computed at the bf16 rate (weight-only "
                    f"quantization: dequantized to bf16), not in {fmt}")


def speculation(catalog: Catalog, q: ServeQuestion, w) -> Speculation | None:  # noqa: ANN001
    """The question's speculative decoding (None without): its draft tokens and acceptance, and
    the draft model (None: the served model's multi-token-prediction module).

    Raises
    ------
    InputError
        Naming ``draft_model`` when it is 'mtp' and the model has no MTP module.
    """
    if q.mtp_accept is not None:
        rates: tuple[float, ...] = (q.mtp_accept,)
    elif q.accept_rates is not None:
        rates = tuple(q.accept_rates)
    elif q.accept_length is not None:
        rates = ()
    else:
        return None
    k = 1 if q.mtp_accept is not None else q.draft_tokens
    if not (k or (k is None and rates)):
        return None
    draft = None
    if q.draft_model != "mtp":
        draft = resolve_workload(catalog, q.draft_model)
        layer_work(draft)    # a draft whose layers the model cannot time is refused here
    elif not w.mtp_layers:
        raise InputError("draft_model", f"a catalog workload that drafts (an EAGLE-3 head or a small model): "
                                        f"{w.id} has no multi-token-prediction module", q.draft_model)
    return Speculation(rates, q.accept_length, k, draft)


def _speculation_note(spec: Speculation, q: ServeQuestion) -> str:
    what = "MTP module" if spec.draft is None else f"draft model {spec.draft.id}"
    k = "0 to " + str(len(spec.rates)) if spec.draft_tokens is None else str(spec.draft_tokens)
    k = f"{k} draft token{'' if k == '1' else 's'}"
    accepted = (f"accept length {spec.accept_length:g}" if spec.accept_length is not None else
                "acceptance " + ", ".join(f"{r:g}" for r in spec.rates))
    return f"speculative decoding: {k} per step from the {what}, {accepted}"


def sampled(catalog: Catalog, s: ServingSetup, draw: Draw) -> ServingSetup:
    """``s`` with its chip's and system's specs drawn by ``draw`` (a
    `chipgap.models.sampling.Sampler`: fields of shape (n,)), per device; all else unchanged
    (an assumed CPU memory stays as assumed)."""
    c = catalog.chip(s.chip)
    memory = s.hardware.memory_gb * s.devices if c.memory_capacity_gib is None else None
    hw, _ = hardware(catalog, s.chip, s.system, memory_gb=memory, require_compute=c.kind != "cpu", draw=draw,
                     **_format_peaks(s.serving.compute))
    return dataclasses.replace(s, hardware=hw.per_device(s.devices))


def check_instance_layout(s: ServingSetup, tp=None, pp=None, ep=None, dp=None) -> None:  # noqa: ANN001
    """Refuse the parts of an instance layout given that cannot exist on ``s`` (the rest are
    searched): a degree above the instance's devices or not dividing them, tp x pp x dp not
    dividing them (or not equal, when all three are given), tp not dividing the attention heads
    or the scale-up domain, pp above the layers, ep above 1 for a dense model.

    Raises
    ------
    InputError
        Naming the field, what it must be, and the instance.
    """
    n, w = s.serving.chips, s.serving.workload
    where = f"an instance of {n:,} devices (scale-up domain {int(np.max(s.hardware.domain)):,})"
    given = {k: v for k, v in dict(tp=tp, pp=pp, dp=dp, ep=ep).items() if v is not None}
    for k, v in given.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= n or (k != "ep" and n % v):
            raise InputError(k, f"a whole number dividing the devices of {where}", v)
    fixed = [given[k] for k in ("tp", "pp", "dp") if k in given]
    product = int(np.prod(fixed)) if fixed else 1
    if n % product or (len(fixed) == 3 and product != n):
        name = "dp" if "dp" in given else list(k for k in ("tp", "pp", "dp") if k in given)[-1]
        raise InputError(name, f"a value with tp x pp x dp {'equal to' if len(fixed) == 3 else 'dividing'} "
                               f"the devices of {where}; got tp x pp x dp = {product:,}", given[name])
    if tp is not None and (w.n_heads % tp or np.any(s.hardware.domain % tp)):
        raise InputError("tp", f"a divisor of the attention heads ({w.n_heads}) and of the scale-up domain "
                               f"of {where}", tp)
    if pp is not None and pp > w.n_layers:
        raise InputError("pp", f"at most the layers ({w.n_layers})", pp)
    if ep is not None and ep > 1 and not w.is_moe:
        raise InputError("ep", f"1: {w.id} is a dense model, with no experts to spread", ep)


def _layouts(s: ServingSetup, tp=None, pp=None, ep=None, dp=None) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Every instance layout (or the one given): tp within the domain, pp, dp what the chips
    leave, ep every chip of a pipeline stage, tp x dp (MoE), or 1. A given field that cannot
    exist is refused (`check_instance_layout`); a combination that cannot is kept, alone, for its
    reasons."""
    check_instance_layout(s, tp, pp, ep, dp)
    n, w = s.serving.chips, s.serving.workload
    pow2 = 2 ** np.arange(0, 12)
    tps = np.atleast_1d(tp) if tp else pow2[(pow2 <= min(n, s.hardware.domain)) & (w.n_heads % pow2 == 0)]
    pps = np.atleast_1d(pp) if pp else pow2[(pow2 <= min(n, w.n_layers))]
    g = np.meshgrid(tps, pps, indexing="ij")
    lay = {"tp": g[0].ravel(), "pp": g[1].ravel()}
    lay["dp"] = np.full(lay["tp"].shape, dp) if dp else np.maximum(n // (lay["tp"] * lay["pp"]), 1)
    keep = lay["tp"] * lay["pp"] * lay["dp"] == n
    lay = {k: v[keep] if keep.any() else v[:1] for k, v in lay.items()}
    lay["ep"] = np.full(lay["tp"].shape, ep) if ep else (lay["tp"] * lay["dp"] if w.is_moe else np.ones_like(lay["tp"]))
    return lay


def instance_layouts(s: ServingSetup, layout: ServeLayout | None = None) -> dict[str, np.ndarray]:
    """Every layout of a serving instance (tp, pp, dp, ep arrays of equal length) that
    ``layout`` (default: the setup's question's) leaves, as `serve` tries them: tp in powers of
    two within the domain, pp in powers of two, tp pp dp = chips."""
    lay = layout if layout is not None else (s.question.layout if s.question else ServeLayout())
    return _layouts(s, lay.tp, lay.pp, lay.ep, lay.dp)


SERVE_KEYS = ("ttft_ms", "tpot_ms", "tokens_per_s", "tokens_per_s_per_chip", "memory_gb_per_chip", "fits",
              "accept_length", "weight_offload")
DECODE_BREAKDOWN = ("attention_s", "dense_s", "experts_s", "head_s", "tp_comm_s", "ep_comm_s", "pp_comm_s",
                    "draft_s", "offload_s", "scheduler_s")


def serve_arrays(s: ServingSetup, grid: dict[str, np.ndarray], job: ServingJob) -> dict[str, np.ndarray]:
    """The kernel of `serve`: metrics of ``job`` for ``grid`` (tp, pp, ep, dp, batch, and
    optionally draft_tokens; arrays that broadcast with each other and with the hardware's sample
    axis), as arrays; ``reason`` is a bit mask. Without ``draft_tokens`` in the grid, the
    question's (the most its acceptance rates allow, when it leaves them to the search)."""
    args = (grid["tp"], grid["pp"], grid["ep"], grid["dp"])
    drafts = grid.get("draft_tokens")
    batch = grid["batch"]
    for cap in (job.requests, job.max_batch):
        batch = batch if cap is None else np.minimum(batch, cap)
    input_len, output_len, cached_len = job.input_len, job.output_len, job.cached_len
    ctx = input_len if job.phase == "decode" else input_len + output_len / 2
    # steady-state sequences are spread over their generation: contexts from input_len to
    # input_len + output_len (what windowed and chunked layers see depends on the spread)
    span = 0.0 if job.phase == "decode" else float(output_len)
    dec = inf.decode_step(s.serving, s.hardware, s.efficiency, *args, batch, ctx, drafts=drafts, span=span)
    # memory holds every sequence's context: in steady-state serving sequences are spread over
    # their generation (paged KV cache), so the mean context; a decode pool at input_len; an
    # engine that reserves each request's whole sequence on admission, prompt plus output
    last, last_span = (input_len, 0.0) if job.phase in ("decode", "prefill") else (ctx, span)
    if job.kv_reserve == "full" and job.phase != "prefill":
        last, last_span = input_len + output_len, 0.0
    end = inf.decode_step(s.serving, s.hardware, s.efficiency, *args, batch, last, drafts=drafts,
                         span=last_span)
    chunk = np.maximum(np.ceil(s.efficiency.prefill_chunk_tokens / (input_len - cached_len)), 1)
    pre = inf.prefill(s.serving, s.hardware, s.efficiency, *args, chunk * grid["dp"], input_len, cached_len)
    one = inf.prefill(s.serving, s.hardware, s.efficiency, *args, grid["dp"], input_len, cached_len)
    per_request_prefill = pre["busy_s"] / (chunk * grid["dp"])   # stages pipeline prefill chunks
    if job.phase == "serve" and job.requests is not None:
        tokens = job.requests * output_len / _makespan(s, args, batch, job, ctx, span, per_request_prefill,
                                                       dec["tpot_s"], drafts)
    elif job.phase == "serve":
        tokens = 1.0 / (dec["tpot_s"] / batch + per_request_prefill / output_len)
    elif job.phase == "decode":
        tokens = dec["tokens_per_s"]
    else:
        pool = inf.prefill(s.serving, s.hardware, s.efficiency, *args, batch, input_len, cached_len)
        tokens, end = pool["tokens_per_s"], {**end, "weight_offload": pool["weight_offload"]}
    slow = 1.0 if job.overlap_scheduler else s.efficiency.serial_scheduler_slowdown   # every step, both phases
    tokens = tokens / slow
    out = {"ttft_ms": one["prefill_s"] * slow * 1e3, "tpot_ms": dec["tpot_s"] * slow * 1e3,
           "tokens_per_s": tokens, "tokens_per_s_per_chip": tokens / (s.serving.chips / s.devices),
           "memory_gb_per_chip": end["memory_gb"] * s.devices, "fits": end["fits"], "reason": end["reason"],
           "accept_length": dec["accept_length"],
           "weight_offload": end["weight_offload"],
           "scheduler_s": (slow - 1.0) * dec["step_s"], **{k: dec[k] for k in DECODE_BREAKDOWN if k in dec}}
    shape = np.broadcast_shapes(*(np.shape(v) for v in out.values()))
    return {k: np.broadcast_to(v, shape) for k, v in out.items()}


def _makespan(s: ServingSetup, args: tuple, batch, job: ServingJob, ctx: float, span: float,  # noqa: ANN001
              per_request_prefill, tpot_s, drafts=None):  # noqa: ANN001, ANN202
    """Seconds to serve ``job.requests`` equal requests at most ``batch`` at a time, all queued
    at once: full waves at ``batch``, then the rest, a smaller batch whose steps use the chips
    less (an offline benchmark of a fixed request count ends on that tail)."""
    waves = np.floor(job.requests / batch)
    rest = job.requests - waves * batch
    tail = inf.decode_step(s.serving, s.hardware, s.efficiency, *args, np.maximum(rest, 1), ctx,
                           drafts=drafts, span=span)["tpot_s"]
    wave_s = batch * per_request_prefill + job.output_len * tpot_s
    rest_s = np.where(rest > 0, rest * per_request_prefill + job.output_len * tail, 0.0)
    return waves * wave_s + rest_s


def meets_slo(out, ttft_ms: float | None, tpot_ms: float | None):  # noqa: ANN001, ANN201
    """Where a configuration is valid (``reason`` 0) and within the latency SLOs: the one SLO
    rule of every surface. ``out`` maps ``reason``, ``ttft_ms`` and ``tpot_ms`` to arrays (or
    is a DataFrame holding them, ``reason`` as a code or as text)."""
    reason = np.asarray(out["reason"])
    ok = (reason == "") if reason.dtype.kind in "OUS" else (reason == 0)
    if ttft_ms is not None:
        ok = ok & (np.asarray(out["ttft_ms"]) <= ttft_ms)
    if tpot_ms is not None:
        ok = ok & (np.asarray(out["tpot_ms"]) <= tpot_ms)
    return ok


def serve(s: ServingSetup) -> pd.DataFrame:
    """Serving the setup's question: every layout it leaves unset at every batch (or its
    ``batch``), in one array pass.

    The question's ``phase`` sets what ``tokens_per_s`` counts:

    - 'serve' (offline, both phases on the instance): generated tokens per second,
      ``1 / (TPOT / B + prefill time per request / output_len)``; decode steps are shared by
      the B sequences at the mean context, each prompt is prefilled once in chunks of
      ``prefill_chunk_tokens`` (a catalog constant); with ``requests``, the job's output tokens over its makespan,
      at most B requests in flight, the last partial wave included;
    - 'decode' (a disaggregated decode pool): generated tokens per second, ``B / TPOT``, with
      every sequence at a KV context of ``input_len``;
    - 'prefill' (a prefill pool): computed prompt tokens per second with B prompts per pass.

    With speculative decoding, every draft-token count the question leaves is tried too (0 to
    the number of acceptance rates it gives when it does not fix ``draft_tokens``), so that the
    SLOs pick the count: more drafts emit more tokens per step but make each step longer.
    TTFT is the prefill of one prompt on the instance (no queueing). Neither ``requests``
    nor ``max_batch`` is ever exceeded by the sequences in flight. Batches tried when the
    question leaves ``batch`` unset: `BATCHES`.

    Returns
    -------
    DataFrame
        One row per (layout, batch, draft tokens): ``tp, pp, ep, dp, batch`` (and
        ``draft_tokens`` with speculation), ``ttft_ms, tpot_ms, tokens_per_s,
        tokens_per_s_per_chip, memory_gb_per_chip, fits, accept_length, weight_offload,
        meets_slo`` (valid and within the question's SLOs, `meets_slo`), the decode breakdown
        (``attention_s`` ... ``pp_comm_s``, ``draft_s`` and ``offload_s`` per step, and
        ``scheduler_s``, the accelerators' idle time without an overlap scheduler) and ``reason``.
    """
    q = s.question
    if q is None:
        raise InputError("setup", "a serving setup built from a ServeQuestion (serving_setup)", s)
    job = q.job
    layouts = instance_layouts(s)
    batches = np.atleast_1d(q.batch) if q.batch else BATCHES
    for cap in (job.requests, job.max_batch):   # more sequences than these never run at once
        batches = batches if cap is None else np.unique(np.minimum(batches, cap))
    n_lay = layouts["tp"].size
    grid = {k: np.repeat(v, batches.size) for k, v in layouts.items()}
    grid["batch"] = np.tile(batches, n_lay)
    spec = s.serving.spec
    if spec is not None:                                  # every draft-token count the question leaves
        drafts = spec.options
        grid = {k: np.repeat(v, drafts.size) for k, v in grid.items()}
        grid["draft_tokens"] = np.tile(drafts, n_lay * batches.size)
    out = serve_arrays(s, grid, job)
    df = pd.DataFrame({**{k: v.astype(int) for k, v in grid.items()},
                       **{k: out[k] for k in (*SERVE_KEYS, *DECODE_BREAKDOWN)}})
    df["fits"] = df["fits"].astype(bool)
    df["reason"] = reason_text(out["reason"], inf.REASONS)
    df["meets_slo"] = meets_slo(out, q.ttft_ms, q.tpot_ms)
    return df


def best(df: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """The ``top`` rows that fit and meet the SLOs, highest throughput per chip first."""
    return df[df.meets_slo].sort_values("tokens_per_s_per_chip", ascending=False).head(top).reset_index(drop=True)


def pareto(df: pd.DataFrame) -> pd.DataFrame:
    """Throughput-vs-latency front: rows no other valid row beats on both TPOT and tokens/s/chip."""
    ok = df[df.reason == ""].sort_values(["tpot_ms", "tokens_per_s_per_chip"], ascending=[True, False])
    front = ok[ok.tokens_per_s_per_chip > ok.tokens_per_s_per_chip.cummax().shift(fill_value=-np.inf)]
    return front.reset_index(drop=True)
