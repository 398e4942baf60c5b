"""Work of one transformer decoder layer, per token: FLOPs, weights and activation bytes.

The shared vocabulary of the training and inference models. Every quantity is per token and
per layer of the *unsharded* model; the parallel models divide by tensor, expert and context
parallel degrees. FLOPs count a multiply-add as two operations.

Convention (stated once, used everywhere): model FLOPs per token of training are
``3 x forward``, where forward = 2 x (matmul weights a token passes through, LM head included,
embedding lookup excluded) + causal attention 2 x heads x (qk_dim + v_dim) x seq_len / 2. For a
dense GQA model this is the familiar ``6 N + 6 L d s`` (N without embeddings). Layers of other
attention kinds count what their queries attend to (a window, a chunk, a sparse layer's top-k
and its indexer over every earlier token) and linear layers their recurrent form
(`chipgap.models.attention`).

References
----------
Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters Using
Megatron-LM", SC'21 (arXiv 2104.04473), Appendix: FLOPs of a GPT layer.
Korthikanti et al., "Reducing Activation Recomputation in Large Transformer Models",
arXiv 2205.05198, §4 (activation memory per layer).
"""

from __future__ import annotations

from dataclasses import dataclass

from chipgap.catalog.workload import LAYER_TYPE_NAMES, Workload
from chipgap.errors import UnsupportedWorkloadError
from chipgap.models.attention import KINDS, AttentionWork, attention_work, mean_attended, prefill_flops
from chipgap.models.params import mlp_params, norm_params


@dataclass(frozen=True)
class LayerWork:
    """Per-token work of an average decoder layer of a workload (unsharded).

    Layers of different attention kinds (full, sliding, chunked, sparse, linear) differ in their
    attention: ``attention`` holds each kind's work apart (`chipgap.models.attention`), and the
    models time attention from it, kind by kind; the attention fields below are its averages
    over layers (equal to the one kind's values when every layer is full attention).

    Attributes
    ----------
    attn_proj_params : float
        Attention projection weights (q, k, v, o and MLA's low-rank pairs; the lightning
        indexer's; Gated DeltaNet's projections), averaged over layers.
    attn_core_flops_per_ctx : float
        Forward FLOPs of scores and weighted values per token per attended position:
        ``2 x heads x (qk_dim + v_dim)`` (averaged over the layers; 0 in linear layers).
    attn_decode_flops_per_ctx : float
        The same when decoding from the KV cache. Equal for MHA/GQA; MLA decodes with the
        up-projections absorbed, attending in the latent space: ``2 x heads x (2 x kv_lora_rank
        + rope_dim)`` (DeepSeek-V2 report, arXiv 2405.04434, §2.1.2).
    dense_mlp_params : float
        Weights of the dense MLP, averaged over layers (zero in pure-MoE layers).
    expert_params : float
        Weights of one routed expert.
    routed_experts, experts_per_token : float
        Routed experts per MoE layer and top-k, averaged over layers (MoE layers share).
    shared_params : float
        Shared-expert and router weights per layer, averaged.
    moe_fraction : float
        Fraction of layers that hold experts.
    kv_elems : float
        Elements of K/V cache per token per layer (MLA: the compressed latent plus rope key),
        averaged over layers (linear layers keep none).
    act_elems : float
        Activation elements a layer keeps per token for the backward pass (flash attention,
        no dropout), before sequence parallelism: Korthikanti's 34 sbh bytes less the dropout
        masks for a GPT layer (16 elements of 2 bytes per hidden unit).
    elementwise_elems : float
        Elements read and written by norms, residual adds, rotary and activation functions,
        and an MoE layer's token permutation (each token copied to its ``k`` experts and the
        ``k`` outputs gathered back: ``2 (k + 1) d``), per token in the forward pass
        (memory-bound work).
    replicated_elems : float
        The part of ``elementwise_elems`` that works on whole ``d``-wide hidden states: the
        norms, residual adds and MoE permutation. Tensor parallelism without sequence
        parallelism (serving engines) repeats it on every rank; with sequence parallelism
        (training) each rank does ``1/tp`` of it (Korthikanti et al., arXiv 2205.05198, §4.2.2).
    gemm_input_elems : float
        Activation elements entering matrix multiplies per token (cast to fp8 in fp8 training).
    act_elems_modules, gemm_kept_modules : float
        What a layer keeps when its norms, MLA up-projections and MLP activation function are
        recomputed (Megatron-core's recompute modules; DeepSeek-V3 report section 3.3.3): the
        norm inputs, the MLA latents (or q/k/v), the attention output and the activation's
        inputs; and how many of those enter a matrix multiply.
    recompute_params_modules, recompute_elems_modules : float
        The work of that recomputation per token: up-projection weights (MLA with a compressed
        query and key-value; 0 otherwise) and elements the norms and activation read and write.
    hidden : float
        ``d_model``: elements per token passed between layers and pipeline stages.
    attention : tuple of AttentionWork
        The attention of each layer kind the model has, with its share of the layers.
    """

    attn_proj_params: float
    attn_core_flops_per_ctx: float
    attn_decode_flops_per_ctx: float
    dense_mlp_params: float
    expert_params: float
    routed_experts: float
    experts_per_token: float
    shared_params: float
    moe_fraction: float
    kv_elems: float
    act_elems: float
    elementwise_elems: float
    replicated_elems: float
    gemm_input_elems: float
    act_elems_modules: float
    gemm_kept_modules: float
    recompute_params_modules: float
    recompute_elems_modules: float
    hidden: float
    attention: tuple[AttentionWork, ...] = ()

    @property
    def active_params(self) -> float:
        """Matmul weights a token passes through in an average layer."""
        return (self.attn_proj_params + self.dense_mlp_params + self.shared_params
                + self.moe_fraction * self.experts_per_token * self.expert_params)

    @property
    def total_params(self) -> float:
        """Matmul weights held by an average layer."""
        return (self.attn_proj_params + self.dense_mlp_params + self.shared_params
                + self.moe_fraction * self.routed_experts * self.expert_params)


