"""Training analyses on catalog hardware: layouts, search, errors."""

import numpy as np
import pytest

import chipgap
from chipgap.analyses.train import chips_needed, evaluate, hardware, layout_grid, search, time_to_train_days
from chipgap.analyses.train import setup as setup_q
from chipgap.catalog.question import Layout, TrainQuestion
from chipgap.errors import FieldError, InputError, UnknownIdError
from chipgap.models.training import train_step, train_step_blocked


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


def setup(cat, model, chip, chips, seq_len, global_batch, **kw):
    return setup_q(cat, TrainQuestion(model=model, chip=chip, chips=chips, seq_len=seq_len,
                                      global_batch=global_batch, **kw))


def test_hardware_comes_from_the_chip_and_its_usual_system(cat):
    hw, system = hardware(cat, "h800")
    assert system == "nvidia-hgx-h800" and hw.domain == 8
    assert hw.scaleup_gbps == 200 and hw.peak_tflops == pytest.approx(989.4)  # NVLink cut to 400 bidir
    hw, system = hardware(cat, "910c")
    assert system == "huawei-cloudmatrix-384" and hw.domain == 384
    assert hw.memory_gb == pytest.approx(137.438953472)  # 128 GiB: a memory maker's GB is 2**30 bytes


def test_search_finds_only_valid_layouts_and_beats_a_naive_one(cat):
    s = setup(cat, "llama-3.1-70b", "h100", 64, 4096, 256)
    best, every = search(s, top=3)
    assert (best.reason == "").all() and best.fits.all() and len(best) == 3
    naive = evaluate(s, dict(tp=8, pp=1, dp=8, zero=1, recompute="full")).iloc[0]
    assert best.tokens_per_s[0] >= naive.tokens_per_s
    assert every.tokens_per_s.is_monotonic_increasing is False  # one pass over many layouts
    assert best.tokens_per_s[0] == every[every.valid].tokens_per_s.max()
    assert (every.tp * every.pp * every.dp * every.cp == 64).all()


def test_layout_grid_respects_the_scale_up_domain(cat):
    s = setup(cat, "llama-3.1-70b", "h100", 64, 4096, 256)
    g = layout_grid(s)
    assert g["tp"].max() == 8 and set(np.unique(g["ep"])) == {1}
    moe = setup(cat, "deepseek-v3", "h800", 2048, 4096, 15360)
    assert {1, 64, 256} <= set(np.unique(layout_grid(moe)["ep"]))


def test_blocked_evaluation_equals_one_call(cat):
    s = setup(cat, "llama-3.1-70b", "h100", 64, 4096, 256)
    g = layout_grid(s)
    one = train_step(s.job, s.hardware, s.efficiency, **g)
    blocks = train_step_blocked(s.job, s.hardware, s.efficiency, block=997, **g)
    for k in one:
        np.testing.assert_array_equal(np.broadcast_to(one[k], blocks[k].shape), blocks[k])


def test_time_to_train():
    assert time_to_train_days(1e6, 86400e6) == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(model="llama-9", chip="h100"), UnknownIdError, "unknown workload"),
    (dict(model="llama-3.1-8b", chip="huawei-ascend-910d"), InputError, "bf16_dense_tflops"),
    (dict(model="llama-3.1-8b", chip="h100", system="huawei-cloudmatrix-384"), InputError, "system"),
    (dict(model="llama-3.1-8b", chip="h100", precision="fp4"), FieldError, "precision"),
    (dict(model="llama-3.1-8b", chip="h100", chips=0), FieldError, "chips"),
])
def test_bad_questions_are_refused(cat, kwargs, error, match):
    args = dict(chips=8, seq_len=4096, global_batch=64) | kwargs
    with pytest.raises(error, match=match):
        setup(cat, args.pop("model"), args.pop("chip"), args.pop("chips"), **args)


def test_chips_needed_is_the_fewest_servers_that_reach_the_rate(cat):
    target = 2.0e5  # tokens/s for Llama 3.1 70B at 4K
    q = TrainQuestion(model="llama-3.1-70b", chip="h100", chips=8, seq_len=4096, global_batch=1024)
    df = chips_needed(cat, q, target)
    first = df[df.reaches].chips.iloc[0]
    assert (df.chips % 8 == 0).all() and df.chips.is_monotonic_increasing
    assert not df[df.chips < first].reaches.any()
    # the answer is not a doubling: the search narrows between the last two doublings
    assert first & (first - 1) != 0 or first == 8
    # one server fewer does not reach it (checked directly, not only among the counts tried)
    fewer = search(setup_q(cat, q.model_copy(update={"chips": int(first) - 8})), top=1)[0]
    assert fewer.tokens_per_s[0] < target


def test_training_lays_out_over_910c_dies_and_reports_per_package(cat):
    s = setup(cat, "llama-3.1-8b", "910c", 64, 4096, 256)
    assert s.devices == 2 and s.job.chips == 128 and s.hardware.domain == 768
    best, _ = search(s, top=1)
    row = best.iloc[0]
    assert row.tp * row.pp * row.dp * row.cp == 128
    # MFU is per die against a die's peak; TFLOPS and memory per chip are per package
    assert row.tflops_per_chip == pytest.approx(row.mfu * 752.0)
    assert row.memory_gb <= 128 * 2**30 / 1e9 * 0.9 + 1e-9
