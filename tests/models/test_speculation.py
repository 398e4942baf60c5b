"""Speculative decoding with k draft tokens, and weight offload over the host link (issue 18)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chipgap
from chipgap.catalog.question import ServeQuestion
from chipgap.catalog.workload import workload_from_config
from chipgap.errors import FieldError, InputError
from chipgap.models.inference import Serving, decode_step, prefill
from chipgap.models.speculation import Speculation, accept_length
from chipgap.models.training import Efficiency, Hardware
from tests.helpers import served, serving_setup

from .conftest import DEEPSEEK_V3, LLAMA_31_70B

DS = workload_from_config(DEEPSEEK_V3, file="inline", id="deepseek-v3")
L70 = workload_from_config(LLAMA_31_70B, file="inline", id="llama-3.1-70b")
EFF = Efficiency()
H200 = Hardware(peak_tflops=989.4, peak_fp8_tflops=1978.9, memory_bw_gbps=4800, memory_gb=151,
                scaleup_gbps=450, scaleout_gbps=50, domain=8, host_gbps=64)
GB200 = Hardware(peak_tflops=2500, peak_fp8_tflops=5000, memory_bw_gbps=8000, memory_gb=199.7,
                 scaleup_gbps=900, scaleout_gbps=50, domain=72, peak_fp4_tflops=10000, host_gbps=450)


def test_accept_length_worked_by_hand():
    # E(k) = 1 + p1 + p1 p2 + ...: rates 0.9, 0.8, 0.5 -> 1, 1.9, 2.62, 2.98
    spec = Speculation(rates=(0.9, 0.8, 0.5))
    assert accept_length(spec, np.arange(4)) == pytest.approx([1.0, 1.9, 2.62, 2.98])
    assert accept_length(None, 3) == 1.0
    assert float(accept_length(Speculation(accept_length=2.82, draft_tokens=3), 3)) == 2.82


def test_mtp_accept_is_one_draft_token():
    a = Serving(DS, 16, "fp8", "fp8", mtp_accept=0.7)
    b = Serving(DS, 16, "fp8", "fp8", speculation=Speculation(rates=(0.7,), draft_tokens=1))
    args = (H200, EFF, 1, 1, 16, 16, 512, 4096)
    for k in ("step_s", "tpot_s", "memory_gb", "draft_s"):
        assert decode_step(a, *args)[k] == pytest.approx(decode_step(b, *args)[k], rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 4096), ctx=st.integers(1, 16000), p=st.floats(0, 1))
def test_zero_draft_tokens_is_plain_decoding(batch, ctx, p):
    plain = decode_step(Serving(DS, 16, "fp8", "fp8"), H200, EFF, 1, 1, 16, 16, batch, ctx)
    spec = Serving(DS, 16, "fp8", "fp8", speculation=Speculation(rates=(p, p, p)))
    zero = decode_step(spec, H200, EFF, 1, 1, 16, 16, batch, ctx, drafts=0)
    for k in ("step_s", "tpot_s", "memory_gb", "tokens_per_s"):
        assert zero[k] == pytest.approx(plain[k], rel=1e-12)


def test_the_mtp_draft_pass_is_one_layer_and_the_head():
    # DeepSeek-V3 at batch 1 on 8 H200 (TP8): one draft pass reads one MoE layer's touched
    # weights, the 2d x d projection (2 x 7168^2) and the LM head (129,280 x 7168), each an
    # eighth per chip: ~0.2 GB, about what two of the 61 layers the verify pass reads do, and
    # pays two tensor-parallel all-reduces where the verify pays 122
    s = Serving(DS, 8, "fp8", "fp8", speculation=Speculation(rates=(0.8,), draft_tokens=1))
    out = decode_step(s, H200, EFF, 8, 1, 1, 1, 1, 2048)
    verify = out["step_s"] - out["draft_s"]
    assert 1 / 200 < out["draft_s"] / verify < 1 / 10
    module = Serving(DS.model_copy(update={"n_layers": 1, "first_dense_layers": 0, "mtp_layers": 0}), 8, "fp8", "fp8")
    one_layer = decode_step(module, H200, EFF, 8, 1, 1, 1, 1, 2048)["step_s"]
    assert out["draft_s"] > one_layer      # the layer and head, and the 2d x d projection besides


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(1, 2048), k=st.integers(1, 6))
def test_drafts_nobody_accepts_only_cost(batch, k):
    s = Serving(DS, 16, "fp8", "fp8", speculation=Speculation(rates=(0.0,) * 6))
    args = (H200, EFF, 1, 1, 16, 16, batch, 4096)
    assert decode_step(s, *args, drafts=k)["tpot_s"] > decode_step(s, *args, drafts=0)["tpot_s"]


def test_search_over_draft_tokens_under_a_tpot_slo(cat):
    q = dict(model="deepseek-r1", chip="h200", chips=8, phase="decode", input_len=2048, output_len=1024,
             weight_precision="fp8", layout={"tp": 8, "ep": 8}, batch=1, accept_rates=[0.85, 0.7, 0.6])
    df = served(cat, **q)
    assert sorted(df.draft_tokens.unique()) == [0, 1, 2, 3]
    best = df.sort_values("tokens_per_s", ascending=False).iloc[0]
    assert best.draft_tokens > 0           # at batch 1, drafting is nearly free: it pays
    slo = float(df[df.draft_tokens == 0].tpot_ms.iloc[0]) * 0.8
    ok = served(cat, **q, tpot_ms=slo)
    assert (ok[ok.meets_slo].draft_tokens > 0).all() and ok.meets_slo.any()


def test_speculation_inputs_are_checked():
    with pytest.raises(FieldError, match="accept_length"):
        ServeQuestion(model="m", chip="c", draft_tokens=3)
    with pytest.raises(FieldError, match="accept_length"):
        ServeQuestion(model="m", chip="c", draft_tokens=2, accept_length=3.5)
    with pytest.raises(FieldError, match="draft_tokens"):
        ServeQuestion(model="m", chip="c", draft_tokens=-1, accept_length=1.5)
    with pytest.raises(FieldError, match="draft_tokens"):
        ServeQuestion(model="m", chip="c", draft_tokens=2, mtp_accept=0.7)
    with pytest.raises(FieldError, match="accept_rates"):
        ServeQuestion(model="m", chip="c", accept_rates=[0.8, 1.2])


def test_mtp_needs_a_model_with_an_mtp_module(cat):
    with pytest.raises(InputError, match="draft_model"):
        serving_setup(cat, model="llama-3.1-8b", chip="h100", mtp_accept=0.7)


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


# -- weight offload -----------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(f=st.floats(0, 0.99), batch=st.integers(1, 64), prompt=st.integers(64, 8192))
def test_offload_is_never_faster_than_resident_weights(f, batch, prompt):
    resident = Serving(DS, 2, "nvfp4", "fp8")
    off = Serving(DS, 2, "nvfp4", "fp8", weight_offload=f)
    args = (GB200, EFF, 1, 1, 2, 2, batch)
    assert prefill(off, *args, prompt)["prefill_s"] >= prefill(resident, *args, prompt)["prefill_s"]
    assert decode_step(off, *args, prompt)["tpot_s"] >= decode_step(resident, *args, prompt)["tpot_s"]
    assert decode_step(off, *args, prompt)["memory_gb"] <= decode_step(resident, *args, prompt)["memory_gb"]


def test_offload_hides_behind_compute_until_the_link_binds():
    # DeepSeek-V3 in NVFP4 on 2 GB200 (EP2): a layer holds 128 experts x 44.04 M + ~0.25 G of
    # other weights ~ 5.6 G parameters, 3.2 GB at 0.5625 byte. Half of it streamed at
    # 450 GB/s x host_link 0.8 = 360 GB/s takes 4.4 ms: hidden by a 16k-token prefill layer
    # (~0.6 PFLOP per chip: ~100 ms at B200 rates) but not by a decode step of one sequence.
    s = Serving(DS, 2, "nvfp4", "fp8", weight_offload=0.5)
    big = prefill(s, GB200, EFF, 1, 1, 2, 2, 8, 2048)
    assert big["offload_s"] == 0.0
    small = decode_step(s, GB200, EFF, 1, 1, 2, 2, 1, 2048)
    layer_bytes = 0.5625 * (128 * 3 * 7168 * 2048 * 58 / 61 + 2.5e8)
    assert small["offload_s"] / 61 == pytest.approx(0.5 * layer_bytes / 360e9, rel=0.1)


def test_auto_offload_is_the_least_that_fits():
    s = Serving(DS, 2, "nvfp4", "fp8", weight_offload="auto")
    out = prefill(s, GB200, EFF, 1, 1, 2, 2, 64, 16000)
    resident = prefill(Serving(DS, 2, "nvfp4", "fp8"), GB200, EFF, 1, 1, 2, 2, 64, 16000)
    assert not resident["fits"] and out["fits"]
    assert 0 < float(out["weight_offload"]) < 1


def test_offload_needs_a_host_link(cat):
    with pytest.raises(InputError, match="weight_offload"):
        serving_setup(cat, model="deepseek-r1", chip="b200", chips=8, weight_offload=0.5)
    s = serving_setup(cat, model="deepseek-r1", chip="gb200", chips=2, weight_precision="nvfp4",
                      weight_offload="auto")
    assert any("host link" in a for a in s.assumptions)
    with pytest.raises(FieldError, match="weight_offload"):
        ServeQuestion(model="m", chip="c", weight_offload=1.5)
