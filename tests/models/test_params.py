"""Parameter counts worked by hand (see the arithmetic in each test) against published totals."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipgap.catalog.workload import workload_from_config
from chipgap.models.params import param_count

from .conftest import DEEPSEEK_V3, GPT3_175B, LLAMA_31_70B, LLAMA_31_8B, QWEN3_235B


def test_llama_31_8b_exact(arch):
    # layer = attn 4096*4096*2 + 2*4096*1024 (41,943,040) + MLP 3*4096*14336 (176,160,768)
    #         + 2 norms (8,192) = 218,112,000; x32 + final norm 4,096 + 2 x 128256*4096
    #       = 8,030,261,248, the count Meta's checkpoint reports.
    p = param_count(arch(LLAMA_31_8B))
    assert p.total == 8_030_261_248 == p.active


def test_llama_31_70b_exact(arch):
    # layer = 150,994,944 attn + 704,643,072 MLP + 16,384 norms = 855,654,400; x80
    #       + 8,192 + 2 x 128256*8192 = 70,553,706,496 (model card: 70.6B)
    assert param_count(arch(LLAMA_31_70B)).total == 70_553_706_496


def test_gpt3_175b_matches_the_papers_174_6b(arch):
    # per layer 12 d^2 + 13 d (weights, biases, two LayerNorms); x96 = 173,961,510,912
    # + final LN 2d + token 50257*d + positions 2048*d = 174,604,259,328
    assert param_count(arch(GPT3_175B)).total == 174_604_259_328


def test_deepseek_v3_671b_total_37b_active(arch):
    # MLA 187.1M per layer; expert 3*7168*2048 = 44.04M; MoE layer = 256+1 experts + router
    # + MLA = 11.507B; 58 MoE layers = 667.4B; 3 dense layers 1.75B; embed+head 1.853B
    # -> 671.0B. Active: 9 experts + MLA + router = 585.2M x 58 + 1.75B + 1.853B = 37.5B.
    # DeepSeek-V3 report (arXiv 2412.19437) abstract: 671B total, 37B activated per token.
    p = param_count(arch(DEEPSEEK_V3))
    assert p.total / 1e9 == pytest.approx(671.0, rel=0.002)
    assert p.active / 1e9 == pytest.approx(37.5, rel=0.01)
    # The MTP module is one more MoE layer plus a 2d x d projection: ~11.6B (the HF checkpoint's
    # 685B adds its own copies of embedding and head, which share weights in the model).
    assert p.mtp / 1e9 == pytest.approx(11.6, rel=0.01)


def test_qwen3_235b_a22b(arch):
    # layer = attn 71,303,168 + qk norms 256 + norms 8,192 + router 524,288
    #       + 128 experts x 18,874,368 = 2,487,755,008; x94 + embed/head 1,244,659,712 + 4,096
    p = param_count(arch(QWEN3_235B))
    assert p.total == 235_093_634_560
    # active: 8 experts (150,994,944) + the rest of the layer = 222,830,848 x 94 + 1,244,663,808
    assert p.active == 22_190_763_520


@given(layers=st.integers(1, 100), width=st.sampled_from([256, 1024, 4096]),
       k=st.integers(1, 8))
def test_active_never_exceeds_total_and_grows_with_top_k(layers, width, k):
    cfg = {**QWEN3_235B, "num_hidden_layers": layers, "hidden_size": width, "num_experts": 8,
           "num_experts_per_tok": k}
    w = workload_from_config(cfg, file="inline", id="x")
    p = param_count(w)
    assert p.active <= p.total
    if k < 8:
        more = workload_from_config({**cfg, "num_experts_per_tok": k + 1}, file="inline", id="y")
        assert param_count(more).active > p.active
    else:
        assert p.active == p.total


def test_elementwise_work_of_a_mixtral_layer_by_hand(arch):
    # Mixtral 8x7B (d 4,096, 32 heads, 8 KV heads of 128, experts of 14,336, top-2) per token:
    # norms 2 x 2d and residual adds 2 x 3d, and the MoE permutation 2 x (2 + 1) d, are the
    # whole-hidden-state part: 16 d = 65,536; rotary on q and k/v 2 x (4,096 + 2,048) and the
    # gated activation of both routed experts 3 x 2 x 14,336 make 163,840 in all.
    from chipgap.models.transformer import layer_work

    from .conftest import MIXTRAL_8X7B

    lw = layer_work(arch(MIXTRAL_8X7B))
    assert lw.replicated_elems == 65_536
    assert lw.elementwise_elems == 163_840