def check_modelled(w: Workload) -> None:
    """Refuse a workload whose layers the performance models would time wrongly.

    Every attention kind the catalog reads (`chipgap.models.attention.KINDS`: full, sliding,
    chunked, sparse and linear) is modelled; a kind outside them is refused rather than
    mis-modelled.

    Raises
    ------
    UnsupportedWorkloadError
        Naming the first such attention kind and how many layers have it.
    """
    for kind in sorted(set(w.layer_types) - set(KINDS)):
        raise UnsupportedWorkloadError(w.id, LAYER_TYPE_NAMES.get(kind, f"{kind} attention"),
                                       f"{w.layer_count(kind)} of {w.n_layers} layers")


def _mean(kinds: tuple[AttentionWork, ...], field: str) -> float:
    """``field`` of the attention kinds averaged over the layers."""
    return sum(a.fraction * getattr(a, field) for a in kinds)


def layer_work(w: Workload) -> LayerWork:
    """The per-token work of an average layer of ``w`` (MoE and dense layers averaged; the
    attention of each layer kind kept apart in ``attention``, and averaged in the other fields).

    Raises `UnsupportedWorkloadError` for attention kinds not modelled (`check_modelled`).
    """
    check_modelled(w)
    d = w.d_model
    kinds = attention_work(w)
    q_out, kv_out, o_in = _mean(kinds, "q_out"), _mean(kinds, "kv_out"), _mean(kinds, "o_in")
    qkv_kept, up_params = _mean(kinds, "qkv_kept"), _mean(kinds, "up_params")
    moe_frac = w.n_moe_layers / w.n_layers
    ff = w.d_ff * (1 - moe_frac)  # dense MLP width averaged over layers
    gate = 3 if w.gated_mlp else 2
    router = d * w.n_routed_experts
    shared = (mlp_params(w, w.d_ff_shared) if w.d_ff_shared else 0) + router
    # Kept for backward (flash attention): two norm inputs, q/k/v and attention output,
    # out-proj input, MLP input, MLP up (and gate) outputs and the activation output.
    mlp_width = ff + moe_frac * (w.experts_per_token * w.d_ff_expert + w.d_ff_shared)
    act = 4 * d + q_out + kv_out + o_in + gate * mlp_width
    # two norms (read, write), two residual adds (read two, write one), and the MoE permutation
    replicated = 2 * 2 * d + 2 * 3 * d + moe_frac * 2 * (w.experts_per_token + 1) * d
    elementwise = replicated + 2 * (q_out + kv_out) + gate * mlp_width
    # recomputing norms and the activation keeps their inputs only: two norm inputs, and the
    # activation's inputs (gate and up, or the first matmul's output) but not its output
    act_modules = 2 * d + qkv_kept + o_in + (gate - 1) * mlp_width
    gemm_kept = o_in + sum(a.fraction * a.qkv_kept for a in kinds if a.up_params)
    return LayerWork(
        attn_proj_params=float(_mean(kinds, "proj_params")),
        attn_core_flops_per_ctx=float(_mean(kinds, "ctx_flops")),
        attn_decode_flops_per_ctx=float(_mean(kinds, "decode_ctx_flops")),
        dense_mlp_params=float(mlp_params(w, w.d_ff) * (1 - moe_frac)),
        expert_params=float(mlp_params(w, w.d_ff_expert) if w.is_moe else 0),
        routed_experts=float(w.n_routed_experts),
        experts_per_token=float(w.experts_per_token),
        shared_params=float(shared * moe_frac),
        moe_fraction=float(moe_frac),
        kv_elems=float(_mean(kinds, "kv_elems")),
        act_elems=float(act),
        elementwise_elems=float(elementwise),
        replicated_elems=float(replicated),
        gemm_input_elems=float(2 * d + o_in + mlp_width),
        act_elems_modules=float(act_modules),
        gemm_kept_modules=float(gemm_kept),
        recompute_params_modules=float(up_params),
        recompute_elems_modules=float(2 * 2 * d + gate * mlp_width),
        hidden=float(d),
        attention=kinds,
    )


