"""Disaggregated deployments: prefill and decode pools in a ratio, and attention-FFN disaggregation.

**Prefill/decode (P/D).** Prefill instances compute prompts and hand each request's KV cache
(every layer's: a sliding layer's window, a linear layer's state, a sparse layer's index keys,
`chipgap.models.inference.kv_cache_bytes`) to a decode instance over the fabric between them;
decode instances generate. A prefill instance's configuration (layout, prompts per pass) is
valid when its prefill plus the hand-off fits ``ttft_ms``; it serves ``batch / max(prefill,
transfer)`` requests per second (the next pass computes while the last one's KV leaves; with
pipeline stages a pass enters every busiest-stage time, `chipgap.models.inference.prefill`). A
decode instance's is valid when its step fits ``tpot_ms``, every sequence spread over its output
as in steady-state serving; it serves ``batch / (output_len x TPOT)`` requests per second. With
``x`` prefill and ``y`` decode instances the deployment serves ``min(x Rp, y Rd)`` requests per
second, and ``output_len`` tokens each, over ``x Np + y Nd`` chips: the ratio is searched over
every pair (coprime pairs when both counts are free) in one array evaluation, each pool at the
configuration that serves it most requests per second under its SLO, which is the best for
every ratio. This is goodput per chip in the sense of DistServe (Zhong et al., OSDI 2024, arXiv
2401.09670), with every request meeting the SLOs.

**Attention-FFN disaggregation (AFD).** Attention, with the dense layers and shared experts,
runs on the attention pool's chips (data-parallel attention groups); routed experts are spread
over the expert pool's (one expert-parallel group of all its devices). Every MoE layer sends
each token's hidden state to its ``k`` experts (FP8) and the results back (BF16), between the
pools. A batch is split into ``m`` micro-batches that take turns on the two pools (the ping-pong
pipeline of MegaScale-Infer, Zhu et al., arXiv 2504.02263, section 4; StepFun's Step-3 AFD,
arXiv 2507.19427): per layer the pools and the links each serve every micro-batch once, and one
micro-batch's round trip (attention, dispatch, experts, combine) cannot be shortened, so a layer
takes ``max(m T_a, m T_e, m T_dispatch, m T_combine, T_a + T_dispatch + T_e + T_combine)``
with each time that of one micro-batch.

Every time comes from the vectorized serving model (`chipgap.models.inference.prefill` and
`decode_step`); nothing loops over configurations.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from math import gcd

import numpy as np
import pandas as pd

from chipgap.analyses import infer
from chipgap.catalog.catalog import Catalog
from chipgap.catalog.question import DISAGGREGATION_FIELDS, ServePool, ServeQuestion
from chipgap.errors import InputError
from chipgap.models import inference as inf
from chipgap.text import reason_text

RATIO_MAX = 16
"""Instances of a pool tried when its count is free and no chip budget bounds it."""
MICROBATCHES = (1, 2, 3, 4)
"""Micro-batches an attention-FFN pipeline is tried with when the question leaves it free."""


@dataclass(frozen=True)
class DisaggregatedSetup:
    """Both pools of a disaggregated question, resolved against the catalog.

    ``first`` is the prefill (P/D) or attention (AFD) pool's `chipgap.analyses.infer.ServingSetup`,
    ``second`` the decode or expert pool's; ``fabric`` the link between them ('scaleup' or
    'scaleout'); ``chip`` and ``system`` the first pool's (what surfaces print)."""

    question: ServeQuestion
    first: infer.ServingSetup
    second: infer.ServingSetup
    fabric: str
    assumptions: tuple[str, ...]

    @property
    def chip(self) -> str:
        return self.first.chip

    @property
    def system(self) -> str | None:
        return self.first.system

    @property
    def devices(self) -> int:
        return self.first.devices

    @property
    def serving(self):  # noqa: ANN201
        """The first pool's `chipgap.models.inference.Serving` (its workload is the question's)."""
        return self.first.serving

    @property
    def efficiency(self):  # noqa: ANN201
        return self.first.efficiency


