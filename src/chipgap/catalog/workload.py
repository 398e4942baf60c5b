"""LLM architectures read from Hugging Face ``config.json`` files.

`Workload` is the architecture in chipgap's own names (``n_layers``, ``d_model``, ``n_heads``,
``n_kv_heads``, ``head_dim``, ``d_ff``, ...), whatever the source file's ``model_type`` calls
them. Supported families: Llama/Mistral/Qwen2/Qwen3 (dense, GQA, gated MLP), Qwen2-MoE/Qwen3-MoE
and Mixtral (MoE), DeepSeek-V2/V3 and Kimi K2 (MLA + MoE with shared experts, first-k dense
layers, MTP), DeepSeek-V3.2 (MLA with DeepSeek sparse attention), GLM-4.5/4.6 (GQA + MoE),
MiniMax-M2 (GQA + MoE), Qwen3-Next (Gated DeltaNet linear attention with gated full attention,
one layer in four), gpt-oss (sliding-window and full layers alternating, attention sinks,
biased experts), Llama 4 (chunked-attention and full NoPE layers, MoE every k-th layer with a
shared expert) and GPT-2 (dense MHA, plain MLP, learned positions; also used for Megatron-LM's
GPT models).

Every layer's attention kind is read into `Workload.layer_types` (empty: all full causal
attention). The performance models count each kind's attention apart
(`chipgap.models.attention`); parameter counts cover them all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chipgap.errors import CatalogError
from chipgap.files import read_text_capped

MAX_CONFIG_BYTES = 1_000_000

LayerType = Literal["full", "sliding", "chunked", "linear", "sparse"]
"""Attention of one layer: full causal; a sliding window (each query sees the last
``attention_window`` tokens); chunked (queries see their own ``attention_window``-token chunk,
Llama 4); linear/recurrent (a fixed-size state instead of a KV cache, Gated DeltaNet); sparse
(each query attends to ``sparse_topk`` tokens an indexer selects, DeepSeek-V3.2)."""

LAYER_TYPE_NAMES: dict[str, str] = {
    "sliding": "sliding-window attention", "chunked": "chunked attention",
    "linear": "linear (Gated DeltaNet) attention", "sparse": "sparse (DSA) attention"}
# Upper bounds on a config's sizes, by physical sense: several times the largest published model
# (Llama 3.1 405B: 126 layers, d_model 16,384, 128 heads, d_ff 53,248; DeepSeek-V3: 256 routed
# experts; Llama 4: 202,048 vocabulary, 10M context), and small enough that nothing overflows.
MAX_LAYERS = 1024
MAX_WIDTH = 1 << 17
MAX_HEADS = 4096
MAX_HEAD_DIM = 4096
MAX_FFN = 1 << 20
MAX_VOCAB = 1 << 24
MAX_CONTEXT = 1 << 27
MAX_EXPERTS = 1 << 16


class Workload(BaseModel):
    """A transformer decoder's shape, in chipgap's names.

    Attributes
    ----------
    n_layers, d_model, n_heads, n_kv_heads, head_dim : int
        Decoder layers, hidden size, query heads, key/value heads, per-head size.
    d_ff : int
        Intermediate size of the dense MLP (the dense layers of an MoE model too).
    gated_mlp : bool
        SwiGLU-style MLP with three matrices (gate, up, down) instead of two.
    attention : {'mha', 'gqa', 'mqa', 'mla'}
    n_routed_experts, n_shared_experts, experts_per_token, d_ff_expert, d_ff_shared : int
        Mixture-of-experts shape; zero for a dense model. ``d_ff_shared`` is the total
        intermediate size of the shared expert(s) in each MoE layer.
    first_dense_layers, moe_layer_freq : int
        Layers before the first MoE layer, and every how many layers an MoE layer comes after.
    q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim : int
        Multi-head latent attention (DeepSeek); zero where unused (``q_lora_rank`` 0 = full q).
    mtp_layers : int
        Multi-token-prediction modules trained beside the main model (DeepSeek-V3: 1).
    routing_groups_per_token : int
        Group-limited routing: a token's experts come from at most this many expert groups
        (DeepSeek-V3: 4 of 8, one group per node), which bounds cross-node dispatch; 0 = none.
    layer_types : tuple of {'full', 'sliding', 'chunked', 'linear', 'sparse'}
        Attention kind of each layer, in order; empty when every layer is full attention.
    attention_window : int
        Tokens a sliding-window layer sees, or the chunk of a chunked layer; 0 where unused.
    linear_key_heads, linear_value_heads, linear_key_head_dim, linear_value_head_dim : int
        Gated DeltaNet heads and head sizes of the linear layers; the recurrent state per layer
        is ``linear_value_heads x linear_key_head_dim x linear_value_head_dim``.
    linear_conv_kernel : int
        Width of the linear layers' short causal convolution over q, k and v.
    sparse_topk, indexer_heads, indexer_head_dim : int
        DeepSeek sparse attention: tokens each query attends to, and the lightning indexer's
        heads and head size that select them.
    attention_sinks : bool
        A learned per-head sink logit in the softmax (gpt-oss).
    attn_output_gate : bool
        The query projection also produces a per-head sigmoid gate on the attention output
        (Qwen3-Next), doubling its width.
    attn_out_bias : bool
        A bias on the attention output projection (gpt-oss).
    expert_bias : bool
        Biases on the router and on every expert matrix (gpt-oss).
    shared_expert_gate : bool
        A sigmoid gate (a d -> 1 projection) on the shared expert's output (Qwen2-MoE, Qwen3-Next).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    family: str
    source: tuple[str, ...] = ()
    model_type: str
    n_layers: int = Field(gt=0, le=MAX_LAYERS)
    d_model: int = Field(gt=0, le=MAX_WIDTH)
    n_heads: int = Field(gt=0, le=MAX_HEADS)
    n_kv_heads: int = Field(gt=0, le=MAX_HEADS)
    head_dim: int = Field(gt=0, le=MAX_HEAD_DIM)
    d_ff: int = Field(ge=0, le=MAX_FFN)
    vocab_size: int = Field(gt=0, le=MAX_VOCAB)
    max_seq_len: int | None = Field(default=None, gt=0, le=MAX_CONTEXT)
    gated_mlp: bool = True
    tie_embeddings: bool = False
    attention: Literal["mha", "gqa", "mqa", "mla"]
    qkv_bias: bool = False
    linear_bias: bool = False
    qk_norm: bool = False
    learned_positions: bool = False
    n_routed_experts: int = Field(default=0, ge=0, le=MAX_EXPERTS)
    n_shared_experts: int = Field(default=0, ge=0, le=MAX_HEADS)
    experts_per_token: int = Field(default=0, ge=0, le=MAX_EXPERTS)
    d_ff_expert: int = Field(default=0, ge=0, le=MAX_FFN)
    d_ff_shared: int = Field(default=0, ge=0, le=MAX_FFN)
    first_dense_layers: int = Field(default=0, ge=0, le=MAX_LAYERS)
    moe_layer_freq: int = Field(default=1, gt=0, le=MAX_LAYERS)
    q_lora_rank: int = Field(default=0, ge=0, le=MAX_WIDTH)
    kv_lora_rank: int = Field(default=0, ge=0, le=MAX_WIDTH)
    qk_nope_head_dim: int = Field(default=0, ge=0, le=MAX_HEAD_DIM)
    qk_rope_head_dim: int = Field(default=0, ge=0, le=MAX_HEAD_DIM)
    v_head_dim: int = Field(default=0, ge=0, le=MAX_HEAD_DIM)
    mtp_layers: int = Field(default=0, ge=0, le=MAX_LAYERS)
    routing_groups_per_token: int = Field(default=0, ge=0, le=MAX_EXPERTS)
    layer_types: tuple[LayerType, ...] = ()
    attention_window: int = Field(default=0, ge=0, le=MAX_CONTEXT)
    linear_key_heads: int = Field(default=0, ge=0, le=MAX_HEADS)
    linear_value_heads: int = Field(default=0, ge=0, le=MAX_HEADS)
    linear_key_head_dim: int = Field(default=0, ge=0, le=MAX_HEAD_DIM)
    linear_value_head_dim: int = Field(default=0, ge=0, le=MAX_HEAD_DIM)
    linear_conv_kernel: int = Field(default=0, ge=0, le=MAX_WIDTH)
    sparse_topk: int = Field(default=0, ge=0, le=MAX_CONTEXT)
    indexer_heads: int = Field(default=0, ge=0, le=MAX_HEADS)
    indexer_head_dim: int = Field(default=0, ge=0, le=MAX_HEAD_DIM)
    attention_sinks: bool = False
    attn_output_gate: bool = False
    attn_out_bias: bool = False
    expert_bias: bool = False
    shared_expert_gate: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Workload:
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"num_attention_heads ({self.n_heads}) must be a multiple of "
                             f"num_key_value_heads ({self.n_kv_heads})")
        if self.n_routed_experts and not 0 < self.experts_per_token <= self.n_routed_experts:
            raise ValueError(f"num_experts_per_tok must be in 1..{self.n_routed_experts}. "
                             f"Got {self.experts_per_token} instead")
        if self.first_dense_layers > self.n_layers:
            raise ValueError("first_k_dense_replace exceeds num_hidden_layers")
        if self.attention == "mla" and not (self.kv_lora_rank and self.v_head_dim
                                            and self.qk_nope_head_dim + self.qk_rope_head_dim):
            raise ValueError("MLA needs kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim and v_head_dim")
        if self.layer_types and len(self.layer_types) != self.n_layers:
            raise ValueError(f"layer_types names {len(self.layer_types)} layers; the model has "
                             f"{self.n_layers}")
        kinds = set(self.layer_types)
        if kinds & {"sliding", "chunked"} and not self.attention_window:
            raise ValueError("sliding-window or chunked layers need a positive attention_window")
        if "linear" in kinds and not (self.linear_key_heads and self.linear_value_heads
                                      and self.linear_key_head_dim and self.linear_value_head_dim):
            raise ValueError("linear-attention layers need their key/value heads and head sizes")
        if "sparse" in kinds and not (self.sparse_topk and self.indexer_heads and self.indexer_head_dim):
            raise ValueError("sparse-attention layers need index_topk, index_n_heads and index_head_dim")
        return self

    def layer_count(self, kind: str) -> int:
        """How many layers have attention ``kind`` ('full' counts all layers when untyped)."""
        if not self.layer_types:
            return self.n_layers if kind == "full" else 0
        return sum(1 for t in self.layer_types if t == kind)

    @property
    def special_layers(self) -> dict[str, int]:
        """Attention kinds other than full attention, with their layer counts, in a fixed order."""
        return {k: n for k in ("linear", "sparse", "sliding", "chunked")
                if (n := self.layer_count(k))}

    @property
    def is_moe(self) -> bool:
        return self.n_routed_experts > 0

    @property
    def n_moe_layers(self) -> int:
        """How many decoder layers hold experts (the rest are dense)."""
        if not self.is_moe:
            return 0
        # layers i >= first_dense_layers with (i + 1 - first_dense_layers) a multiple of the frequency
        return (self.n_layers - self.first_dense_layers) // self.moe_layer_freq

    @property
    def n_dense_layers(self) -> int:
        return self.n_layers - self.n_moe_layers


