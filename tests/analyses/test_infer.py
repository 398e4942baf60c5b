"""Serving analyses on catalog hardware: the H800 cluster against CloudMatrix 384, Pareto."""

import pytest

import chipgap
from chipgap.analyses.infer import best, pareto, serve
from chipgap.catalog.serving_job import ServingJob
from chipgap.errors import FieldError, InputError
from tests.helpers import served, serving_setup


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


def _decode(cat, chip, chips, system, precision):
    df = served(cat, model="deepseek-r1", chip=chip, chips=chips, system=system, weight_precision=precision,
                kv_precision=precision if precision == "int8" else "bf16", mtp_accept=0.7, ep_overlap=True,
                phase="decode", input_len=4096, output_len=1, layout={"tp": 1, "pp": 1}, tpot_ms=50)
    return best(df, 1).iloc[0]


def test_h800_cluster_and_cloudmatrix_differ_for_reasons_the_breakdown_shows(cat):
    # DeepSeek-R1 decode, 4K context, TPOT under 50 ms, one expert per chip over the instance.
    h800 = _decode(cat, "h800", 144, None, "fp8")                 # 18 HGX nodes: EP over InfiniBand
    cm = _decode(cat, "910c", 160, "huawei-cloudmatrix-384", "int8")  # one UB domain
    assert h800.tpot_ms <= 50 and cm.tpot_ms <= 50
    # the H800's expert all-to-all crosses the 50 GB/s network, the 910C's stays on Unified Bus
    assert h800.ep_comm_s > cm.ep_comm_s
    # per chip, both land within a factor of two of each other and of what was published
    # (DeepSeek ~1,850 tokens/s per H800; CloudMatrix384 paper 1,943 per 910C)
    for row, published in ((h800, 1850), (cm, 1943)):
        assert published / 2 < row.tokens_per_s_per_chip < published * 2


def test_pareto_front_is_monotone(cat):
    front = pareto(served(cat, model="llama-3.1-70b", chip="h100", chips=8, weight_precision="fp8",
                          kv_precision="fp8", input_len=2048, output_len=512))
    assert len(front) > 3
    assert front.tpot_ms.is_monotonic_increasing
    assert front.tokens_per_s_per_chip.is_monotonic_increasing


def test_a_setup_takes_a_serve_question(cat):
    from chipgap.analyses.infer import serving_setup as setup_of

    with pytest.raises(InputError, match="'question' must be a chipgap.catalog.ServeQuestion"):
        setup_of(cat, ServingJob(input_len=1024, output_len=512))


def test_a_910c_package_is_two_devices(catalog):
    """Each die is an NPU: half the package's compute, memory and links, a domain of 768 dies,
    and weights replicated per die under data-parallel attention."""
    s = serving_setup(catalog, model="llama-3.1-8b", chip="910c", chips=1)
    assert s.devices == 2 and s.serving.chips == 2
    assert s.hardware.memory_bw_gbps == 1600 and s.hardware.memory_gb == pytest.approx(64 * 2**30 / 1e9) and s.hardware.domain == 768
    assert s.hardware.peak_tflops == pytest.approx(376)
    q = dict(model="llama-3.1-8b", chip="910c", chips=1, phase="decode", input_len=1024, output_len=1, batch=2)
    split = served(catalog, **q, layout={"tp": 2, "dp": 1}).iloc[0]
    replicated = served(catalog, **q, layout={"tp": 1, "dp": 2}).iloc[0]
    weights = 8_030_261_248 * 2 / 1e9        # Llama 3.1 8B in bf16, once per copy
    assert split.memory_gb_per_chip == pytest.approx(weights, rel=0.02)
    assert replicated.memory_gb_per_chip == pytest.approx(2 * weights, rel=0.02)
    # per package: two devices' sequences over one package
    assert replicated.tokens_per_s_per_chip == pytest.approx(replicated.tokens_per_s)


def test_an_engine_that_schedules_between_steps_loses_a_tenth_of_each_step(cat):
    # SGLang before v0.4 left the GPU idle while its CPU scheduled the next step; v0.4's
    # overlap scheduler gained 1.1x. Without it, every step takes 1.1x as long: TTFT and TPOT
    # grow by 10 %, throughput falls to 1/1.1, and the breakdown shows the idle tenth.
    for phase, requests in (("serve", 3000), ("serve", None), ("decode", None), ("prefill", None)):
        q = dict(model="llama-3.1-8b", chip="h100", phase=phase, input_len=1000, output_len=1000,
                 requests=requests, batch=256)
        fast = served(cat, **q).iloc[0]
        slow = served(cat, **q, overlap_scheduler=False).iloc[0]
        assert slow.tokens_per_s == pytest.approx(fast.tokens_per_s / 1.1, rel=1e-12)
        assert slow.tpot_ms == pytest.approx(fast.tpot_ms * 1.1, rel=1e-12)
        assert slow.ttft_ms == pytest.approx(fast.ttft_ms * 1.1, rel=1e-12)
        assert fast.scheduler_s == 0.0
        assert slow.scheduler_s == pytest.approx(0.1 * fast.tpot_ms / 1e3, rel=1e-12)


@pytest.mark.parametrize("bad", [0.5, float("nan"), "2", True])
def test_an_expert_imbalance_below_one_or_not_a_number_is_refused(cat, bad):
    with pytest.raises(FieldError, match="ep_imbalance"):
        serving_setup(cat, model="deepseek-r1", chip="h800", chips=16, ep_imbalance=bad)


def test_the_engine_batch_cap_holds_at_every_phase_of_the_kernel(cat):
    # serve_arrays (the kernel sweeps and samples call) caps the batch at max_batch in a prefill
    # pool too: 64 prompts asked, 16 allowed, the rate of 16.
    import numpy as np

    from chipgap.analyses.infer import serve_arrays

    s = serving_setup(cat, model="llama-3.1-8b", chip="h100")
    grid = {k: np.array([1]) for k in ("tp", "pp", "ep", "dp")}
    capped = serve_arrays(s, {**grid, "batch": np.array([64])},
                          ServingJob(phase="prefill", input_len=2048, output_len=1, max_batch=16))
    sixteen = serve_arrays(s, {**grid, "batch": np.array([16])},
                           ServingJob(phase="prefill", input_len=2048, output_len=1))
    assert capped["tokens_per_s"][0] == pytest.approx(sixteen["tokens_per_s"][0], rel=1e-12)
