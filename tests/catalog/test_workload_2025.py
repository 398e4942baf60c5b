"""The 2025-26 architectures the loader reads: per-layer attention kinds and parameter counts.

Configs are written inline from the published config.json values; the expected parameter counts
are worked by hand in the comments and agree with the model cards where those give exact figures.
"""

import pytest

from chipgap.catalog.workload import workload_from_config
from chipgap.errors import CatalogError, UnsupportedWorkloadError
from chipgap.models.params import param_count
from chipgap.models.transformer import check_modelled, layer_work

from ..models.conftest import DEEPSEEK_V3

GPT_OSS_120B = {"model_type": "gpt_oss", "hidden_size": 2880, "intermediate_size": 2880,
                "num_hidden_layers": 36, "num_attention_heads": 64, "num_key_value_heads": 8,
                "head_dim": 64, "num_local_experts": 128, "num_experts_per_tok": 4,
                "attention_bias": True, "sliding_window": 128, "vocab_size": 201088,
                "tie_word_embeddings": False,
                "layer_types": ["sliding_attention", "full_attention"] * 18}
QWEN3_NEXT = {"model_type": "qwen3_next", "hidden_size": 2048, "intermediate_size": 5120,
              "num_hidden_layers": 48, "num_attention_heads": 16, "num_key_value_heads": 2,
              "head_dim": 256, "num_experts": 512, "num_experts_per_tok": 10,
              "moe_intermediate_size": 512, "shared_expert_intermediate_size": 512,
              "decoder_sparse_step": 1, "mlp_only_layers": [], "full_attention_interval": 4,
              "linear_num_key_heads": 16, "linear_num_value_heads": 32, "linear_key_head_dim": 128,
              "linear_value_head_dim": 128, "linear_conv_kernel_dim": 4, "vocab_size": 151936,
              "tie_word_embeddings": False}
LLAMA4_TEXT = {"hidden_size": 5120, "intermediate_size": 8192, "intermediate_size_mlp": 16384,
               "num_hidden_layers": 48, "num_attention_heads": 40, "num_key_value_heads": 8,
               "head_dim": 128, "num_experts_per_tok": 1, "attention_chunk_size": 8192,
               "vocab_size": 202048, "model_type": "llama4_text"}
LLAMA4_SCOUT = {"model_type": "llama4", "text_config": {**LLAMA4_TEXT, "num_local_experts": 16,
                                                          "interleave_moe_layer_step": 1}}
LLAMA4_MAVERICK = {"model_type": "llama4", "text_config": {**LLAMA4_TEXT, "num_local_experts": 128,
                                                             "interleave_moe_layer_step": 2}}
GLM_45 = {"model_type": "glm4_moe", "hidden_size": 5120, "intermediate_size": 12288,
          "num_hidden_layers": 92, "num_attention_heads": 96, "num_key_value_heads": 8,
          "head_dim": 128, "attention_bias": True, "use_qk_norm": True, "n_routed_experts": 160,
          "n_shared_experts": 1, "num_experts_per_tok": 8, "moe_intermediate_size": 1536,
          "first_k_dense_replace": 3, "num_nextn_predict_layers": 1, "n_group": 1,
          "topk_group": 1, "vocab_size": 151552, "tie_word_embeddings": False}
MINIMAX_M2 = {"model_type": "minimax_m2", "hidden_size": 3072, "intermediate_size": 1536,
              "num_hidden_layers": 62, "num_attention_heads": 48, "num_key_value_heads": 8,
              "head_dim": 128, "num_local_experts": 256, "num_experts_per_tok": 8,
              "use_qk_norm": True, "vocab_size": 200064, "tie_word_embeddings": False}
DEEPSEEK_V32 = {**DEEPSEEK_V3, "model_type": "deepseek_v32", "index_topk": 2048,
                "index_n_heads": 64, "index_head_dim": 128}
KIMI_K2 = {**DEEPSEEK_V3, "model_type": "kimi_k2", "n_routed_experts": 384, "num_attention_heads": 64,
           "num_key_value_heads": 64, "first_k_dense_replace": 1, "vocab_size": 163840,
           "num_nextn_predict_layers": 0, "n_group": 1, "topk_group": 1}


def read(cfg):
    return workload_from_config(cfg, file="config.json", id="m")


