"""Prefill and decode time of LLM serving for arrays of layouts and batch sizes.

Shares the training model's vocabulary (`chipgap.models.transformer.LayerWork`) and efficiency
constants: each operator combines the time of its FLOPs at the achieved fraction of peak and of
its bytes at the achieved fraction of memory bandwidth, combined as ``(c^p + m^p)^(1/p)`` with
``p = eff.roofline_sharpness``: a roofline that is rounded at the ridge, where the two overlap
imperfectly. DeepGEMM's published H800 kernel table (github.com/deepseek-ai/DeepGEMM, README of
the first release: 28 dense and grouped shapes of 64 to 8,192 tokens; `tests/models/test_inference.py`
holds it) has the plain ``max`` overstating GEMMs of 128-1,024 tokens by 20-45 % (median 24 %);
with p from 1.2 to 2 the median error is about 8 %, rising above 2, and the catalog takes 2. Decode reads every weight a
step touches once per step and each sequence's KV cache once per token, so it is usually
memory-bound; prefill is the training forward pass. Norms, residual adds, rotary, activation
functions and the MoE token permutation stream their activations through memory in both phases;
serving engines run tensor parallelism without sequence parallelism, so every rank repeats the
parts that work on whole hidden states.

A serving instance has ``tp x pp x dp`` chips: ``dp`` attention groups of ``tp`` chips
(DeepSeek-style data-parallel attention), ``pp`` pipeline stages, and routed experts spread
over ``ep`` chips, where ``ep`` need not divide the expert count (redundant replicas fill the
rest). ``batch`` is the number of concurrent sequences of the whole instance.

References
----------
Pope et al., "Efficiently Scaling Transformer Inference", MLSys 2023 (arXiv 2211.05102):
decode memory-boundedness, KV cache sizes, layouts.
DeepSeek-AI, "DeepSeek-V3 Technical Report" (arXiv 2412.19437), §3.4: EP32 prefill, EP320
decode, redundant experts, multi-token prediction as speculative decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chipgap.catalog.workload import Workload
from chipgap.models import comm
from chipgap.models.training import Efficiency, Hardware, expert_all_to_all_s, expert_split, fabric, op_time
from chipgap.models.transformer import head_params, layer_work

WEIGHT_BYTES = {"bf16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
KV_BYTES = {"bf16": 2.0, "fp8": 1.0, "int8": 1.0}
REASONS = {
    1: "tp x pp x dp must equal the instance's chips",
    2: "tp must divide the scale-up domain and the attention heads",
    4: "pp must not exceed the layers",
    8: "ep must not exceed the chips of one pipeline stage, tp x dp (and be 1 for dense models)",
    16: "does not fit in memory",
}


@dataclass(frozen=True)
class Serving:
    """What is served: a workload on an instance of ``chips`` chips, and its precisions.

    ``mtp_accept`` is the acceptance rate of one multi-token-prediction draft token per step
    (None: no speculative decoding). ``ep_overlap``: the engine splits each batch in two and
    overlaps one half's expert all-to-all with the other half's compute (DeepSeek's dual
    micro-batch overlap, SGLang's two-batch overlap). ``ep_imbalance``: routed tokens the
    busiest expert-parallel rank receives over the mean (1: balanced). That rank sets the pace
    of the expert GEMMs and of the all-to-all. TensorRT-LLM's expert-parallel load-balancer
    example (DeepSeek-R1, 32 ranks) measures 2.56 without a balancer and 1.12 with one.
    ``attention_precision``: 'fp8' where the engine's attention kernels multiply in FP8 (FA3's
    FP8 path, FlashMLA's FP8 kernels), at the 8-bit peak; 'bf16' otherwise (FP8 KV is then
    dequantized before the multiply).
    """

    workload: Workload
    chips: int
    weight_precision: str = "bf16"
    kv_precision: str = "bf16"
    mtp_accept: float | None = None
    ep_overlap: bool = False
    ep_imbalance: float = 1.0
    attention_precision: str = "bf16"


def _attention_peak(s: Serving, hw: Hardware, eff: Efficiency, decode: bool = False):  # noqa: ANN202
    """Peak the attention core runs at: fused attention's share of the bf16 peak (decode
    kernels' share when ``decode``), or of the 8-bit peak (at the fraction fp8 GEMMs keep) where
    it multiplies in FP8 and the chip has 8-bit units (FlashAttention-3 reaches close to 1.2
    PFLOPS in FP8 on H100, arXiv 2407.08608)."""
    fp8 = s.attention_precision == "fp8" and np.all(np.isfinite(hw.peak_fp8_tflops))
    share = eff.decode_attention if decode else eff.attention
    return (hw.peak_fp8_tflops * eff.fp8_gemm if fp8 else hw.peak_tflops) * share


def _two_batch_exposed(comm_s, compute_s):  # noqa: ANN001, ANN202
    """Communication left exposed when a batch is split in two and one half's all-to-all runs
    during the other half's compute: a two-stage pipeline of two items takes
    ``(c + m) / 2 + max(c, m) / 2``, so ``max(m / 2, m - c / 2)`` of the ``m`` is exposed."""
    return np.maximum(comm_s / 2, comm_s - compute_s / 2)


def _hottest_rank(s: Serving, ep):  # noqa: ANN001, ANN202
    """Routed tokens on the busiest expert-parallel rank over the mean: ``s.ep_imbalance`` when
    the experts are spread over ranks, 1 when every rank holds (a slice of) all of them."""
    return np.where(np.asarray(ep) > 1, s.ep_imbalance, 1.0)


def _compute_peak(hw: Hardware, precision: str, eff: Efficiency):  # noqa: ANN202
    """GEMM peak for the weight format: fp8 and int8 (W8A8) use the 8-bit units where present,
    which reach ``eff.fp8_gemm`` of the fraction of peak bf16 GEMMs reach, as in training."""
    return hw.peak_fp8_tflops * eff.fp8_gemm if precision in ("fp8", "int8") else hw.peak_tflops


def _elementwise_s(lw, tokens, tp, bw_gbps, eff: Efficiency):  # noqa: ANN001, ANN202
    """Memory-bound elementwise work of one layer over ``tokens`` bf16 tokens: serving engines
    run tensor parallelism without sequence parallelism, so every rank repeats the norms,
    residual adds and MoE permutation on whole hidden states; the rest is split ``tp`` ways."""
    split = lw.elementwise_elems - lw.replicated_elems
    return 2.0 * tokens * (lw.replicated_elems + split / tp) / (bw_gbps * 1e9 * eff.memory)


def kv_bytes_per_token(w: Workload, kv_precision: str = "bf16") -> float:
    """KV cache per token of context, all layers (MLA: the compressed latent plus rope key).

    DeepSeek-V3 in bf16: 576 x 61 x 2 = 70,272 bytes (ISCA'25, arXiv 2505.09343, Table 1).
    """
    return layer_work(w).kv_elems * w.n_layers * KV_BYTES[kv_precision]


def weights_bytes_per_chip(s: Serving, tp, pp, ep):  # noqa: ANN001, ANN201
    """Weights one chip holds: attention and dense parts split by tp and pp, experts by ep (or
    by tp when ep is 1)."""
    w, lw = s.workload, layer_work(s.workload)
    wb = WEIGHT_BYTES[s.weight_precision]
    layers = np.ceil(w.n_layers / pp)
    dense = layers * (lw.attn_proj_params + lw.dense_mlp_params + lw.shared_params) / tp
    experts = w.n_layers * lw.moe_fraction * lw.routed_experts * lw.expert_params \
        / np.maximum(ep, 1) / pp / expert_split(tp, ep)
    # the busiest stage holds the LM head, and with one stage the (untied) embedding too,
    # as in the training model
    ends = head_params(w) / tp * np.where((pp == 1) & (not w.tie_embeddings), 2.0, 1.0)
    return wb * (dense + experts + ends)


def decode_step(s: Serving, hw: Hardware, eff: Efficiency, tp, pp, ep, dp, batch,
                context) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Time of one decode step (every sequence of the instance advances one token).

    Parameters
    ----------
    s : Serving
    hw : Hardware
    eff : Efficiency
    tp, pp, ep, dp : array-like of int
        Layout of the instance.
    batch : array-like of int
        Concurrent sequences of the whole instance.
    context : array-like of float
        KV length each sequence attends to.

    Returns
    -------
    dict of str to ndarray
        ``step_s`` and its parts (``attention_s``, ``dense_s``, ``experts_s``, ``head_s``,
        ``tp_comm_s``, ``ep_comm_s``, ``pp_comm_s``), ``tpot_s`` (per generated token, with
        MTP), ``tokens_per_s`` (instance), ``memory_gb`` (weights plus KV cache per chip),
        ``weights_gb``, ``kv_gb``, ``fits`` and ``reason`` (bits of `REASONS`).
    """
    w, lw = s.workload, layer_work(s.workload)
    tp, pp, ep, dp, batch, context = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (tp, pp, ep, dp, batch, context)))
    wb, kb = WEIGHT_BYTES[s.weight_precision], KV_BYTES[s.kv_precision]
    drafts = 1.0 if s.mtp_accept is not None else 0.0      # one MTP draft verified per step
    per_seq_tokens = 1.0 + drafts
    layers = np.ceil(w.n_layers / pp)
    seqs = batch / (dp * pp)                               # sequences per attention group, per stage pass
    tokens = seqs * per_seq_tokens
    peak = _compute_peak(hw, s.weight_precision, eff)
    bw = hw.memory_bw_gbps
    kv_split = 1.0 if w.attention == "mla" else np.minimum(tp, w.n_kv_heads)

    attn_proj = op_time(2 * tokens * lw.attn_proj_params / tp, wb * lw.attn_proj_params / tp,
                         peak, bw, eff, 4)
    kv_read = seqs * context * lw.kv_elems * kb / kv_split
    attn_core = op_time(tokens * context * lw.attn_decode_flops_per_ctx / tp, kv_read,
                        _attention_peak(s, hw, eff, decode=True), bw, eff, 1)
    dense = op_time(2 * tokens * (lw.dense_mlp_params + lw.shared_params) / tp,
                     wb * (lw.dense_mlp_params + lw.shared_params) / tp, peak, bw, eff, 3)
    # Routed experts: each chip holds max(E / ep, 1) experts (a 1/tp slice of each when ep is
    # 1); a step touches those that any of the instance's tokens routes to.
    local = np.maximum(lw.routed_experts / np.maximum(ep, 1), 1.0)
    split = expert_split(tp, ep)
    all_tokens = batch / pp * per_seq_tokens
    touched = 1 - (1 - lw.experts_per_token / max(lw.routed_experts, 1)) ** all_tokens
    hot = _hottest_rank(s, ep)
    expert_tokens = all_tokens * lw.experts_per_token / np.maximum(ep, 1) * hot
    experts = lw.moe_fraction * op_time(2 * expert_tokens * lw.expert_params / split,
                                         wb * local * touched * lw.expert_params / split, peak, bw, eff,
                                         3 * local * touched)
    elem = _elementwise_s(lw, tokens, tp, bw, eff)
    t_layer = attn_proj + attn_core + dense + experts + elem + eff.layer_overhead_s

    act = tokens * w.d_model * 2.0
    t_tp = 2 * comm.all_reduce_s(act, tp, *fabric(tp, hw, eff))
    instance = tp * pp * dp
    # dispatch in fp8 (1 byte), combine in bf16 (2 bytes)
    t_ep = lw.moe_fraction * expert_all_to_all_s(tokens / tp, w, lw, ep, instance, hw, eff, 1.0, 2.0, hot)
    if s.ep_overlap:
        t_ep = _two_batch_exposed(t_ep, t_layer)
    head = op_time(2 * tokens * head_params(w) / tp, wb * head_params(w) / tp, hw.peak_tflops, bw, eff, 1)
    t_pp = np.where(pp > 1, comm.p2p_s(act / tp, *fabric(instance, hw, eff)), 0.0)
    stage = layers * (t_layer + t_tp + t_ep) + head + t_pp
    step = pp * stage                                      # pp micro-batches pass every stage
    accepted = per_seq_tokens if s.mtp_accept is None else 1.0 + s.mtp_accept
    tpot = step / accepted
    weights = weights_bytes_per_chip(s, tp, pp, ep)
    kv = batch / dp * (context + per_seq_tokens) * kv_bytes_per_token(w, s.kv_precision) / pp / kv_split
    mem = weights + kv
    reason = _reasons(s, hw, tp, pp, ep, dp)
    fits = mem <= hw.memory_gb * 1e9 * eff.memory_usable
    reason = reason | ~fits * 16
    return {"step_s": step, "tpot_s": tpot, "tokens_per_s": batch / tpot,
            "attention_s": pp * layers * (attn_proj + attn_core), "dense_s": pp * layers * dense,
            "experts_s": pp * layers * experts, "head_s": pp * head,
            "tp_comm_s": pp * layers * t_tp, "ep_comm_s": pp * layers * t_ep, "pp_comm_s": pp * t_pp,
            "memory_gb": mem / 1e9, "weights_gb": weights / 1e9, "kv_gb": kv / 1e9,
            "fits": fits, "reason": reason}


