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
from chipgap.errors import InputError
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
                  ep_overlap: bool = False) -> ServingSetup:
    """Check a serving question's inputs once and fix the instance, hardware and efficiency."""
    if not isinstance(chips, (int, np.integer)) or chips < 1:
        raise InputError("chips", "a whole number of at least 1", chips)
    if weight_precision not in inf.WEIGHT_BYTES:
        raise InputError("weight_precision", ", ".join(inf.WEIGHT_BYTES), weight_precision)
    if kv_precision not in inf.KV_BYTES:
        raise InputError("kv_precision", ", ".join(inf.KV_BYTES), kv_precision)
    if mtp_accept is not None and not 0 <= mtp_accept <= 1:
        raise InputError("mtp_accept", "an acceptance rate in [0, 1]", mtp_accept)
    c = catalog.chip(chip)
    notes = []
    if c.kind == "cpu" and c.memory_capacity_gib is None:
        memory_gb = memory_gb or CPU_MEMORY_GB
        notes.append(f"{memory_gb:g} GB of DRAM assumed per socket")
    hw, sys_id = hardware(catalog, c.id, system, memory_gb=memory_gb, require_compute=c.kind != "cpu")
    if c.bf16_dense_tflops is None:
        notes.append("no public bf16 peak: fp32 peak used" if c.fp32_dense_tflops else
                     "no public compute peak: times are memory-bound only (a lower bound)")
    eff, basis = efficiency_for(c.id)
    notes.append(f"efficiency: {basis}")
    w = resolve_workload(catalog, model)
    d = devices_per_chip(catalog, c.id)
    if d > 1:
        notes.append(f"each package is {d} devices; layouts count devices")
    return ServingSetup(inf.Serving(w, int(chips) * d, weight_precision, kv_precision, mtp_accept, ep_overlap),
                        hw.per_device(d), eff, c.id, sys_id, tuple(notes), d)


def sampled(catalog: Catalog, s: ServingSetup, draw: Draw) -> ServingSetup:
    """``s`` with its chip's and system's specs drawn by ``draw`` (a
    `chipgap.models.sampling.Sampler`: fields of shape (n,)), per device; all else unchanged
    (an assumed CPU memory stays as assumed)."""
    c = catalog.chip(s.chip)
    memory = s.hardware.memory_gb * s.devices if c.memory_capacity_gib is None else None
    hw, _ = hardware(catalog, s.chip, s.system, memory_gb=memory, require_compute=c.kind != "cpu", draw=draw)
    return dataclasses.replace(s, hardware=hw.per_device(s.devices))


