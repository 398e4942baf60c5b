"""The evaluation core: one question, one answer; Monte Carlo reproducible and consistent with the
point model."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from chipgap.analyses import train
from chipgap.analyses.answer import answer, probability, summarize
from chipgap.catalog.question import ServeQuestion, TrainQuestion
from chipgap.errors import InputError


def train_samples(catalog, model, chip, chips, seq_len, global_batch, samples, seed=0, layout=None):
    q = TrainQuestion(model=model, chip=chip, chips=chips, seq_len=seq_len, global_batch=global_batch,
                      samples=samples, seed=seed, layout=layout or {})
    return answer(catalog, q).samples


def test_same_seed_same_numbers_bit_for_bit(catalog):
    a = train_samples(catalog, "llama-3.1-8b", "huawei-ascend-910c", 64, 4096, 256, samples=300, seed=5)
    b = train_samples(catalog, "llama-3.1-8b", "huawei-ascend-910c", 64, 4096, 256, samples=300, seed=5)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    c = train_samples(catalog, "llama-3.1-8b", "huawei-ascend-910c", 64, 4096, 256, samples=300, seed=6)
    assert not np.array_equal(a.tokens_per_s, c.tokens_per_s)


def test_exact_specs_give_the_point_search(catalog):
    """The H100's specs are all exact: every sample equals the point search's best layout."""
    a = answer(catalog, TrainQuestion(model="llama-3.1-8b", chip="nvidia-h100-sxm", chips=64, seq_len=4096,
                                      global_batch=256, samples=50))
    assert a.samples.tokens_per_s.to_numpy() == pytest.approx(a.best(1).tokens_per_s[0], rel=1e-12)
    assert a.spread().loc["tokens_per_s", "p50"] == pytest.approx(a.best(1).tokens_per_s[0], rel=1e-12)


def test_ranged_peak_spreads_throughput_within_its_bounds(catalog):
    """910C bf16 is 707.8-800 TFLOPS: training throughput spreads, but by less than the peak."""
    df = train_samples(catalog, "llama-3.1-8b", "huawei-ascend-910c", 64, 4096, 256, samples=2000)
    lo, hi = np.quantile(df.tokens_per_s, [0.01, 0.99])
    assert hi > lo * 1.02
    assert hi / lo < 800 / 707.8


def test_serving_samples_meet_the_slo(catalog):
    q = ServeQuestion(model="deepseek-r1", chip="huawei-ascend-910c", chips=16, input_len=4096, output_len=1024,
                      tpot_ms=50, samples=500)
    a = answer(catalog, q)
    assert a.samples.valid.all() and (a.samples.tpot_ms <= 50).all()
    point = a.best(1)
    assert np.median(a.samples.tokens_per_s_per_chip) == pytest.approx(point.tokens_per_s_per_chip[0], rel=0.05)


def test_no_fitting_layout_is_a_clear_error(catalog):
    with pytest.raises(InputError, match="chips"):
        train_samples(catalog, "llama-3.1-405b", "nvidia-h100-sxm", 8, 8192, 8, samples=10)


def test_summary_and_probability_by_hand():
    s = summarize({"x": np.array([1.0, 2.0, 3.0, 4.0, 5.0, np.nan])})
    assert s.loc["x", "p50"] == 3.0 and s.loc["x", "valid_fraction"] == pytest.approx(5 / 6)
    assert s.loc["x", "p10"] == pytest.approx(1.4)
    assert probability(np.array([1.0, 2.0, np.nan]), np.array([1.0, 3.0, 0.0])) == pytest.approx(1 / 3)
    assert probability(np.array([2.0, 4.0]), 2.0, ratio=1.5) == 0.5


def test_a_fixed_layout_under_samples(catalog):
    lay = dict(tp=8, pp=1, dp=16, cp=1, ep=1, vpp=1, mbs=1, zero=1, recompute="selective")  # 128 devices
    df = train_samples(catalog, "llama-3.1-8b", "huawei-ascend-910c", 64, 4096, 256, samples=200, layout=lay)
    assert (df.tp == 8).all() and (df.dp == 16).all() and df.valid.all()
    q = TrainQuestion(model="llama-3.1-8b", chip="huawei-ascend-910c", chips=64, seq_len=4096, global_batch=256)
    point = train.evaluate(train.setup(catalog, q), lay)
    assert np.median(df.tokens_per_s) == pytest.approx(point.tokens_per_s[0], rel=0.03)
    with pytest.raises(InputError, match=r"'dp' must be a value that keeps the rule 'tp x pp x dp x cp "
                                         r"must equal the chip count' \(tp 8 x pp 1 x dp 3 x cp 1 on 128 devices"):
        train_samples(catalog, "llama-3.1-8b", "huawei-ascend-910c", 64, 4096, 256, samples=10,
                      layout=dict(tp=8, pp=1, dp=3))


def test_unset_layout_fields_are_searched_and_set_ones_kept(catalog):
    q = TrainQuestion(model="llama-3.1-70b", chip="h100", chips=64, seq_len=4096, global_batch=256,
                      layout={"tp": 8, "recompute": "full"})
    a = answer(catalog, q)
    assert (a.table.tp == 8).all() and (a.table.recompute == 2).all()
    assert a.table.pp.nunique() > 1 and a.table.mbs.nunique() > 1      # searched
    every = answer(catalog, q.model_copy(update={"layout": q.layout.model_copy(update={"tp": None})}))
    assert a.best(1).tokens_per_s[0] <= every.best(1).tokens_per_s[0]   # a wider search is never worse


def test_an_explicit_invalid_layout_is_refused_not_tabled(catalog):
    q = TrainQuestion(model="llama-3.1-8b", chip="h100", chips=8, layout={"tp": 2, "dp": 7})
    with pytest.raises(InputError, match="'dp' must be .*tp 2 x pp 1 x dp 7 x cp 1 on 8 devices"):
        answer(catalog, q)
    serve = ServeQuestion(model="llama-3.1-8b", chip="h100", chips=8, layout={"tp": 16})
    with pytest.raises(InputError, match="'tp' must be"):
        answer(catalog, serve)


finite = st.floats(-1e9, 1e9, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(a=arrays(float, 30, elements=finite), b=arrays(float, 30, elements=finite))
def test_a_claim_and_its_converse_add_up_to_one(a, b):
    assert probability(a, b) + float(np.mean(b > a)) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(x=arrays(float, st.integers(1, 200), elements=finite))
def test_quantiles_are_ordered_and_inside_the_samples(x):
    s = summarize({"x": x}).loc["x"]
    assert x.min() <= s.p10 <= s.p50 <= s.p90 <= x.max()
