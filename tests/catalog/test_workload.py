import json

import pytest

from chipgap.catalog.workload import load_workload, workload_from_config
from chipgap.errors import CatalogError

from ..models.conftest import DEEPSEEK_V3, GPT3_175B, LLAMA_31_8B, QWEN3_235B


def test_llama_reads_gqa_shape():
    w = workload_from_config(LLAMA_31_8B, file="f", id="x")
    assert (w.attention, w.n_kv_heads, w.head_dim, w.gated_mlp, w.is_moe) == ("gqa", 8, 128, True, False)


def test_deepseek_v3_reads_mla_moe_mtp():
    w = workload_from_config(DEEPSEEK_V3, file="f", id="x")
    assert w.attention == "mla" and w.kv_lora_rank == 512 and w.head_dim == 192
    assert (w.n_moe_layers, w.n_dense_layers, w.d_ff_shared, w.mtp_layers) == (58, 3, 2048, 1)


def test_qwen3_moe_and_gpt2():
    q = workload_from_config(QWEN3_235B, file="f", id="x")
    assert (q.n_routed_experts, q.experts_per_token, q.qk_norm, q.n_moe_layers) == (128, 8, True, 94)
    g = workload_from_config(GPT3_175B, file="f", id="x")
    assert (g.attention, g.d_ff, g.gated_mlp, g.tie_embeddings) == ("mha", 4 * 12288, False, True)


@pytest.mark.parametrize("cfg, expected", [
    ({**LLAMA_31_8B, "model_type": "bert"}, "model_type must be one of"),
    ({k: v for k, v in LLAMA_31_8B.items() if k != "hidden_size"}, "'hidden_size' is required"),
    ({**LLAMA_31_8B, "num_hidden_layers": "32"}, "'num_hidden_layers' must be a whole number"),
    ({**LLAMA_31_8B, "num_hidden_layers": -1}, "n_layers"),
    ({**LLAMA_31_8B, "num_key_value_heads": 5}, "must be a multiple of num_key_value_heads"),
    ({**QWEN3_235B, "num_experts_per_tok": 300}, "num_experts_per_tok must be in 1..128"),
    ([1, 2], "must hold a JSON object"),
])
def test_bad_configs_get_one_line_errors(cfg, expected):
    with pytest.raises(CatalogError) as e:
        workload_from_config(cfg, file="cfg.json", id="x")
    assert expected in str(e.value) and str(e.value).startswith("cfg.json")


def test_load_workload_from_any_file(tmp_path):
    p = tmp_path / "config.json"
    p.write_text(json.dumps(LLAMA_31_8B))
    assert load_workload(p).id == "config"


@pytest.mark.parametrize("text, expected", [
    ('{"model_type": "llama", "hidden_size": NaN}', "not valid JSON"),
    ("{not json", "not valid JSON"),
])
def test_load_workload_refuses_bad_json(tmp_path, text, expected):
    p = tmp_path / "config.json"
    p.write_text(text)
    with pytest.raises(CatalogError, match=expected):
        load_workload(p)
