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


@pytest.mark.parametrize("cfg, expected", [
    ({**QWEN3_235B, "num_hidden_layers": 10**12}, "n_layers: Input should be less than or equal to 1024"),
    ({**LLAMA_31_8B, "num_attention_heads": 0}, "n_heads: Input should be greater than 0"),
    ({**LLAMA_31_8B, "vocab_size": 10**30}, "vocab_size: Input should be less than or equal to"),
    ({**QWEN3_235B, "num_experts": 10**9}, "n_routed_experts: Input should be less than or equal to 65536"),
    ({**LLAMA_31_8B, "hidden_size": 1e12}, "'hidden_size' must be a whole number"),
])
def test_absurd_sizes_are_refused_before_any_loop(cfg, expected):
    import time

    t0 = time.monotonic()
    with pytest.raises(CatalogError, match=expected):
        workload_from_config(cfg, file="cfg.json", id="x")
    assert time.monotonic() - t0 < 1


def test_moe_layer_count_is_closed_form():
    w = workload_from_config({**QWEN3_235B, "num_hidden_layers": 10, "decoder_sparse_step": 3},
                             file="cfg.json", id="x")
    assert w.n_moe_layers == sum(1 for i in range(10) if (i + 1) % 3 == 0) == 3
    from chipgap.catalog import load_catalog
    v3 = load_catalog().workload("deepseek-v3")
    assert (v3.n_moe_layers, v3.n_dense_layers) == (58, 3)


def test_deep_json_and_fifo_configs_are_refused(tmp_path):
    import os

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CatalogError, match="nests too deeply"):
        load_workload(deep)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(CatalogError, match="is a FIFO, not a regular file"):
        load_workload(fifo)
