"""Parameter counts of a transformer decoder, total and active per token.

Counts every weight matrix, bias and norm of the architecture as its ``config.json`` describes
it. Multi-token-prediction modules (DeepSeek-V3) are counted apart, as model cards do
("671B + 14B MTP"). Active parameters count, per MoE layer, the router, the shared experts and
``experts_per_token`` routed experts; embeddings and the output head count in both.

References
----------
DeepSeek-AI, "DeepSeek-V3 Technical Report", arXiv 2412.19437, §2.1 (MLA shapes, 671B / 37B).
Meta, "The Llama 3 Herd of Models", arXiv 2407.21783, Table 3.
OpenAI, "gpt-oss-120b & gpt-oss-20b Model Card", arXiv 2508.10925, Table 1 (116.83B / 20.91B).
Yang, Kautz, Hatamizadeh, "Gated Delta Networks", arXiv 2412.06464 (Qwen3-Next's linear layers).
"""

from __future__ import annotations

from dataclasses import dataclass

from chipgap.catalog.workload import Workload


def attention_params(w: Workload) -> int:
    """Weights of one attention block (projections, their biases, q/k norms)."""
    d, h, kv, hd = w.d_model, w.n_heads, w.n_kv_heads, w.head_dim
    if w.attention == "mla":
        qk = w.qk_nope_head_dim + w.qk_rope_head_dim
        if w.q_lora_rank:
            q = d * w.q_lora_rank + w.q_lora_rank + w.q_lora_rank * h * qk  # down, norm, up
        else:
            q = d * h * qk
        kv_down = d * (w.kv_lora_rank + w.qk_rope_head_dim) + w.kv_lora_rank  # + latent norm
        kv_up = w.kv_lora_rank * h * (w.qk_nope_head_dim + w.v_head_dim)
        return q + kv_down + kv_up + h * w.v_head_dim * d
    q_out = h * hd * (2 if w.attn_output_gate else 1)  # Qwen3-Next: query and output gate
    proj = d * q_out + 2 * d * kv * hd + h * hd * d
    bias = (q_out + 2 * kv * hd) * w.qkv_bias + d * (w.linear_bias or w.attn_out_bias)
    return proj + bias + 2 * hd * w.qk_norm + h * w.attention_sinks


def linear_attention_params(w: Workload) -> int:
    """Weights of one Gated DeltaNet layer (Qwen3-Next; Yang et al., arXiv 2412.06464).

    Input projections to q, k, v and the output gate z (``2 key + 2 value`` wide) and to the
    per-head write strength b and decay a; a depthwise convolution over q, k, v; per-head decay
    parameters (A, dt bias); a gated RMSNorm over a value head; the output projection.
    """
    key = w.linear_key_heads * w.linear_key_head_dim
    value = w.linear_value_heads * w.linear_value_head_dim
    in_proj = w.d_model * (2 * key + 2 * value) + w.d_model * 2 * w.linear_value_heads
    conv = (2 * key + value) * w.linear_conv_kernel
    return in_proj + conv + 2 * w.linear_value_heads + w.linear_value_head_dim + value * w.d_model


def indexer_params(w: Workload) -> int:
    """Weights of DeepSeek-V3.2's lightning indexer in one layer: index queries from the
    compressed query, one shared index key (with a LayerNorm), per-head weights."""
    return (w.q_lora_rank * w.indexer_heads * w.indexer_head_dim + w.d_model * w.indexer_head_dim
            + 2 * w.indexer_head_dim + w.d_model * w.indexer_heads)


def mlp_params(w: Workload, d_ff: int, *, bias: bool = False) -> int:
    """Weights of one MLP of intermediate size ``d_ff`` (gated: gate, up, down); ``bias`` adds
    a bias to every matrix (gpt-oss experts)."""
    mats = 3 if w.gated_mlp else 2
    biases = (d_ff + w.d_model) * w.linear_bias + ((mats - 1) * d_ff + w.d_model) * bias
    return mats * w.d_model * d_ff + biases


def norm_params(w: Workload) -> int:
    """One normalisation layer (LayerNorm with bias in GPT-2 style models, RMSNorm otherwise)."""
    return w.d_model * (2 if w.linear_bias else 1)


def moe_params(w: Workload) -> tuple[int, int]:
    """(total, active per token) weights of one MoE feed-forward block."""
    router = (w.d_model + w.expert_bias) * w.n_routed_experts
    expert = mlp_params(w, w.d_ff_expert, bias=w.expert_bias)
    shared = mlp_params(w, w.d_ff_shared) + w.d_model * w.shared_expert_gate if w.d_ff_shared else 0
    return (router + shared + w.n_routed_experts * expert,
            router + shared + w.experts_per_token * expert)


@dataclass(frozen=True)
class ParamCount:
    """Parameter counts of a workload.

    Attributes
    ----------
    total : int
        Every parameter of the main model (MTP modules excluded).
    active : int
        Parameters a token passes through (equals ``total`` for a dense model).
    embedding : int
        Input embeddings, learned positions and (untied) output head.
    mtp : int
        Multi-token-prediction modules, counted apart.
    """

    total: int
    active: int
    embedding: int
    mtp: int


def param_count(w: Workload) -> ParamCount:
    """Total and active parameters of ``w``.

    Examples
    --------
    >>> import chipgap
    >>> from chipgap.models.params import param_count
    >>> p = param_count(chipgap.load_catalog().workload("llama-3.1-8b"))
    >>> round(p.total / 1e9, 2)
    8.03
    """
    layer_base = attention_params(w) + 2 * norm_params(w)
    dense_layer = layer_base + mlp_params(w, w.d_ff)
    moe_total, moe_active = moe_params(w) if w.is_moe else (0, 0)
    n_linear, n_sparse = w.layer_count("linear"), w.layer_count("sparse")
    # linear layers replace the attention block; sparse layers add an indexer to it
    attn_adjust = (n_linear * (linear_attention_params(w) - attention_params(w))
                   + (n_sparse * indexer_params(w) if n_sparse else 0))
    embedding = w.vocab_size * w.d_model * (1 if w.tie_embeddings else 2)
    embedding += w.max_seq_len * w.d_model if w.learned_positions and w.max_seq_len else 0
    final_norm = norm_params(w)
    body_total = w.n_dense_layers * dense_layer + w.n_moe_layers * (layer_base + moe_total) + attn_adjust
    body_active = w.n_dense_layers * dense_layer + w.n_moe_layers * (layer_base + moe_active) + attn_adjust
    # An MTP module: two norms, a 2d->d projection, one (MoE) decoder layer, a norm.
    mtp_layer = (layer_base + (indexer_params(w) if n_sparse else 0)
                 + (moe_total if w.is_moe else mlp_params(w, w.d_ff)))
    mtp = w.mtp_layers * (3 * norm_params(w) + 2 * w.d_model * w.d_model + mtp_layer)
    return ParamCount(total=body_total + embedding + final_norm,
                      active=body_active + embedding + final_norm, embedding=embedding, mtp=mtp)
