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

Weights, GEMM activations, attention, the KV cache and expert dispatch each have a number format
(`chipgap.models.precision`: block-scaled formats carry their scales, GEMMs run on the units of
their compute format); a decode step may verify ``k`` draft tokens and run the draft module ``k``
times (`chipgap.models.speculation`); weights may live partly in host memory, streamed over the
host link layer by layer while the layer before computes.

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
from chipgap.models.precision import FOUR_BIT, bytes_per_element, default_compute, quantize_bytes
from chipgap.models.speculation import Speculation, accept_length
from chipgap.models.attention import attended, cache_bytes_per_seq, prefill_flops
from chipgap.models.training import (Efficiency, Hardware, expert_all_to_all_s, expert_kernels, expert_split,
                                     fabric, op_time)
from chipgap.models.transformer import head_params, layer_work

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
    dequantized before the multiply). ``compute_precision``: what the GEMMs multiply in (None:
    the weights' own format, bf16 for int4; see `chipgap.models.precision`), on units the chip
    has (the setup falls back to bf16 where it has none). ``dispatch_precision``: what
    expert-parallel dispatch sends. ``speculation``: draft tokens and their acceptance
    (`chipgap.models.speculation`; ``mtp_accept`` alone is one MTP draft token). ``weight_offload``:
    fraction of each layer's weights held in host memory and streamed over the host link every
    pass, prefetched while the layer before computes ('auto': the least that fits).
    """

    workload: Workload
    chips: int
    weight_precision: str = "bf16"
    kv_precision: str = "bf16"
    mtp_accept: float | None = None
    ep_overlap: bool = False
    ep_imbalance: float = 1.0
    attention_precision: str = "bf16"
    compute_precision: str | None = None
    dispatch_precision: str = "fp8"
    speculation: Speculation | None = None
    weight_offload: float | str = 0.0
    attention_weight_precision: str | None = None
    attention_compute_precision: str | None = None

    @property
    def compute(self) -> str:
        """The format the MLP and expert GEMMs multiply in."""
        return self.compute_precision or default_compute(self.weight_precision)

    @property
    def attention_weights(self) -> str:
        """The format of the attention projections' weights (the others' unless the question says)."""
        return self.attention_weight_precision or self.weight_precision

    @property
    def attention_compute(self) -> str:
        """The format the attention projections multiply in."""
        if self.attention_compute_precision:
            return self.attention_compute_precision
        return self.compute if self.attention_weight_precision is None else default_compute(self.attention_weights)

    @property
    def spec(self) -> Speculation | None:
        """The speculation, ``mtp_accept`` read as one MTP draft token."""
        if self.speculation is not None:
            return self.speculation
        return Speculation(rates=(self.mtp_accept,), draft_tokens=1) if self.mtp_accept is not None else None


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
    """GEMM peak of the compute format: the 8-bit formats (fp8, MXFP8, int8: W8A8) run on the 8-bit
    units, which reach ``eff.fp8_gemm`` of the fraction of peak bf16 GEMMs reach, as in training;
    NVFP4 and MXFP4 on the 4-bit units, at ``eff.fp4_gemm`` of it; bf16 (and a 4-bit format on a
    chip without 4-bit units) at the bf16 peak."""
    if precision in FOUR_BIT:
        fp4 = hw.peak_fp4_tflops * eff.fp4_gemm
        return np.where(np.isfinite(fp4), fp4, hw.peak_tflops)
    return hw.peak_fp8_tflops * eff.fp8_gemm if precision in ("fp8", "mxfp8", "int8") else hw.peak_tflops


def _quantize_s(s: Serving, lw, tokens, tp, bw_gbps, eff: Efficiency):  # noqa: ANN001, ANN202
    """Quantizing one layer's GEMM inputs to the compute format over ``tokens`` tokens, against
    bf16 (`chipgap.models.precision.quantize_bytes`): the norms before the attention and MLP
    projections (whole hidden states on every tensor-parallel rank) and the MLP activation (split
    ``tp`` ways) write their outputs quantized; the attention output (split) is quantized by a
    kernel of its own. Negative where the narrower writes save more than that kernel costs. The
    attention projections' inputs take their own compute format."""
    w = s.workload
    fused, standalone = quantize_bytes(s.compute, eff)
    fused_a, standalone_a = quantize_bytes(s.attention_compute, eff)
    attn_out = w.n_heads * (w.v_head_dim if w.attention == "mla" else w.head_dim)
    mlp_in = lw.gemm_input_elems - 2 * lw.hidden - attn_out
    per_token = fused_a * lw.hidden + fused * (lw.hidden + mlp_in / tp) + standalone_a * attn_out / tp
    return per_token * tokens / (bw_gbps * 1e9 * eff.memory)