def head_params(w: Workload) -> float:
    """LM-head matmul weights (the output projection over the vocabulary)."""
    return float(w.vocab_size * w.d_model)


def embedding_params(w: Workload) -> float:
    """Weights of the input embedding (and learned positions), looked up, not multiplied."""
    return float(w.vocab_size * w.d_model + (w.max_seq_len or 0) * w.d_model * w.learned_positions)


def attention_flops_per_token(lw: LayerWork, seq_len, chunk=None):  # noqa: ANN001, ANN201
    """Forward attention FLOPs per token of a ``seq_len``-token sequence, averaged over layers:
    for full attention ``2 x heads x (qk_dim + v_dim) x seq_len / 2``; each other kind what its
    queries attend to (`chipgap.models.attention.prefill_flops`, the indexer included; linear
    layers in their recurrent form unless ``chunk`` gives their kernels' chunk length)."""
    core, index = prefill_flops(lw.attention, 0.0, seq_len, chunk)
    return core + index


def attended_per_query(lw: LayerWork, seq_len):  # noqa: ANN001, ANN201
    """Positions a query of a ``seq_len``-token sequence scores with softmax, averaged over
    layers (``seq_len / 2`` for full attention; linear layers score none): the scores an
    unfused attention writes."""
    return sum(a.fraction * mean_attended(a, 0.0, seq_len) for a in lw.attention if a.kind != "linear")


def model_flops_per_token(w: Workload, seq_len: float) -> float:
    """Training model FLOPs per token (forward + backward, no recomputation).

    ``3 x (2 x active matmul weights incl. LM head + causal attention)``; see the module
    docstring for the convention. DeepSeek-V3 at 4,096 tokens gives ~250 GFLOP, as its
    ISCA'25 paper (arXiv 2505.09343, Table 2) reports.
    """
    lw = layer_work(w)
    forward = (w.n_layers * (2 * lw.active_params + attention_flops_per_token(lw, seq_len))
               + 2 * head_params(w))
    return 3.0 * forward


def mtp_flops_per_token(w: Workload, seq_len: float) -> float:
    """Training FLOPs per token of the multi-token-prediction modules (DeepSeek-V3 report section
    2.2): each runs a 2d -> d projection, one more decoder layer and the shared LM head. Outside
    the model FLOPs of `model_flops_per_token` (as model cards count "671B + 14B MTP"), inside
    the hardware FLOPs."""
    lw = layer_work(w)
    module = (2 * (2 * w.d_model * w.d_model + lw.active_params + head_params(w))
              + attention_flops_per_token(lw, seq_len))
    return 3.0 * w.mtp_layers * module


def norm_weights(w: Workload) -> float:
    """Norm weights of the whole model (tiny; counted in memory, not in FLOPs)."""
    return float((2 * w.n_layers + 1) * norm_params(w))