def test_gpt_oss_reads_alternating_sliding_layers_sinks_and_biases():
    w = read(GPT_OSS_120B)
    assert w.layer_types == ("sliding", "full") * 18 and w.attention_window == 128
    assert (w.attention_sinks, w.qkv_bias, w.attn_out_bias, w.expert_bias) == (True,) * 4
    assert w.special_layers == {"sliding": 18}
    # per layer: q 2880x4096 + k, v 2880x512 + o 4096x2880 = 26,542,080; biases 4096+512+512+2880;
    # 64 sinks; router 2880x128 + 128; 128 experts x (3 x 2880^2 + 3 x 2880 biases); 2 norms.
    layer = 26_542_080 + 8_000 + 64 + 368_768 + 128 * 24_891_840 + 2 * 2880
    head = 2 * 201088 * 2880 + 2880  # embedding, unembedding, final norm
    p = param_count(w)
    assert p.total == 36 * layer + head == 116_829_156_672  # model card Table 1: 116.83B
    # active: 4 experts; the card's 5.13B counts the unembedding but not the embedding
    assert round((p.active - 201088 * 2880) / 1e9, 2) == 5.13


def test_gpt_oss_20b_matches_the_model_card():
    w = read({**GPT_OSS_120B, "num_hidden_layers": 24, "num_local_experts": 32,
              "layer_types": ["sliding_attention", "full_attention"] * 12})
    p = param_count(w)
    assert p.total == 20_914_757_184  # card: 20.91B
    assert round((p.active - 201088 * 2880) / 1e9, 2) == 3.61  # card: 3.61B


def test_qwen3_next_reads_three_linear_layers_to_one_gated_attention_layer():
    w = read(QWEN3_NEXT)
    assert w.layer_types == ("linear", "linear", "linear", "full") * 12
    assert (w.attn_output_gate, w.shared_expert_gate, w.qk_norm) == (True, True, True)
    assert (w.linear_value_heads, w.linear_key_head_dim, w.linear_value_head_dim) == (32, 128, 128)
    # Gated DeltaNet layer: in_proj_qkvz 2048 x (2x2048 + 2x4096) + in_proj_ba 2048 x 64
    # + conv 8192 x 4 + dt_bias, A_log 2 x 32 + gated norm 128 + out_proj 4096 x 2048
    linear = 2048 * 12288 + 2048 * 64 + 8192 * 4 + 64 + 128 + 4096 * 2048
    assert linear == 33_718_464
    # gated attention: q (with gate) 2048 x 8192, k, v 2048 x 512, o 4096 x 2048, q/k norms 2 x 256
    full = 2048 * 8192 + 2 * 2048 * 512 + 4096 * 2048 + 512
    # MoE: router 2048 x 512, 512 experts x 3 x 2048 x 512, shared expert, its 2048 -> 1 gate
    moe = 2048 * 512 + 512 * 3 * 2048 * 512 + 3 * 2048 * 512 + 2048
    total = 36 * linear + 12 * full + 48 * (moe + 2 * 2048) + 2 * 151936 * 2048 + 2048
    p = param_count(w)
    assert p.total == total == 79_674_391_296  # card: 80B in total
    assert p.active == 3_874_929_408  # 10 of 512 experts; card: 3B activated (3.25B without the embedding)


def test_qwen3_next_layer_types_list_wins_over_the_interval():
    types = ["full_attention"] + ["linear_attention"] * 47
    w = read({**QWEN3_NEXT, "layer_types": types})
    assert w.layer_types[:2] == ("full", "linear") and w.layer_count("linear") == 47


def test_llama4_reads_chunked_rope_layers_and_interleaved_moe():
    scout, maverick = read(LLAMA4_SCOUT), read(LLAMA4_MAVERICK)
    # no no_rope_layers in the file: Transformers' default, NoPE (full attention) every 4th layer
    assert scout.layer_types == ("chunked", "chunked", "chunked", "full") * 12
    assert scout.attention_window == 8192 and scout.qk_norm is False
    assert (scout.n_moe_layers, maverick.n_moe_layers, maverick.d_ff) == (48, 24, 16384)
    # attention 2 x 5120^2 + 2 x 5120 x 1024; expert = shared = 3 x 5120 x 8192; router 5120 x E
    attn, expert, norms = 62_914_560, 125_829_120, 2 * 5120
    head = 2 * 202048 * 5120 + 5120
    scout_layer = attn + 5120 * 16 + 16 * expert + expert + norms
    assert param_count(scout).total == 48 * scout_layer + head == 107_769_861_120
    assert round(param_count(scout).active / 1e9, 1) == 17.2  # card: 17B active
    dense = attn + 3 * 5120 * 16384 + norms
    moe = attn + 5120 * 128 + 128 * expert + expert + norms
    assert param_count(maverick).total == 24 * dense + 24 * moe + head == 400_711_848_960  # card: 400B
    assert round(param_count(maverick).active / 1e9, 1) == 17.2