def _pool_setup(catalog: Catalog, q: ServeQuestion, pool: ServePool, phase: str, name: str) -> infer.ServingSetup:
    """One pool as a plain serving question (its chip, system, instance and layout)."""
    chip = pool.chip or q.chip
    system = pool.system or (q.system if pool.chip is None else None)
    sub = q.model_copy(update={**dict.fromkeys(DISAGGREGATION_FIELDS), "chip": chip, "system": system, "chips": pool.chips,
                               "layout": pool.layout(), "batch": pool.batch, "phase": phase})
    try:
        return infer.serving_setup(catalog, sub)
    except InputError as e:
        raise InputError(f"{name}.{e.parameter}", e.expected, e.got) from None


def setup(catalog: Catalog, q: ServeQuestion) -> DisaggregatedSetup:
    """Resolve a disaggregated question's pools and the fabric between them.

    Raises
    ------
    InputError
        Naming the pool field that cannot be (an attention-FFN split of a dense model, a pool
        that cannot be laid out, more than one attention or expert instance).
    """
    if q.disaggregated is None:
        raise InputError("question", "a ServeQuestion with prefill and decode, or attention and expert, pools", q)
    pd_ = q.disaggregated == "pd"
    names = ("prefill_pool", "decode_pool") if pd_ else ("attention_pool", "expert_pool")
    pools = (getattr(q, names[0]), getattr(q, names[1]))
    if not pd_:
        for n, p in zip(names, pools):
            if p.instances not in (None, 1):
                raise InputError(f"{n}.instances", "1 (an attention-FFN deployment is one instance of each pool)",
                                 p.instances)
        if pools[0].pp not in (None, 1):
            raise InputError("attention_pool.pp", "1 (attention and experts take turns layer by layer)", pools[0].pp)
        for n, p, keys in (("attention_pool", pools[0], ("ep",)), ("expert_pool", pools[1], ("tp", "pp", "ep", "dp"))):
            for k in keys:
                if getattr(p, k) is not None:
                    raise InputError(f"{n}.{k}", "left out: the routed experts spread over every device of the "
                                                 "expert pool, one expert-parallel group", getattr(p, k))
    first = _pool_setup(catalog, q, pools[0], "prefill" if pd_ else "decode", names[0])
    second = _pool_setup(catalog, q, pools[1], "decode", names[1])
    if not pd_ and not first.serving.workload.is_moe:
        raise InputError("attention_pool", f"a question about an MoE model ({first.serving.workload.id} is dense: no "
                                           "experts to put on other chips)", pools[0].model_dump(exclude_none=True))
    devices = pools[0].chips * first.devices + pools[1].chips * second.devices
    shared = first.system == second.system and first.system is not None
    domain = float(np.min(first.hardware.domain))            # devices (`Hardware.per_device`)
    fab = q.kv_transfer or ("scaleup" if shared and devices <= domain else "scaleout")
    notes = (f"{names[0]}: {'; '.join(first.assumptions)}", f"{names[1]}: {'; '.join(second.assumptions)}",
             f"{'KV hand-off' if pd_ else 'activations'} between the pools over the "
             f"{'scale-up fabric' if fab == 'scaleup' else 'scale-out network'}")
    return DisaggregatedSetup(q, first, second, fab, notes)


def with_efficiency(s: DisaggregatedSetup, eff) -> DisaggregatedSetup:  # noqa: ANN001
    """``s`` with the efficiency constants ``eff`` (a fit's, for the accuracy check) on every
    pool of ``s``'s first pool's chip; a pool of another chip keeps its own."""
    pools = [dataclasses.replace(p, efficiency=eff) if p.chip == s.first.chip else p for p in (s.first, s.second)]
    return dataclasses.replace(s, first=pools[0], second=pools[1])


def _link(s: DisaggregatedSetup):  # noqa: ANN202
    """(bytes per second, latency) between one instance of each pool: every device of both
    instances sends or receives at once, the slower end bounds it."""
    q, up = s.question, s.fabric == "scaleup"
    pools = (q.prefill_pool, q.decode_pool) if q.disaggregated == "pd" else (q.attention_pool, q.expert_pool)
    bw = [pool.chips * p.devices * 1e9 * (p.hardware.scaleup_gbps * p.efficiency.net_scaleup if up
                                          else p.hardware.scaleout_gbps * p.efficiency.net_scaleout)
          for pool, p in zip(pools, (s.first, s.second))]
    eff = s.first.efficiency
    return np.minimum(*bw), (eff.alpha_scaleup_s if up else eff.alpha_scaleout_s)