def _elementwise_s(lw, tokens, tp, bw_gbps, eff: Efficiency):  # noqa: ANN001, ANN202
    """Memory-bound elementwise work of one layer over ``tokens`` bf16 tokens: serving engines
    run tensor parallelism without sequence parallelism, so every rank repeats the norms,
    residual adds and MoE permutation on whole hidden states; the rest is split ``tp`` ways."""
    split = lw.elementwise_elems - lw.replicated_elems
    return 2.0 * tokens * (lw.replicated_elems + split / tp) / (bw_gbps * 1e9 * eff.memory)


def kv_bytes_per_token(w: Workload, kv_precision: str = "bf16") -> float:
    """KV cache per token of context, every layer that keeps one, as if no window bounded it
    (MLA: the compressed latent plus rope key; linear layers keep a fixed state instead, and a
    sparse layer's index keys are apart: `kv_cache_bytes` counts both).

    DeepSeek-V3 in bf16: 576 x 61 x 2 = 70,272 bytes (ISCA'25, arXiv 2505.09343, Table 1).
    """
    return layer_work(w).kv_elems * w.n_layers * KV_BYTES[kv_precision]


def kv_cache_bytes(s: Serving, eff: Efficiency, context, span=0.0, tp=1.0):  # noqa: ANN001, ANN201
    """Bytes one sequence at ``context`` tokens keeps on one of ``tp`` ranks, every layer: the KV
    cache each layer kind keeps (a sliding layer its window, a chunked one its chunk), a sparse
    layer's index keys, a linear layer's fixed state; contexts spread over ``span`` as in
    `decode_step`. What a prefill instance hands a decode instance."""
    return cache_bytes_per_seq(layer_work(s.workload).attention, KV_BYTES[s.kv_precision], context, span, tp,
                               state_bytes=eff.linear_state_bytes, index_bytes=eff.index_key_bytes)


def _decode_attention_s(s: Serving, hw: Hardware, eff: Efficiency, lw, tp, seqs, tokens, context,  # noqa: ANN001, ANN202
                        span):
    """Attention core of one decode step per layer, averaged over the layers' kinds: each kind
    reads what its queries attend to (`chipgap.models.attention.attended`; its KV heads split
    over tp, MLA's latent replicated), a sparse layer's indexer scans every cached index key
    first (FP8), and a linear layer reads and writes its state once per step."""
    kb, peak = KV_BYTES[s.kv_precision], _attention_peak(s, hw, eff, decode=True)
    t = 0.0
    for a in lw.attention:
        split = np.minimum(tp, a.kv_heads)
        if a.kind == "linear":
            state = 2 * seqs * (a.state_elems + a.conv_elems) * eff.linear_state_bytes / split
            t = t + a.fraction * op_time(tokens * a.token_flops / tp, state, peak, hw.memory_bw_gbps, eff, 1)
            continue
        ctx = attended(a, context, span)
        kv_read = seqs * ctx * a.kv_elems * kb / split
        core = op_time(tokens * ctx * a.decode_ctx_flops / tp, kv_read, peak, hw.memory_bw_gbps, eff, 1)
        if a.index_flops:
            keys = seqs * context * a.index_elems * eff.index_key_bytes
            core = core + op_time(tokens * context * a.index_flops / tp, keys, _index_peak(hw, eff), hw.memory_bw_gbps,
                                  eff, 1)
        t = t + a.fraction * core
    return t