def _layouts(s: ServingSetup, tp=None, pp=None, ep=None, dp=None) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Every instance layout (or the one given): tp within the domain, pp, dp, ep up to the chips."""
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
DECODE_BREAKDOWN = ("attention_s", "dense_s", "experts_s", "head_s", "tp_comm_s", "ep_comm_s", "pp_comm_s")


def serve_arrays(s: ServingSetup, grid: dict[str, np.ndarray], input_len: int, output_len: int,
                 phase: str = "serve", cached_len: int = 0, requests: int | None = None,
                 kv_reserve: str = "used", max_batch: int | None = None) -> dict[str, np.ndarray]:
    """The kernel of `serve`: metrics for ``grid`` (tp, pp, ep, dp, batch; arrays that broadcast
    with each other and with the hardware's sample axis), as arrays; ``reason`` is a bit mask."""
    args = (grid["tp"], grid["pp"], grid["ep"], grid["dp"])
    batch = grid["batch"]
    for cap in (requests, max_batch):
        batch = batch if cap is None else np.minimum(batch, cap)
    ctx = input_len if phase == "decode" else input_len + output_len / 2
    dec = inf.decode_step(s.serving, s.hardware, s.efficiency, *args, batch, ctx)
    # memory holds every sequence's context: in steady-state serving sequences are spread over
    # their generation (paged KV cache), so the mean context; a decode pool at input_len; an
    # engine that reserves each request's whole sequence on admission, prompt plus output
    last = input_len if phase in ("decode", "prefill") else ctx
    if kv_reserve == "full" and phase != "prefill":
        last = input_len + output_len
    end = inf.decode_step(s.serving, s.hardware, s.efficiency, *args, batch, last)
    chunk = np.maximum(np.ceil(PREFILL_CHUNK_TOKENS / (input_len - cached_len)), 1)
    pre = inf.prefill(s.serving, s.hardware, s.efficiency, *args, chunk * grid["dp"], input_len, cached_len)
    one = inf.prefill(s.serving, s.hardware, s.efficiency, *args, grid["dp"], input_len, cached_len)
    per_request_prefill = pre["prefill_s"] / (chunk * grid["dp"])
    if phase == "serve" and requests is not None:
        tokens = requests * output_len / _makespan(s, args, batch, requests, ctx, output_len,
                                                   per_request_prefill, dec["tpot_s"])
    elif phase == "serve":
        tokens = 1.0 / (dec["tpot_s"] / batch + per_request_prefill / output_len)
    elif phase == "decode":
        tokens = dec["tokens_per_s"]
    else:
        tokens = inf.prefill(s.serving, s.hardware, s.efficiency, *args, grid["batch"],
                             input_len, cached_len)["tokens_per_s"]
    out = {"ttft_ms": one["prefill_s"] * 1e3, "tpot_ms": dec["tpot_s"] * 1e3,
           "tokens_per_s": tokens, "tokens_per_s_per_chip": tokens / (s.serving.chips / s.devices),
           "memory_gb_per_chip": end["memory_gb"] * s.devices, "fits": end["fits"], "reason": end["reason"],
           **{k: dec[k] for k in DECODE_BREAKDOWN}}
    shape = np.broadcast_shapes(*(np.shape(v) for v in out.values()))
    return {k: np.broadcast_to(v, shape) for k, v in out.items()}


def _makespan(s: ServingSetup, args: tuple, batch, requests: int, ctx: float, output_len: int,  # noqa: ANN001
              per_request_prefill, tpot_s):  # noqa: ANN001, ANN202
    """Seconds to serve ``requests`` equal requests at most ``batch`` at a time, all queued at
    once: full waves at ``batch``, then the rest, a smaller batch whose steps use the chips less
    (an offline benchmark of a fixed request count ends on that tail)."""
    waves = np.floor(requests / batch)
    rest = requests - waves * batch
    tail = inf.decode_step(s.serving, s.hardware, s.efficiency, *args, np.maximum(rest, 1), ctx)["tpot_s"]
    wave_s = batch * per_request_prefill + output_len * tpot_s
    rest_s = np.where(rest > 0, rest * per_request_prefill + output_len * tail, 0.0)
    return waves * wave_s + rest_s


def serve(s: ServingSetup, input_len: int, output_len: int, batch=None, tp=None, pp=None, ep=None,
          dp=None, ttft_ms: float | None = None, tpot_ms: float | None = None,
          phase: str = "serve", cached_len: int = 0, requests: int | None = None,
          kv_reserve: str = "used", max_batch: int | None = None) -> pd.DataFrame:  # noqa: ANN001
    """Serving of requests of ``input_len`` prompt and ``output_len`` generated tokens.

    Evaluates every layout (or the one given) at every batch (or ``batch``) in one array pass.
    ``phase`` sets what ``tokens_per_s`` counts:

    - 'serve' (offline, both phases on the instance): generated tokens per second,
      ``1 / (TPOT / B + prefill time per request / output_len)``; decode steps are shared by
      the B sequences at the mean context, each prompt is prefilled once in chunks of
      `PREFILL_CHUNK_TOKENS`;
    - 'decode' (a disaggregated decode pool): generated tokens per second, ``B / TPOT``, with
      every sequence at a KV context of ``input_len``;
    - 'prefill' (a prefill pool): computed prompt tokens per second with B prompts per pass.

    The first ``cached_len`` tokens of every prompt are a prefix-cache hit: not computed, but
    attended to and held in memory. TTFT is the prefill of one prompt on the instance (no
    queueing). With ``requests`` ('serve' only), an offline job of that many requests, all
    queued at once, at most ``batch`` in flight: throughput is the job's output tokens over its
    makespan, the last partial wave included.

    What the engine does: ``kv_reserve`` 'used' holds the KV cache sequences have so far (paged
    KV with preemption: vLLM, SGLang); 'full' admits a request only when KV for its prompt and
    whole output is free (TensorRT-LLM's default GUARANTEED_NO_EVICT policy), so fewer fit.
    ``max_batch`` caps the sequences in flight on the instance (an engine's max batch size).

    Returns
    -------
    DataFrame
        One row per (layout, batch): ``tp, pp, ep, dp, batch, ttft_ms, tpot_ms,
        tokens_per_s, tokens_per_s_per_chip, memory_gb_per_chip, fits, meets_slo``, the
        decode breakdown (``attention_s`` ... ``pp_comm_s`` per step) and ``reason``.
    """
    if phase not in ("serve", "decode", "prefill"):
        raise InputError("phase", "serve, decode or prefill", phase)
    for name, v in (("input_len", input_len), ("output_len", output_len)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise InputError(name, "a whole number of tokens, at least 1", v)
    if requests is not None and (phase != "serve" or not isinstance(requests, (int, np.integer))
                                 or requests < 1):
        raise InputError("requests", "a whole number of requests, at least 1, at phase serve", requests)
    if kv_reserve not in ("used", "full"):
        raise InputError("kv_reserve", "used or full", kv_reserve)
    if max_batch is not None and (not isinstance(max_batch, (int, np.integer)) or max_batch < 1):
        raise InputError("max_batch", "a whole number of sequences, at least 1", max_batch)
    if not isinstance(cached_len, (int, np.integer)) or not 0 <= cached_len < input_len:
        raise InputError("cached_len", f"a whole number of tokens from 0 to {input_len - 1} (below input_len)",
                         cached_len)
    lay = _layouts(s, tp, pp, ep, dp)
    batches = np.atleast_1d(batch) if batch else BATCHES
    for cap in (requests, max_batch):   # more sequences than these never run at once
        batches = batches if cap is None else np.unique(np.minimum(batches, cap))
    n_lay = lay["tp"].size
    grid = {k: np.repeat(v, batches.size) for k, v in lay.items()}
    grid["batch"] = np.tile(batches, n_lay)
    out = serve_arrays(s, grid, input_len, output_len, phase, cached_len, requests, kv_reserve, max_batch)
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
