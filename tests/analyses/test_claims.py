"""Claim rules on hand-made evidence: the verdict follows the evidence and the model's error."""

import math

import pytest

from chipgap.analyses import claims
from chipgap.analyses.claims import (CANNOT, CONTRADICTED, PARTLY, SUPPORTED, WITHIN, CostComparison, ModelError,
                                     Ratio, combine, judge)

ASCEND = ModelError("ascend", "training", 20.0, -5.0, 8)
HOPPER = ModelError("hopper", "training", 7.0, 3.0, 20)


def test_a_gap_inside_the_model_error_is_no_verdict():
    # 0.85x the H100's MFU with a 20% and a 7% error either side: the band straddles parity
    o = judge(Ratio(0.85, 0.84, 0.86, ASCEND, HOPPER), 1.0, "below")
    assert o.outcome == WITHIN and o.low < 1 < o.high
    # the same gap with small errors is a lag
    small = ModelError("ascend", "training", 3.0, 0.0, 8)
    assert judge(Ratio(0.85, 0.84, 0.86, small, HOPPER), 1.0, "below").outcome == SUPPORTED
    # and a lead beyond both errors contradicts it
    assert judge(Ratio(1.6, 1.55, 1.65, ASCEND, HOPPER), 1.0, "below").outcome == CONTRADICTED


def test_one_family_cancels_its_error_and_bias_is_taken_out():
    same = Ratio(0.95, 0.94, 0.96, HOPPER, HOPPER)
    assert same.factors() == (1.0, 1.0) and judge(same, 1.0, "below").outcome == SUPPORTED
    r = Ratio(0.6, 0.6, 0.6, ModelError("ascend", "training", 45.0, -45.0, 10), HOPPER)
    assert r.corrected() == pytest.approx(0.6 * 1.03 / 0.55)


def test_claim_3_follows_its_evidence():
    bw = Ratio(0.955, 0.955, 0.955)
    lag = claims.claim_3(bw, Ratio(0.6, 0.58, 0.62, ASCEND, HOPPER), Ratio(0.6, 0.59, 0.61, ASCEND, HOPPER),
                         "llama-3.1-70b", "fitted")
    assert lag.verdict == SUPPORTED and "MFU" in lag.headline and "supported" in lag.headline
    within = claims.claim_3(bw, Ratio(0.7, 0.68, 0.72, ASCEND, HOPPER), Ratio(0.85, 0.84, 0.86, ASCEND, HOPPER),
                            "llama-3.1-70b", "fitted")
    assert within.verdict == PARTLY and WITHIN in within.evidence
    assert claims.claim_3(bw, Ratio(math.nan, math.nan, math.nan), Ratio(math.nan, math.nan, math.nan),
                          "m", "b").verdict == CANNOT


def test_claim_5_shows_what_is_computed_and_no_probability():
    v = claims.claim_5(Ratio(0.94, 0.8, 1.1, ASCEND, HOPPER), None, "its specs are a rumour.")
    assert v.verdict == CANNOT
    assert "rumour" in v.evidence and "0.94x" in v.evidence
    assert "%" not in v.evidence.replace("P10", "")        # no probability under 'cannot be computed'
    assert "P(" not in v.evidence and "probab" not in v.evidence.lower()


def test_claim_7_uses_a_parity_band_and_says_where_it_flips():
    def comp(r: float, lo: float, hi: float, flip: float) -> CostComparison:
        return CostComparison("rival", Ratio(r, lo, hi, None, None), "whole system", "one server", flip)

    # 3% cheaper is parity, not an advantage
    parity = claims.claim_7("CM384", "llama", [comp(0.97, 0.95, 0.99, 8.4e6)], 8.2e6)
    assert parity.verdict == WITHIN and "+2%" in parity.evidence and "one server" in parity.evidence
    cheaper = claims.claim_7("CM384", "llama", [comp(0.6, 0.55, 0.65, 13e6)], 8.2e6)
    assert cheaper.verdict == SUPPORTED
    mixed = claims.claim_7("CM384", "llama", [comp(0.6, 0.55, 0.65, 13e6), comp(2.5, 2.2, 2.8, 2e6)], 8.2e6)
    assert mixed.verdict == PARTLY
    assert claims.claim_7("CM384", "llama", [], 8.2e6).verdict == CANNOT


def test_claim_9_judges_a_single_stream_against_one_reader():
    cpu = ModelError("cpu", "serving", 27.0, -27.0, 6)
    assert claims.claim_9(41.0, cpu, "m", "KH-40000", "x").verdict == SUPPORTED
    assert claims.claim_9(5.5, cpu, "m", "KH-40000", "x").verdict == WITHIN
    assert claims.claim_9(2.0, cpu, "m", "KH-40000", "x").verdict == CONTRADICTED


def test_combining_parts():
    assert combine([SUPPORTED, CANNOT]) == SUPPORTED
    assert combine([CONTRADICTED, CONTRADICTED]) == CONTRADICTED
    assert combine([]) == CANNOT