def _index_peak(hw: Hardware, eff: Efficiency):  # noqa: ANN202
    """Peak a DSA lightning indexer runs at: FP8 (DeepSeek-V3.2's ``fp8_index``) at the fraction
    fp8 GEMMs keep where the chip has 8-bit units, else bf16; at the attention kernels' share."""
    fp8 = np.all(np.isfinite(hw.peak_fp8_tflops))
    return (hw.peak_fp8_tflops * eff.fp8_gemm if fp8 else hw.peak_tflops) * eff.attention


def layer_weights_bytes_per_chip(s: Serving, tp, pp, ep, eff: Efficiency | None = None):  # noqa: ANN001, ANN201
    """Weights of the decoder layers one chip holds (the busiest stage's): attention and dense
    parts split by tp and pp, experts by ep (or by tp when ep is 1)."""
    w, lw, eff = s.workload, layer_work(s.workload), eff or Efficiency()
    wb, wa = bytes_per_element(s.weight_precision, eff), bytes_per_element(s.attention_weights, eff)
    layers = np.ceil(w.n_layers / pp)
    attention = layers * lw.attn_proj_params / tp
    dense = layers * (lw.dense_mlp_params + lw.shared_params) / tp
    experts = w.n_layers * lw.moe_fraction * lw.routed_experts * lw.expert_params \
        / np.maximum(ep, 1) / pp / expert_split(tp, ep)
    return wa * attention + wb * (dense + experts)


def weights_bytes_per_chip(s: Serving, tp, pp, ep, eff: Efficiency | None = None):  # noqa: ANN001, ANN201
    """Weights one chip holds: its layers' (`layer_weights_bytes_per_chip`) and, on the busiest
    stage, the LM head, and with one stage the (untied) embedding too, as in the training model."""
    w = s.workload
    wb = bytes_per_element(s.weight_precision, eff or Efficiency())
    ends = head_params(w) / tp * np.where((pp == 1) & (not w.tie_embeddings), 2.0, 1.0)
    return layer_weights_bytes_per_chip(s, tp, pp, ep, eff) + wb * ends


def _offloaded(s: Serving, hw: Hardware, eff: Efficiency, layer_bytes, needed):  # noqa: ANN001, ANN202
    """Fraction of the layers' weights in host memory: the question's, or with 'auto' the least
    that brings ``needed`` bytes within the usable memory."""
    if s.weight_offload != "auto":
        return np.full(np.shape(layer_bytes), float(s.weight_offload))
    spare = needed - hw.memory_gb * 1e9 * eff.memory_usable
    return np.clip(spare / np.maximum(layer_bytes, 1.0), 0.0, 1.0)


def _streamed_s(fraction, layer_bytes, layers, hw: Hardware, eff: Efficiency):  # noqa: ANN001, ANN202
    """Seconds the offloaded part of one layer's weights takes over the host link (one way)."""
    moved = fraction * layer_bytes / np.maximum(layers, 1.0)
    return np.where(fraction > 0, moved / (hw.host_gbps * 1e9 * eff.host_link), 0.0)


EAGLE3_FAMILY = "eagle-3"
"""The ``family`` of a catalog workload that is an EAGLE-3 draft head (data README, Workloads)."""


