"""Tornadoes: one input at a time at the ends of its range, the flip value, the model's error."""

import numpy as np
import pytest

from chipgap.analyses.answer import answer, resample
from chipgap.analyses.sensitivity import OneAtATime, Recorder, tornado
from chipgap.catalog.quantity import Quantity
from chipgap.catalog.question import TrainQuestion


def q(lo: float, hi: float) -> Quantity:
    return Quantity(value=[lo, hi], source="x", confidence="estimate")


def test_each_input_alone_at_each_end_and_the_flip_value():
    a, b = q(1.0, 3.0), q(10.0, 20.0)
    s = tornado(lambda draw: draw(a, "x.a") * draw(b, "x.b"), line=40.0, error=(0.8, 1.25))
    assert s.base == pytest.approx(2.0 * 15.0)
    bars = {bar.key: bar for bar in s.bars}
    assert (bars["x.a"].low_result, bars["x.a"].high_result) == (15.0, 45.0)
    assert bars["x.a"].flip == pytest.approx(40.0 / 15.0) and bars["x.a"].flip_inside
    assert (bars["x.b"].low_result, bars["x.b"].high_result) == (20.0, 40.0)
    assert bars["x.b"].flip == pytest.approx(20.0)
    err = bars["model-error"]
    assert (err.low_result, err.high_result) == (24.0, 37.5) and err.flip == pytest.approx(40 / 30 - 1)
    assert not err.flip_inside          # the model would have to be 33% low; its error is 25%
    assert s.bars[0].key == "x.a"       # widest first


def test_exact_inputs_are_no_bars_and_draws_have_one_case_per_end():
    rec = Recorder()
    rec(q(1, 2), "k"), rec(Quantity(value=3.0, source="x", confidence="official"), "e")
    assert list(rec.ranged) == ["k"]
    d = OneAtATime(rec.ranged)
    assert d.n == 3 and d(q(1, 2), "k").tolist() == [1.5, 1.0, 2.0]


def test_a_training_answer_resampled_by_one_input_at_a_time(catalog):
    a = answer(catalog, TrainQuestion(model="llama-3.1-8b", chip="910c", chips=64))
    rec = Recorder()
    resample(catalog, a, rec)
    assert "huawei-ascend-910c.bf16_dense_tflops" in rec.ranged
    rate = resample(catalog, a, OneAtATime(rec.ranged)).tokens_per_s.to_numpy()
    assert rate[0] == pytest.approx(a.best(1).tokens_per_s[0])
    i = list(rec.ranged).index("huawei-ascend-910c.bf16_dense_tflops")
    assert rate[1 + 2 * i] < rate[0] < rate[2 + 2 * i]       # more peak, more tokens
    assert np.isfinite(rate).all()
