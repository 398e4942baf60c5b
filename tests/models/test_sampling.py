"""Draws of sourced quantities: distributions, keyed streams, reproducibility."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from chipgap.catalog.quantity import Quantity
from chipgap.models.sampling import Sampler, sample_quantity

N = 200_000


def q(**kw):
    return Quantity(source="x", confidence="estimate", **kw)


def test_uniform_quantiles():
    x = Sampler(N, 1)(q(value=[10.0, 20.0]), "a.f")
    assert np.quantile(x, [0.1, 0.5, 0.9]) == pytest.approx([11, 15, 19], abs=0.05)


def test_triangular_quantiles_match_scipy():
    x = Sampler(N, 2)(q(value=[0.0, 10.0], mode=2.0), "a.f")
    want = stats.triang(c=0.2, loc=0, scale=10).ppf([0.1, 0.5, 0.9])
    assert np.quantile(x, [0.1, 0.5, 0.9]) == pytest.approx(want, abs=0.05)


def test_lognormal_range_is_its_5th_to_95th_percentile():
    x = Sampler(N, 3)(q(value=[100.0, 400.0], dist="lognormal"), "a.f")
    assert np.quantile(x, [0.05, 0.5, 0.95]) == pytest.approx([100, 200, 400], rel=0.01)


def test_exact_and_missing_quantities():
    assert (Sampler(5)(q(value=3.0), "a.f") == 3.0).all()
    assert np.isnan(Sampler(5)(None, "a.f")).all()


def test_streams_are_keyed_not_ordered():
    s, r = Sampler(100, 9), q(value=[0.0, 1.0])
    first = s(r, "chip.bf16")
    s(r, "chip.other")
    assert (s(r, "chip.bf16") == first).all()
    assert not (s(r, "chip.memory") == first).all()
    assert not (Sampler(100, 10)(r, "chip.bf16") == first).all()


@settings(max_examples=50, deadline=None)
@given(lo=st.floats(0.1, 1e6), width=st.floats(1e-3, 1e6), seed=st.integers(0, 2**31))
def test_draws_stay_in_range(lo, width, seed):
    x = sample_quantity(q(value=[lo, lo + width]), 500, np.random.default_rng(seed))
    assert ((x >= lo) & (x <= lo + width)).all()
