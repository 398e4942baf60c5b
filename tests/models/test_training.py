"""The training model: hand-worked values, rejections, and invariants (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipgap.catalog.workload import workload_from_config
from chipgap.models.training import REASONS, Efficiency, Hardware, Job, train_step
from chipgap.models.transformer import model_flops_per_token

from .conftest import DEEPSEEK_V3, LLAMA_31_8B, LLAMA_31_70B

H100 = Hardware(peak_tflops=989.4, peak_fp8_tflops=1978.9, memory_bw_gbps=3350, memory_gb=80,
                scaleup_gbps=450, scaleout_gbps=50, domain=8)
EFF = Efficiency()
L8 = workload_from_config(LLAMA_31_8B, file="inline", id="llama-3.1-8b")
L70 = workload_from_config(LLAMA_31_70B, file="inline", id="llama-3.1-70b")
DS = workload_from_config(DEEPSEEK_V3, file="inline", id="deepseek-v3")


def step(job, hw=H100, eff=EFF, **layout):
    lay = dict(tp=1, pp=1, dp=1, cp=1, ep=1, vpp=1, mbs=1, zero=0, recompute=0) | layout
    return {k: np.asarray(v).item() if np.ndim(v) == 0 or np.size(v) == 1 else v
            for k, v in train_step(job, hw, eff, **lay).items()}


def test_model_flops_per_token_conventions():
    # Llama 3.1 8B at 8K: 6 x matmul weights + 6 L d s. Matmul weights = 8,030,261,248 minus the
    # embedding (128256 x 4096) minus 65 norms of 4096 = 7,504,658,432; 6 x 32 x 4096 x 8192
    # = 6,442,450,944.
    assert model_flops_per_token(L8, 8192) == 6 * 7_504_658_432 + 6_442_450_944
    # DeepSeek-V3 at 4K: the ISCA'25 paper (arXiv 2505.09343, Table 2) reports 250 GFLOP/token.
    assert model_flops_per_token(DS, 4096) / 1e9 == pytest.approx(250, rel=0.01)


def test_memory_of_weights_gradients_and_adam_by_hand():
    # 8B on one chip, ZeRO-0: 2 (bf16 weights) + 2 (bf16 grads) + 12 (fp32 master, m, v) bytes
    # per parameter over the 8,030,261,248 parameters held (embedding and head both on the chip).
    r = step(Job(L8, 1, 4096, 1))
    assert r["mem_weights_gb"] == pytest.approx(2 * 8.030261248 - 2 * 4096 * 2 * 32 / 1e9, rel=1e-3)
    assert r["mem_optimizer_gb"] == pytest.approx(6 * r["mem_weights_gb"], rel=1e-9)
    # ZeRO-1 over 8 data-parallel ranks shards only the optimizer state
    z1 = step(Job(L8, 8, 4096, 8), dp=8, zero=1)
    assert z1["mem_optimizer_gb"] == pytest.approx(r["mem_optimizer_gb"] / 8, rel=1e-9)
    assert z1["mem_weights_gb"] == pytest.approx(r["mem_weights_gb"], rel=1e-9)


def test_fp8_training_keeps_one_byte_per_gemm_input_element():
    """Llama 3.1 8B, one 4K sequence on one chip: the GEMM inputs a layer keeps are its two norm
    outputs (2 x 4096), the attention output (32 x 128 = 4096) and the SwiGLU output (14336),
    26,624 elements per token; fp8 keeps them in one byte instead of two. Over 32 layers and
    4,096 tokens that is 26,624 x 32 x 4,096 = 3.49 GB less."""
    bf16 = step(Job(L8, 1, 4096, 1))
    fp8 = step(Job(L8, 1, 4096, 1, "fp8"))
    assert bf16["mem_activations_gb"] - fp8["mem_activations_gb"] == pytest.approx(
        26_624 * 32 * 4096 / 1e9, rel=1e-9)


def test_recomputing_norms_up_projections_and_the_activation_by_hand():
    """Llama 3.1 8B keeps 4 x 4096 (two norm inputs, two norm outputs) + 4096 + 2048 (q, k/v)
    + 4096 (attention output) + 3 x 14336 (gate, up, SwiGLU output) = 69,632 elements per token
    and layer; recomputing the norms and the activation drops the norm outputs and the SwiGLU
    output: 47,104. Over 32 layers and 4,096 tokens in bf16 that is 5.9 GB less, for a sliver
    of time (elementwise work) and no extra FLOPs (Llama has no up-projections)."""
    from chipgap.models.transformer import layer_work

    none, mods = step(Job(L8, 1, 4096, 1)), step(Job(L8, 1, 4096, 1), recompute=3)
    assert none["mem_activations_gb"] - mods["mem_activations_gb"] == pytest.approx(
        (69_632 - 47_104) * 2 * 32 * 4096 / 1e9, rel=1e-9)
    assert mods["hfu"] == mods["mfu"] and mods["step_time_s"] > none["step_time_s"]
    # DeepSeek-V3 (MLA): keep 2 x 7168 + the latents 1536 + 512 + 64 + 16384 + 2 x 18432 =
    # 69,696 instead of 157,696, and redo the up-projections, 1536 x 24576 + 512 x 32768 weights
    lw = layer_work(DS)
    assert (lw.act_elems, lw.act_elems_modules) == (157_696, 69_696)
    assert lw.recompute_params_modules == 1536 * 24576 + 512 * 32768


def test_pipeline_bubble_is_p_minus_1_over_v_micro_batches():
    job = Job(L70, 32, 4096, 64)
    one = step(job, tp=8, pp=4, dp=1, vpp=1, mbs=1, zero=1)
    stage = one["bubble_s"] / 3                      # (pp - 1) / vpp = 3 stage-times of bubble
    assert one["step_time_s"] == pytest.approx(64 * stage + one["bubble_s"] + one["dp_exposed_s"]
                                               + one["optimizer_s"], rel=1e-9)
    two = step(job, tp=8, pp=4, dp=1, vpp=2, mbs=1, zero=1)
    assert two["bubble_s"] == pytest.approx(one["bubble_s"] / 2, rel=0.05)   # p2p doubles, tiny


@pytest.mark.parametrize("layout, bit", [
    (dict(tp=8, pp=1, dp=2), 1),                 # 16 chips laid out for 32
    (dict(tp=16, pp=1, dp=2), 2),                # TP beyond the 8-chip NVLink domain
    (dict(tp=8, pp=4, dp=1, vpp=30), 4),         # 120 virtual stages for 80 layers
    (dict(tp=8, pp=1, dp=4, mbs=3), 8),          # 64 sequences do not split into 4 x 3
    (dict(tp=8, pp=1, dp=2, cp=2, ep=2), 32),    # expert parallelism on a dense model
    (dict(tp=1, pp=1, dp=32, zero=0), 64),       # 70B unsharded on one 80 GB chip
])
def test_impossible_layouts_are_rejected_with_their_reason(layout, bit):
    r = step(Job(L70, 32, 4096, 64), **layout)
    assert r["reason"] & bit, REASONS[bit]


def test_a_valid_layout_has_no_reason():
    assert step(Job(L70, 32, 4096, 64), tp=8, pp=2, dp=2, zero=1, recompute=2)["reason"] == 0


LAYOUTS = st.fixed_dictionaries({
    "tp": st.sampled_from([1, 2, 4, 8]), "pp": st.sampled_from([1, 2, 4]),
    "cp": st.sampled_from([1, 2]), "vpp": st.sampled_from([1, 2]), "mbs": st.sampled_from([1, 2]),
    "zero": st.integers(0, 3), "recompute": st.integers(0, 3)})


@settings(max_examples=60, deadline=None)
@given(lay=LAYOUTS, factor=st.floats(1.01, 8.0),
       field=st.sampled_from(["peak_tflops", "peak_fp8_tflops", "memory_bw_gbps", "scaleup_gbps",
                              "scaleout_gbps"]))
def test_more_bandwidth_or_compute_never_slows_a_step(lay, factor, field):
    job = Job(L70, 64, 4096, 256, precision="fp8")
    dp = 64 // (lay["tp"] * lay["pp"] * lay["cp"])
    base = step(job, dp=dp, **lay)["step_time_s"]
    faster = Hardware(**{**H100.__dict__, field: getattr(H100, field) * factor})
    assert step(job, hw=faster, dp=dp, **lay)["step_time_s"] <= base * (1 + 1e-12)


@settings(max_examples=60, deadline=None)
@given(lay=LAYOUTS)
def test_what_fits_with_zero1_fits_with_zero3(lay):
    job = Job(L70, 64, 4096, 256)
    dp = 64 // (lay["tp"] * lay["pp"] * lay["cp"])
    z1 = step(job, dp=dp, **{**lay, "zero": 1})
    z3 = step(job, dp=dp, **{**lay, "zero": 3})
    assert z3["memory_gb"] <= z1["memory_gb"]
    if z1["fits"]:
        assert z3["fits"]


@settings(max_examples=40, deadline=None)
@given(lay=LAYOUTS, model=st.sampled_from(["L70", "DS"]))
def test_module_recompute_keeps_less_than_none_and_costs_less_than_full(lay, model):
    w = {"L70": L70, "DS": DS}[model]
    dp = 64 // (lay["tp"] * lay["pp"] * lay["cp"])
    job = Job(w, 64, 4096, 256)
    none, mods, full = (step(job, dp=dp, **{**lay, "recompute": r}) for r in (0, 3, 2))
    assert full["mem_activations_gb"] <= mods["mem_activations_gb"] <= none["mem_activations_gb"]
    # (equal when FSDP's exposed gathers hide the recomputation: a step bound by communication)
    tol = 1 + 1e-12
    assert none["step_time_s"] <= mods["step_time_s"] * tol and mods["step_time_s"] <= full["step_time_s"] * tol


@settings(max_examples=40, deadline=None)
@given(lay=LAYOUTS)
def test_doubling_chips_at_fixed_work_per_chip_never_lowers_throughput(lay):
    dp = 32 // (lay["tp"] * lay["pp"] * lay["cp"])
    small = step(Job(L70, 32, 4096, 128), dp=dp, **lay)
    big = step(Job(L70, 64, 4096, 256), dp=2 * dp, **lay)
    assert big["tokens_per_s"] >= small["tokens_per_s"]


def test_a_million_layouts_in_one_call():
    rng = np.random.default_rng(0)
    n = 1_000_000
    lay = dict(tp=rng.choice([1, 2, 4, 8], n), pp=rng.choice([1, 2, 4, 8], n), dp=rng.choice([1, 2, 4], n),
               cp=np.ones(n, int), ep=np.ones(n, int), vpp=rng.choice([1, 2], n),
               mbs=rng.choice([1, 2], n), zero=rng.integers(0, 4, n), recompute=rng.integers(0, 3, n))
    out = train_step(Job(L70, 64, 4096, 256), H100, EFF, **lay)
    assert out["step_time_s"].shape == (n,) and np.isfinite(out["step_time_s"]).all()


def test_the_pipeline_splits_tried_by_hand():
    from chipgap.models.training import _splits

    # 94 layers on 8 stages: even is 12 a stage (the other seven hold 82, 12 at most); the last
    # stage holding 11, 10 or 9 leaves 83, 84 or 85 over seven: 12, 12, 13 on the busiest
    got = [(float(a[0]), float(b[0])) for a, b in _splits(94.0, np.array([8.0]))]
    assert got == [(12.0, 12.0), (11.0, 12.0), (10.0, 12.0), (9.0, 13.0)]
    # one stage holds everything, whatever the candidate
    assert {(float(a[0]), float(b[0])) for a, b in _splits(94.0, np.array([1.0]))} == {(94.0, 0.0)}


def test_the_chosen_split_is_never_slower_than_the_even_one(monkeypatch):
    import chipgap.models.training as tr

    # Llama 3.1 8B (32 layers of 218M weights, a 525M head: about 2.4 layers' worth) on 2, 4
    # and 8 stages: the split tuned for the whole step is at least as fast as the even split,
    # and faster where the head makes the last stage the slowest
    lay = dict(tp=1, pp=np.array([2, 4, 8]), dp=np.array([32, 16, 8]), cp=1, ep=1, vpp=1, mbs=1, zero=1,
               recompute=0)
    job = Job(L8, 64, 4096, 256)
    tuned = step(job, **lay)["step_time_s"]
    even = tr._splits
    monkeypatch.setattr(tr, "_splits", lambda n, pp: [next(iter(even(n, pp)))])
    plain = step(job, **lay)["step_time_s"]
    assert (tuned <= plain).all() and (tuned < plain).any()


def test_multi_token_prediction_flops_by_hand(arch):
    from chipgap.models.transformer import mtp_flops_per_token

    # A dense stand-in with one MTP module: Llama 3.1 8B's shapes (d 4,096, 32 layers, 218.1M
    # matmul weights per layer, vocab 128,256) at 4,096 tokens. The module runs a 2d -> d
    # projection (2 x 4,096^2 = 33.6M), one layer (218,103,808) and the head (525,336,576):
    # forward 2 x 777,035,776 FLOP + causal attention 2 x 32 x 256 x 4,096 / 2 = 33,554,432;
    # training is three times that.
    w = arch(LLAMA_31_8B).model_copy(update={"mtp_layers": 1})
    forward = 2 * (2 * 4096 * 4096 + 218_103_808 + 128_256 * 4096) + 2 * 32 * 256 * 4096 / 2
    assert mtp_flops_per_token(w, 4096) == pytest.approx(3 * forward, rel=1e-12)
    assert mtp_flops_per_token(arch(LLAMA_31_8B), 4096) == 0.0


def test_multi_token_prediction_costs_time_and_memory_but_not_model_flops():
    # DeepSeek-V3 with and without its MTP module, one layout: the module's layer and head run
    # on the last stage, its weights live there, and its FLOPs count as hardware FLOPs only.
    bare = DS.model_copy(update={"mtp_layers": 0})
    lay = dict(pp=16, dp=8, ep=8, vpp=1, mbs=1, zero=1, recompute=0)
    job = dict(seq_len=4096, global_batch=1024, chips=128, precision="fp8")
    a = step(Job(DS, **job), **lay)
    b = step(Job(bare, **job), **lay)
    assert a["step_time_s"] > b["step_time_s"]
    assert a["mem_weights_gb"] > b["mem_weights_gb"]
    assert a["hfu"] / a["mfu"] > b["hfu"] / b["mfu"]


def test_fsdp_gathers_and_reduces_every_micro_batch_zero_1_once_a_step():
    # Llama 3.1 70B on 64 chips, tp 8, dp 8, one sequence per micro-batch: a global batch of 8
    # is one micro-batch per rank, of 32 is four. FSDP (ZeRO 3) gathers the weights for each
    # micro-batch's forward and backward and reduce-scatters its gradients each time (PyTorch
    # FSDP, arXiv 2304.11277): four micro-batches move four times the bytes. The distributed
    # optimizer (ZeRO 1) reduces once a step, whatever the micro-batches.
    lay = dict(tp=8, pp=1, dp=8, cp=1, vpp=1, mbs=1, recompute=0)
    for zero, factor in ((3, 4.0), (1, 1.0)):
        one = step(Job(L70, 64, 4096, 8, dp_overlap=False), zero=zero, **lay)["dp_comm_s"]
        four = step(Job(L70, 64, 4096, 32, dp_overlap=False), zero=zero, **lay)["dp_comm_s"]
        assert float(four) == pytest.approx(factor * float(one), rel=1e-12)
    # under pipeline parallelism ZeRO 3 keeps a step's weights gathered, as ZeRO 2 does
    pp = dict(lay, pp=2, dp=4)
    z3 = step(Job(L70, 64, 4096, 32, dp_overlap=False), zero=3, **pp)
    z2 = step(Job(L70, 64, 4096, 32, dp_overlap=False), zero=2, **pp)
    assert float(z3["dp_comm_s"]) == pytest.approx(float(z2["dp_comm_s"]))   # one gather a step
    assert float(z3["mem_weights_gb"]) == pytest.approx(float(z2["mem_weights_gb"]))


def test_an_all_to_all_spanning_two_domains_sends_half_its_bytes_over_the_network():
    # DeepSeek-V3 (k 8, d 7,168, node-limited to 4 groups), 1,000 tokens per rank, dispatch 1
    # byte + combine 2 bytes: 21,504 bytes per token copy. EP16 over two 8-GPU domains: 8 of the
    # 16 ranks share each domain, so per rank 7/16 of the 8 copies move over NVLink (450 GB/s x
    # 0.8) and 8/16 of the 4 copies that may leave the domain cross InfiniBand (50 GB/s x 0.8),
    # at the same time; plus 2 x log2(16) network latencies.
    from chipgap.models.training import expert_all_to_all_s
    from chipgap.models.transformer import layer_work

    ds = DS.model_copy(update={"routing_groups_per_token": 4})    # config.json's topk_group
    lw = layer_work(ds)
    t = float(expert_all_to_all_s(1000.0, ds, lw, 16, 16, H100, EFF, 1.0, 2.0))
    local = 1000 * 8 * 21504 * 7 / 16 / (H100.scaleup_gbps * EFF.net_scaleup * 1e9)
    remote = 1000 * 4 * 21504 * 8 / 16 / (H100.scaleout_gbps * EFF.net_scaleout * 1e9)
    assert t == pytest.approx(2 * 4 * EFF.alpha_scaleout_s + max(local, remote), rel=1e-12)
    # inside one domain (EP8 over 8 GPUs) everything moves over NVLink: 7/8 of the 8 copies
    inside = float(expert_all_to_all_s(1000.0, ds, lw, 8, 8, H100, EFF, 1.0, 2.0))
    assert inside == pytest.approx(2 * 3 * EFF.alpha_scaleup_s
                                   + 1000 * 8 * 21504 * 7 / 8 / (H100.scaleup_gbps * EFF.net_scaleup * 1e9))


def test_expert_kernels_cap_the_all_to_all_on_a_fast_link_by_hand(catalog):
    # The same EP8 exchange on an NVLink-5-like domain (900 GB/s one way, 72 devices): 0.8 of the
    # link would be 720 GB/s, but the kernels reach 360 (HybridEP on GB200 at 24 SMs), so 7/8 of
    # 8 copies of 21,504 bytes for 1,000 tokens take 150.5 MB / 360 GB/s = 418 us, plus 3 hops.
    # On an H100's 450 GB/s link (360 at 0.8) the same cap changes nothing.
    from chipgap.analyses.efficiency import efficiency_for
    from chipgap.models.training import expert_all_to_all_s
    from chipgap.models.transformer import layer_work

    lw = layer_work(DS)
    nvl5 = Hardware(peak_tflops=2500, peak_fp8_tflops=5000, memory_bw_gbps=8000, memory_gb=186,
                    scaleup_gbps=900, scaleout_gbps=50, domain=72)
    eff = efficiency_for(catalog, "nvidia-gb200")[0]
    assert eff.all_to_all_gbps == 360
    t = float(expert_all_to_all_s(1000.0, DS, lw, 8, 8, nvl5, eff, 1.0, 2.0))
    assert t == pytest.approx(3 * 2 * eff.alpha_scaleup_s + 1000 * 8 * 21504 * 7 / 8 / 360e9, rel=1e-12)
    uncapped = float(expert_all_to_all_s(1000.0, DS, lw, 8, 8, nvl5, EFF, 1.0, 2.0))
    assert uncapped == pytest.approx(3 * 2 * EFF.alpha_scaleup_s + 1000 * 8 * 21504 * 7 / 8 / 720e9, rel=1e-12)
    h100 = [float(expert_all_to_all_s(1000.0, DS, lw, 8, 8, H100, e, 1.0, 2.0)) for e in (eff, EFF)]
    assert h100[0] == pytest.approx(h100[1], rel=1e-12)