def draft_serving(s: Serving) -> Serving | None:
    """What one draft pass runs, as a serving of its own (None without speculation): the served
    model's multi-token-prediction module, a one-layer copy of the model (its MoE layer where it
    has experts) in the model's formats, or the draft workload in bf16 (draft heads ship
    unquantized; SGLang's ``--speculative-draft-model-quantization unquant``)."""
    spec = s.spec
    if spec is None:
        return None
    if spec.draft is None:
        w = s.workload
        module = w.model_copy(update={"id": f"{w.id}-mtp", "n_layers": 1, "first_dense_layers": 0,
                                      "mtp_layers": 0, "layer_types": ()})
        return Serving(module, s.chips, s.weight_precision, s.kv_precision, None, s.ep_overlap,
                       s.ep_imbalance, s.attention_precision, s.compute_precision, s.dispatch_precision,
                       attention_weight_precision=s.attention_weight_precision,
                       attention_compute_precision=s.attention_compute_precision)
    return Serving(spec.draft, s.chips, "bf16", s.kv_precision, attention_precision=s.attention_precision)


def _draft_extra_params(s: Serving, draft: Workload) -> float:
    """Weights a draft pass multiplies beside its decoder layer and LM head: the MTP module's
    2d -> d projection of the hidden state and the next token's embedding (DeepSeek-V3 report
    section 2.2); an EAGLE-3 head's 3d -> d fusion of three hidden states and the second d of
    its q/k/v projections' 2d-wide input (EAGLE-3, arXiv 2503.01840, section 3)."""
    d = draft.d_model
    if s.spec.draft is None:
        return 2.0 * d * d
    if draft.family == EAGLE3_FAMILY:
        return 3.0 * d * d + d * (draft.n_heads + 2 * draft.n_kv_heads) * draft.head_dim
    return 0.0


def _draft(s: Serving, hw: Hardware, eff: Efficiency, tp, ep, dp, batch, context, drafts) -> dict:  # noqa: ANN001
    """One draft pass over ``batch`` sequences (one token each) on the instance's tp x dp
    chips (the MTP module's experts spread as the model's, a draft model's sliced by tp), and the
    bytes per chip its weights and KV cache add where ``drafts`` > 0. The MTP module shares the
    model's LM head and embedding; an EAGLE-3 head has its own LM head over a draft vocabulary
    and reads the model's embedding."""
    ds = draft_serving(s)
    if ds is None:
        return {"pass_s": np.zeros(np.shape(drafts)), "bytes": np.zeros(np.shape(drafts))}
    own = s.spec.draft is None
    d_ep = ep if own else np.ones_like(ep)
    out = decode_step(ds, hw, eff, tp, 1.0, d_ep, dp, batch, context, drafts=0.0)
    dw, wb = ds.workload, bytes_per_element(ds.weight_precision, eff)
    extra = _draft_extra_params(s, dw)
    extra_s = op_time(2 * batch / dp * extra / tp, wb * extra / tp, _compute_peak(hw, ds.compute, eff),
                      hw.memory_bw_gbps, eff, 1)
    held = layer_weights_bytes_per_chip(ds, tp, 1.0, d_ep, eff) + wb * extra / tp \
        + (0.0 if own else wb * head_params(dw) / tp)
    return {"pass_s": out["step_s"] + extra_s, "bytes": np.where(drafts > 0, held + out["kv_gb"] * 1e9, 0.0)}


