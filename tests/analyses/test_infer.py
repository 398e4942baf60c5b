"""Serving analyses on catalog hardware: the H800 cluster against CloudMatrix 384, Pareto."""

import pytest

import chipgap
from chipgap.analyses.infer import best, pareto, serve, serving_setup
from chipgap.catalog.serving_job import ServingJob
from chipgap.errors import InputError


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


def _decode(cat, chip, chips, system, precision):
    s = serving_setup(cat, "deepseek-r1", chip, chips, system, precision, precision if precision == "int8" else "bf16",
                      mtp_accept=0.7, ep_overlap=True)
    return best(serve(s, ServingJob(phase="decode", input_len=4096, output_len=1), tp=1, pp=1, tpot_ms=50), 1).iloc[0]


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
    s = serving_setup(cat, "llama-3.1-70b", "h100", 8, weight_precision="fp8", kv_precision="fp8")
    front = pareto(serve(s, ServingJob(input_len=2048, output_len=512)))
    assert len(front) > 3
    assert front.tpot_ms.is_monotonic_increasing
    assert front.tokens_per_s_per_chip.is_monotonic_increasing


def test_serve_takes_a_serving_job(cat):
    s = serving_setup(cat, "llama-3.1-8b", "h100")
    with pytest.raises(InputError, match="'job' must be a chipgap.catalog.ServingJob. Got 1024 instead"):
        serve(s, 1024, 512)


def test_a_910c_package_is_two_devices(catalog):
    """Each die is an NPU: half the package's compute, memory and links, a domain of 768 dies,
    and weights replicated per die under data-parallel attention."""
    from chipgap.analyses.infer import serve, serving_setup

    s = serving_setup(catalog, "llama-3.1-8b", "910c", 1)
    assert s.devices == 2 and s.serving.chips == 2
    assert s.hardware.memory_bw_gbps == 1600 and s.hardware.memory_gb == pytest.approx(64 * 2**30 / 1e9) and s.hardware.domain == 768
    assert s.hardware.peak_tflops == pytest.approx(376)
    job = ServingJob(phase="decode", input_len=1024, output_len=1)
    split = serve(s, job, batch=2, tp=2, dp=1).iloc[0]
    replicated = serve(s, job, batch=2, tp=1, dp=2).iloc[0]
    weights = 8_030_261_248 * 2 / 1e9        # Llama 3.1 8B in bf16, once per copy
    assert split.memory_gb_per_chip == pytest.approx(weights, rel=0.02)
    assert replicated.memory_gb_per_chip == pytest.approx(2 * weights, rel=0.02)
    # per package: two devices' sequences over one package
    assert replicated.tokens_per_s_per_chip == pytest.approx(replicated.tokens_per_s)


def test_an_engine_that_schedules_between_steps_loses_a_tenth_of_each_step(cat):
    # SGLang before v0.4 left the GPU idle while its CPU scheduled the next step; v0.4's
    # overlap scheduler gained 1.1x. Without it, every step takes 1.1x as long: TTFT and TPOT
    # grow by 10 %, throughput falls to 1/1.1, and the breakdown shows the idle tenth.
    s = serving_setup(cat, "llama-3.1-8b", "h100", 1)
    for phase, requests in (("serve", 3000), ("serve", None), ("decode", None), ("prefill", None)):
        fast = serve(s, ServingJob(phase=phase, input_len=1000, output_len=1000, requests=requests),
                     batch=256).iloc[0]
        slow = serve(s, ServingJob(phase=phase, input_len=1000, output_len=1000, requests=requests,
                                   overlap_scheduler=False), batch=256).iloc[0]
        assert slow.tokens_per_s == pytest.approx(fast.tokens_per_s / 1.1, rel=1e-12)
        assert slow.tpot_ms == pytest.approx(fast.tpot_ms * 1.1, rel=1e-12)
        assert slow.ttft_ms == pytest.approx(fast.ttft_ms * 1.1, rel=1e-12)
        assert fast.scheduler_s == 0.0
        assert slow.scheduler_s == pytest.approx(0.1 * fast.tpot_ms / 1e3, rel=1e-12)


@pytest.mark.parametrize("bad", [0.5, float("nan"), "2", True])
def test_an_expert_imbalance_below_one_or_not_a_number_is_refused(cat, bad):
    with pytest.raises(InputError, match="ep_imbalance"):
        serving_setup(cat, "deepseek-r1", "h800", 16, ep_imbalance=bad)


def test_the_engine_batch_cap_holds_at_every_phase_of_the_kernel(cat):
    # serve_arrays (the kernel sweeps and samples call) caps the batch at max_batch in a prefill
    # pool too: 64 prompts asked, 16 allowed, the rate of 16.
    import numpy as np

    from chipgap.analyses.infer import serve_arrays

    s = serving_setup(cat, "llama-3.1-8b", "h100", 1)
    grid = {k: np.array([1]) for k in ("tp", "pp", "ep", "dp")}
    capped = serve_arrays(s, {**grid, "batch": np.array([64])},
                          ServingJob(phase="prefill", input_len=2048, output_len=1, max_batch=16))
    sixteen = serve_arrays(s, {**grid, "batch": np.array([16])},
                           ServingJob(phase="prefill", input_len=2048, output_len=1))
    assert capped["tokens_per_s"][0] == pytest.approx(sixteen["tokens_per_s"][0], rel=1e-12)
