"""Inference on catalog hardware: prefill, decode, offline serving and SLO-bound search.

Builds the serving instance from the catalog (chip, system, efficiency) and evaluates layouts
and batch sizes as arrays with `chipgap.models.inference`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chipgap.analyses.train import devices_per_chip, hardware, resolve_workload
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.serving_job import ServingJob
from chipgap.errors import InputError
from chipgap.limits import MAX_BATCH, MAX_INSTANCE_CHIPS
from chipgap.models import inference as inf
from chipgap.models.calibration import efficiency_for
from chipgap.models.sampling import Draw
from chipgap.models.training import Efficiency, Hardware
from chipgap.text import reason_text

PREFILL_CHUNK_TOKENS = 8192
"""Prompt tokens a serving engine batches into one prefill pass (chunked prefill); TensorRT-LLM's
default max_num_tokens and a common vLLM/SGLang chunk size."""
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


def serving_setup(catalog: Catalog, model: str, chip: str, chips: int = 1, system: str | None = None,
                  weight_precision: str = "bf16", kv_precision: str = "bf16",
                  mtp_accept: float | None = None, memory_gb: float | None = None,
                  ep_overlap: bool = False, ep_imbalance: float = 1.0) -> ServingSetup:
    """Check a serving question's inputs once and fix the instance, hardware and efficiency
    (``ep_overlap`` and ``ep_imbalance`` as in `chipgap.models.inference.Serving`)."""
    if isinstance(chips, bool) or not isinstance(chips, (int, np.integer)) or not 1 <= chips <= MAX_INSTANCE_CHIPS:
        raise InputError("chips", f"a whole number from 1 to {MAX_INSTANCE_CHIPS:,} (one serving instance)", chips)
    if weight_precision not in inf.WEIGHT_BYTES:
        raise InputError("weight_precision", ", ".join(inf.WEIGHT_BYTES), weight_precision)
    if kv_precision not in inf.KV_BYTES:
        raise InputError("kv_precision", ", ".join(inf.KV_BYTES), kv_precision)
    if memory_gb is not None and not 0 < memory_gb <= 1e7:
        raise InputError("memory_gb", "a positive number of GB per socket, at most 10 million", memory_gb)
    if mtp_accept is not None and not 0 <= mtp_accept <= 1:
        raise InputError("mtp_accept", "an acceptance rate in [0, 1]", mtp_accept)
    if (isinstance(ep_imbalance, bool) or not isinstance(ep_imbalance, (int, float, np.number))
            or not np.isfinite(ep_imbalance) or ep_imbalance < 1):
        raise InputError("ep_imbalance", "the busiest expert-parallel rank's share over the mean, at least 1",
                         ep_imbalance)
    c = catalog.chip(chip)
    notes = []
    if c.kind == "cpu" and c.memory_capacity_gib is None:
        memory_gb = memory_gb or CPU_MEMORY_GB
        notes.append(f"{memory_gb:g} GB of DRAM assumed per socket")
    eight_bit = "int8" if weight_precision == "int8" else "fp8"
    hw, sys_id = hardware(catalog, c.id, system, memory_gb=memory_gb, require_compute=c.kind != "cpu",
                          eight_bit=eight_bit)
    if weight_precision in ("fp8", "int8") and c.peak_tflops(eight_bit) is None:
        notes.append(f"no {weight_precision} units: {weight_precision} weights are computed at the bf16 rate "
                     "(weight-only quantization), not at an 8-bit rate")
    if c.bf16_dense_tflops is None:
        notes.append("no public bf16 peak: fp32 peak used" if c.fp32_dense_tflops else
                     "no public compute peak: times are memory-bound only (a lower bound)")
    eff, basis = efficiency_for(c.id)
    notes.append(f"efficiency: {basis}")
    w = resolve_workload(catalog, model)
    d = devices_per_chip(catalog, c.id)
    if d > 1:
        notes.append(f"each package is {d} devices; layouts count devices")
    if ep_imbalance > 1:
        notes.append(f"the busiest expert-parallel rank gets {ep_imbalance:g}x the mean of routed tokens")
    serving = inf.Serving(w, int(chips) * d, weight_precision, kv_precision, mtp_accept, ep_overlap,
                          float(ep_imbalance))
    return ServingSetup(serving, hw.per_device(d), eff, c.id, sys_id, tuple(notes), d)


def sampled(catalog: Catalog, s: ServingSetup, draw: Draw) -> ServingSetup:
    """``s`` with its chip's and system's specs drawn by ``draw`` (a
    `chipgap.models.sampling.Sampler`: fields of shape (n,)), per device; all else unchanged
    (an assumed CPU memory stays as assumed)."""
    c = catalog.chip(s.chip)
    memory = s.hardware.memory_gb * s.devices if c.memory_capacity_gib is None else None
    hw, _ = hardware(catalog, s.chip, s.system, memory_gb=memory, require_compute=c.kind != "cpu", draw=draw,
                     eight_bit="int8" if s.serving.weight_precision == "int8" else "fp8")
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
    """Every instance layout (or the one given): tp within the domain, pp, dp, ep up to the chips."""
    check_instance_layout(s, tp, pp, ep, dp)
    n, w = s.serving.chips, s.serving.workload
    pow2 = 2 ** np.arange(0, 12)
    tps = np.atleast_1d(tp) if tp else pow2[(pow2 <= min(n, s.hardware.domain)) & (w.n_heads % pow2 == 0)]
    pps = np.atleast_1d(pp) if pp else pow2[(pow2 <= min(n, w.n_layers))]
    divisors = np.arange(1, n + 1)
    dps = np.atleast_1d(dp) if dp else divisors[n % divisors == 0]
    g = np.meshgrid(tps, pps, dps, indexing="ij")
    lay = {"tp": g[0].ravel(), "pp": g[1].ravel(), "dp": g[2].ravel()}
    keep = lay["tp"] * lay["pp"] * lay["dp"] == n
    lay = {k: v[keep] for k, v in lay.items()}
    lay["ep"] = np.full(lay["tp"].shape, ep or (n if w.is_moe else 1))
    return lay


def instance_layouts(s: ServingSetup) -> dict[str, np.ndarray]:
    """Every layout of a serving instance (tp, pp, dp, ep arrays of equal length), as `serve`
    tries them: tp in powers of two within the domain, pp in powers of two, tp pp dp = chips."""
    return _layouts(s)


SERVE_KEYS = ("ttft_ms", "tpot_ms", "tokens_per_s", "tokens_per_s_per_chip", "memory_gb_per_chip", "fits")
DECODE_BREAKDOWN = ("attention_s", "dense_s", "experts_s", "head_s", "tp_comm_s", "ep_comm_s", "pp_comm_s",
                    "scheduler_s")
SERIAL_SCHEDULER_SLOWDOWN = 1.1
"""How much longer every step takes when the engine schedules on the CPU between steps instead
of while the accelerators run (``ServingJob.overlap_scheduler`` False): SGLang v0.4's overlap
scheduler raised its throughput 1.1x (LMSYS, "SGLang v0.4", 2024-12-04, "Zero-overhead batch
scheduler"). A share of the step, not a fixed time: the CPU work grows with the batch."""


def serve_arrays(s: ServingSetup, grid: dict[str, np.ndarray], job: ServingJob) -> dict[str, np.ndarray]:
    """The kernel of `serve`: metrics of ``job`` for ``grid`` (tp, pp, ep, dp, batch; arrays that
    broadcast with each other and with the hardware's sample axis), as arrays; ``reason`` is a
    bit mask."""
    args = (grid["tp"], grid["pp"], grid["ep"], grid["dp"])
    batch = grid["batch"]
    for cap in (job.requests, job.max_batch):
        batch = batch if cap is None else np.minimum(batch, cap)
    input_len, output_len, cached_len = job.input_len, job.output_len, job.cached_len
    ctx = input_len if job.phase == "decode" else input_len + output_len / 2
    dec = inf.decode_step(s.serving, s.hardware, s.efficiency, *args, batch, ctx)
    # memory holds every sequence's context: in steady-state serving sequences are spread over
    # their generation (paged KV cache), so the mean context; a decode pool at input_len; an
    # engine that reserves each request's whole sequence on admission, prompt plus output
    last = input_len if job.phase in ("decode", "prefill") else ctx
    if job.kv_reserve == "full" and job.phase != "prefill":
        last = input_len + output_len
    end = inf.decode_step(s.serving, s.hardware, s.efficiency, *args, batch, last)
    chunk = np.maximum(np.ceil(PREFILL_CHUNK_TOKENS / (input_len - cached_len)), 1)
    pre = inf.prefill(s.serving, s.hardware, s.efficiency, *args, chunk * grid["dp"], input_len, cached_len)
    one = inf.prefill(s.serving, s.hardware, s.efficiency, *args, grid["dp"], input_len, cached_len)
    per_request_prefill = pre["prefill_s"] / (chunk * grid["dp"])
    if job.phase == "serve" and job.requests is not None:
        tokens = job.requests * output_len / _makespan(s, args, batch, job, ctx, per_request_prefill,
                                                       dec["tpot_s"])
    elif job.phase == "serve":
        tokens = 1.0 / (dec["tpot_s"] / batch + per_request_prefill / output_len)
    elif job.phase == "decode":
        tokens = dec["tokens_per_s"]
    else:
        tokens = inf.prefill(s.serving, s.hardware, s.efficiency, *args, batch, input_len,
                             cached_len)["tokens_per_s"]
    slow = 1.0 if job.overlap_scheduler else SERIAL_SCHEDULER_SLOWDOWN   # every step, both phases
    tokens = tokens / slow
    out = {"ttft_ms": one["prefill_s"] * slow * 1e3, "tpot_ms": dec["tpot_s"] * slow * 1e3,
           "tokens_per_s": tokens, "tokens_per_s_per_chip": tokens / (s.serving.chips / s.devices),
           "memory_gb_per_chip": end["memory_gb"] * s.devices, "fits": end["fits"], "reason": end["reason"],
           "scheduler_s": (slow - 1.0) * dec["step_s"], **{k: dec[k] for k in DECODE_BREAKDOWN if k in dec}}
    shape = np.broadcast_shapes(*(np.shape(v) for v in out.values()))
    return {k: np.broadcast_to(v, shape) for k, v in out.items()}


def _makespan(s: ServingSetup, args: tuple, batch, job: ServingJob, ctx: float,  # noqa: ANN001
              per_request_prefill, tpot_s):  # noqa: ANN001, ANN202
    """Seconds to serve ``job.requests`` equal requests at most ``batch`` at a time, all queued
    at once: full waves at ``batch``, then the rest, a smaller batch whose steps use the chips
    less (an offline benchmark of a fixed request count ends on that tail)."""
    waves = np.floor(job.requests / batch)
    rest = job.requests - waves * batch
    tail = inf.decode_step(s.serving, s.hardware, s.efficiency, *args, np.maximum(rest, 1), ctx)["tpot_s"]
    wave_s = batch * per_request_prefill + job.output_len * tpot_s
    rest_s = np.where(rest > 0, rest * per_request_prefill + job.output_len * tail, 0.0)
    return waves * wave_s + rest_s


def serve(s: ServingSetup, job: ServingJob, batch=None, tp=None, pp=None, ep=None, dp=None,  # noqa: ANN001
          ttft_ms: float | None = None, tpot_ms: float | None = None) -> pd.DataFrame:
    """Serving ``job`` on the instance ``s``: every layout (or the one given) at every batch (or
    ``batch``), in one array pass.

    ``job.phase`` sets what ``tokens_per_s`` counts:

    - 'serve' (offline, both phases on the instance): generated tokens per second,
      ``1 / (TPOT / B + prefill time per request / output_len)``; decode steps are shared by
      the B sequences at the mean context, each prompt is prefilled once in chunks of
      `PREFILL_CHUNK_TOKENS`; with ``job.requests``, the job's output tokens over its makespan,
      at most B requests in flight, the last partial wave included;
    - 'decode' (a disaggregated decode pool): generated tokens per second, ``B / TPOT``, with
      every sequence at a KV context of ``input_len``;
    - 'prefill' (a prefill pool): computed prompt tokens per second with B prompts per pass.

    TTFT is the prefill of one prompt on the instance (no queueing). Neither ``job.requests``
    nor ``job.max_batch`` is ever exceeded by the sequences in flight.

    Parameters
    ----------
    s : ServingSetup
        The instance, from `serving_setup`.
    job : ServingJob
        The requests and the engine's settings (`chipgap.catalog.serving_job.ServingJob`).
    batch : int or array-like of int, optional
        Concurrent sequences of the instance to try; default `BATCHES`.
    tp, pp, ep, dp : int, optional
        Fix that part of the layout; default every value `instance_layouts` tries.
    ttft_ms, tpot_ms : float, optional
        Latency SLOs that ``meets_slo`` checks.

    Returns
    -------
    DataFrame
        One row per (layout, batch): ``tp, pp, ep, dp, batch, ttft_ms, tpot_ms,
        tokens_per_s, tokens_per_s_per_chip, memory_gb_per_chip, fits, meets_slo``, the
        decode breakdown (``attention_s`` ... ``pp_comm_s`` per step, and ``scheduler_s``, the
        accelerators' idle time without an overlap scheduler) and ``reason``.

    Raises
    ------
    InputError
        When ``job`` is not a `ServingJob`.
    """
    if not isinstance(job, ServingJob):
        raise InputError("job", "a chipgap.catalog.ServingJob", job)
    for name, slo in (("ttft_ms", ttft_ms), ("tpot_ms", tpot_ms)):
        if slo is not None and not 0 < slo < float("inf"):
            raise InputError(name, "a positive, finite latency in ms", slo)
    if batch is not None and not np.all((np.asarray(batch) >= 1) & (np.asarray(batch) <= MAX_BATCH)):
        raise InputError("batch", f"whole numbers from 1 to {MAX_BATCH:,}", batch)
    lay = _layouts(s, tp, pp, ep, dp)
    batches = np.atleast_1d(batch) if batch else BATCHES
    for cap in (job.requests, job.max_batch):   # more sequences than these never run at once
        batches = batches if cap is None else np.unique(np.minimum(batches, cap))
    n_lay = lay["tp"].size
    grid = {k: np.repeat(v, batches.size) for k, v in lay.items()}
    grid["batch"] = np.tile(batches, n_lay)
    out = serve_arrays(s, grid, job)
    df = pd.DataFrame({**{k: v.astype(int) for k, v in grid.items()},
                       **{k: out[k] for k in (*SERVE_KEYS, *DECODE_BREAKDOWN)}})
    df["fits"] = df["fits"].astype(bool)
    codes = out["reason"]
    df["reason"] = reason_text(codes, inf.REASONS)
    slo = np.ones(len(df), dtype=bool)
    if ttft_ms is not None:
        slo &= df.ttft_ms.to_numpy() <= ttft_ms
    if tpot_ms is not None:
        slo &= df.tpot_ms.to_numpy() <= tpot_ms
    df["meets_slo"] = slo & (codes == 0)
    return df


def best(df: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """The ``top`` rows that fit and meet the SLOs, highest throughput per chip first."""
    return df[df.meets_slo].sort_values("tokens_per_s_per_chip", ascending=False).head(top).reset_index(drop=True)


def pareto(df: pd.DataFrame) -> pd.DataFrame:
    """Throughput-vs-latency front: rows no other valid row beats on both TPOT and tokens/s/chip."""
    ok = df[df.reason == ""].sort_values(["tpot_ms", "tokens_per_s_per_chip"], ascending=[True, False])
    front = ok[ok.tokens_per_s_per_chip > ok.tokens_per_s_per_chip.cummax().shift(fill_value=-np.inf)]
    return front.reset_index(drop=True)
