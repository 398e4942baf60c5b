"""Wafer and yield formulas against textbook values worked by hand."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipgap.models import wafer


def test_gross_dies_textbook_example():
    # 300 mm wafer, 100 mm2 dies: pi 150^2 / 100 - pi 300 / sqrt(200) = 706.9 - 66.6 = 640.3
    assert wafer.gross_dies_per_wafer(100.0) == 640
    # edge exclusion and scribe lanes only take dies away
    assert wafer.gross_dies_per_wafer(100.0, edge_mm=3, scribe_mm=0.1) < 640


@pytest.mark.parametrize("model, expected", [
    ("poisson", math.exp(-1)),                  # e^-1
    ("murphy", (1 - math.exp(-1)) ** 2),        # ((1 - e^-1) / 1)^2
    ("seeds", 0.5),                             # 1 / (1 + 1)
    ("negbin", (1 + 1 / 2) ** -2),              # alpha = 2
])
def test_yield_models_at_unit_defects(model, expected):
    # D0 x A = 1: 100 mm2 = 1 cm2 at 1 defect per cm2
    assert wafer.die_yield(100.0, 1.0, model) == pytest.approx(expected)


@given(area=st.floats(10, 858), y=st.floats(0.01, 0.999),
       model=st.sampled_from(wafer.YIELD_MODELS))
def test_solving_d0_from_a_yield_round_trips(area, y, model):
    d0 = wafer.d0_from_yield(area, y, model)
    assert wafer.die_yield(area, d0, model) == pytest.approx(y, rel=1e-9)


def test_negbin_tends_to_poisson_without_clustering():
    assert wafer.die_yield(300.0, 0.2, "negbin", alpha=1e6) == pytest.approx(wafer.die_yield(300.0, 0.2, "poisson"), rel=1e-5)


def test_break_even_yield_makes_cost_equal_price():
    kw = dict(wafer_price_usd=15000.0, gross_dies=75.0, dies_per_package=2, memory_usd=1500.0,
              packaging_usd=600.0, test_usd=100.0, assembly_yield=0.9)
    y = wafer.break_even_yield(20000.0, **kw)
    die = wafer.cost_per_good_die(kw["wafer_price_usd"], kw["gross_dies"], y)
    cost = wafer.package_cost(die, kw["dies_per_package"], kw["memory_usd"], kw["packaging_usd"],
                              kw["test_usd"], kw["assembly_yield"])
    assert cost == pytest.approx(20000.0)
    assert np.isnan(wafer.break_even_yield(1000.0, **kw))   # the memory alone costs more
