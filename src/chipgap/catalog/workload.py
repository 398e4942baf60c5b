"""LLM architectures read from Hugging Face ``config.json`` files.

`Workload` is the architecture in chipgap's own names (``n_layers``, ``d_model``, ``n_heads``,
``n_kv_heads``, ``head_dim``, ``d_ff``, ...), whatever the source file's ``model_type`` calls
them. Supported families: Llama/Mistral/Qwen2/Qwen3 (dense, GQA, gated MLP), Qwen2-MoE/Qwen3-MoE
and Mixtral (MoE), DeepSeek-V2/V3 (MLA + MoE with shared experts, first-k dense layers, MTP),
and GPT-2 (dense MHA, plain MLP, learned positions; also used for Megatron-LM's GPT models).
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
        return self

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


def _gpt2(cfg: Mapping[str, Any]) -> dict[str, Any]:
    d, h = _get(cfg, "n_embd"), _get(cfg, "n_head")
    return dict(n_layers=_get(cfg, "n_layer"), d_model=d, n_heads=h, n_kv_heads=h,
                head_dim=d // h if h > 0 else 0, d_ff=_get(cfg, "n_inner", 4 * d), vocab_size=_get(cfg, "vocab_size"),
                max_seq_len=_get(cfg, "n_positions", None), gated_mlp=False,
                tie_embeddings=_get(cfg, "tie_word_embeddings", True, kind=bool), attention="mha",
                qkv_bias=True, linear_bias=True, learned_positions=True)


READERS = {"llama": _llama_like, "mistral": _llama_like, "qwen2": _qwen2, "qwen3": _qwen3,
           "qwen2_moe": _qwen_moe, "qwen3_moe": _qwen_moe, "mixtral": _mixtral,
           "deepseek_v2": _deepseek, "deepseek_v3": _deepseek, "gpt2": _gpt2}
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
