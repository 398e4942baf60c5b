"""Attention of each layer kind: what a query attends to, its FLOPs, and the cache a sequence keeps.

A model's layers may mix kinds (``chipgap.catalog.workload.LayerType``); each kind's work is
counted apart and the layers of a kind weighted by their share:

- ``full``: causal attention over every earlier token (MHA, GQA, MLA);
- ``sliding``: over the last ``window`` tokens (gpt-oss: 128);
- ``chunked``: over the tokens of the query's own ``window``-token chunk (Llama 4's RoPE
  layers: 8,192);
- ``sparse``: DeepSeek sparse attention (DSA). A lightning indexer scores every earlier token
  (``index_n_heads`` FP8 heads of ``index_head_dim``) and the query attends to the top
  ``window`` (``index_topk``, 2,048) in MLA's MQA mode, the latent shared by every head, as in
  decoding; a short prompt runs the masked MHA mode instead, whichever costs less;
- ``linear``: Gated DeltaNet (Qwen3-Next): a fixed state of ``heads x d_k x d_v`` per sequence
  instead of a KV cache, updated once per token when decoding and chunk by chunk (chunkwise
  parallel form) in prefill and training.

Positions are continuous, as in the training model's ``6 N + 6 L d s``: a query at position
``x`` of a full layer attends to ``x`` tokens, so queries at positions ``c .. c + n`` attend to
``c + n / 2`` on average. ``_integral`` is the integral of what a query at ``x`` attends to,
and every mean here is a difference of it, so a window at least as long as the sequence gives
exactly what full attention gives.

Engines keep only what a layer can attend to: a sliding layer's last ``window`` tokens, a chunked
layer's current chunk (vLLM's hybrid KV cache manager; TensorRT-LLM's one pool per attention
window), counted here at its upper bound ``min(context, window)``.

References
----------
DeepSeek-AI, DeepSeek-V3.2-Exp technical report and inference code
(github.com/deepseek-ai/DeepSeek-V3.2-Exp, inference/model.py: ``Indexer``, FP8 index keys with
one fp32 scale per 128 elements).
Yang, Kautz, Hatamizadeh, "Gated Delta Networks: Improving Mamba2 with Delta Rule", ICLR 2025
(arXiv 2412.06464); Yang et al., "Parallelizing Linear Transformers with the Delta Rule over
Sequence Length", NeurIPS 2024 (arXiv 2406.06484): the chunkwise form flash-linear-attention runs.
vLLM design notes, "Hybrid KV Cache Manager" (docs.vllm.ai/en/latest/design/hybrid_kv_cache_manager).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chipgap.catalog.workload import Workload
from chipgap.models.params import attention_params, indexer_params

KINDS = ("full", "sliding", "chunked", "sparse", "linear")
"""Attention kinds the performance models time, in the order they are counted."""


@dataclass(frozen=True)
class AttentionWork:
    """Per-token work of the layers of one attention kind (unsharded).

    Attributes
    ----------
    kind : {'full', 'sliding', 'chunked', 'sparse', 'linear'}
    layers : int
        Layers of this kind.
    fraction : float
        Their share of the model's layers.
    proj_params : float
        Matmul weights of one such attention block (q, k, v, o; MLA's low-rank pairs; the
        lightning indexer's; Gated DeltaNet's input and output projections).
    ctx_flops : float
        Forward FLOPs per query token per attended position in prefill and training:
        ``2 x heads x (qk_dim + v_dim)``.
    decode_ctx_flops : float
        The same when decoding from the cache; MLA (and DSA's MQA mode) attends in the latent
        space, ``2 x heads x (2 x kv_lora_rank + rope_dim)`` (DeepSeek-V2, arXiv 2405.04434,
        section 2.1.2).
    kv_elems : float
        Cache elements per held token (MLA: the latent plus the rope key; 0 for linear layers).
    kv_heads : float
        Heads the cache splits over under tensor parallelism (1: MLA's latent is replicated).
    window : float
        Tokens a sliding layer sees, a chunked layer's chunk, a sparse layer's top-k; inf else.
    index_flops : float
        Sparse layers: indexer FLOPs per query per earlier token, ``2 x index_heads x
        (index_head_dim + 1)`` (the dot products, then the ReLU-weighted sum over heads).
    index_elems : float
        Sparse layers: indexer key elements cached per token (``index_head_dim``).
    state_elems, conv_elems : float
        Linear layers: recurrent state (``value_heads x d_k x d_v``) and short-convolution state
        (``(kernel - 1) x (2 key + value)``) per sequence.
    token_flops : float
        Linear layers: FLOPs per token of the recurrent form, the model FLOPs: per value head
        ``7 d_k d_v`` (decay, the delta rule's read and rank-one write, the output read), plus
        the depthwise convolution.
    chunk_flops_per_chunk_token, chunk_flops_fixed : float
        Linear layers: FLOPs per token of the chunkwise form with chunks of ``C`` tokens are
        ``fixed + C x per_chunk_token``: per value head ``2 C (3 d_k + 2 d_v)`` for the
        intra-chunk products (``K K^T``, ``W = A K``, ``U = A V``, ``Q K^T``, its product with
        the new values) and ``6 d_k d_v`` for the state (``W S``, ``K^T V``, ``Q S``); the
        triangular solve (``C^2 / 3``, under 1 %) is left out.
    q_out, kv_out, o_in : float
        Widths of the query projection's output, the key/value (and gate) projections' outputs,
        and the output projection's input, per token (activation counts).
    qkv_kept, up_params : float
        What recomputing MLA's up-projections keeps and costs (`LayerWork`).
    """

    kind: str
    layers: int
    fraction: float
    proj_params: float
    ctx_flops: float = 0.0
    decode_ctx_flops: float = 0.0
    kv_elems: float = 0.0
    kv_heads: float = 1.0
    window: float = np.inf
    index_flops: float = 0.0
    index_elems: float = 0.0
    state_elems: float = 0.0
    conv_elems: float = 0.0
    token_flops: float = 0.0
    chunk_flops_per_chunk_token: float = 0.0
    chunk_flops_fixed: float = 0.0
    q_out: float = 0.0
    kv_out: float = 0.0
    o_in: float = 0.0
    qkv_kept: float = 0.0
    up_params: float = 0.0


def _softmax_work(w: Workload, kind: str, layers: int) -> AttentionWork:
    """Full, sliding, chunked or sparse layers: attention over a KV cache."""
    d, h = w.d_model, w.n_heads
    proj = attention_params(w) - 2 * w.head_dim * w.qk_norm
    if w.attention == "mla":
        qk, v = w.qk_nope_head_dim + w.qk_rope_head_dim, w.v_head_dim
        kv_elems, kv_heads = w.kv_lora_rank + w.qk_rope_head_dim, 1
        q_out, kv_out = h * qk, h * (w.qk_nope_head_dim + v)
        # up-projections recomputed from the latents: q only where the query is compressed
        up_params = w.q_lora_rank * q_out + w.kv_lora_rank * kv_out
        qkv_kept = (w.q_lora_rank or q_out) + kv_elems
        decode = 2 * h * (2 * w.kv_lora_rank + w.qk_rope_head_dim)
    else:
        qk = v = w.head_dim
        kv_elems, kv_heads = 2 * w.n_kv_heads * w.head_dim, w.n_kv_heads
        q_out, kv_out = h * w.head_dim * (2 if w.attn_output_gate else 1), kv_elems
        up_params, qkv_kept = 0, q_out + kv_out
        decode = 2 * h * (qk + v)
    window, index_flops, index_elems = np.inf, 0.0, 0.0
    if kind in ("sliding", "chunked"):
        window = float(w.attention_window)
    elif kind == "sparse":
        window = float(w.sparse_topk)
        index_flops = 2.0 * w.indexer_heads * (w.indexer_head_dim + 1)
        index_elems = float(w.indexer_head_dim)
        proj += indexer_params(w) - 2 * w.indexer_head_dim      # its LayerNorm is no matmul
        q_out += w.indexer_heads * w.indexer_head_dim
        kv_out += w.indexer_head_dim + w.indexer_heads
    return AttentionWork(kind, layers, layers / w.n_layers, float(proj), ctx_flops=float(2 * h * (qk + v)),
                         decode_ctx_flops=float(decode), kv_elems=float(kv_elems), kv_heads=float(kv_heads),
                         window=window, index_flops=index_flops, index_elems=index_elems, q_out=float(q_out),
                         kv_out=float(kv_out), o_in=float(h * v), qkv_kept=float(qkv_kept),
                         up_params=float(up_params))


def _linear_work(w: Workload, layers: int) -> AttentionWork:
    """Gated DeltaNet layers (Qwen3-Next): keys and queries of ``linear_key_heads``, values and
    the state of ``linear_value_heads`` (keys shared by groups of value heads, as GQA)."""
    d, dk, dv, hv = w.d_model, w.linear_key_head_dim, w.linear_value_head_dim, w.linear_value_heads
    key, value = w.linear_key_heads * dk, hv * dv
    conv_dim = 2 * key + value
    # q, k, v and the output gate z; the write strength b and decay a per value head; output
    proj = d * (2 * key + 2 * value) + d * 2 * hv + value * d
    conv_flops = 2.0 * w.linear_conv_kernel * conv_dim
    return AttentionWork(
        "linear", layers, layers / w.n_layers, float(proj), kv_heads=float(hv),
        state_elems=float(hv * dk * dv), conv_elems=float((w.linear_conv_kernel - 1) * conv_dim),
        token_flops=float(hv * 7 * dk * dv + conv_flops),
        chunk_flops_per_chunk_token=float(hv * 2 * (3 * dk + 2 * dv)),
        chunk_flops_fixed=float(hv * 6 * dk * dv + conv_flops),
        q_out=float(key), kv_out=float(key + 2 * value + 2 * hv), o_in=float(value),
        qkv_kept=float(key + key + 2 * value + 2 * hv))


def attention_work(w: Workload) -> tuple[AttentionWork, ...]:
    """The attention of ``w``'s layers, one `AttentionWork` per kind it has (in `KINDS` order).

    >>> import chipgap
    >>> [(a.kind, a.layers) for a in attention_work(chipgap.load_catalog().workload("gpt-oss-120b"))]
    [('full', 18), ('sliding', 18)]
    """
    out = []
    for kind in KINDS:
        n = w.layer_count(kind)
        if n:
            out.append(_linear_work(w, n) if kind == "linear" else _softmax_work(w, kind, n))
    return tuple(out)


# -- what a query attends to ------------------------------------------------------------------------

def _integral(a: AttentionWork, x):  # noqa: ANN001, ANN202
    """Integral over positions 0..x of what a query attends to (continuous positions)."""
    x = np.asarray(x, dtype=float)
    W = a.window
    if a.kind == "chunked":
        whole = np.floor(x / W)
        rest = x - whole * W
        return whole * W * W / 2 + rest * rest / 2
    return np.where(x <= W, x * x / 2, W * W / 2 + (x - W) * W)


def mean_attended(a: AttentionWork, start, n):  # noqa: ANN001, ANN201
    """Mean earlier tokens a query attends to over ``n`` queries at positions ``start`` to
    ``start + n`` (prefill, training): ``start + n / 2`` for full attention; a sparse layer's
    top-k bounds it as a window does. Broadcasts."""
    if a.kind == "full" or not np.isfinite(a.window):
        return start + n / 2
    return (_integral(a, np.asarray(start) + n) - _integral(a, start)) / n


def attended(a: AttentionWork, context, span=0.0):  # noqa: ANN001, ANN201
    """Mean tokens a decoding query attends to when the sequences' contexts spread evenly over
    ``context - span / 2`` to ``context + span / 2`` (``span`` 0: all at ``context``; a span
    above ``2 x context`` is taken as ``2 x context``)."""
    if a.kind == "full" or not np.isfinite(a.window):
        return context
    context = np.asarray(context, dtype=float)
    span = np.minimum(np.asarray(span, dtype=float), 2 * context)     # no context below 0
    lo, hi = context - span / 2, context + span / 2
    width = np.maximum(hi - lo, 1e-9)
    spread = (_integral(a, hi) - _integral(a, lo)) / width
    point = np.mod(context, a.window) if a.kind == "chunked" else np.minimum(context, a.window)
    return np.where(span > 0, spread, point)


def held(a: AttentionWork, context, span=0.0):  # noqa: ANN001, ANN201
    """Tokens whose cache a sequence of ``context`` tokens keeps in a layer of kind ``a``: all
    (full, sparse), at most the window (sliding) or one chunk (chunked, at its upper bound);
    averaged over contexts spread by ``span`` as `attended` does. Linear layers keep none."""
    if a.kind == "linear":
        return np.zeros_like(np.asarray(context, dtype=float))
    if a.kind in ("full", "sparse"):
        return context
    capped = AttentionWork("sliding", a.layers, a.fraction, a.proj_params, window=a.window)
    return attended(capped, context, span)


# -- FLOPs and bytes, averaged over a model's layers ----------------------------------------------

def prefill_flops(kinds: tuple[AttentionWork, ...], start, n, chunk=None):  # noqa: ANN001, ANN201
    """Forward attention FLOPs per query token, averaged over layers, for ``n`` queries after
    ``start`` tokens: (core, index), the indexer's apart as it runs in FP8.

    ``chunk`` is the chunk length of the linear layers' chunkwise kernels; None counts them in
    their recurrent form (the model FLOPs). A sparse layer takes the cheaper of its MHA mode
    over every earlier token and its MQA mode over the top-k, as DeepSeek's inference does for
    short prompts (the masked MHA mode) and long ones."""
    core = index = 0.0
    for a in kinds:
        if a.kind == "linear":
            f = a.token_flops if chunk is None else a.chunk_flops_fixed + chunk * a.chunk_flops_per_chunk_token
        elif a.kind == "sparse":
            causal = start + n / 2
            f = np.minimum(a.ctx_flops * causal, a.decode_ctx_flops * mean_attended(a, start, n))
            index = index + a.fraction * a.index_flops * causal
        else:
            f = a.ctx_flops * mean_attended(a, start, n)
        core = core + a.fraction * f
    return core, index


def cache_bytes_per_seq(kinds: tuple[AttentionWork, ...], kv_bytes: float, context, span, tp, *,
                        state_bytes: float, index_bytes: float):  # noqa: ANN001, ANN201
    """Bytes one sequence of ``context`` tokens keeps on one of ``tp`` ranks, every layer: its KV
    cache at ``kv_bytes`` per element (what each layer keeps, see `held`), a sparse layer's index
    keys at ``index_bytes`` per element, a linear layer's state at ``state_bytes``. Caches split
    over ``min(tp, kv_heads)`` ranks (MLA's latent and DSA's index keys do not split)."""
    total = 0.0
    for a in kinds:
        split = np.minimum(tp, a.kv_heads)
        if a.kind == "linear":
            per_layer = (a.state_elems + a.conv_elems) * state_bytes
        else:
            per_layer = held(a, context, span) * (a.kv_elems * kv_bytes + a.index_elems * index_bytes)
        total = total + a.layers * per_layer / split
    return total
