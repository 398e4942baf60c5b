"""Export-control tests worked by hand at threshold edges, on rules written inline from the
regulation text (88 FR 73458: 3A090.a/.b; 87 FR 62186: 3A090 as first issued)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipgap.catalog.export_rules import ExportRule
from chipgap.models import export as ex

DC = ["datacenter"]
RULE_2022 = ExportRule.model_validate({
    "id": "2022-10", "name": "AC IFR", "citation": "87 FR 62186", "effective": "2022-10-21",
    "status": "superseded", "destinations": "CN", "source": ["s"],
    "classifications": [{"eccn": "3A090", "effect": "licence", "prongs": [
        {"id": "3A090", "all_of": [{"metric": "tpp", "op": "ge", "threshold": 4800},
                                   {"metric": "io_bw_gbps_bidir", "op": "ge", "threshold": 600}]}]}]})
RULE_2023 = ExportRule.model_validate({
    "id": "2023-10", "name": "AC/S IFR", "citation": "88 FR 73458", "effective": "2023-11-17",
    "status": "superseded", "destinations": "D:1, D:4, D:5", "source": ["s"],
    "classifications": [
        {"eccn": "3A090.a", "effect": "licence", "prongs": [
            {"id": "3A090.a.1", "all_of": [{"metric": "tpp", "op": "ge", "threshold": 4800}]},
            {"id": "3A090.a.2", "markets": DC, "all_of": [
                {"metric": "tpp", "op": "ge", "threshold": 1600},
                {"metric": "performance_density", "op": "ge", "threshold": 5.92}]}]},
        {"eccn": "3A090.b", "effect": "licence (NAC eligible)", "prongs": [
            {"id": "3A090.b.1", "markets": DC, "all_of": [
                {"metric": "tpp", "op": "ge", "threshold": 2400},
                {"metric": "tpp", "op": "lt", "threshold": 4800},
                {"metric": "performance_density", "op": "ge", "threshold": 1.6},
                {"metric": "performance_density", "op": "lt", "threshold": 5.92}]},
            {"id": "3A090.b.2", "markets": DC, "all_of": [
                {"metric": "tpp", "op": "ge", "threshold": 1600},
                {"metric": "performance_density", "op": "ge", "threshold": 3.2},
                {"metric": "performance_density", "op": "lt", "threshold": 5.92}]}]}]})
BITS = np.array([16, 8])


def test_tpp_is_the_best_precision_times_bits():
    # H100 SXM: 989.4 bf16 x 16 = 15,830.4; 1,978.9 fp8 x 8 = 15,831.2 -> the larger
    # RTX 4090: fp8 660.6 x 8 = 5,284.8 (Epoch AI lists 5,284.8); unknown fp8 is skipped
    peaks = np.array([[989.4, 1978.9], [330.3, 660.6], [148.0, np.nan], [np.nan, np.nan]])
    got = ex.tpp(peaks, BITS)
    np.testing.assert_allclose(got[:3], [15831.2, 5284.8, 2368.0])
    assert np.isnan(got[3])


def test_three_valued_logic():
    t, f, u = np.array(1.0), np.array(0.0), np.array(np.nan)
    assert ex.all_of([t, f, u]) == 0 and np.isnan(ex.all_of([t, u])) and ex.all_of([t, t]) == 1
    assert ex.any_of([f, t, u]) == 1 and np.isnan(ex.any_of([f, u])) and ex.any_of([f, f]) == 0


@pytest.mark.parametrize("tpp, io, expected", [
    (4799.9, 900, -1), (4800.0, 900, 0),      # just under / at the TPP threshold
    (15832, 599.9, -1), (15832, 600, 0),      # A800/H800 cut NVLink to 400 < 600
    (15832, np.nan, -2),                      # interconnect unknown: cannot decide
    (4000, np.nan, -1),                       # ... unless TPP alone decides
])
def test_2022_rule_needs_both_tpp_and_interconnect(tpp, io, expected):
    idx, _ = ex.classify(RULE_2022, {"tpp": np.array([tpp]), "io_bw_gbps_bidir": np.array([io])},
                         np.array(["datacenter"]))
    assert idx[0] == expected


@pytest.mark.parametrize("tpp, area, market, expected", [
    (15832, 814, "datacenter", "3A090.a"),     # H100
    (2368, 814, "datacenter", None),           # H20: TPP < 2400 and PD 2.91 < 3.2
    (2400, 814, "datacenter", "3A090.b"),      # one step up: b.1
    (1912, 608.5, "datacenter", None),         # L20: PD 3.14 < 3.2
    (1948, 608.5, "datacenter", "3A090.b"),    # PD 3.201 >= 3.2: b.2
    (4707, 608.5, "consumer", None),           # RTX 4090D: consumer, TPP < 4800
    (4707, 608.5, "datacenter", "3A090.a"),    # the same die sold for data centres: a.2
    (5285, 608.5, "consumer", "3A090.a"),      # RTX 4090: a.1
    (1599.9, 100, "datacenter", None),         # PD 16 but TPP under 1600
])
def test_2023_rule_published_cases(tpp, area, market, expected):
    m = {"tpp": np.array([tpp]), "performance_density": np.array([tpp / area])}
    idx, _ = ex.classify(RULE_2023, m, np.array([market]))
    got = None if idx[0] == -1 else RULE_2023.classifications[idx[0]].eccn
    assert got == expected


@pytest.mark.parametrize("area, market, sup, binding", [
    (814.0, "datacenter", 2400.0, "3A090.b.1"),        # the H20's ceiling
    (608.5, "datacenter", 3.2 * 608.5, "3A090.b.2"),   # the L20's ceiling: 1,947.2
    (100.0, "datacenter", 1600.0, "3A090.a.2"),        # small dies: PD >= 5.92 from 592 up
    (5000.0, "datacenter", 4800.0, "3A090.a.1"),       # huge dies: only the TPP cap binds
    (608.5, "consumer", 4800.0, "3A090.a.1"),          # gaming cards: only a.1 applies
])
def test_headroom_by_hand(area, market, sup, binding):
    lo, hi, ids = ex.controlled_intervals(RULE_2023, np.array([area]), market, {})
    got, b = ex.max_uncontrolled_tpp(lo, hi)
    assert got[0] == pytest.approx(sup) and ids[b[0]] == binding
    # just under the supremum escapes every test, at it a test holds
    assert not ex.is_caught(np.array([[sup * (1 - 1e-9)]]), lo, hi)[0, 0]
    assert ex.is_caught(np.array([[sup]]), lo, hi)[0, 0]


@pytest.mark.parametrize("io, sup", [(400.0, np.inf), (600.0, 4800.0), (None, 4800.0)])
def test_2022_headroom_depends_on_interconnect(io, sup):
    lo, hi, _ = ex.controlled_intervals(RULE_2022, np.array([814.0]), "datacenter",
                                        {"io_bw_gbps_bidir": io})
    assert ex.max_uncontrolled_tpp(lo, hi)[0][0] == sup


def test_nearest_status_change_for_h100_and_h20():
    lo, hi, _ = ex.controlled_intervals(RULE_2023, np.array([814.0, 814.0]), "datacenter", {})
    down, up = ex.nearest_status_change(np.array([15832.0, 2368.0]), lo, hi)
    assert down[0] == pytest.approx(2400) and np.isnan(up[0])   # H100 must fall under 2,400
    assert np.isnan(down[1]) and up[1] == pytest.approx(2400)   # H20 may grow 1.35 %


@given(area=st.floats(10, 5000), tpp=st.floats(0, 20000))
def test_headroom_agrees_with_classification(area, tpp):
    lo, hi, _ = ex.controlled_intervals(RULE_2023, np.array([area]), "datacenter", {})
    sup = ex.max_uncontrolled_tpp(lo, hi)[0][0]
    idx, _ = ex.classify(RULE_2023, {"tpp": np.array([tpp]), "performance_density": np.array([tpp / area])},
                         np.array(["datacenter"]))
    if tpp >= sup * (1 + 1e-9):
        assert idx[0] >= 0   # everything at or above the supremum is controlled
    assert (idx[0] >= 0) == bool(ex.is_caught(np.array([[tpp]]), lo, hi)[0, 0])