def decode_step(s: Serving, hw: Hardware, eff: Efficiency, tp, pp, ep, dp, batch,
                context, *, drafts=None, span=0.0) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Time of one decode step (every sequence of the instance advances one token, or its accept
    length with speculative decoding).

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
    drafts : array-like of int, optional
        Draft tokens per step (default: the speculation's, the largest it allows; 0 without).
    span : array-like of float, default=0
        The sequences' contexts spread evenly over ``context +- span / 2`` (steady-state
        serving: over their outputs); what windowed and chunked layers attend to and keep
        depends on it, full attention only on ``context``.

    Returns
    -------
    dict of str to ndarray
        ``step_s`` and its parts (``attention_s``, ``dense_s``, ``experts_s``, ``head_s``,
        ``tp_comm_s``, ``ep_comm_s``, ``pp_comm_s``, ``draft_s``: the draft passes,
        ``offload_s``: weight streaming the compute does not hide), ``tpot_s`` (per generated
        token), ``accept_length``, ``tokens_per_s`` (instance), ``memory_gb`` (weights plus KV
        cache per chip), ``weights_gb``, ``kv_gb``, ``weight_offload`` (fraction of the layers'
        weights in host memory), ``fits`` and ``reason`` (bits of `REASONS`).
    """
    w, lw = s.workload, layer_work(s.workload)
    spec = s.spec
    if drafts is None:
        drafts = spec.max_drafts if spec is not None else 0
    tp, pp, ep, dp, batch, context, drafts = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (tp, pp, ep, dp, batch, context, drafts)))
    wb, kb = bytes_per_element(s.weight_precision, eff), KV_BYTES[s.kv_precision]
    per_seq_tokens = 1.0 + drafts                          # the drafts and the last token, verified at once
    layers = np.ceil(w.n_layers / pp)
    seqs = batch / (dp * pp)                               # sequences per attention group, per stage pass
    tokens = seqs * per_seq_tokens
    peak = _compute_peak(hw, s.compute, eff)
    bw = hw.memory_bw_gbps
    wa, peak_a = bytes_per_element(s.attention_weights, eff), _compute_peak(hw, s.attention_compute, eff)

    attn_proj = op_time(2 * tokens * lw.attn_proj_params / tp, wa * lw.attn_proj_params / tp,
                         peak_a, bw, eff, 4)
    attn_core = _decode_attention_s(s, hw, eff, lw, tp, seqs, tokens, context, span)
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
                                         *expert_kernels(local * touched))
    elem = _elementwise_s(lw, tokens, tp, bw, eff) + _quantize_s(s, lw, tokens, tp, bw, eff)
    t_layer = attn_proj + attn_core + dense + experts + elem + eff.layer_overhead_s

    act = tokens * w.d_model * 2.0
    t_tp = 2 * comm.all_reduce_s(act, tp, *fabric(tp, hw, eff))
    instance = tp * pp * dp
    # dispatch in the engine's format (fp8: 1 byte), combine in bf16 (2 bytes)
    t_ep = lw.moe_fraction * expert_all_to_all_s(tokens / tp, w, lw, ep, instance, hw, eff,
                                                 bytes_per_element(s.dispatch_precision, eff), 2.0, hot)
    if s.ep_overlap:
        t_ep = _two_batch_exposed(t_ep, t_layer)
    head = op_time(2 * tokens * head_params(w) / tp, wb * head_params(w) / tp, hw.peak_tflops, bw, eff, 1)
    t_pp = np.where(pp > 1, comm.p2p_s(act / tp, *fabric(instance, hw, eff)), 0.0)
    weights = weights_bytes_per_chip(s, tp, pp, ep, eff)
    kv = batch / dp * kv_cache_bytes(s, eff, context + per_seq_tokens, span, tp) / pp
    draft = _draft(s, hw, eff, tp, ep, dp, seqs * dp, context, drafts)
    mem = weights + kv + draft["bytes"]
    layer_bytes = layer_weights_bytes_per_chip(s, tp, pp, ep, eff)
    offload = _offloaded(s, hw, eff, layer_bytes, mem)
    streamed = _streamed_s(offload, layer_bytes, layers, hw, eff)
    busy = t_layer + t_tp + t_ep
    stage = layers * np.maximum(busy, streamed) + head + t_pp
    step = pp * stage + pp * draft["pass_s"] * drafts     # pp micro-batches pass every stage, then draft
    accepted = accept_length(spec, drafts)
    tpot = step / accepted
    mem = mem - offload * layer_bytes
    reason = _reasons(s, hw, tp, pp, ep, dp)
    fits = mem <= hw.memory_gb * 1e9 * eff.memory_usable
    reason = reason | ~fits * 16
    return {"step_s": step, "tpot_s": tpot, "tokens_per_s": batch / tpot, "accept_length": accepted,
            "attention_s": pp * layers * (attn_proj + attn_core), "dense_s": pp * layers * dense,
            "experts_s": pp * layers * experts, "head_s": pp * head,
            "tp_comm_s": pp * layers * t_tp, "ep_comm_s": pp * layers * t_ep, "pp_comm_s": pp * t_pp,
            "draft_s": pp * draft["pass_s"] * drafts, "offload_s": pp * layers * np.maximum(streamed - busy, 0.0),
            "weight_offload": offload,
            "memory_gb": mem / 1e9, "weights_gb": weights / 1e9, "kv_gb": kv / 1e9,
            "fits": fits, "reason": reason}


def prefill(s: Serving, hw: Hardware, eff: Efficiency, tp, pp, ep, dp, batch,
            prompt, cached=0.0) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Time to prefill ``batch`` prompts of ``prompt`` tokens on the instance (the TTFT of the
    last of them) and the prompt tokens per second it computes.

    The first ``cached`` tokens of each prompt are a prefix-cache hit: their KV is already in
    memory, so only the other ``prompt - cached`` tokens are computed, but those attend to the
    whole prefix (DeepSeek's service hit the cache on 56 % of its input tokens).

    With ``pp`` pipeline stages a prompt passes every stage in turn (its latency, ``prefill_s``),
    while in steady state each stage works on another batch or chunk, causal attention letting
    a prompt's next chunk enter the first stage while its last is still in later ones: the
    instance takes in a batch every ``busy_s``, the busiest stage's time (Narayanan et al.,
    arXiv 2104.04473, pipelining; TensorRT-LLM and vLLM run micro-batches through the stages).
    Weights offloaded to host memory (``s.weight_offload``) stream over the host link layer by
    layer while the layer before computes: a layer takes the longer of its work and its stream.

    Returns
    -------
    dict of str to ndarray
        ``prefill_s`` (latency), ``busy_s`` (a batch's share of the instance's time in steady
        state), ``tokens_per_s`` (computed prompt tokens, instance, steady state),
        ``compute_s``, ``tp_comm_s``, ``ep_comm_s``, ``offload_s`` (streaming the work does not
        hide), ``weight_offload``, ``fits``, ``reason``.
    """
    w, lw = s.workload, layer_work(s.workload)
    tp, pp, ep, dp, batch, prompt, cached = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (tp, pp, ep, dp, batch, prompt, cached)))
    wb = bytes_per_element(s.weight_precision, eff)
    peak = _compute_peak(hw, s.compute, eff)
    bw = hw.memory_bw_gbps
    new = prompt - cached                                  # tokens computed per prompt
    T = batch / dp * new                                   # computed tokens per attention group
    if s.attention_weights == s.weight_precision and s.attention_compute == s.compute:
        dense = op_time(2 * T * (lw.attn_proj_params + lw.dense_mlp_params + lw.shared_params) / tp,
                         wb * (lw.attn_proj_params + lw.dense_mlp_params + lw.shared_params) / tp,
                         peak, bw, eff, 7)
    else:                                                  # attention projections in a format of their own
        wa = bytes_per_element(s.attention_weights, eff)
        dense = op_time(2 * T * lw.attn_proj_params / tp, wa * lw.attn_proj_params / tp,
                        _compute_peak(hw, s.attention_compute, eff), bw, eff, 4) \
            + op_time(2 * T * (lw.dense_mlp_params + lw.shared_params) / tp,
                      wb * (lw.dense_mlp_params + lw.shared_params) / tp, peak, bw, eff, 3)
    # causal: a computed token at position i attends to i tokens (the mean is cached + new / 2
    # for full attention; each layer kind what it sees, `chipgap.models.attention`)
    core, index = prefill_flops(lw.attention, cached, new, eff.linear_chunk_tokens)
    attn = T * core / tp / (_attention_peak(s, hw, eff) * 1e12 * eff.gemm_max) \
        + T * index / tp / (_index_peak(hw, eff) * 1e12 * eff.gemm_max)
    local = np.maximum(lw.routed_experts / np.maximum(ep, 1), 1.0)
    split = expert_split(tp, ep)
    hot = _hottest_rank(s, ep)
    expert_tokens = batch * new * lw.experts_per_token / np.maximum(ep, 1) * hot
    experts = lw.moe_fraction * op_time(2 * expert_tokens * lw.expert_params / split,
                                         wb * local * lw.expert_params / split, peak, bw, eff,
                                         *expert_kernels(local))
    elem = _elementwise_s(lw, T, tp, bw, eff) + _quantize_s(s, lw, T, tp, bw, eff)
    t_layer = dense + attn + experts + elem + eff.layer_overhead_s
    t_tp = 2 * comm.all_reduce_s(T * w.d_model * 2.0, tp, *fabric(tp, hw, eff))
    # dispatch in the engine's format (fp8: 1 byte) and combine in bf16 (2 bytes)
    t_ep = lw.moe_fraction * expert_all_to_all_s(T / tp, w, lw, ep, tp * pp * dp, hw, eff,
                                                 bytes_per_element(s.dispatch_precision, eff), 2.0, hot)
    if s.ep_overlap:
        t_ep = _two_batch_exposed(t_ep, t_layer)
    head = op_time(2 * batch / dp * head_params(w) / tp, wb * head_params(w) / tp,
                    hw.peak_tflops, bw, eff, 1)            # logits of the last prompt token only
    weights = weights_bytes_per_chip(s, tp, pp, ep, eff)
    kv = batch / dp * kv_cache_bytes(s, eff, prompt, 0.0, tp) / pp
    layer_bytes = layer_weights_bytes_per_chip(s, tp, pp, ep, eff)
    offload = _offloaded(s, hw, eff, layer_bytes, weights + kv)
    streamed = _streamed_s(offload, layer_bytes, np.ceil(w.n_layers / pp), hw, eff)
    work = t_layer + t_tp + t_ep
    layer = np.maximum(work, streamed)                    # the next layer's weights stream meanwhile
    t_pp = np.where(pp > 1, comm.p2p_s(T * w.d_model * 2.0 / tp, *fabric(tp * pp * dp, hw, eff)), 0.0)
    total = w.n_layers * layer + head + (pp - 1) * t_pp
    busy = np.ceil(w.n_layers / pp) * layer + head + t_pp * (pp > 1)
    fits = weights + kv - offload * layer_bytes <= hw.memory_gb * 1e9 * eff.memory_usable
    reason = _reasons(s, hw, tp, pp, ep, dp) | ~fits * 16
    return {"prefill_s": total, "busy_s": busy, "tokens_per_s": batch * new / busy,
            "compute_s": w.n_layers * t_layer + head, "tp_comm_s": w.n_layers * t_tp,
            "ep_comm_s": w.n_layers * t_ep, "offload_s": w.n_layers * np.maximum(streamed - work, 0.0),
            "weight_offload": offload, "fits": fits, "reason": reason}


def _reasons(s: Serving, hw: Hardware, tp, pp, ep, dp):  # noqa: ANN001, ANN202
    w = s.workload
    reason = (tp * pp * dp != s.chips) * 1
    reason |= ((hw.domain % tp != 0) | (tp > hw.domain) | (w.n_heads % tp != 0)) * 2
    reason |= (pp > w.n_layers) * 4
    reason |= ((ep > tp * dp) | ((ep > 1) & (not w.is_moe))) * 8    # a stage's experts live on its chips
    return reason.astype(np.int64)