def _get(cfg: Mapping[str, Any], key: str, default: Any = ..., *, kind: type = int) -> Any:
    """``cfg[key]`` checked to be a ``kind``; KeyError/TypeError carry the key for the message."""
    if key not in cfg or cfg[key] is None:
        if default is ...:
            raise KeyError(key)
        return default
    v = cfg[key]
    if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
        raise TypeError(f"'{key}' must be a whole number. Got {str(v)[:40]!r} instead")
    if kind is bool and not isinstance(v, bool):
        raise TypeError(f"'{key}' must be true or false. Got {v!r} instead")
    return v


def _llama_like(cfg: Mapping[str, Any]) -> dict[str, Any]:
    d, h = _get(cfg, "hidden_size"), _get(cfg, "num_attention_heads")
    kv = _get(cfg, "num_key_value_heads", h)
    return dict(
        n_layers=_get(cfg, "num_hidden_layers"), d_model=d, n_heads=h, n_kv_heads=kv,
        head_dim=_get(cfg, "head_dim", d // h if h > 0 else 0), d_ff=_get(cfg, "intermediate_size"),
        vocab_size=_get(cfg, "vocab_size"),
        max_seq_len=_get(cfg, "max_position_embeddings", None),
        tie_embeddings=_get(cfg, "tie_word_embeddings", False, kind=bool),
        attention="mha" if kv == h else ("mqa" if kv == 1 else "gqa"),
        qkv_bias=_get(cfg, "attention_bias", False, kind=bool),
    )


def _qwen2(cfg: Mapping[str, Any]) -> dict[str, Any]:
    return {**_llama_like(cfg), "qkv_bias": True}


def _qwen3(cfg: Mapping[str, Any]) -> dict[str, Any]:
    return {**_llama_like(cfg), "qk_norm": True}


def _qwen_moe(cfg: Mapping[str, Any]) -> dict[str, Any]:
    base = _qwen3(cfg) if cfg.get("model_type") == "qwen3_moe" else _qwen2(cfg)
    if _get(cfg, "mlp_only_layers", [], kind=list):
        raise TypeError("'mlp_only_layers' with dense layers between experts is not supported")
    return {**base, "n_routed_experts": _get(cfg, "num_experts"),
            "experts_per_token": _get(cfg, "num_experts_per_tok"),
            "d_ff_expert": _get(cfg, "moe_intermediate_size"),
            "d_ff_shared": _get(cfg, "shared_expert_intermediate_size", 0),
            "n_shared_experts": 1 if _get(cfg, "shared_expert_intermediate_size", 0) else 0,
            "shared_expert_gate": bool(_get(cfg, "shared_expert_intermediate_size", 0)),
            "moe_layer_freq": _get(cfg, "decoder_sparse_step", 1)}


def _mixtral(cfg: Mapping[str, Any]) -> dict[str, Any]:
    base = _llama_like(cfg)
    return {**base, "n_routed_experts": _get(cfg, "num_local_experts"),
            "experts_per_token": _get(cfg, "num_experts_per_tok"),
            "d_ff_expert": base["d_ff"]}


def _deepseek(cfg: Mapping[str, Any]) -> dict[str, Any]:
    base = _llama_like(cfg)
    shared = _get(cfg, "n_shared_experts", 0)
    d_exp = _get(cfg, "moe_intermediate_size")
    return {**base, "attention": "mla",
            "n_routed_experts": _get(cfg, "n_routed_experts"), "n_shared_experts": shared,
            "experts_per_token": _get(cfg, "num_experts_per_tok"),
            "d_ff_expert": d_exp, "d_ff_shared": shared * d_exp,
            "first_dense_layers": _get(cfg, "first_k_dense_replace", 0),
            "moe_layer_freq": _get(cfg, "moe_layer_freq", 1),
            "q_lora_rank": _get(cfg, "q_lora_rank", 0), "kv_lora_rank": _get(cfg, "kv_lora_rank"),
            "qk_nope_head_dim": _get(cfg, "qk_nope_head_dim"),
            "qk_rope_head_dim": _get(cfg, "qk_rope_head_dim"),
            "v_head_dim": _get(cfg, "v_head_dim"),
            "head_dim": _get(cfg, "qk_nope_head_dim") + _get(cfg, "qk_rope_head_dim"),
            "mtp_layers": _get(cfg, "num_nextn_predict_layers", 0),
            "routing_groups_per_token": _get(cfg, "topk_group", 0) if _get(cfg, "n_group", 1) > 1 else 0}


def _pattern(types: list, names: Mapping[str, str], n_layers: int, key: str) -> tuple[str, ...]:
    """A config's per-layer list turned into `LayerType` names (``names`` maps its values)."""
    if len(types) != n_layers:
        raise TypeError(f"'{key}' must list {n_layers} layers. Got {len(types)} instead")
    unknown = sorted({str(t) for t in types} - {str(k) for k in names})
    if unknown:
        raise TypeError(f"'{key}' holds {unknown[0]!r}; known: {', '.join(map(str, names))}")
    return tuple(names[t] for t in types)


def _compact(types: tuple[str, ...]) -> tuple[str, ...]:
    """An all-full pattern is stored as empty, the convention of every other model type."""
    return () if set(types) <= {"full"} else types


def _kimi_or_deepseek_v32(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Kimi K2 is DeepSeek-V3's architecture; DeepSeek-V3.2 adds its sparse attention (DSA):
    a lightning indexer in every layer picks ``index_topk`` tokens for each query."""
    base = _deepseek(cfg)
    if cfg.get("model_type") != "deepseek_v32":
        return base
    return {**base, "layer_types": ("sparse",) * base["n_layers"],
            "sparse_topk": _get(cfg, "index_topk"), "indexer_heads": _get(cfg, "index_n_heads"),
            "indexer_head_dim": _get(cfg, "index_head_dim")}


def _glm4_moe(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """GLM-4.5/4.6: GQA with q/k/v biases and (optionally) q/k norms, DeepSeek-style MoE."""
    base = _llama_like(cfg)
    shared = _get(cfg, "n_shared_experts", 0)
    d_exp = _get(cfg, "moe_intermediate_size")
    return {**base, "qk_norm": _get(cfg, "use_qk_norm", False, kind=bool),
            "n_routed_experts": _get(cfg, "n_routed_experts"), "n_shared_experts": shared,
            "experts_per_token": _get(cfg, "num_experts_per_tok"),
            "d_ff_expert": d_exp, "d_ff_shared": shared * d_exp,
            "first_dense_layers": _get(cfg, "first_k_dense_replace", 0),
            "mtp_layers": _get(cfg, "num_nextn_predict_layers", 0),
            "routing_groups_per_token": _get(cfg, "topk_group", 0) if _get(cfg, "n_group", 1) > 1 else 0}


def _minimax_m2(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """MiniMax-M2: full GQA attention in every layer (its predecessors' lightning-attention
    layers, ``attn_type_list`` 0, are refused), q/k norms, 256 experts and no shared one."""
    base = _llama_like(cfg)
    types = _get(cfg, "attn_type_list", [], kind=list)
    if 0 in types:
        raise TypeError("'attn_type_list' with lightning-attention layers (0) is not supported")
    return {**base, "qk_norm": _get(cfg, "use_qk_norm", False, kind=bool),
            "n_routed_experts": _get(cfg, "num_local_experts"),
            "experts_per_token": _get(cfg, "num_experts_per_tok"), "d_ff_expert": base["d_ff"],
            "d_ff_shared": _get(cfg, "shared_intermediate_size", 0),
            "n_shared_experts": 1 if _get(cfg, "shared_intermediate_size", 0) else 0}


def _qwen3_next(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Qwen3-Next: three Gated DeltaNet (linear) layers to one gated full-attention layer,
    Qwen3-MoE experts with a gated shared expert."""
    base = {**_qwen_moe({**cfg, "model_type": "qwen3_moe"}), "attn_output_gate": True,
            "shared_expert_gate": True}
    n = base["n_layers"]
    if "layer_types" in cfg:
        types = _pattern(_get(cfg, "layer_types", kind=list),
                         {"linear_attention": "linear", "full_attention": "full"}, n, "layer_types")
    else:
        every = _get(cfg, "full_attention_interval")
        types = tuple("full" if (i + 1) % every == 0 else "linear" for i in range(n))
    return {**base, "layer_types": _compact(types),
            "linear_key_heads": _get(cfg, "linear_num_key_heads"),
            "linear_value_heads": _get(cfg, "linear_num_value_heads"),
            "linear_key_head_dim": _get(cfg, "linear_key_head_dim"),
            "linear_value_head_dim": _get(cfg, "linear_value_head_dim"),
            "linear_conv_kernel": _get(cfg, "linear_conv_kernel_dim")}


def _gpt_oss(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """gpt-oss: sliding-window (128) and full layers alternating, learned attention sinks,
    biases on q/k/v/o, the router and the experts; every layer MoE."""
    base = _llama_like(cfg)
    n = base["n_layers"]
    types = _pattern(_get(cfg, "layer_types", kind=list),
                     {"sliding_attention": "sliding", "full_attention": "full"}, n, "layer_types")
    return {**base, "layer_types": _compact(types),
            "attention_window": _get(cfg, "sliding_window", 0) if "sliding" in types else 0,
            "qkv_bias": _get(cfg, "attention_bias", False, kind=bool),
            "attn_out_bias": _get(cfg, "attention_bias", False, kind=bool), "attention_sinks": True,
            "n_routed_experts": _get(cfg, "num_local_experts"),
            "experts_per_token": _get(cfg, "num_experts_per_tok"), "d_ff_expert": base["d_ff"],
            "expert_bias": True}


def _llama4(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Llama 4 (text model): MoE every ``interleave_moe_layer_step``-th layer (top-k routed plus
    a shared expert; dense layers use ``intermediate_size_mlp``); layers with RoPE attend within
    ``attention_chunk_size``-token chunks, every fourth layer (NoPE) attends to everything.
    Its q/k norm is a weightless L2 norm, so it adds no parameters."""
    text = cfg.get("text_config", cfg)
    if not isinstance(text, Mapping):
        raise TypeError("'text_config' must be a JSON object")
    base = _llama_like(text)
    n, d_exp = base["n_layers"], _get(text, "intermediate_size")
    rope = _get(text, "no_rope_layers", [], kind=list) or \
        [int((i + 1) % _get(text, "no_rope_layer_interval", 4) != 0) for i in range(n)]
    chunk = _get(text, "attention_chunk_size", 0)
    types = _pattern(rope, {1: "chunked" if chunk else "full", 0: "full"}, n, "no_rope_layers")
    return {**base, "d_ff": _get(text, "intermediate_size_mlp", d_exp),
            "layer_types": _compact(types), "attention_window": chunk if "chunked" in types else 0,
            "n_routed_experts": _get(text, "num_local_experts"),
            "experts_per_token": _get(text, "num_experts_per_tok"), "d_ff_expert": d_exp,
            "n_shared_experts": 1, "d_ff_shared": d_exp,
            "moe_layer_freq": _get(text, "interleave_moe_layer_step", 1)}


def _gpt2(cfg: Mapping[str, Any]) -> dict[str, Any]:
    d, h = _get(cfg, "n_embd"), _get(cfg, "n_head")
    return dict(n_layers=_get(cfg, "n_layer"), d_model=d, n_heads=h, n_kv_heads=h,
                head_dim=d // h if h > 0 else 0, d_ff=_get(cfg, "n_inner", 4 * d), vocab_size=_get(cfg, "vocab_size"),
                max_seq_len=_get(cfg, "n_positions", None), gated_mlp=False,
                tie_embeddings=_get(cfg, "tie_word_embeddings", True, kind=bool), attention="mha",
                qkv_bias=True, linear_bias=True, learned_positions=True)


READERS = {"llama": _llama_like, "mistral": _llama_like, "qwen2": _qwen2, "qwen3": _qwen3,
           "qwen2_moe": _qwen_moe, "qwen3_moe": _qwen_moe, "mixtral": _mixtral,
           "deepseek_v2": _deepseek, "deepseek_v3": _deepseek, "kimi_k2": _kimi_or_deepseek_v32,
           "deepseek_v32": _kimi_or_deepseek_v32, "glm4_moe": _glm4_moe,
           "minimax_m2": _minimax_m2, "qwen3_next": _qwen3_next, "gpt_oss": _gpt_oss,
           "llama4": _llama4, "gpt2": _gpt2}
"""``model_type`` -> function turning that family's config keys into `Workload` fields."""


def workload_from_config(cfg: Mapping[str, Any], *, file: str, id: str, name: str | None = None,
                         family: str | None = None, source: tuple[str, ...] = ()) -> Workload:
    """Read a parsed ``config.json`` into a `Workload`.

    Parameters
    ----------
    cfg : mapping
        The parsed JSON object.
    file : str
        Where it came from, for error messages.
    id, name, family, source
        Catalog identity of the workload.

    Raises
    ------
    CatalogError
        When ``model_type`` is unsupported or a key is missing or of the wrong type.
    """
    if not isinstance(cfg, Mapping):
        raise CatalogError(file, "must hold a JSON object (a Hugging Face config.json)")
    model_type = cfg.get("model_type")
    if model_type not in READERS:
        raise CatalogError(file, f"model_type must be one of {', '.join(sorted(READERS))}. "
                                 f"Got {model_type!r} instead", field="model_type")
    try:
        fields = READERS[model_type](cfg)
    except KeyError as e:
        raise CatalogError(file, f"the key {e.args[0]!r} is required for model_type "
                                 f"'{model_type}'", field=e.args[0]) from None
    except TypeError as e:
        raise CatalogError(file, str(e)) from None
    try:
        return Workload(id=id, name=name or id, family=family or model_type, source=source,
                        model_type=model_type, **fields)
    except ValueError as e:
        raise CatalogError(file, _first_error(e)) from None


def _first_error(e: ValueError) -> str:
    errors = getattr(e, "errors", None)
    if callable(errors):
        err = errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = err["msg"].removeprefix("Value error, ")
        return f"{loc}: {msg}" if loc else msg
    return str(e)


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a ``config.json`` safely: a regular file of at most `MAX_CONFIG_BYTES` (read with
    that cap, whatever size the file system reports), JSON only, NaN and Infinity refused."""
    text = read_text_capped(path, MAX_CONFIG_BYTES, str(path))

    def _no_constants(name: str) -> None:
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        return json.loads(text, parse_constant=_no_constants)
    except ValueError as e:
        raise CatalogError(str(path), f"is not valid JSON ({str(e)[:200]})") from None
    except RecursionError:
        raise CatalogError(str(path), "is not a config.json: it nests too deeply") from None


def load_workload(path: str | Path, id: str | None = None) -> Workload:
    """Read any Hugging Face ``config.json`` file into a `Workload`.

    Examples
    --------
    >>> from chipgap.catalog.workload import load_workload
    >>> from chipgap.catalog.load import bundled_dir
    >>> w = load_workload(bundled_dir() / "workloads" / "configs" / "llama-3.1-8b.json")
    >>> (w.n_layers, w.d_model, w.n_kv_heads)
    (32, 4096, 8)
    """
    path = Path(path)
    return workload_from_config(read_config_file(path), file=str(path), id=id or path.stem)