def _grid(s: infer.ServingSetup, batch: int | None) -> dict[str, np.ndarray]:
    """Every layout of the pool's instance x every batch tried (flat arrays)."""
    lay = infer.instance_layouts(s)
    batches = np.atleast_1d(batch) if batch else infer.BATCHES
    n = lay["tp"].size
    return {**{k: np.repeat(v, batches.size) for k, v in lay.items()}, "batch": np.tile(batches, n)}


def _slow(s: infer.ServingSetup, q: ServeQuestion) -> float:
    return 1.0 if q.overlap_scheduler else s.efficiency.serial_scheduler_slowdown


# -- prefill / decode --------------------------------------------------------------------------------

def _prefill_pool(s: DisaggregatedSetup) -> dict[str, np.ndarray]:
    q, p = s.question, s.first
    g = _grid(p, q.prefill_pool.batch)
    out = inf.prefill(p.serving, p.hardware, p.efficiency, g["tp"], g["pp"], g["ep"], g["dp"], g["batch"],
                      q.input_len, q.cached_len)
    bw, alpha = _link(s)
    kv = float(inf.kv_cache_bytes(p.serving, p.efficiency, float(q.input_len)))
    transfer = alpha + g["batch"] * kv / bw
    slow = _slow(p, q)
    ttft = out["prefill_s"] * slow + transfer              # a pass's latency, then the hand-off
    ok = out["reason"] == 0
    if q.ttft_ms is not None:
        ok = ok & (ttft * 1e3 <= q.ttft_ms)
    # in steady state a pass enters every busy_s (pipeline stages work on other passes)
    rate = g["batch"] / np.maximum(out["busy_s"] * slow, transfer)
    return {**g, "ttft_ms": ttft * 1e3, "transfer_ms": transfer * 1e3, "rate": rate, "ok": ok,
            "reason": out["reason"], "kv_bytes": np.full(rate.shape, kv)}


def _decode_pool(s: DisaggregatedSetup) -> dict[str, np.ndarray]:
    q, d = s.question, s.second
    g = _grid(d, q.decode_pool.batch)
    args = (d.serving, d.hardware, d.efficiency, g["tp"], g["pp"], g["ep"], g["dp"], g["batch"])
    ctx, span = q.input_len + q.output_len / 2, float(q.output_len)
    dec = inf.decode_step(*args, ctx, span=span)
    end = inf.decode_step(*args, q.input_len + q.output_len, span=0.0) if q.kv_reserve == "full" else dec
    tpot = dec["tpot_s"] * _slow(d, q)
    ok = end["reason"] == 0
    if q.tpot_ms is not None:
        ok = ok & (tpot * 1e3 <= q.tpot_ms)
    return {**g, "tpot_ms": tpot * 1e3, "rate": g["batch"] / (q.output_len * tpot), "ok": ok,
            "reason": end["reason"], "memory_gb": end["memory_gb"] * d.devices}


def _why(pool: dict[str, np.ndarray], i: int) -> str:
    """Why configuration ``i`` of a pool is not valid: its layout's reason, or its latency."""
    return reason_text(pool["reason"][[i]], inf.REASONS)[0] or "too slow"


def _best(pool: dict[str, np.ndarray]) -> int:
    """Index of the configuration serving the most requests per second within its SLO (the
    first one, with its reason, when none is)."""
    return int(np.argmax(np.where(pool["ok"], pool["rate"], -np.inf))) if pool["ok"].any() else 0