def test_llama4_explicit_no_rope_layers():
    text = {**LLAMA4_SCOUT["text_config"], "no_rope_layers": [1] * 47 + [0]}
    w = read({"model_type": "llama4", "text_config": text})
    assert w.layer_count("chunked") == 47 and w.layer_types[-1] == "full"


def test_deepseek_v32_reads_sparse_attention_and_counts_the_indexer():
    w, v3 = read(DEEPSEEK_V32), read(DEEPSEEK_V3)
    assert w.layer_types == ("sparse",) * 61 and (w.sparse_topk, w.indexer_heads) == (2048, 64)
    # indexer per layer: wq_b 1536 x 64 x 128, wk 7168 x 128, k LayerNorm 2 x 128, weights 7168 x 64
    indexer = 1536 * 8192 + 7168 * 128 + 256 + 7168 * 64
    assert param_count(w).total - param_count(v3).total == 61 * indexer == 851_524_864
    assert param_count(w).mtp - param_count(v3).mtp == indexer


def test_kimi_k2_glm_and_minimax_are_read_as_full_attention_moe():
    k = read(KIMI_K2)
    assert (k.attention, k.n_routed_experts, k.n_moe_layers, k.mtp_layers) == ("mla", 384, 60, 0)
    assert round(param_count(k).total / 1e9) == 1026  # card: 1T total
    g = read(GLM_45)
    assert (g.qkv_bias, g.qk_norm, g.n_moe_layers, g.d_ff_shared, g.mtp_layers) == (True, True, 89, 1536, 1)
    # attention 5120 x 12288 x 2 + 5120 x 1024 x 2, q/k/v biases, q/k norms 256
    attn = 2 * 5120 * 12288 + 2 * 5120 * 1024 + 12288 + 2 * 1024 + 256
    dense = attn + 3 * 5120 * 12288 + 2 * 5120
    moe = attn + 5120 * 160 + 161 * 3 * 5120 * 1536 + 2 * 5120
    assert param_count(g).total == 3 * dense + 89 * moe + 2 * 151552 * 5120 + 5120  # 352.80B; card 355B
    m = read(MINIMAX_M2)
    assert (m.layer_types, m.n_routed_experts, m.d_ff_expert, m.qk_norm) == ((), 256, 1536, True)
    assert round(param_count(m).total / 1e9, 1) == 228.7  # card: 230B


@pytest.mark.parametrize("cfg, kinds", [
    (GPT_OSS_120B, [("full", 18), ("sliding", 18)]),
    (QWEN3_NEXT, [("full", 12), ("linear", 36)]),
    (DEEPSEEK_V32, [("sparse", 61)]),
    (LLAMA4_SCOUT, [("full", 12), ("chunked", 36)]),
    (GLM_45, [("full", 92)]),
])
def test_performance_models_time_every_attention_kind(cfg, kinds):
    lw = layer_work(read(cfg))
    assert [(a.kind, a.layers) for a in lw.attention] == kinds
    assert sum(a.fraction for a in lw.attention) == pytest.approx(1.0, rel=1e-12)


def test_an_attention_kind_the_models_do_not_know_is_refused_in_one_line():
    w = read(GPT_OSS_120B).model_copy(update={"layer_types": ("global",) * 36})
    with pytest.raises(UnsupportedWorkloadError) as e:
        check_modelled(w)
    assert str(e.value) == "m: global attention layers are not modelled yet (36 of 36 layers)"
    assert isinstance(e.value, ValueError) and "\n" not in str(e.value)


def test_full_attention_models_are_not_refused():
    for cfg in (GLM_45, MINIMAX_M2, KIMI_K2, DEEPSEEK_V3):
        check_modelled(read(cfg))


@pytest.mark.parametrize("cfg, expected", [
    ({**GPT_OSS_120B, "layer_types": ["sliding_attention"] * 3}, "'layer_types' must list 36 layers"),
    ({**GPT_OSS_120B, "layer_types": ["global"] * 36}, "'layer_types' holds 'global'"),
    ({**MINIMAX_M2, "attn_type_list": [0, 1] * 31}, "lightning-attention layers"),
    ({k: v for k, v in DEEPSEEK_V32.items() if k != "index_topk"}, "'index_topk' is required"),
    ({"model_type": "llama4", "text_config": [1]}, "'text_config' must be a JSON object"),
])
def test_bad_2025_configs_get_one_line_errors(cfg, expected):
    with pytest.raises(CatalogError, match="^config.json") as e:
        read(cfg)
    assert expected in str(e.value)
