import math
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from chipgap.catalog.quantity import Quantity

SRC = {"source": "s", "confidence": "official"}


def test_exact_value_is_its_own_point_and_bounds():
    q = Quantity(value=989.4, **SRC)
    assert (q.point, q.bounds, q.is_range) == (989.4, (989.4, 989.4), False)
    assert q.source == ("s",)


def test_range_point_is_mode_else_midpoint_else_geometric_for_lognormal():
    assert Quantity(value=[752, 800], mode=780, **SRC).point == 780
    assert Quantity(value=[700, 900], **SRC).point == 800
    assert Quantity(value=[100, 400], dist="lognormal", **SRC).point == pytest.approx(200)


@pytest.mark.parametrize("bad", [
    {"value": [800, 700]},                # low >= high
    {"value": [700, 800], "mode": 900},   # mode outside
    {"value": [1, 2, 3]},                 # not a pair
    {"value": 5, "low": 1},               # both forms
    {},                                   # neither
    {"value": "989"},                     # a string is not a number
    {"value": True},                      # nor a boolean
    {"value": math.inf},
])
def test_malformed_quantities_are_refused(bad):
    with pytest.raises(ValidationError):
        Quantity(**bad, **SRC)


def test_source_and_confidence_are_required():
    with pytest.raises(ValidationError):
        Quantity(value=1.0, confidence="official")
    with pytest.raises(ValidationError):
        Quantity(value=1.0, source=[], confidence="official")
    with pytest.raises(ValidationError):
        Quantity(value=1.0, source="s", confidence="sure")


@given(lo=st.floats(0.1, 1e6), width=st.floats(0.01, 1e6), factor=st.floats(0.01, 100))
def test_scaling_keeps_the_point_inside_the_range(lo, width, factor):
    q = Quantity(value=[lo, lo + width], **SRC).scaled(factor, "x")
    assert q.low <= q.point <= q.high
    assert q.point == pytest.approx((lo + width / 2) * factor)


def test_quantities_pickle():
    q = Quantity(value=[1, 2], mode=1.5, **SRC)
    assert pickle.loads(pickle.dumps(q)) == q