def prefill(s: Serving, hw: Hardware, eff: Efficiency, tp, pp, ep, dp, batch,
            prompt, cached=0.0) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Time to prefill ``batch`` prompts of ``prompt`` tokens on the instance (the TTFT of the
    last of them) and the prompt tokens per second it computes.

    The first ``cached`` tokens of each prompt are a prefix-cache hit: their KV is already in
    memory, so only the other ``prompt - cached`` tokens are computed, but those attend to the
    whole prefix (DeepSeek's service hit the cache on 56 % of its input tokens).

    Returns
    -------
    dict of str to ndarray
        ``prefill_s``, ``tokens_per_s`` (computed prompt tokens, instance), ``compute_s``,
        ``tp_comm_s``, ``ep_comm_s``, ``fits``, ``reason``.
    """
    w, lw = s.workload, layer_work(s.workload)
    tp, pp, ep, dp, batch, prompt, cached = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (tp, pp, ep, dp, batch, prompt, cached)))
    wb = WEIGHT_BYTES[s.weight_precision]
    peak = _compute_peak(hw, s.weight_precision, eff)
    bw = hw.memory_bw_gbps
    new = prompt - cached                                  # tokens computed per prompt
    T = batch / dp * new                                   # computed tokens per attention group
    dense = op_time(2 * T * (lw.attn_proj_params + lw.dense_mlp_params + lw.shared_params) / tp,
                     wb * (lw.attn_proj_params + lw.dense_mlp_params + lw.shared_params) / tp,
                     peak, bw, eff, 7)
    # causal: a computed token at position i attends to i tokens; the mean is cached + new / 2
    attn = T * (cached + new / 2) * lw.attn_core_flops_per_ctx / tp \
        / (_attention_peak(s, hw, eff) * 1e12 * eff.gemm_max)
    local = np.maximum(lw.routed_experts / np.maximum(ep, 1), 1.0)
    split = expert_split(tp, ep)
    hot = _hottest_rank(s, ep)
    expert_tokens = batch * new * lw.experts_per_token / np.maximum(ep, 1) * hot
    experts = lw.moe_fraction * op_time(2 * expert_tokens * lw.expert_params / split,
                                         wb * local * lw.expert_params / split, peak, bw, eff, 3 * local)
    elem = _elementwise_s(lw, T, tp, bw, eff)
    t_layer = dense + attn + experts + elem + eff.layer_overhead_s
    t_tp = 2 * comm.all_reduce_s(T * w.d_model * 2.0, tp, *fabric(tp, hw, eff))
    # dispatch in fp8 (1 byte) and combine in bf16 (2 bytes)
    t_ep = lw.moe_fraction * expert_all_to_all_s(T / tp, w, lw, ep, tp * pp * dp, hw, eff, 1.0, 2.0, hot)
    if s.ep_overlap:
        t_ep = _two_batch_exposed(t_ep, t_layer)
    head = op_time(2 * batch / dp * head_params(w) / tp, wb * head_params(w) / tp,
                    hw.peak_tflops, bw, eff, 1)            # logits of the last prompt token only
    total = w.n_layers * (t_layer + t_tp + t_ep) + head
    weights = weights_bytes_per_chip(s, tp, pp, ep)
    kv = batch / dp * prompt * kv_bytes_per_token(w, s.kv_precision) / pp
    fits = weights + kv <= hw.memory_gb * 1e9 * eff.memory_usable
    reason = _reasons(s, hw, tp, pp, ep, dp) | ~fits * 16
    return {"prefill_s": total, "tokens_per_s": batch * new / total,
            "compute_s": w.n_layers * t_layer + head, "tp_comm_s": w.n_layers * t_tp,
            "ep_comm_s": w.n_layers * t_ep, "fits": fits, "reason": reason}


def _reasons(s: Serving, hw: Hardware, tp, pp, ep, dp):  # noqa: ANN001, ANN202
    w = s.workload
    reason = (tp * pp * dp != s.chips) * 1
    reason |= ((hw.domain % tp != 0) | (tp > hw.domain) | (w.n_heads % tp != 0)) * 2
    reason |= (pp > w.n_layers) * 4
    reason |= ((ep > tp * dp) | ((ep > 1) & (not w.is_moe))) * 8    # a stage's experts live on its chips
    return reason.astype(np.int64)