def _ratios(q: ServeQuestion) -> tuple[np.ndarray, np.ndarray]:
    """Prefill and decode instance counts to try: the counts given, else 1 to `RATIO_MAX` (or
    what the chip budget ``chips`` allows), coprime pairs when both are free."""
    P, D = q.prefill_pool, q.decode_pool
    top = [q.chips // pool.chips if q.chips > 1 else RATIO_MAX for pool in (P, D)]
    xs = np.array([P.instances]) if P.instances else np.arange(1, max(top[0], 1) + 1)
    ys = np.array([D.instances]) if D.instances else np.arange(1, max(top[1], 1) + 1)
    x, y = (a.ravel() for a in np.meshgrid(xs, ys, indexing="ij"))
    if P.instances is None and D.instances is None:
        keep = np.array([gcd(int(a), int(b)) == 1 for a, b in zip(x, y)])
        x, y = x[keep], y[keep]
    return x, y


def prefill_decode(s: DisaggregatedSetup) -> pd.DataFrame:
    """Every prefill-to-decode ratio of a P/D question, each pool at its best configuration
    under its SLO: one row per ratio (see the module docstring for the model).

    Returns
    -------
    DataFrame
        ``prefill_instances, decode_instances, chips``, the throughput (``tokens_per_s``,
        ``tokens_per_s_per_chip``: output tokens, every chip of both pools), ``requests_per_s``,
        the latencies (``ttft_ms`` with the KV hand-off, ``kv_transfer_ms``, ``tpot_ms``), each
        pool's configuration (``prefill_tp`` ... ``prefill_batch``, ``decode_tp`` ...
        ``decode_batch``) and requests per second per instance, which pool binds
        (``bottleneck``), ``memory_gb_per_chip`` (the decode pool's), ``fits``, ``reason``,
        ``valid`` and ``meets_slo``.
    """
    q = s.question
    pre, dec = _prefill_pool(s), _decode_pool(s)
    i, j = _best(pre), _best(dec)
    x, y = _ratios(q)
    np_, nd = q.prefill_pool.chips, q.decode_pool.chips
    rp, rd = pre["rate"][i], dec["rate"][j]
    rate = np.minimum(x * rp, y * rd)                                              # (ratio,)
    chips = x * np_ + y * nd
    tokens = rate * q.output_len
    problems = [f"no prefill configuration within the TTFT ({_why(pre, i)})" if not pre["ok"][i] else "",
                f"no decode configuration within the TPOT ({_why(dec, j)})" if not dec["ok"][j] else ""]
    within = (q.chips <= 1) | (chips <= q.chips)
    reason = np.where(within, "; ".join(p for p in problems if p), "over the chip budget (chips)")
    df = pd.DataFrame({
        "prefill_instances": x.astype(int), "decode_instances": y.astype(int), "chips": chips.astype(int),
        "tokens_per_s": tokens, "tokens_per_s_per_chip": tokens / chips, "requests_per_s": rate,
        "ttft_ms": pre["ttft_ms"][i], "kv_transfer_ms": pre["transfer_ms"][i], "tpot_ms": dec["tpot_ms"][j],
        **{f"prefill_{k}": int(pre[k][i]) for k in ("tp", "pp", "ep", "dp", "batch")},
        **{f"decode_{k}": int(dec[k][j]) for k in ("tp", "pp", "ep", "dp", "batch")},
        "prefill_requests_per_s": rp, "decode_requests_per_s": rd,
        "bottleneck": np.where(x * rp < y * rd, "prefill", "decode"),
        "memory_gb_per_chip": dec["memory_gb"][j], "fits": bool((dec["reason"][j] & 16) == 0),
        "reason": reason})
    df["valid"] = df.reason == ""
    df["meets_slo"] = df.valid
    return df


# -- attention-FFN disaggregation ----------------------------------------------------------------------

def _afd_grid(s: DisaggregatedSetup) -> dict[str, np.ndarray]:
    q, a = s.question, s.first
    lay = infer.instance_layouts(a)
    keep = lay["pp"] == 1
    lay = {k: v[keep] for k, v in lay.items()} if keep.any() else lay
    batches = np.atleast_1d(q.attention_pool.batch) if q.attention_pool.batch else infer.BATCHES
    micro = np.atleast_1d(q.afd_microbatches) if q.afd_microbatches else np.array(MICROBATCHES)
    L, B, M = np.meshgrid(np.arange(lay["tp"].size), batches, micro, indexing="ij")
    return {**{k: v[L.ravel()] for k, v in lay.items()}, "batch": B.ravel(), "microbatches": M.ravel()}


def attention_ffn(s: DisaggregatedSetup) -> pd.DataFrame:
    """Every attention layout, batch and micro-batch count of an AFD question (one array pass).

    Returns
    -------
    DataFrame
        ``tp, dp`` (the attention pool's groups), ``batch`` (sequences of the whole deployment),
        ``microbatches``, ``tpot_ms``, ``tokens_per_s``, ``tokens_per_s_per_chip`` (over both
        pools' chips), per layer and micro-batch ``attention_ms``, ``experts_ms``,
        ``dispatch_ms``, ``combine_ms``, the pools' ``memory_gb_per_chip`` and
        ``expert_memory_gb_per_chip``, ``fits``, ``reason``, ``valid`` and ``meets_slo``
        (``ttft_ms`` is NaN: decode only).
    """
    q, a, e = s.question, s.first, s.second
    w = a.serving.workload
    g = _afd_grid(s)
    m = g["microbatches"].astype(float)
    mb = g["batch"] / m                                     # sequences per micro-batch
    ctx, span = q.input_len + q.output_len / 2, float(q.output_len)
    att = dataclasses.replace(a.serving, ep_overlap=False)
    ra = inf.decode_step(att, a.hardware, a.efficiency, g["tp"], 1, 1, g["dp"], mb, ctx, span=span)
    ne = q.expert_pool.chips * e.devices
    exp = dataclasses.replace(e.serving, chips=ne, ep_overlap=False)
    re_ = inf.decode_step(exp, e.hardware, e.efficiency, 1, 1, ne, ne, mb, ctx, span=span)
    layers, moe = float(w.n_layers), w.n_moe_layers / w.n_layers
    t_a = (ra["step_s"] - ra["experts_s"] - ra["ep_comm_s"]) / layers
    t_e = re_["experts_s"] / layers
    tokens = mb * (1.0 + (a.serving.mtp_accept is not None))   # per micro-batch and step, MTP drafts included
    bw, alpha = _link(s)
    hidden = float(w.d_model) * w.experts_per_token
    t_d = moe * (alpha + tokens * hidden * 1.0 / bw)        # dispatch in FP8
    t_c = moe * (alpha + tokens * hidden * 2.0 / bw)        # combine in BF16
    cycle = np.maximum(m * np.maximum.reduce([t_a, t_e, t_d, t_c]), t_a + t_d + t_e + t_c)
    accepted = ra["step_s"] / ra["tpot_s"]
    slow = _slow(a, q)
    tpot = layers * cycle / accepted * slow
    # memory: the attention devices hold everything but the routed experts and the KV cache of
    # all m micro-batches; the expert devices the routed experts. The routed experts' bytes are
    # what spreading them over two expert-parallel ranks halves.
    ws = lambda tp, ep: inf.weights_bytes_per_chip(a.serving, tp, 1, ep)  # noqa: E731
    experts_all = 2.0 * (ws(1, 1) - ws(1, 2))
    att_mem = ws(g["tp"], 1) - experts_all / g["tp"] + ra["kv_gb"] * 1e9 * m
    exp_mem = np.full(tpot.shape, experts_all / ne)
    fits_a = att_mem <= a.hardware.memory_gb * 1e9 * a.efficiency.memory_usable
    fits_e = exp_mem <= e.hardware.memory_gb * 1e9 * e.efficiency.memory_usable
    fits = fits_a & fits_e
    reason = (ra["reason"] & ~16) | ~fits * 16
    chips = q.attention_pool.chips + q.expert_pool.chips
    tokens_per_s = g["batch"] / tpot
    df = pd.DataFrame({
        "tp": g["tp"].astype(int), "dp": g["dp"].astype(int), "batch": g["batch"].astype(int),
        "microbatches": g["microbatches"].astype(int), "ttft_ms": np.nan, "tpot_ms": tpot * 1e3,
        "tokens_per_s": tokens_per_s, "tokens_per_s_per_chip": tokens_per_s / chips,
        "attention_ms": t_a * 1e3, "experts_ms": t_e * 1e3, "dispatch_ms": t_d * 1e3, "combine_ms": t_c * 1e3,
        "memory_gb_per_chip": att_mem / 1e9 * a.devices, "expert_memory_gb_per_chip": exp_mem / 1e9 * e.devices,
        "fits": fits, "reason": reason_text(reason, inf.REASONS)})
    df["valid"] = df.reason == ""
    df["meets_slo"] = df.valid & ((df.tpot_ms <= q.tpot_ms) if q.tpot_ms is not None else True)
    return df


def evaluate(s: DisaggregatedSetup) -> pd.DataFrame:
    """The table of a disaggregated question: `prefill_decode` or `attention_ffn`."""
    return prefill_decode(s) if s.question.disaggregated == "pd" else attention_ffn(s)
