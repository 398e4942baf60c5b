"""Attention of each layer kind: hand-worked caches and FLOPs, and invariants.

Configs are the published config.json values (tests/catalog/test_workload_2025.py holds them).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipgap.catalog.workload import workload_from_config
from chipgap.models.attention import attended, attention_work, cache_bytes_per_seq, mean_attended, prefill_flops
from chipgap.models.inference import Serving, decode_step, kv_cache_bytes, prefill
from chipgap.models.training import Efficiency, Hardware, Job, train_step
from chipgap.models.transformer import layer_work, model_flops_per_token
from tests.catalog.test_workload_2025 import DEEPSEEK_V32, GPT_OSS_120B, LLAMA4_SCOUT, QWEN3_NEXT

from .conftest import DEEPSEEK_V3

H100 = Hardware(peak_tflops=989.4, peak_fp8_tflops=1978.9, memory_bw_gbps=3350, memory_gb=80,
                scaleup_gbps=450, scaleout_gbps=50, domain=8)
EFF = Efficiency()
# compute and links so fast that only memory traffic is left; no fixed costs
FAST = Hardware(peak_tflops=1e12, peak_fp8_tflops=1e12, memory_bw_gbps=3350, memory_gb=1e6,
                scaleup_gbps=1e12, scaleout_gbps=1e12, domain=8)
BARE = Efficiency(gemm_overhead_s=0.0, layer_overhead_s=0.0, alpha_scaleup_s=0.0)


def read(cfg, id="m"):
    return workload_from_config(cfg, file="config.json", id=id)


def full_only(cfg):
    """The same model with every layer full attention."""
    if cfg["model_type"] == "gpt_oss":
        return {**cfg, "layer_types": ["full_attention"] * cfg["num_hidden_layers"]}
    raise ValueError(cfg["model_type"])


def cache(w, kv_bytes, context, tp=1.0, span=0.0):
    return cache_bytes_per_seq(layer_work(w).attention, kv_bytes, context, span, tp,
                               state_bytes=EFF.linear_state_bytes, index_bytes=EFF.index_key_bytes)


def test_caches_of_each_kind_by_hand():
    # gpt-oss-120b at 4,096 tokens in bf16: K and V of 8 heads of 64 (1,024 elements) per token;
    # 18 full layers keep every token, 18 sliding layers the last 128.
    assert cache(read(GPT_OSS_120B), 2.0, 4096.0) == 18 * 4096 * 1024 * 2 + 18 * 128 * 1024 * 2 == 155_713_536
    # DeepSeek-V3.2 at 32,768 tokens, FP8 KV: the MLA latent (576) and the indexer's FP8 key of
    # 128 with one fp32 scale per 128 elements (132 bytes), every token, 61 layers; tensor
    # parallelism splits neither (the latent is shared by the heads).
    assert cache(read(DEEPSEEK_V32), 1.0, 32768.0, tp=8.0) == 61 * 32768 * (576 + 132) == 1_415_184_384
    # Qwen3-Next at 4,096 tokens: 12 full layers of 2 KV heads of 256 (1,024 elements), and 36
    # Gated DeltaNet layers holding a 32 x 128 x 128 state and a 3 x 8,192 convolution state,
    # whatever the context (bf16, vLLM's default for the state)
    assert EFF.linear_state_bytes == 2.0
    assert cache(read(QWEN3_NEXT), 2.0, 4096.0) == 12 * 4096 * 1024 * 2 + 36 * (524_288 + 24_576) * 2
    assert cache(read(QWEN3_NEXT), 2.0, 65536.0) - cache(read(QWEN3_NEXT), 2.0, 4096.0) \
        == 12 * (65536 - 4096) * 1024 * 2


def test_gated_deltanet_flops_per_token_by_hand():
    # Per value head (32 of d_k = d_v = 128) and token: recurrent form 7 d_k d_v = 114,688; the
    # chunkwise form with chunks of C = 64: 2 C (3 d_k + 2 d_v) = 81,920 within the chunk and
    # 6 d_k d_v = 98,304 for the state; the depthwise convolution 2 x 4 x 8,192 per token.
    (lin,) = [a for a in attention_work(read(QWEN3_NEXT)) if a.kind == "linear"]
    conv = 2 * 4 * 8192
    assert lin.token_flops == 32 * 114_688 + conv == 3_735_552
    core, index = prefill_flops((lin,), 0.0, 4096.0, 64.0)
    assert (core / lin.fraction, index) == (32 * (81_920 + 98_304) + conv, 0.0)
    # ... and neither depends on the context
    assert prefill_flops((lin,), 100_000.0, 4096.0, 64.0) == (core, index)


def test_chunked_and_windowed_attention_by_hand():
    full, chunked = attention_work(read(LLAMA4_SCOUT))
    # 16,384 prompt tokens in chunks of 8,192: each query sees half its chunk on average
    assert mean_attended(chunked, 0.0, 16384.0) == 4096.0 and mean_attended(full, 0.0, 16384.0) == 8192.0
    # decoding 1,024 tokens after an 8,192-token prompt: positions 8,192-9,216, all in the
    # second chunk, 0 to 1,024 into it
    assert attended(chunked, 8192 + 512, 1024) == 512.0
    # decoding 32,768 tokens after 1,024: whole chunks, half a chunk on average
    assert attended(chunked, 1024 + 16384, 32768) == pytest.approx(4096.0, rel=1e-12)
    # gpt-oss's 128-token window over a 4,096-token sequence: (128^2 / 2 + 3,968 x 128) / 4,096
    sliding = attention_work(read(GPT_OSS_120B))[1]
    assert mean_attended(sliding, 0.0, 4096.0) == 126.0


def test_sparse_attention_runs_the_cheaper_mode_by_hand():
    # DeepSeek-V3.2. MHA mode over every earlier token: 2 x 128 x (192 + 128) = 81,920 FLOP per
    # position; MQA mode over the top 2,048: 2 x 128 x (2 x 512 + 64) = 278,528. The indexer:
    # 2 x 64 x (128 + 1) = 16,512 per earlier token either way.
    (a,) = attention_work(read(DEEPSEEK_V32))
    # 1,000 tokens: MHA, 81,920 x 500
    assert prefill_flops((a,), 0.0, 1000.0) == (81_920 * 500, 16_512 * 500)
    # 32,768 tokens: MQA over min(position, 2,048), on average (2048^2/2 + 30,720 x 2048) / 32,768
    # = 1,984 positions, against 16,384 in MHA mode
    assert prefill_flops((a,), 0.0, 32768.0) == (278_528 * 1984, 16_512 * 16384)


def test_sparse_decode_reads_the_index_keys_of_every_token_and_the_latents_of_the_top_k():
    # 64 sequences decoding DeepSeek-V3.2 on 8 chips (tp 8), FP8 KV, beyond 2,048 tokens of
    # context: only the indexer's reads grow with it, 132 bytes per token and layer (every rank
    # reads all of them), so 28,000 more tokens of context cost
    # 61 x 64 x 28,000 x 132 bytes at 0.8 of 3,350 GB/s.
    s = Serving(read(DEEPSEEK_V32), 8, "fp8", "fp8")
    t = [decode_step(s, FAST, BARE, 8, 1, 8, 1, 64, c)["attention_s"] for c in (4000.0, 32000.0)]
    assert float(t[1] - t[0]) == pytest.approx(61 * 64 * 28_000 * 132 / (3350e9 * 0.8), rel=1e-6)
    # against DeepSeek-V3.1 (dense MLA), which reads every latent: 576 bytes per token
    v31 = Serving(read(DEEPSEEK_V3), 8, "fp8", "fp8")
    d = [decode_step(v31, FAST, BARE, 8, 1, 8, 1, 64, c)["attention_s"] for c in (4000.0, 32000.0)]
    assert float(d[1] - d[0]) == pytest.approx(61 * 64 * 28_000 * 576 / (3350e9 * 0.8), rel=1e-6)


def test_sliding_layers_cut_model_flops_by_hand():
    # gpt-oss-120b at 4,096 tokens: a full layer's query attends to 2,048 tokens on average, a
    # sliding layer's to 126 (above); 18 sliding layers x 16,384 FLOP per position x 3 (forward
    # and backward) fewer than with every layer full
    w, f = read(GPT_OSS_120B), read(full_only(GPT_OSS_120B))
    assert model_flops_per_token(f, 4096) - model_flops_per_token(w, 4096) == 3 * 18 * 16384 * (2048 - 126)


@settings(max_examples=30, deadline=None)
@given(prompt=st.integers(1, 20000), extra=st.integers(0, 20000), batch=st.integers(1, 256),
       cached=st.floats(0, 0.9), out=st.integers(1, 4000))
def test_a_window_at_least_as_long_as_the_sequence_is_full_attention(prompt, extra, batch, cached, out):
    window = prompt + out + 1 + extra          # the last step holds the token it writes too
    w = read({**GPT_OSS_120B, "sliding_window": window})
    f = read(full_only(GPT_OSS_120B))
    sw, sf = Serving(w, 8, "fp8", "bf16"), Serving(f, 8, "fp8", "bf16")
    c = float(int(cached * prompt))
    for key in ("prefill_s", "tokens_per_s"):
        assert prefill(sw, H100, EFF, 8, 1, 8, 1, batch, prompt, c)[key] == \
            pytest.approx(prefill(sf, H100, EFF, 8, 1, 8, 1, batch, prompt, c)[key], rel=1e-9)
    ctx, span = prompt + out / 2, float(out)
    dw, df = (decode_step(x, H100, EFF, 8, 1, 8, 1, batch, ctx, span=span) for x in (sw, sf))
    for key in ("tpot_s", "memory_gb"):
        assert dw[key] == pytest.approx(df[key], rel=1e-9)
    tw = train_step(Job(w, 8, prompt, 8), H100, EFF, tp=8, pp=1, dp=1, cp=1, ep=1, vpp=1, mbs=1, zero=1, recompute=0)
    tf = train_step(Job(f, 8, prompt, 8), H100, EFF, tp=8, pp=1, dp=1, cp=1, ep=1, vpp=1, mbs=1, zero=1, recompute=0)
    assert tw["step_time_s"] == pytest.approx(tf["step_time_s"], rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(c1=st.integers(1, 500_000), c2=st.integers(1, 500_000), batch=st.integers(1, 512),
       tp=st.sampled_from([1, 2, 4, 8]))
def test_linear_attention_decode_does_not_grow_with_context(c1, c2, batch, tp):
    # Qwen3-Next with every layer Gated DeltaNet (no full layer every 4th)
    w = read({**QWEN3_NEXT, "full_attention_interval": 1000})
    assert {a.kind for a in layer_work(w).attention} == {"linear"}
    s = Serving(w, tp, "bf16", "bf16")
    a, b = (decode_step(s, H100, EFF, tp, 1, tp, 1, batch, float(c)) for c in (c1, c2))
    for key in ("attention_s", "tpot_s", "memory_gb"):
        assert a[key] == pytest.approx(b[key], rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(ctx=st.integers(1, 200_000), span=st.integers(0, 50_000), window=st.integers(1, 100_000))
def test_a_window_never_attends_to_more_than_full_attention_or_the_window(ctx, span, window):
    w = read({**GPT_OSS_120B, "sliding_window": window})
    full, sliding = attention_work(w)
    got = float(attended(sliding, float(ctx), float(span)))
    assert got <= min(float(attended(full, float(ctx), float(span))), window) * (1 + 1e-9) + 1e-9
    assert float(mean_attended(sliding, 0.0, float(ctx))) <= min(ctx / 2, window) * (1 + 1e-9) + 1e-9


def test_hybrid_models_are_served_end_to_end():
    # Qwen3-Next on one H100: the KV cache grows in its 12 full layers only, so at 100K tokens of
    # context a batch of 16 still fits where every layer full would hold 4x the cache
    w = read(QWEN3_NEXT)
    s = Serving(w, 1, "fp8", "bf16")
    out = decode_step(s, H100, EFF, 1, 1, 1, 1, 16, 100_000.0)
    kv = 16 * float(kv_cache_bytes(s, EFF, 100_001.0)) / 1e9
    assert out["kv_gb"] == pytest.approx(kv, rel=1e-12)
    assert kv == pytest.approx(16 * (12 * 100_001 * 1024 * 2 + 36 * 548_864 * 2) / 1e9, rel=1e-12)
    assert np.all(out["tpot_s"] > 0)
