"""Step time and memory of LLM training for arrays of parallel layouts, as one array evaluation.

Every layout field (``tp, pp, dp, cp, ep, vpp, mbs, zero, recompute``) is an integer array of
shape ``(config,)`` (or anything broadcastable, such as ``(config, sample)`` together with
hardware samples). Nothing loops over configurations: a million layouts are one call.

The model, per micro-batch and pipeline stage: matrix multiplies and attention run at an
achieved fraction of peak, and the memory-bound work (norms, activations, residual adds, fp8
casts, the weights streamed) adds its bytes at an achieved fraction of memory bandwidth; tensor,
context and expert parallel collectives add exposed time on the fabric their group spans;
the 1F1B pipeline adds ``(pp - 1) / vpp`` micro-batches of bubble; data-parallel gradient
reduction hides behind the last micro-batch's backward pass (ZeRO 0-2) or, under FSDP (ZeRO 3),
every micro-batch gathers weights and reduce-scatters gradients behind its own passes; and the
optimizer streams its state through memory. Memory per chip (weights, gradients, optimizer state under ZeRO, kept
activations, logits) decides whether a layout fits.

References
----------
Narayanan et al., SC'21 (arXiv 2104.04473): pipeline bubble (p - 1) / (v m), interleaving.
Korthikanti et al., arXiv 2205.05198: sequence parallelism, activation memory, recomputation.
Rajbhandari et al., "ZeRO", SC'20 (arXiv 1910.02054): 2 + 2 + 12 bytes per parameter, sharding.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, fields

import numpy as np

from chipgap.catalog.workload import Workload
from chipgap.models import comm
from chipgap.models.precision import FOUR_BIT, bytes_per_element
from chipgap.models.transformer import (attended_per_query, attention_flops_per_token, head_params, layer_work,
                                        model_flops_per_token, mtp_flops_per_token)

RECOMPUTE = {"none": 0, "selective": 1, "full": 2, "modules": 3}
"""Activation recomputation: none; selective (the attention core, Korthikanti 2022); full (the
whole layer forward); modules (norms, MLA up-projections and the MLP activation, which are cheap
to redo and expensive to keep: Megatron-core's --recompute-modules, DeepSeek-V3 section 3.3.3)."""
BYTES_ACT = 2.0          # bf16 activations
BYTES_WEIGHT = 2.0       # bf16 working weights (fp8 runs keep them too, plus an fp8 copy)
BYTES_GRAD = 2.0         # bf16 gradient buffers and reduction (Megatron-core's default)
BYTES_OPTIM = 12.0       # fp32 master weights, Adam first and second moments
BYTES_OPTIM_STEP = 30.0  # Adam step traffic per parameter: read/write master, m, v; read grad; write weight

# Feasibility reasons, as bits of the ``reason`` array.
REASONS = {
    1: "tp x pp x dp x cp must equal the chip count",
    2: "tp must divide the scale-up domain and the attention heads",
    4: "pp x vpp must not exceed the layers",
    8: "global batch must split into whole micro-batches over dp",
    16: "cp must divide the sequence length",
    32: "ep must divide the routed experts and dp x cp (and be 1 for dense models)",
    64: "does not fit in memory",
}


@dataclass(frozen=True)
class Hardware:
    """One chip and its fabrics; every field may be an array of samples.

    Attributes
    ----------
    peak_tflops : dense peak for bf16 matrix work.
    peak_fp8_tflops : dense peak of the 8-bit compute format asked (fp8, MXFP8 or int8; NaN or
        equal to ``peak_tflops`` without such units).
    memory_bw_gbps, memory_gb : device memory bandwidth and capacity.
    scaleup_gbps, scaleout_gbps : usable-before-efficiency one-way link bandwidth per chip.
    domain : chips in one scale-up domain.
    peak_fp4_tflops : dense peak of the 4-bit compute format asked (NVFP4 or MXFP4; NaN without).
    host_gbps : one-way bandwidth of the link to host memory (PCIe, NVLink-C2C; NaN unknown).
    """

    peak_tflops: float | np.ndarray
    peak_fp8_tflops: float | np.ndarray
    memory_bw_gbps: float | np.ndarray
    memory_gb: float | np.ndarray
    scaleup_gbps: float | np.ndarray
    scaleout_gbps: float | np.ndarray
    domain: float | np.ndarray
    peak_fp4_tflops: float | np.ndarray = np.nan
    host_gbps: float | np.ndarray = np.nan

    def per_device(self, devices: int) -> Hardware:
        """One of the ``devices`` a package shows software (an Ascend 910C's two dies): each has
        its share of the compute, memory and links, and a domain holds ``devices`` times more."""
        if devices == 1:
            return self
        d = float(devices)
        return Hardware(self.peak_tflops / d, self.peak_fp8_tflops / d, self.memory_bw_gbps / d,
                        self.memory_gb / d, self.scaleup_gbps / d, self.scaleout_gbps / d, self.domain * d,
                        self.peak_fp4_tflops / d, self.host_gbps / d)


@dataclass(frozen=True)
class Efficiency:
    """Achieved fractions of peak and the engine constants (see `chipgap.analyses.efficiency`).

    Attributes
    ----------
    gemm_max : fraction of peak the largest matrix multiplies reach.
    gemm_overhead_s : fixed time each GEMM call adds to its work at ``gemm_max`` (launch,
        prologue and epilogue, the last partial wave of tiles): small GEMMs lose a larger share.
    gemm_group_overhead_s : the same for each problem inside one grouped GEMM kernel (an MoE
        layer's experts run as the groups of one kernel per matrix: no launch between them).
    attention : flash-attention efficiency relative to ``gemm_max`` (training and prefill).
    decode_attention : the same for decode attention kernels reading the KV cache (FlashMLA,
        FlashAttention's and FlashInfer's decode kernels), long in the KV dimension.
    attention_unfused : the same for attention as separate batched GEMMs over heads (head_dim
        is their short inner dimension) with a softmax kernel between, before fused attention.
    memory : fraction of memory bandwidth streaming kernels reach.
    net_scaleup, net_scaleout : fraction of link bandwidth collectives reach.
    all_to_all_gbps : per-device bandwidth (GB/s, one direction) expert dispatch and combine
        kernels reach inside a scale-up domain where the link is faster: they run on a fixed
        budget of cores (DeepEP and HybridEP take 24 SMs by default), whatever the link.
    alpha_scaleup_s, alpha_scaleout_s : latency per collective step.
    layer_overhead_s : fixed time per layer per micro-batch pass (launches, synchronisation).
    memory_usable : fraction of device memory a job can allocate (allocator, workspace, runtime).

    fp8_gemm : fraction of the bf16 GEMM efficiency that fp8 GEMMs reach against the fp8 peak
        (per-tile scaling and the shorter K-loop leave the doubled peak partly unused); int8 and
        MXFP8 GEMMs too.
    fp4_gemm : the same for NVFP4 and MXFP4 GEMMs against the 4-bit peak.
    nvfp4_block_elems, mx_block_elems, block_scale_bytes : elements sharing one scale in NVFP4
        and in the MX formats, and the bytes of that scale (`chipgap.models.precision`).
    host_link : fraction of the host link's bandwidth weight transfers from host memory reach.
    roofline_sharpness : how an operator's compute and memory times combine (training and serving),
        ``(c^p + m^p)^(1/p)`` (see `chipgap.models.inference`).
    serial_scheduler_slowdown : how much longer a serving step takes when the engine schedules
        between steps instead of while the chips run.
    prefill_chunk_tokens : prompt tokens a serving engine batches into one prefill pass.
    linear_chunk_tokens : chunk length of the linear-attention (Gated DeltaNet) kernels'
        chunkwise form in prefill and training.
    linear_state_bytes : bytes per element of a linear-attention layer's recurrent and
        convolution state.
    index_key_bytes : bytes per element of a sparse-attention (DSA) layer's cached index keys,
        their scales included.

    The catalog holds every one with its source (``data/model/constants.yaml``) and the fit
    (``data/model/fit.yaml``); `chipgap.analyses.efficiency.efficiency_for` reads them. The
    defaults here are only for models evaluated without a catalog (tests, notebooks).
    """

    gemm_max: float = 0.75
    gemm_overhead_s: float = 1e-6
    gemm_group_overhead_s: float = 3.7e-7
    attention: float = 0.7
    decode_attention: float = 0.9
    attention_unfused: float = 0.5
    memory: float = 0.8
    net_scaleup: float = 0.8
    net_scaleout: float = 0.8
    all_to_all_gbps: float = math.inf
    alpha_scaleup_s: float = 5e-6
    alpha_scaleout_s: float = 15e-6
    layer_overhead_s: float = 50e-6
    memory_usable: float = 0.9
    fp8_gemm: float = 0.75
    fp4_gemm: float = 0.55
    nvfp4_block_elems: float = 16.0
    mx_block_elems: float = 32.0
    block_scale_bytes: float = 1.0
    host_link: float = 0.8
    roofline_sharpness: float = 2.0
    serial_scheduler_slowdown: float = 1.1
    prefill_chunk_tokens: float = 8192.0
    linear_chunk_tokens: float = 64.0
    linear_state_bytes: float = 2.0
    index_key_bytes: float = 1.03125

    def replace(self, **kw: float) -> Efficiency:
        return Efficiency(**{f.name: kw.get(f.name, getattr(self, f.name)) for f in fields(self)})


@dataclass(frozen=True)
class Job:
    """What is trained, and what the framework can do.

    Attributes
    ----------
    workload, chips, seq_len, global_batch, precision
        A workload on ``chips`` chips, ``global_batch`` sequences of ``seq_len`` tokens per
        step, matrix multiplies in ``precision`` ('bf16', 'fp8', 'mxfp8' or 'nvfp4'; see
        `_low_precision`).
    flash_attention : bool
        Fused attention that never writes the scores to memory (FlashAttention, 2022 on);
        without it the s x s scores stream through memory and are kept for backward.
    ep_overlap : bool
        Expert-parallel all-to-all overlapped with other micro-batches' compute (DualPipe).
    dp_overlap : bool
        Gradient reduce-scatter overlapped with the last backward pass, parameter gathers with
        the first forward (Megatron's --overlap-grad-reduce / --overlap-param-gather, FSDP).
    tp_overlap : bool
        Tensor-parallel all-gathers and reduce-scatters pipelined with the GEMMs they feed
        (Transformer Engine userbuffers, NeMo's tp_comm_overlap).
    """

    workload: Workload
    chips: int
    seq_len: int
    global_batch: int
    precision: str = "bf16"
    flash_attention: bool = True
    ep_overlap: bool = False
    dp_overlap: bool = True
    tp_overlap: bool = False


def expert_split(tp, ep):  # noqa: ANN001, ANN201
    """Ways each routed expert's matrices are cut: by tp when experts are not spread over chips
    (ep 1: tensor-parallel experts, the default of TensorRT-LLM, vLLM and Megatron), else whole.
    Training and serving share it."""
    return np.where(np.asarray(ep) > 1, 1.0, tp)


def fabric(span, hw: Hardware, eff: Efficiency):  # noqa: ANN001, ANN201
    """(Bandwidth GB/s, latency s) per chip of a group whose ranks span ``span`` consecutive chips.

    Consecutive chips share a scale-up domain of ``hw.domain``; a group that fits in one runs on
    the scale-up fabric, otherwise its traffic crosses the scale-out network, which bounds it.
    """
    inside = span <= hw.domain
    return (np.where(inside, hw.scaleup_gbps * eff.net_scaleup, hw.scaleout_gbps * eff.net_scaleout),
            np.where(inside, eff.alpha_scaleup_s, eff.alpha_scaleout_s))


def expert_all_to_all_s(tokens, w: Workload, lw, ep, span, hw: Hardware, eff: Efficiency,  # noqa: ANN001, ANN201
                        dispatch_bytes: float, combine_bytes: float, hot=1.0):
    """Dispatch and combine of one MoE layer's routed tokens, ``tokens`` on each rank of an
    expert-parallel group of ``ep`` ranks whose group spans ``span`` consecutive devices.

    Each token goes to its ``k`` experts (``hot`` scales the busiest rank's share). A group that
    fits in one scale-up domain exchanges over its links; one that spans several sends only the
    share meant for other domains over the network, at the same time as the rest moves inside
    each domain, as NCCL's point-to-point all-to-all and DeepEP's kernels (NVLink and RDMA
    forwarding at once, github.com/deepseek-ai/DeepEP) do, inside a domain at the kernels' own
    bandwidth where the link is faster (``all_to_all_gbps``). Group-limited routing caps the
    copies of a token that leave its domain (DeepSeek-V3: at most 4 nodes; arXiv 2412.19437
    section 2.1.2). Training and serving share it."""
    ep = np.maximum(ep, 1.0)
    members = np.minimum(ep, ep * hw.domain / np.maximum(span, 1.0))     # group ranks per domain
    spanning = span > hw.domain
    k = lw.experts_per_token
    remote_copies = min(k, w.routing_groups_per_token or k)
    per_token = w.d_model * (dispatch_bytes + combine_bytes) * hot
    local = tokens * k * per_token * (members - 1) / ep
    remote = tokens * remote_copies * per_token * (ep - members) / ep
    latency = 2 * np.ceil(np.log2(ep)) * np.where(spanning, eff.alpha_scaleout_s, eff.alpha_scaleup_s)
    inside = np.minimum(hw.scaleup_gbps * eff.net_scaleup, eff.all_to_all_gbps)
    t = latency + np.maximum(local / (inside * 1e9), remote / (hw.scaleout_gbps * eff.net_scaleout * 1e9))
    return np.where(ep > 1, t, 0.0)


def gemm_time(flops, calls, peak_tflops, eff: Efficiency, scale: float = 1.0, groups=0.0):  # noqa: ANN001, ANN201
    """Time of ``calls`` GEMM kernels of ``flops`` in total: the work at ``gemm_max x scale`` of
    peak, plus ``gemm_overhead_s`` per call and ``gemm_group_overhead_s`` per problem of a
    grouped kernel (``groups`` in all). The overheads are times, not numbers of FLOPs, so a GEMM
    of a given size loses less of its efficiency on a chip of smaller peak (an H20 fills its
    few, slow tensor cores with less work than an H100)."""
    work = flops / (peak_tflops * 1e12 * np.maximum(scale * eff.gemm_max, 1e-9))
    return np.where(flops > 0, work + calls * eff.gemm_overhead_s + groups * eff.gemm_group_overhead_s, 0.0)


def expert_kernels(local_experts):  # noqa: ANN001, ANN201
    """(Kernel calls, grouped problems) of one MoE layer's routed experts on a chip holding
    ``local_experts`` of them: one grouped GEMM for the first matrices (gate and up fused) and
    one for the second, each with a problem per expert (Megatron-core's GroupedMLP, TensorRT-LLM's
    and SGLang's fused MoE, DeepGEMM's grouped layouts). Training and serving share it."""
    return 2.0, 2.0 * local_experts


def op_time(flops, nbytes, peak_tflops, bw_gbps, eff: Efficiency, calls=1.0, groups=0.0):  # noqa: ANN001, ANN201
    """Roofline of one GEMM group: its compute time (`gemm_time`) and the time its operands
    take to stream from memory, combined as ``(c^p + m^p)^(1/p)``, ``p = eff.roofline_sharpness``
    (at least the longer of the two, at most their sum). DeepGEMM's published H800 kernel table
    (github.com/deepseek-ai/DeepGEMM, first release: 28 dense and grouped shapes of 64 to 8,192
    tokens; `tests/models/test_inference.py` holds it) has the plain ``max`` overstating GEMMs of
    128-1,024 tokens by 20-45 % (median 24 %); with p from 1.2 to 2 the median error is about 8 %.
    The training forward pass, prefill and decode all time their GEMMs with it. An unknown peak
    (NaN, a CPU without public FLOPS) leaves the memory time standing.
    """
    c = gemm_time(flops, calls, peak_tflops, eff, groups=groups)
    m = nbytes / (bw_gbps * 1e9 * eff.memory)
    p = eff.roofline_sharpness
    return np.where(np.isfinite(c), (c ** p + m ** p) ** (1 / p), m)


def train_step(job: Job, hw: Hardware, eff: Efficiency, tp, pp, dp, cp, ep, vpp, mbs, zero,
               recompute) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Step time, throughput, memory and feasibility of training layouts.

    Parameters
    ----------
    job : Job
    hw : Hardware
    eff : Efficiency
    tp, pp, dp, cp, ep, vpp, mbs, zero, recompute : array-like of int
        Layouts, broadcast together: tensor, pipeline, data, context and expert parallel
        degrees, virtual stages, micro-batch size (sequences), ZeRO stage (0-3) and
        recomputation (0 none, 1 selective, 2 full, 3 modules; see `RECOMPUTE`).

    Returns
    -------
    dict of str to ndarray
        ``step_time_s``, ``tokens_per_s``, ``tflops_per_chip``, ``mfu``, ``hfu``, ``memory_gb``
        and its parts (``mem_weights_gb``, ``mem_grads_gb``, ``mem_optimizer_gb``,
        ``mem_activations_gb``, ``mem_logits_gb``), the breakdown (``compute_s``,
        ``tp_comm_s``, ``cp_comm_s``, ``ep_comm_s``, ``pp_comm_s``, ``bubble_s``,
        ``dp_exposed_s``, ``optimizer_s``), ``fits`` (bool) and ``reason`` (bit mask of
        `REASONS`, 0 when the layout is valid and fits).
    """
    L = _Layout(job, *np.broadcast_arrays(*(np.asarray(x) for x in (tp, pp, dp, cp, ep, vpp, mbs, zero,
                                                                      recompute))))
    lw = layer_work(job.workload)
    c = _layer_compute(job, hw, eff, lw, L)
    m = _layer_comm(job, hw, eff, lw, L, c)
    pipe, dpo, mem, step, fits = _fastest_split(job, hw, eff, lw, L, c, m)
    reason = _reasons(job, hw, L, step) | ~fits * 64

    w, s, N = job.workload, float(job.seq_len), job.chips
    tokens = job.global_batch * s
    tokens_per_s = tokens / step
    model_flops = model_flops_per_token(w, s) * tokens_per_s / N
    hw_flops = model_flops * _hfu_factor(L.recompute, lw, s, w) + mtp_flops_per_token(w, s) * tokens_per_s / N
    return {
        "step_time_s": step, "tokens_per_s": tokens_per_s, "tflops_per_chip": model_flops / 1e12,
        "mfu": model_flops / (hw.peak_tflops * 1e12), "hfu": hw_flops / (hw.peak_tflops * 1e12),
        "memory_gb": mem["total"] / 1e9, "mem_weights_gb": mem["weights"] / 1e9,
        "mem_grads_gb": mem["grads"] / 1e9, "mem_optimizer_gb": mem["optimizer"] / 1e9,
        "mem_activations_gb": mem["activations"] / 1e9, "mem_logits_gb": mem["logits"] / 1e9,
        "compute_s": pipe["compute_total"], "tp_comm_s": L.micro * pipe["layers"] * m["tp"],
        "cp_comm_s": L.micro * pipe["layers"] * m["cp"], "ep_comm_s": L.micro * pipe["layers"] * m["ep"],
        "pp_comm_s": L.micro * pipe["p2p"], "bubble_s": pipe["bubble"], "dp_exposed_s": dpo["dp_exposed"],
        "dp_comm_s": dpo["dp_comm"], "optimizer_s": dpo["optimizer"],
        "fits": fits, "reason": reason,
    }


class _Layout:
    """A layout's degrees (raw, for the feasibility tests), their clamped float forms (degrees
    below 1 are flagged as invalid; clamping keeps the arithmetic finite) and what follows from
    them: micro-batches per step and tokens per chip per micro-batch."""

    def __init__(self, job: Job, tp, pp, dp, cp, ep, vpp, mbs, zero, recompute):  # noqa: ANN001
        self.tp, self.pp, self.dp, self.cp, self.ep = tp, pp, dp, cp, ep
        self.zero, self.recompute = zero, recompute
        self.f_tp, self.f_pp, self.f_dp, self.f_cp, self.f_ep = (np.maximum(x, 1).astype(float)
                                                                  for x in (tp, pp, dp, cp, ep))
        self.vpp, self.mbs = np.maximum(vpp, 1), np.maximum(mbs, 1)
        self.micro = job.global_batch / (self.f_dp * self.mbs)
        self.T = self.mbs * float(job.seq_len) / self.f_cp


def _low_precision(job: Job, hw: Hardware, eff: Efficiency) -> dict:
    """How a training recipe's GEMMs run: their peak and the share of it they keep, the bytes of
    one quantized element, the quantized copies each GEMM input and weight is cast to, and the
    bytes a cast reads and writes per element.

    'fp8' (per-tensor scaling) keeps one fp8 copy of each GEMM input (the cast reads 2 bytes and
    writes 1). 'mxfp8' and 'nvfp4' quantize every operand twice, rowwise and columnwise, because
    their block scales run along one dimension and the backward GEMMs contract the other
    (Transformer Engine, MXFP8 and NVFP4 pages: 'Both must be quantized independently'); NVFP4's
    per-tensor scale needs the tensor's amax first, one more read. NVFP4's random Hadamard
    transforms of the wgrad inputs are left out (16 x 16 blocks: little work beside the GEMMs).
    """
    fmt = job.precision
    peak = hw.peak_fp4_tflops if fmt in FOUR_BIT else hw.peak_fp8_tflops
    if fmt == "bf16" or not np.all(np.isfinite(peak)):
        return {"on": False, "peak": hw.peak_tflops, "scale": 1.0, "bytes": BYTES_WEIGHT, "copies": 0.0,
                "cast": 0.0}
    q = bytes_per_element(fmt, eff)
    copies = 1.0 if fmt == "fp8" else 2.0
    amax = BYTES_ACT if fmt == "nvfp4" else 0.0
    return {"on": True, "peak": peak, "scale": eff.fp4_gemm if fmt in FOUR_BIT else eff.fp8_gemm,
            "bytes": q, "copies": copies, "cast": amax + BYTES_ACT + copies * q}


def _layer_compute(job: Job, hw: Hardware, eff: Efficiency, lw, L: _Layout) -> dict:  # noqa: ANN001
    """Forward, backward and recompute time of one layer for one micro-batch."""
    w, s, T, f_tp, f_ep = job.workload, float(job.seq_len), L.T, L.f_tp, L.f_ep
    low = _low_precision(job, hw, eff)
    fp8, gemm_peak = low["on"], low["peak"]
    split = expert_split(f_tp, f_ep)
    dense_flops = 2 * T * (lw.attn_proj_params + lw.dense_mlp_params + lw.shared_params) / f_tp
    expert_flops = 2 * T * lw.moe_fraction * lw.experts_per_token * lw.expert_params / f_tp
    expert_calls, expert_groups = expert_kernels(np.maximum(lw.routed_experts / f_ep, 1))
    attn_flops = attention_flops_per_token(lw, s, eff.linear_chunk_tokens) * T / f_tp
    fp8_scale = low["scale"]
    bw = hw.memory_bw_gbps * 1e9 * eff.memory
    # each GEMM group streams its weights (the quantized copy in low-precision training) while it computes
    wbytes = low["bytes"]
    dense_weights = wbytes * (lw.attn_proj_params + lw.dense_mlp_params + lw.shared_params) / f_tp
    expert_weights = wbytes * lw.moe_fraction * lw.routed_experts * lw.expert_params / (f_ep * split)
    t_dense = op_time(dense_flops, dense_weights, gemm_peak * fp8_scale, hw.memory_bw_gbps, eff, 7.0)
    t_expert = np.where(lw.moe_fraction > 0,
                        op_time(expert_flops, expert_weights, gemm_peak * fp8_scale, hw.memory_bw_gbps, eff,
                                lw.moe_fraction * expert_calls, lw.moe_fraction * expert_groups), 0.0)
    attn_eff = eff.attention if job.flash_attention else eff.attention_unfused
    t_attn = attn_flops / (hw.peak_tflops * 1e12 * eff.gemm_max * attn_eff)
    # Without fused attention the causal scores (heads x s x s / 2 per sequence with full
    # attention) are written, softmaxed and read back: ~12 bytes per score forward, twice that
    # backward.
    scores = L.mbs * (w.n_heads / f_tp) * s * attended_per_query(lw, s) / L.f_cp
    t_scores = 0.0 if job.flash_attention else 12 * scores / bw
    elem_bytes = BYTES_ACT * lw.elementwise_elems * T / f_tp
    # low-precision GEMMs first cast their activation inputs (fp8: read 2 bytes, write 1)
    cast_bytes = low["cast"] * lw.gemm_input_elems * T / f_tp
    t_stream = (elem_bytes + cast_bytes) / bw
    t_fwd = t_dense + t_expert + t_attn + t_scores + t_stream + eff.layer_overhead_s
    t_bwd = 2 * (t_dense + t_expert + t_attn + t_scores + t_stream) + eff.layer_overhead_s
    t_modules = gemm_time(2 * T * lw.recompute_params_modules / f_tp, 2.0, gemm_peak, eff, fp8_scale) \
        + BYTES_ACT * lw.recompute_elems_modules * T / f_tp / bw
    t_recomp = np.select([L.recompute == 2, L.recompute == 1, L.recompute == 3],
                         [t_fwd, t_attn + t_scores, t_modules], 0.0)
    return {"fp8": fp8, "qbytes": low["bytes"], "copies": low["copies"], "dense": t_dense, "attn": t_attn,
            "scores": scores, "bw": bw, "fwd": t_fwd, "bwd": t_bwd, "recomp": t_recomp, "expert_split": split}


def _layer_comm(job: Job, hw: Hardware, eff: Efficiency, lw, L: _Layout, c: dict) -> dict:  # noqa: ANN001
    """Exposed tensor-, context- and expert-parallel communication of one layer, one micro-batch."""
    w, T, d, f_tp, f_cp, f_ep = job.workload, L.T, float(job.workload.d_model), L.f_tp, L.f_cp, L.f_ep
    t_tp = 8 * comm.all_gather_s(T * d * BYTES_ACT, f_tp, *fabric(f_tp, hw, eff))
    t_tp = np.where(L.recompute == 2, t_tp * 1.5, t_tp)    # the recomputed forward gathers again
    if job.tp_overlap:
        t_tp = np.maximum(t_tp - 3 * c["dense"], 0.0)
    t_cp_raw = 3 * comm.all_gather_s(f_cp * T * lw.kv_elems * BYTES_ACT / f_tp, f_cp, *fabric(f_tp * f_cp, hw, eff))
    t_cp = np.maximum(t_cp_raw - 3 * c["attn"], 0.0)        # ring attention overlaps its compute
    # forward and backward each dispatch (fp8 in fp8 training) and combine (bf16) every token
    t_ep = lw.moe_fraction * 2 * expert_all_to_all_s(T / f_tp, w, lw, f_ep, f_tp * f_cp * f_ep, hw, eff,
                                                     1.0 if c["fp8"] else BYTES_ACT, BYTES_ACT)
    if job.ep_overlap:
        t_ep = np.maximum(t_ep - (c["fwd"] + c["bwd"]), 0.0)
    return {"tp": t_tp, "cp": t_cp, "ep": t_ep}


def _splits(n_layers: float, pp):  # noqa: ANN001, ANN202
    """Splits of the layers over ``pp`` stages worth trying, as (layers on the last stage, on
    each other stage): the even split, then the last stage holding one to three layers fewer so
    that the LM head and MTP modules it also runs do not make it the slowest (Llama 3 drops a
    layer from its last stage, arXiv 2407.21783 section 3.3.2; Megatron's
    ``--decoder-last-pipeline-num-layers`` and MindSpeed's ``--num-layer-list`` do the same).
    One stage holds every layer."""
    even = np.ceil(n_layers / pp)
    for fewer in (0.0, 1.0, 2.0, 3.0):
        last = np.where(pp > 1, np.maximum(even - fewer, 0.0), n_layers)
        yield last, np.where(pp > 1, np.ceil((n_layers - last) / np.maximum(pp - 1, 1)), 0.0)


def _fastest_split(job: Job, hw: Hardware, eff: Efficiency, lw, L: _Layout, c: dict, m: dict):  # noqa: ANN001, ANN202
    """Pipeline, data-parallel and memory terms, step time and fit of the split of layers over
    stages (`_splits`) with the shortest step that fits, as an operator tuning the split picks;
    the even split on ties."""
    best = None
    for i, (last, others) in enumerate(_splits(float(job.workload.n_layers), L.f_pp)):
        if i and not np.any(L.f_pp > 1):
            break
        pipe = _pipeline(job, hw, eff, L, c, m, last, others)
        dpo = _data_parallel(job, hw, eff, lw, L, c, m, pipe)
        mem = _memory(job, lw, L, c, dpo, pipe)
        step = L.micro * pipe["stage"] + pipe["bubble"] + dpo["dp_exposed"] + dpo["optimizer"]
        fits = mem["total"] <= hw.memory_gb * 1e9 * eff.memory_usable
        cand = (pipe, dpo, mem, step, fits)
        if best is None:
            best, key = cand, np.where(fits, step, np.inf)
            continue
        new_key = np.where(fits, step, np.inf)
        better = new_key < key
        key = np.where(better, new_key, key)
        best = tuple({k: np.where(better, v, b[k]) for k, v in n.items()} if isinstance(n, dict)
                     else np.where(better, n, b) for n, b in zip(cand, best))
    return best


def _pipeline(job: Job, hw: Hardware, eff: Efficiency, L: _Layout, c: dict, m: dict, last, others) -> dict:  # noqa: ANN001
    """A pipeline stage's time per micro-batch (with the LM head and point-to-point sends) when
    the last stage holds ``last`` layers and the others ``others`` each, the bubble, and the
    compute of a whole step."""
    w, T, d, V = job.workload, L.T, float(job.workload.d_model), float(job.workload.vocab_size)
    layer_time = c["fwd"] + c["bwd"] + c["recomp"] + m["tp"] + m["cp"] + m["ep"]
    # The LM head stays in bf16 even in fp8 training (Transformer Engine casts only the
    # transformer layers' linears), and the loss streams fp32 logits.
    head_flops = 3 * 2 * T * head_params(w) / L.f_tp
    t_head = gemm_time(head_flops, 3.0, hw.peak_tflops, eff) + 3 * 4.0 * T * V / L.f_tp / c["bw"]
    # the last stage also runs the multi-token-prediction modules: a layer and the head each
    # (their 2d -> d projection is small and left out)
    t_end = (1 + w.mtp_layers) * t_head + w.mtp_layers * layer_time
    last_time = last * layer_time + t_end
    head = (last_time >= others * layer_time) * 1.0        # whether the last stage is the slowest
    layers = np.where(head > 0, last, others)
    span = L.f_tp * L.f_cp * L.f_dp * L.f_pp
    t_p2p = np.where(L.f_pp > 1, 2 * L.vpp * comm.p2p_s(T * d * BYTES_ACT / L.f_tp, *fabric(span, hw, eff)), 0.0)
    stage = np.maximum(last_time, others * layer_time) + t_p2p
    bubble = (L.f_pp - 1) / L.vpp * stage
    end_compute = (1 + w.mtp_layers) * t_head + w.mtp_layers * (c["fwd"] + c["bwd"] + c["recomp"])
    compute_total = L.micro * (layers * (c["fwd"] + c["bwd"] + c["recomp"]) + head * end_compute)
    return {"stage": stage, "p2p": t_p2p, "bubble": bubble, "compute_total": compute_total,
            "layers": layers, "last": last, "others": others}


def _data_parallel(job: Job, hw: Hardware, eff: Efficiency, lw, L: _Layout, c: dict, m: dict,  # noqa: ANN001
                   pipe: dict) -> dict:
    """Parameters per chip on the stage holding the most, the gradient and weight collectives,
    what of them stays exposed, and the optimizer step."""
    w, f_tp, f_dp, f_cp, f_ep = job.workload, L.f_tp, L.f_dp, L.f_cp, L.f_ep
    dense_layer = (lw.attn_proj_params + lw.dense_mlp_params + lw.shared_params) / f_tp
    expert_layer = lw.moe_fraction * lw.routed_experts * lw.expert_params / (f_ep * c["expert_split"])
    # the last stage holds the LM head and the MTP modules' layers, with one stage the (untied)
    # embedding too; the first stage holds the embedding (a copy of it when tied)
    matrix = head_params(w) / f_tp
    last_held = pipe["last"] + w.mtp_layers
    last_dense = last_held * dense_layer + matrix * np.where((L.f_pp == 1) & (not w.tie_embeddings), 2.0, 1.0)
    other_dense = pipe["others"] * dense_layer + matrix
    heavy = last_dense + last_held * expert_layer >= other_dense + pipe["others"] * expert_layer
    dense_dev = np.where(heavy, last_dense, other_dense)
    expert_dev = np.where(heavy, last_held, pipe["others"]) * expert_layer
    layers = np.where(heavy, pipe["last"], pipe["others"])
    params_dev = dense_dev + expert_dev
    edp = np.maximum(f_dp * f_cp / f_ep, 1.0)              # replicas of each expert
    dp_fabric = fabric(f_tp * f_dp * f_cp, hw, eff)
    rs = comm.reduce_scatter_s(dense_dev * BYTES_GRAD, f_dp * f_cp, *dp_fabric) \
        + comm.reduce_scatter_s(expert_dev * BYTES_GRAD, edp, *dp_fabric)
    ag = comm.all_gather_s(params_dev * BYTES_WEIGHT, f_dp * f_cp, *dp_fabric)
    zero, fsdp = L.zero, (L.zero == 3) & (L.f_pp == 1)
    # ZeRO 0-2 reduce gradients once per step (accumulating over micro-batches first) and gather
    # updated weights once; ZeRO-3 (FSDP) gathers every layer's weights for each micro-batch's
    # forward and again for its backward, and reduce-scatters its gradients after each backward
    # (Zhao et al., "PyTorch FSDP", VLDB 2023, arXiv 2304.11277, sections 3-4). Under pipeline
    # parallelism frameworks keep the weights gathered across a step's micro-batches instead
    # (TorchTitan: reshard_after_forward off with PP; DeepSpeed runs no ZeRO-3 with pipelines),
    # so there ZeRO 3 gathers once a step, as ZeRO 2 does.
    per_step = np.where(fsdp, L.micro, 1.0)
    dp_comm = per_step * (rs + ag + np.where(fsdp, ag, 0.0))
    # overlap windows, bucket by bucket: a micro-batch's forward and backward passes with their
    # exposed comms (the last backward and first forward of a step for ZeRO 0-2; every one for FSDP)
    layer_comm = m["tp"] + m["cp"] + m["ep"]
    bwd_window = layers * (c["bwd"] + c["recomp"] + 2 * layer_comm / 3)
    fwd_window = layers * (c["fwd"] + layer_comm / 3)
    if job.dp_overlap:  # ZeRO-0 all-reduces during backward; ZeRO-1+ gathers during forward
        all_reduce = np.maximum(rs + ag - bwd_window, 0)
        sharded = np.maximum(rs - bwd_window, 0) + np.maximum(ag - fwd_window, 0)
        sharded3 = per_step * (np.maximum(ag - fwd_window, 0) + np.maximum(ag + rs - bwd_window, 0))
        dp_exposed = np.select([zero == 0, fsdp], [all_reduce, sharded3], sharded)
    else:
        dp_exposed = dp_comm
    shard = np.where(zero >= 1, f_dp * f_cp, 1.0)
    optimizer = params_dev / shard * BYTES_OPTIM_STEP / c["bw"]
    return {"params": params_dev, "shard": shard, "dp_comm": dp_comm, "dp_exposed": dp_exposed,
            "optimizer": optimizer}


def _memory(job: Job, lw, L: _Layout, c: dict, dpo: dict, pipe: dict) -> dict:  # noqa: ANN001
    """Bytes per chip: weights, gradients, optimizer states (of the stage holding the most
    parameters), activations in flight (of the stage holding the most layers), logits."""
    T, d, V = L.T, float(job.workload.d_model), float(job.workload.vocab_size)
    f_tp, f_pp, f_dp, f_cp, zero, recompute = L.f_tp, L.f_pp, L.f_dp, L.f_cp, L.zero, L.recompute
    # low-precision training keeps the quantized copies of GEMM inputs for the weight gradients,
    # not bf16 ones (Transformer Engine; DeepSeek-V3 report section 3.3.3): fp8, one byte
    saved = (BYTES_ACT - c["qbytes"]) if c["fp8"] else 0.0
    kept = BYTES_ACT * lw.act_elems - saved * lw.gemm_input_elems
    kept_modules = BYTES_ACT * lw.act_elems_modules - saved * lw.gemm_kept_modules
    act_layer = T * np.select([recompute == 2, recompute == 3], [BYTES_ACT * d, kept_modules], kept) / f_tp
    in_flight = np.minimum(L.micro, f_pp) * np.where(L.vpp > 1, 1 + (f_pp - 1) / (f_pp * L.vpp), 1.0)
    one_layer_working = T * BYTES_ACT * lw.act_elems / f_tp     # the layer being recomputed
    # unfused attention keeps the scores (fp16) and dropout mask (1 byte) unless recomputed
    kept_scores = 0.0 if job.flash_attention else 3.0 * c["scores"] * ((recompute == 0) | (recompute == 3))
    activations = in_flight * np.maximum(pipe["last"], pipe["others"]) * (act_layer + kept_scores) \
        + np.where(recompute == 2, one_layer_working, 0.0)
    logits = T * V * 4.0 / f_tp                              # fp32 logits for the loss
    params = dpo["params"]
    # ZeRO 3 under pipeline parallelism keeps a step's weights gathered (see `_data_parallel`)
    weights = params * (BYTES_WEIGHT + c["copies"] * c["qbytes"] * c["fp8"]) / np.where((zero >= 3) & (f_pp == 1),
                                                                               f_dp * f_cp, 1.0)
    grads = params * BYTES_GRAD / np.where(zero >= 2, f_dp * f_cp, 1.0)
    optimizer = params * BYTES_OPTIM / dpo["shard"]
    total = weights + grads + optimizer + activations + logits
    return {"weights": weights, "grads": grads, "optimizer": optimizer, "activations": activations,
            "logits": logits, "total": total}


def _reasons(job: Job, hw: Hardware, L: _Layout, step: np.ndarray) -> np.ndarray:
    """Bits of `REASONS` for layouts that cannot exist (memory is tested by the caller)."""
    w, N, B, Ln = job.workload, job.chips, job.global_batch, float(job.workload.n_layers)
    tp, pp, dp, cp, ep = L.tp, L.pp, L.dp, L.cp, L.ep
    reason = np.zeros(np.shape(step), dtype=np.int64)
    reason |= ((tp * pp * dp * cp != N) | (tp < 1) | (pp < 1) | (dp < 1) | (cp < 1) | (ep < 1)) * 1
    reason |= ((hw.domain % L.f_tp != 0) | (L.f_tp > hw.domain) | (w.n_heads % L.f_tp != 0)) * 2
    reason |= (pp * L.vpp > Ln) * 4
    reason |= ((B % (L.f_dp * L.mbs) != 0) | (L.mbs > B)) * 8
    reason |= (job.seq_len % L.f_cp != 0) * 16
    bad_ep = (ep > 1) & ((not w.is_moe) | ((w.n_routed_experts % np.maximum(ep, 1)) != 0)
                         | (((dp * cp) % ep) != 0))
    reason |= bad_ep * 32
    return reason


def _hfu_factor(recompute, lw, s, w):  # noqa: ANN001, ANN202
    """Hardware FLOPs over model FLOPs: full recompute adds a forward (4/3); selective the
    attention core's forward; modules the MLA up-projections' forward."""
    fwd_attn = attention_flops_per_token(lw, s)
    fwd = 2 * lw.active_params + fwd_attn
    selective = 1 + fwd_attn / (3 * fwd)
    modules = 1 + 2 * lw.recompute_params_modules / (3 * fwd)
    return np.select([recompute == 2, recompute == 1, recompute == 3], [4.0 / 3.0, selective, modules], 1.0)


def train_step_blocked(job: Job, hw: Hardware, eff: Efficiency, block: int = 65536,
                       **layout: np.ndarray) -> dict[str, np.ndarray]:
    """`train_step` over flat layout arrays, evaluated ``block`` layouts at a time.

    The same numbers as one call; blocks keep the ~100 temporaries in cache, which doubles the
    rate on large searches. Hardware must be scalars (samples go through `train_step`).
    """
    arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v)) for v in layout.values()))
    n = arrays[0].size
    flat = dict(zip(layout, (a.ravel() for a in arrays)))
    parts = [train_step(job, hw, eff, **{k: v[i:i + block] for k, v in flat.items()})
             for i in range(0, n, block)]
    return {k: np.concatenate([np.broadcast_to(p[k], (min(block, n - i * block),))
                               for i, p in enumerate(parts)]) for k in parts[0]}
