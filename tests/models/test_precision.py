"""Number formats per operator: bytes with block scales, quantization traffic, the 4-bit peak,
fallback to bf16 where a chip has no units, and the training recipes' casts (issue 18)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chipgap
from chipgap.catalog.question import ServeQuestion
from chipgap.catalog.workload import workload_from_config
from chipgap.errors import FieldError, InputError
from chipgap.models.inference import Serving, decode_step, prefill, weights_bytes_per_chip
from chipgap.models.precision import COMPUTES_IN, bytes_per_element, default_compute, quantize_bytes
from chipgap.models.training import Efficiency, Hardware, Job, _low_precision
from tests.helpers import served, serving_setup, train_setup

from .conftest import DEEPSEEK_V3, LLAMA_31_70B

L70 = workload_from_config(LLAMA_31_70B, file="inline", id="llama-3.1-70b")
DS = workload_from_config(DEEPSEEK_V3, file="inline", id="deepseek-v3")
EFF = Efficiency()
# B200 (HGX): 2,250 bf16 / 4,500 fp8 / 9,000 fp4 dense TFLOPS, 7.7 TB/s, 180 GiB
B200 = Hardware(peak_tflops=2250, peak_fp8_tflops=4500, memory_bw_gbps=7700, memory_gb=193,
                scaleup_gbps=900, scaleout_gbps=50, domain=8, peak_fp4_tflops=9000, host_gbps=64)


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


def test_block_scaled_bytes_from_the_format_definitions():
    # NVFP4: 4-bit E2M1 + one 8-bit E4M3 scale per 16 (TE's NVFP4 page): 0.5 + 1/16; MXFP4 and
    # MXFP8: one 8-bit E8M0 scale per 32 (OCP MX v1.0): 0.5 + 1/32 and 1 + 1/32
    assert bytes_per_element("nvfp4", EFF) == 0.5625
    assert bytes_per_element("mxfp4", EFF) == 0.53125
    assert bytes_per_element("mxfp8", EFF) == 1.03125
    assert [bytes_per_element(f, EFF) for f in ("bf16", "fp8", "int8", "int4")] == [2.0, 1.0, 1.0, 0.5]


def test_quantizing_an_activation_costs_its_narrower_write_or_a_kernel():
    # fused into the norm: writes 1 byte (fp8) instead of 2; a quantize kernel reads 2, writes 1
    assert quantize_bytes("fp8", EFF) == (-1.0, 3.0)
    assert quantize_bytes("mxfp8", EFF) == (-0.96875, 3.03125)
    assert quantize_bytes("bf16", EFF) == (0.0, 0.0)


def test_default_compute_formats():
    assert [default_compute(w) for w in ("bf16", "fp8", "int8", "int4", "nvfp4", "mxfp4")] == \
        ["bf16", "fp8", "int8", "bf16", "nvfp4", "mxfp4"]
    assert "int8" in COMPUTES_IN["int4"] and "fp8" in COMPUTES_IN["nvfp4"]


@pytest.mark.parametrize("fmt, ratio", [("nvfp4", 0.5625 / 2), ("mxfp4", 0.53125 / 2), ("fp8", 0.5)])
def test_weights_scale_with_the_format_bytes(fmt, ratio):
    # every weight the chip holds (layers, LM head, embedding) is stored in the one format
    bf16 = weights_bytes_per_chip(Serving(L70, 8, "bf16"), 8, 1, 1)
    assert weights_bytes_per_chip(Serving(L70, 8, fmt), 8, 1, 1) == pytest.approx(ratio * bf16, rel=1e-12)


def test_attention_weights_in_their_own_format():
    # DeepSeek-V3 layer attention projections are 187.1 M parameters: q_a 7168 x 1536, q_b 1536 x
    # 128 x 192, kv_a 7168 x 576, kv_b 512 x 128 x 256, o 128 x 128 x 7168 (and two norms): held
    # in fp8 (1 byte) instead of nvfp4 (0.5625), 61 layers on one chip: 0.4375 x 61 x that
    both = weights_bytes_per_chip(Serving(DS, 8, "nvfp4"), 1, 1, 8)
    mixed = weights_bytes_per_chip(Serving(DS, 8, "nvfp4", attention_weight_precision="fp8"), 1, 1, 8)
    attn = 7168 * 1536 + 1536 * 128 * 192 + 7168 * 576 + 512 * 128 * 256 + 128 * 128 * 7168
    assert mixed - both == pytest.approx(0.4375 * 61 * attn, rel=2e-3)


def test_fp4_gemms_run_on_the_4bit_peak_and_keep_fp4_gemm_of_the_share():
    # a compute-bound prefill of Llama 3.1 70B on one B200: the GEMMs at 9,000 x fp4_gemm against
    # 4,500 x fp8_gemm; with fp4_gemm = fp8_gemm the GEMM time halves
    eff = EFF.replace(fp4_gemm=EFF.fp8_gemm, roofline_sharpness=50.0)
    t = {f: prefill(Serving(L70, 1, f), B200, eff, 1, 1, 1, 1, 1, 8192)["compute_s"] for f in ("fp8", "nvfp4")}
    assert t["nvfp4"] < 0.62 * t["fp8"]


def test_a_4bit_format_without_4bit_units_multiplies_at_bf16():
    no_fp4 = Hardware(**{**B200.__dict__, "peak_fp4_tflops": np.nan})
    s = Serving(L70, 1, "nvfp4", compute_precision="nvfp4")
    bf = Serving(L70, 1, "nvfp4", compute_precision="bf16")
    assert prefill(s, no_fp4, EFF, 1, 1, 1, 1, 1, 4096)["prefill_s"] == \
        pytest.approx(prefill(bf, B200, EFF, 1, 1, 1, 1, 1, 4096)["prefill_s"], rel=0.02)


def test_chip_without_fp4_falls_back_and_says_so(cat):
    s = serving_setup(cat, model="llama-3.1-70b", chip="h100", chips=8, weight_precision="nvfp4")
    assert s.serving.compute == "bf16"
    assert any(a.startswith("no nvfp4 units: nvfp4 weights are computed at the bf16 rate") for a in s.assumptions)
    b = serving_setup(cat, model="llama-3.1-70b", chip="b200", chips=8, weight_precision="nvfp4")
    assert b.serving.compute == "nvfp4" and not any("units" in a for a in b.assumptions)


@settings(max_examples=20, deadline=None)
@given(fmt=st.sampled_from(["nvfp4", "mxfp4", "mxfp8", "fp8", "int8"]))
def test_fallback_equals_asking_for_bf16_compute(fmt):
    # on a chip without the format's units the answer is the weight-only one, whatever the format
    cat = chipgap.load_catalog()
    q = dict(model="llama-3.1-8b", chip="a100", chips=1, batch=8, input_len=1024, output_len=128)
    auto = served(cat, **q, weight_precision=fmt)
    if fmt == "int8":       # the A100 has int8 units: W8A8 runs at them
        return
    asked = served(cat, **q, weight_precision=fmt, compute_precision="bf16")
    assert auto.tokens_per_s.iloc[0] == pytest.approx(asked.tokens_per_s.iloc[0], rel=1e-12)


def test_w4a8_holds_int4_and_multiplies_int8(cat):
    # DeepSeek-R1 W4A8 on the 910C: MoE weights int4 (0.5 byte), attention W8A8; GEMMs at the int8 peak
    s = serving_setup(cat, model="deepseek-r1", chip="910c", chips=8, weight_precision="int4",
                      compute_precision="int8", attention_weight_precision="int8")
    assert (s.serving.compute, s.serving.attention_compute) == ("int8", "int8")
    c = cat.chip("910c")
    assert s.hardware.peak_fp8_tflops == pytest.approx(c.int8_dense_tops.point / 2)   # per die
    w8 = serving_setup(cat, model="deepseek-r1", chip="910c", chips=8, weight_precision="int8")
    lay = (1, 1, 16)
    # the experts (0.5 byte), the attention (1 byte, replicated on every die at tp 1), the
    # embedding and LM head (int4 here, as the model holds them in the weights' format)
    ratio = weights_bytes_per_chip(s.serving, *lay) / weights_bytes_per_chip(w8.serving, *lay)
    assert 0.5 < ratio < 0.65


def test_compute_format_the_weights_cannot_feed_is_refused():
    with pytest.raises(FieldError, match="compute_precision"):
        ServeQuestion(model="m", chip="c", weight_precision="int4", compute_precision="nvfp4")
    with pytest.raises(FieldError, match="weight_precision"):
        ServeQuestion(model="m", chip="c", weight_precision="fp6")


def test_nvfp4_dispatch_sends_less_than_fp8():
    s8, s4 = Serving(DS, 16, "nvfp4"), Serving(DS, 16, "nvfp4", dispatch_precision="nvfp4")
    args = (B200, EFF, 1, 1, 16, 16, 1024, 2048)
    assert decode_step(s4, *args)["ep_comm_s"] < decode_step(s8, *args)["ep_comm_s"]


# -- training recipes ---------------------------------------------------------------------------

def test_training_casts_of_each_recipe():
    # fp8: read 2, write 1; MXFP8: read 2, write rowwise and columnwise copies with scales
    # (2 x 1.03125); NVFP4: also read once more for the tensor's amax (2 + 2 + 2 x 0.5625)
    hw = B200
    casts = {f: _low_precision(Job(L70, 8, 4096, 64, f), hw, EFF) for f in ("bf16", "fp8", "mxfp8", "nvfp4")}
    assert [casts[f]["cast"] for f in ("bf16", "fp8", "mxfp8", "nvfp4")] == [0.0, 3.0, 4.0625, 5.125]
    assert casts["nvfp4"]["peak"] == 9000 and casts["nvfp4"]["scale"] == EFF.fp4_gemm
    assert casts["mxfp8"]["peak"] == 4500 and casts["mxfp8"]["copies"] == 2.0


def test_training_recipe_needs_its_units(cat):
    with pytest.raises(InputError, match="precision"):
        train_setup(cat, "llama-3.1-8b", "h100", 8, precision="nvfp4")
    with pytest.raises(InputError, match="precision"):
        train_setup(cat, "llama-3.1-8b", "h100", 8, precision="mxfp8")
    s = train_setup(cat, "llama-3.1-8b", "b200", 8, precision="nvfp4")
    assert s.hardware.peak_fp4_tflops == pytest.approx(9000)
