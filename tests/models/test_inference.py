"""The inference model: a hand-computed CPU decode, and invariants."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chipgap
from tests.helpers import served, serving_setup
from chipgap.models.inference import Serving, decode_step, kv_bytes_per_token, prefill, weights_bytes_per_chip
from chipgap.models.training import Efficiency, Hardware

from chipgap.catalog.workload import workload_from_config

from .conftest import DEEPSEEK_V3, LLAMA_31_70B

DS = workload_from_config(DEEPSEEK_V3, file="inline", id="deepseek-v3")
L70 = workload_from_config(LLAMA_31_70B, file="inline", id="llama-3.1-70b")

H100 = Hardware(peak_tflops=989.4, peak_fp8_tflops=1978.9, memory_bw_gbps=3350, memory_gb=80,
                scaleup_gbps=450, scaleout_gbps=50, domain=8)
EFF = Efficiency()


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


def test_cpu_decode_is_bound_by_dram_hand_computed(cat):
    # DeepSeek-R1-Distill-Qwen-7B (Qwen2: d 3584, ff 18944, 28 layers, 28 heads, 4 KV heads,
    # vocab 152064, untied) on one Zhaoxin KH-40000 socket, bf16, batch 1, 1,024 tokens of context.
    # Bytes a token reads: per layer attention 2 x 3584^2 + 2 x 3584 x 512 + q/k/v biases 4,608
    # = 29,364,736 plus MLP 3 x 3584 x 18944 = 203,685,888; x 28 layers = 6,525,353,984; plus the
    # LM head 152064 x 3584 = 544,997,376 -> 7,070,351,360 weights x 2 bytes = 14.141 GB, and the
    # KV cache 1,024 x 28 x 1,024 x 2 bytes = 58.7 MB. DRAM: 8 x DDR4-3200 = 204.8 GB/s at the
    # model's 0.8 streaming efficiency -> 14.199 GB / 163.84 GB/s = 86.7 ms per token, plus the
    # fixed cost per layer (28 x the shipped constant). The norms, rotary and activation of the
    # one token move 28 x 101,888 x 2 bytes = 5.7 MB more, under the tolerance (0.04 %).
    q = dict(model="deepseek-r1-distill-qwen-7b", chip="zhaoxin-kh-40000")
    s = serving_setup(cat, **q)
    row = served(cat, **q, phase="decode", input_len=1024, output_len=1, batch=1).iloc[0]
    expected_s = (7_070_351_360 * 2 + 1024 * 28 * 1024 * 2) / (204.8e9 * s.efficiency.memory) \
        + 28 * s.efficiency.layer_overhead_s
    assert row.tpot_ms == pytest.approx(expected_s * 1e3, rel=2e-3)
    assert row.tokens_per_s == pytest.approx(1 / expected_s, rel=2e-3)
    assert any("memory-bound only" in a for a in s.assumptions)


def test_kv_cache_of_mla_matches_deepseeks_table(arch):
    # ISCA'25 (arXiv 2505.09343) Table 1: 70.272 KB per token for DeepSeek-V3 in bf16
    assert kv_bytes_per_token(arch(DEEPSEEK_V3)) == 70_272


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 256), c1=st.integers(1, 16000), c2=st.integers(1, 16000),
       tp=st.sampled_from([1, 2, 4, 8]))
def test_longer_context_never_makes_decode_faster(batch, c1, c2, tp):
    s = Serving(L70, tp, "fp8", "fp8")
    lo, hi = sorted((c1, c2))
    t = [decode_step(s, H100, EFF, tp, 1, 1, 1, batch, c)["tpot_s"] for c in (lo, hi)]
    assert t[0] <= t[1]


@settings(max_examples=40, deadline=None)
@given(b1=st.integers(1, 2048), b2=st.integers(1, 2048), ctx=st.integers(128, 8192),
       moe=st.booleans())
def test_a_larger_batch_never_lowers_total_throughput_until_memory_runs_out(b1, b2, ctx, moe):
    w = DS if moe else L70
    s = Serving(w, 8, "fp8", "fp8")
    small, big = sorted((b1, b2))
    r = [decode_step(s, H100, EFF, 8, 1, 8 if moe else 1, 1, b, ctx) for b in (small, big)]
    if r[1]["fits"]:
        assert r[1]["tokens_per_s"] >= r[0]["tokens_per_s"] * (1 - 1e-12)


@given(tp=st.sampled_from([1, 2, 4, 8]), pp=st.sampled_from([1, 2, 4]), ep=st.sampled_from([1, 8, 64]))
def test_int8_weights_never_need_more_memory_than_bf16(tp, pp, ep):
    w = DS
    bf16 = weights_bytes_per_chip(Serving(w, 64, "bf16"), tp, pp, ep)
    int8 = weights_bytes_per_chip(Serving(w, 64, "int8"), tp, pp, ep)
    int4 = weights_bytes_per_chip(Serving(w, 64, "int4"), tp, pp, ep)
    assert int4 <= int8 <= bf16


def test_slo_search_respects_the_slos(cat):
    df = served(cat, model="llama-3.1-70b", chip="h100", chips=8, weight_precision="fp8", kv_precision="fp8",
                input_len=2048, output_len=512, tpot_ms=30, ttft_ms=1000)
    ok = df[df.meets_slo]
    assert len(ok) and (ok.tpot_ms <= 30).all() and (ok.ttft_ms <= 1000).all() and ok.fits.all()
    assert (ok.tp * ok.pp * ok.dp == 8).all()


def test_a_cached_prefix_is_attended_to_but_not_computed_hand_computed():
    # Llama 3.1 70B on one H100, 4 prompts of 3,000 tokens of which 2,000 hit the prefix cache.
    # Against 4 fresh prompts of 1,000 tokens, everything but attention is the same work; each
    # of the 4,000 computed tokens also attends to the 2,000 cached ones: causal attention per
    # token and context token is 4 x d = 32,768 FLOP per layer (QK^T and AV), so the extra is
    # 80 layers x 4,000 x 2,000 x 32,768 = 2.097e13 FLOP at peak x gemm_max x attention.
    s = Serving(L70, chips=1, weight_precision="bf16")
    cached = prefill(s, H100, EFF, 1, 1, 1, 1, 4, 3000, cached=2000)
    fresh = prefill(s, H100, EFF, 1, 1, 1, 1, 4, 1000)
    extra = 80 * 4000 * 2000 * 4 * 8192 / (989.4e12 * EFF.gemm_max * EFF.attention)
    assert float(cached["prefill_s"] - fresh["prefill_s"]) == pytest.approx(extra, rel=1e-9)
    # the metric counts computed tokens: 4,000 in both
    assert float(cached["tokens_per_s"]) == pytest.approx(4000 / float(cached["prefill_s"]))
    assert float(prefill(s, H100, EFF, 1, 1, 1, 1, 4, 3000, cached=0)["prefill_s"]) == \
        float(prefill(s, H100, EFF, 1, 1, 1, 1, 4, 3000)["prefill_s"])


@settings(max_examples=40, deadline=None)
@given(prompt=st.integers(2, 32768), share=st.floats(0, 1, exclude_max=True))
def test_a_cached_prefix_never_lengthens_the_first_token(prompt, share):
    s = Serving(L70, chips=1, weight_precision="bf16")
    cached = int(share * prompt)
    hit = prefill(s, H100, EFF, 1, 1, 1, 1, 1, prompt, cached=cached)["prefill_s"]
    assert float(hit) <= float(prefill(s, H100, EFF, 1, 1, 1, 1, 1, prompt)["prefill_s"]) * (1 + 1e-12)


def test_an_offline_job_of_whole_waves_runs_at_the_steady_rate_and_a_tail_wave_is_hand_computed(cat):
    # 3 x 512 requests at batch 512 are three full waves: the steady-state rate exactly. With
    # 512 + 100 requests the job is one wave at 512 then one at 100:
    # makespan = 512 p + 1000 tpot(512) + 100 p + 1000 tpot(100), p the prefill per request.
    job = dict(model="llama-3.1-8b", chip="h100", input_len=1000, output_len=1000)
    steady = served(cat, **job, batch=512).iloc[0]
    whole = served(cat, **job, requests=3 * 512, batch=512).iloc[0]
    assert whole.tokens_per_s == pytest.approx(steady.tokens_per_s, rel=1e-12)
    small = served(cat, **job, batch=100).iloc[0]
    # steady rate = 1 / (tpot / 512 + p / 1000): the prefill seconds per request p
    p = 1000 / steady.tokens_per_s - 1000 * steady.tpot_ms / 1e3 / 512
    makespan = 512 * p + steady.tpot_ms + 100 * p + small.tpot_ms   # tpot in ms x 1000 tokens = s
    tail = served(cat, **job, requests=612, batch=512).iloc[0]
    assert tail.tokens_per_s == pytest.approx(612 * 1000 / makespan, rel=1e-9)
    assert tail.tokens_per_s < steady.tokens_per_s


@settings(max_examples=25, deadline=None)
@given(requests=st.integers(1, 5000), batch=st.sampled_from([1, 16, 64, 256, 1024]))
def test_an_offline_job_never_beats_the_steady_state(cat, requests, batch):
    q = dict(model="llama-3.1-70b", chip="h100", chips=2, input_len=1000, output_len=500, layout={"tp": 2})
    job = served(cat, **q, requests=requests, batch=batch).iloc[0]
    steady = served(cat, **q, batch=min(batch, requests)).iloc[0]
    assert job.tokens_per_s <= steady.tokens_per_s * (1 + 1e-12)


def test_without_expert_parallelism_tensor_parallelism_slices_every_expert(arch):
    # Qwen3-235B on 8 chips: eight tensor-parallel slices of all 128 experts weigh what 16 whole
    # experts per chip do; on one chip it is the whole model (~235B parameters in fp8).
    from .conftest import QWEN3_235B

    s = Serving(arch(QWEN3_235B), chips=8, weight_precision="fp8")
    sliced, spread = weights_bytes_per_chip(s, 8, 1, 1), weights_bytes_per_chip(s, 8, 1, 8)
    assert float(sliced) == pytest.approx(float(spread), rel=1e-12)
    assert float(weights_bytes_per_chip(s, 1, 1, 1)) / 1e9 == pytest.approx(235, rel=0.01)


def test_an_engine_that_reserves_whole_sequences_fits_fewer(cat):
    # Llama 3.1 8B on one H100 at 1000/1000: paged KV holds each sequence's mean context (1,500
    # tokens), a GUARANTEED_NO_EVICT engine reserves all 2,000 on admission. KV per token is
    # 32 layers x 8 heads x 128 x 2 (K, V) x 2 bytes = 131,072 bytes; the weights are the same.
    paged = dict(model="llama-3.1-8b", chip="h100", input_len=1000, output_len=1000)
    reserving = dict(paged, kv_reserve="full")
    used = served(cat, **paged, batch=256).iloc[0]
    full = served(cat, **reserving, batch=256).iloc[0]
    assert full.memory_gb_per_chip - used.memory_gb_per_chip == pytest.approx(256 * 500 * 131_072 / 1e9, rel=1e-9)
    assert full.tokens_per_s == used.tokens_per_s        # same work once admitted
    fits_used = served(cat, **paged)
    fits_full = served(cat, **reserving)
    assert fits_full[fits_full.fits].batch.max() < fits_used[fits_used.fits].batch.max()
    capped = served(cat, **paged, max_batch=100)
    assert capped.batch.max() == 100


def test_tensor_parallel_serving_repeats_norms_and_residuals_on_every_rank_hand_computed():
    # Llama 3.1 70B prefill of one 1,000-token prompt on 8 chips (tp 8) of a chip with unbounded
    # compute and links, so only memory traffic is left. Per layer and rank: the weights,
    # 855,638,016 x 2 bytes / 8, and the elementwise work of 1,000 bf16 tokens: norms and
    # residual adds on whole hidden states on every rank (no sequence parallelism), 10 x 8,192
    # elements, plus rotary on q and k/v (2 x (8,192 + 2,048)) and the gated activation
    # (3 x 28,672) split 8 ways: 81,920 + 106,496 / 8 = 95,232 elements. The LM head reads
    # 128,256 x 8,192 x 2 bytes / 8 once.
    fast = Hardware(peak_tflops=1e9, peak_fp8_tflops=1e9, memory_bw_gbps=3350, memory_gb=80,
                    scaleup_gbps=1e12, scaleout_gbps=1e12, domain=8)
    eff = Efficiency(alpha_scaleup_s=0.0, layer_overhead_s=0.0, gemm_overhead_s=0.0)
    s = Serving(L70, chips=8, weight_precision="bf16")
    bw = 3350e9 * eff.memory
    layer = (855_638_016 * 2 / 8 + 1000 * 2 * 95_232) / bw
    head = 128_256 * 8192 * 2 / 8 / bw
    got = prefill(s, fast, eff, 8, 1, 1, 1, 1, 1000)["prefill_s"]
    assert float(got) == pytest.approx(80 * layer + head, rel=1e-6)


# DeepGEMM's FP8 GEMM table on the H800 (README, first release, February 2025): groups, M per
# group, N, K and the TFLOPS measured. Dense rows have one group.
DEEPGEMM_H800 = [
    (1, 64, 2112, 7168, 206), (1, 64, 24576, 1536, 289), (1, 64, 32768, 512, 219),
    (1, 64, 7168, 16384, 336), (1, 64, 4096, 7168, 287), (1, 64, 7168, 2048, 295),
    (1, 128, 2112, 7168, 352), (1, 128, 24576, 1536, 535), (1, 128, 32768, 512, 358),
    (1, 128, 7168, 16384, 645), (1, 128, 4096, 7168, 533), (1, 128, 7168, 2048, 510),
    (1, 4096, 2112, 7168, 1058), (1, 4096, 24576, 1536, 990), (1, 4096, 32768, 512, 590),
    (1, 4096, 7168, 16384, 1358), (1, 4096, 4096, 7168, 1304), (1, 4096, 7168, 2048, 1025),
    (4, 8192, 4096, 7168, 1297), (4, 8192, 7168, 2048, 1099), (8, 4096, 4096, 7168, 1288),
    (8, 4096, 7168, 2048, 1093), (1, 1024, 4096, 7168, 1233), (1, 1024, 7168, 2048, 925),
    (2, 512, 4096, 7168, 1040), (2, 512, 7168, 2048, 916), (4, 256, 4096, 7168, 932),
    (4, 256, 7168, 2048, 815),
]


def test_the_roofline_near_the_ridge_matches_deepgemms_kernel_table():
    # Each GEMM moves its fp8 operands (M x K and N x K per group) and its bf16 output, and
    # reaches at best the table's own largest rate (1,358 of 1,979 TFLOPS). Combining compute
    # and memory time as the model does reproduces the table to a median 9 %; the plain
    # roofline (the longer of the two) is off by a median 24 %, worst where they balance.
    import numpy as np

    from chipgap.models import inference

    g, m, n, k, tflops = (np.array(c, dtype=float) for c in zip(*DEEPGEMM_H800))
    flops, nbytes = 2 * g * m * n * k, g * (m * k + n * k + 2 * m * n)
    # a fixed 0.37 us per GEMM call (half the best rate at 0.5 GFLOP per call)
    eff = Efficiency(gemm_max=1358 / 1979, gemm_overhead_s=0.5e9 / 1358e12, memory=0.8)
    got = flops / inference.op_time(flops, nbytes, 1979.0, 3350.0, eff, g) / 1e12
    assert np.median(np.abs(got / tflops - 1)) < 0.10
    compute = flops / (1979e12 * eff.gemm_max) + g * eff.gemm_overhead_s
    plain = flops / np.maximum(compute, nbytes / (3350e9 * 0.8)) / 1e12
    assert np.median(np.abs(plain / tflops - 1)) > 0.20


def test_the_busiest_expert_parallel_rank_sets_the_pace_by_hand():
    # DeepSeek-V3 decode, 64 sequences on 32 chips (EP32), with GEMM efficiency independent of
    # size, memory and link latency out of the way: the expert GEMMs and the all-to-all of the
    # rank that receives twice the mean of routed tokens take exactly twice as long; with every
    # expert on every chip (ep 1) there is no busiest rank.
    import dataclasses

    fast_mem = dataclasses.replace(H100, memory_bw_gbps=1e12)
    eff = Efficiency(gemm_overhead_s=0.0, alpha_scaleup_s=0.0, alpha_scaleout_s=0.0)
    even = Serving(DS, chips=32, weight_precision="fp8")
    skew = Serving(DS, chips=32, weight_precision="fp8", ep_imbalance=2.0)
    a = decode_step(even, fast_mem, eff, 1, 1, 32, 32, 64, 4096)
    b = decode_step(skew, fast_mem, eff, 1, 1, 32, 32, 64, 4096)
    assert float(b["experts_s"]) == pytest.approx(2 * float(a["experts_s"]), rel=1e-9)
    assert float(b["ep_comm_s"]) == pytest.approx(2 * float(a["ep_comm_s"]), rel=1e-9)
    assert float(b["attention_s"]) == float(a["attention_s"])
    one = decode_step(Serving(DS, chips=8, weight_precision="fp8"), fast_mem, eff, 8, 1, 1, 1, 64, 4096)
    one_skew = decode_step(Serving(DS, chips=8, weight_precision="fp8", ep_imbalance=2.0), fast_mem, eff,
                           8, 1, 1, 1, 64, 4096)
    assert float(one_skew["step_s"]) == float(one["step_s"])


@settings(max_examples=40, deadline=None)
@given(imbalance=st.floats(1, 4), ep=st.sampled_from([1, 8, 32, 64]), batch=st.integers(1, 4096))
def test_an_uneven_expert_load_never_speeds_a_step(imbalance, ep, batch):
    s, skew = (Serving(DS, chips=64, weight_precision="fp8", ep_imbalance=x) for x in (1.0, imbalance))
    args = (H100, EFF, 1, 1, ep, 64, batch)
    assert float(decode_step(skew, *args, 2048)["step_s"]) >= float(decode_step(s, *args, 2048)["step_s"])
    assert float(prefill(skew, *args, 2048)["prefill_s"]) >= float(prefill(s, *args, 2048)["prefill_s"])


def test_experts_live_on_their_pipeline_stages_chips(cat):
    # Kimi K2 (1.03 T parameters, fp8) on 16 H20s: with 16 pipeline stages each stage is one
    # chip, which must hold all of its layers' experts, so expert parallelism over 16 chips
    # cannot exist; with one stage, EP16 spreads every layer's experts over all 16 chips: each
    # holds 1,014.7 B routed-expert parameters / 16 = 63.4 GB in fp8, plus, under DP attention,
    # its own copy of the other 11.7 B (attention, dense layers, shared experts, embeddings),
    # 75.1 GB, and the KV cache of its one sequence.
    q = dict(model="kimi-k2", chip="h20", chips=16, weight_precision="fp8", phase="decode",
             input_len=1024, output_len=1, batch=16)
    staged = served(cat, **q, layout={"tp": 1, "pp": 16, "ep": 16}).iloc[0]
    assert "pipeline stage" in staged.reason
    spread = served(cat, **q, layout={"tp": 1, "pp": 1, "ep": 16}).iloc[0]
    assert spread.reason == "" and spread.memory_gb_per_chip == pytest.approx(75.14 + 0.07, abs=0.05)


def test_fp8_attention_runs_the_attention_core_at_the_8_bit_peak(cat):
    # DeepSeek-R1 decode on 16 H20s at a 4K context: MLA attention in the latent space is
    # compute-bound on the H20 (148 dense BF16 TFLOPS); FlashMLA's or FA3's FP8 kernels multiply
    # at the 296 TFLOPS FP8 peak, at the fraction FP8 GEMMs keep, so the attention part of a
    # step shrinks by 2 x fp8_gemm where compute binds. A chip without FP8 units (910B) falls
    # back to its bf16 peak and says so.
    q = dict(model="deepseek-r1", chip="h20", chips=16, weight_precision="fp8", kv_precision="fp8",
             phase="decode", input_len=4096, output_len=1, batch=512, layout={"tp": 1, "dp": 16, "ep": 16})
    bf = served(cat, **q).iloc[0]
    f8 = served(cat, **q, attention_precision="fp8").iloc[0]
    s = serving_setup(cat, model="deepseek-r1", chip="h20")
    ratio = bf.attention_s / f8.attention_s
    assert 1.3 < ratio < 2 * s.efficiency.fp8_gemm + 1e-9
    assert f8.tokens_per_s > bf.tokens_per_s
    fallback = serving_setup(cat, model="llama-3.1-8b", chip="910b", attention_precision="fp8")
    assert fallback.serving.attention_precision == "bf16"
    assert any("no FP8 units" in a for a in fallback.assumptions)
