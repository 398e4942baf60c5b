"""Full causal attention (MHA, GQA, MLA) gives the same numbers before and after attention work
was counted per layer kind.

The values below were printed by the models as they stood before that change (main at
f87249d for training and layer work; for serving, the number-format branch merged beside it,
whose fp8 KV scales and weight bytes moved serving figures by under 2%), with the library's
default `Efficiency` and an H100-like `Hardware` written here, so that no refit of the catalog's
constants moves them. They are earlier outputs, not measurements: what they pin is that the
per-kind refactor changed nothing for models whose every layer is full attention.
"""

import numpy as np
import pytest

from chipgap.analyses.infer import ServingSetup, serve_arrays
from chipgap.catalog.serving_job import ServingJob
from chipgap.catalog.workload import workload_from_config
from chipgap.models.inference import Serving, decode_step, kv_bytes_per_token, prefill
from chipgap.models.training import Efficiency, Hardware, Job, train_step
from chipgap.models.transformer import layer_work, model_flops_per_token

from .conftest import DEEPSEEK_V3, GPT3_175B, LLAMA_31_70B, QWEN3_235B

DS = workload_from_config(DEEPSEEK_V3, file="inline", id="ds")
L70 = workload_from_config(LLAMA_31_70B, file="inline", id="l70")
QW = workload_from_config(QWEN3_235B, file="inline", id="qw")
G3 = workload_from_config(GPT3_175B, file="inline", id="g3")
H100 = Hardware(peak_tflops=989.4, peak_fp8_tflops=1978.9, memory_bw_gbps=3350, memory_gb=80,
                scaleup_gbps=450, scaleout_gbps=50, domain=8)
EFF = Efficiency()
REL = 1e-12


@pytest.mark.parametrize("w, flops, kv, core, act", [
    (DS, 250450636800.0, 70272.0, 81920.0, 157696.0),
    (L70, 433116413952.0, 327680.0, 32768.0, 137216.0),
    (QW, 148330512384.0, 192512.0, 32768.0, 70656.0),
    (G3, 1076437131264.0, 4718592.0, 49152.0, 196608.0),
])
def test_layer_work_and_model_flops_are_unchanged(w, flops, kv, core, act):
    lw = layer_work(w)
    assert model_flops_per_token(w, 4096) == pytest.approx(flops, rel=REL)
    assert kv_bytes_per_token(w) == pytest.approx(kv, rel=REL)
    assert lw.attn_core_flops_per_ctx == core and lw.act_elems == act


LAYOUTS = dict(tp=[8, 4, 2, 8], pp=[4, 8, 4, 2], dp=[32, 16, 32, 16], cp=[1, 2, 4, 4], ep=[1, 1, 1, 1],
               vpp=[1, 2, 1, 4], mbs=[1, 1, 2, 1], zero=[1, 3, 0, 2], recompute=[0, 1, 2, 3])


@pytest.mark.parametrize("job, step, memory", [
    (Job(L70, 1024, 8192, 1024, "bf16"),
     [8.207174578982766, 7.568554254975346, 9.99012730640523, 8.582955942352099],
     [32.939933696, 38.696747008, 149.604532224, 14.161698816]),
    (Job(G3, 1024, 2048, 1536, "fp8", flash_attention=False),
     [5.9237447162939665, 5.496769871141911, 8.662675400351276, 10.795868417209396],
     [44.483194432, 30.121703488, 376.419639296, 38.908740688]),
])
def test_training_steps_are_unchanged(job, step, memory):
    out = train_step(job, H100, EFF, **{k: np.array(v) for k, v in LAYOUTS.items()})
    assert out["step_time_s"] == pytest.approx(step, rel=REL)
    assert out["memory_gb"] == pytest.approx(memory, rel=REL)


def test_moe_training_with_mla_is_unchanged():
    lay = dict(tp=[1, 8], pp=[1, 1], dp=[32, 4], cp=[1, 1], ep=[32, 32], vpp=[1, 1], mbs=[1, 1], zero=[1, 1],
               recompute=[0, 3])
    out = train_step(Job(DS, 32, 4096, 1024, "fp8", ep_overlap=True), H100, EFF,
                     **{k: np.array(v) for k, v in lay.items()})
    assert out["step_time_s"] == pytest.approx([53.8721925214059, 93.20447305203618], rel=REL)
    assert out["memory_gb"] == pytest.approx([273.62408939016393, 187.56470743711475], rel=REL)


@pytest.mark.parametrize("w, ep, tpot, memory, ttft", [
    (L70, 1, [0.01505944143059907, 0.03790238384542685], [12.752519168, 86.291513344],
     [0.42036505727860196, 0.5804902072312075]),
    (DS, 8, [0.02496125917267463, 0.02957418563420214], [92.190682624, 104.033263616],
     [0.390614235893509, 0.5172014566631512]),
    (QW, 8, [0.026030857342923402, 0.025733435947179913], [34.00843264, 45.630226432],
     [0.3073937012582906, 0.3440249295327575]),
])
def test_decode_and_prefill_are_unchanged(w, ep, tpot, memory, ttft):
    s = Serving(w, 8, "fp8", "fp8", 0.8 if w is DS else None, True, 1.3)
    d = decode_step(s, H100, EFF, np.array([8, 1]), 1, ep, np.array([1, 8]), np.array([64, 512]),
                    np.array([3000.0, 1500.0]))
    p = prefill(s, H100, EFF, np.array([8, 1]), 1, ep, np.array([1, 8]), np.array([4, 16]), 3000,
                np.array([0.0, 1000.0]))
    assert d["tpot_s"] == pytest.approx(tpot, rel=REL)
    assert d["memory_gb"] == pytest.approx(memory, rel=REL)
    assert p["prefill_s"] == pytest.approx(ttft, rel=REL)


@pytest.mark.parametrize("job, tokens, ttft, memory", [
    (ServingJob(input_len=2000, output_len=500, cached_len=500),
     [4134.350911339463, 6522.409393079146], [60.7533110994788, 82.12593182744347],
     [14.719909888, 22.649192448]),
    (ServingJob(input_len=1000, output_len=1000, requests=700, kv_reserve="full"),
     [5732.318726630485, 9113.446231841706], [43.33894084314312, 56.780113611155194],
     [14.064549888, 21.113192448]),
])
def test_serving_is_unchanged(job, tokens, ttft, memory):
    s = ServingSetup(Serving(L70, 8, "fp8", "fp8"), H100, EFF, "h100", None, ())
    grid = dict(tp=np.array([8, 4]), pp=np.array([1, 2]), ep=np.array([1, 1]), dp=np.array([1, 1]),
                batch=np.array([128, 300]))
    out = serve_arrays(s, grid, job)
    assert out["tokens_per_s"] == pytest.approx(tokens, rel=REL)
    assert out["ttft_ms"] == pytest.approx(ttft, rel=REL)
    assert out["memory_gb_per_chip"] == pytest.approx(memory, rel=REL)
