"""The report's model: results computed once, published runs beside the modelled decode, the
ledger's rules fed from the results, the headline sensitivities."""

import pytest

from chipgap.analyses.claims import CANNOT, VERDICTS
from chipgap.analyses.report_model import COST_RIVALS, SUPPLY_YEARS, build_model, report_asks, supply_p50


@pytest.fixture(scope="module")
def model():
    return build_model(samples=200, seed=1)


def test_decode_runs_as_operators_run_it_beside_the_published_figures(model, catalog):
    for k in ("decode-r1-910c", "decode-r1-hopper", "decode-r1-nvl72"):
        q = report_asks()[k].question(report_asks()[k].chips[0])
        assert q.ep_overlap and q.mtp_accept is not None and q.layout.dp is None and q.layout.tp is None
    a, h800 = model.decode_of("huawei-ascend-910c"), model.decode_of("nvidia-h800-sxm")
    assert a.published.run.tolist() == ["cm384-r1-decode-tpot50"]
    assert a.published.measured.iloc[0] == catalog.get("serving_run", "cm384-r1-decode-tpot50").measured.point
    assert h800.published.run.tolist() == ["dsv3-day6-h800-decode"]
    preds = model.predictions.set_index("run")
    assert h800.published.predicted.iloc[0] == preds.loc["dsv3-day6-h800-decode", "predicted"]
    assert model.decode_of("nvidia-h100-sxm").published.empty       # no published run of that instance


def test_the_ledger_follows_the_rules_on_the_computed_results(model):
    assert [c.number for c in model.claims] == list(range(1, 11)) and all(c.verdict in VERDICTS for c in model.claims)
    c5 = model.claims[4]
    assert c5.verdict == CANNOT and "rumour" in c5.evidence and "probab" not in c5.evidence.lower()
    c7 = model.claims[6]
    assert len(model.costs) == len(COST_RIVALS)
    assert all(c.basis_a in c7.assumptions for c in model.costs[:1]) and "parity" in c7.assumptions
    assert all(c.flip_price_usd > 0 for c in model.costs if c.flip_price_usd == c.flip_price_usd)


def test_every_headline_has_a_tornado_with_the_model_error(model):
    assert set(model.sensitivity) == {"training", "decode", "clustering", "unit-cost", "cost", "910d", "cpu", "supply"}
    for key, s in model.sensitivity.items():     # unit cost and supply have no calibrated model error
        assert s.bars and (key in ("unit-cost", "supply") or any(b.key == "model-error" for b in s.bars)), key
    price = next(b for b in model.sensitivity["unit-cost"].bars if b.key == "huawei-ascend-910c.price_usd")
    assert price.low_result > price.high_result     # a dearer chip breaks even at a lower yield
    train = model.sensitivity["training"]
    assert any(b.key == "huawei-ascend-910c.bf16_dense_tflops" for b in train.bars)


def test_the_supply_tornado_is_claim_8s_growth_and_2025s_910c_volume_moves_it_most(model, catalog):
    """Claim 8: domestic compute scales up when 2026's domestic H100-equivalents (by spec) exceed
    2025's; the headline is the difference, its line 0."""
    s = model.sensitivity["supply"]
    assert SUPPLY_YEARS == ("china-2025-base", "china-2026-base") and s.line == 0.0
    assert not any(b.key == "model-error" for b in s.bars)
    assert s.base > 0                                   # at the point estimates, output grows
    assert [b.swing for b in s.bars] == sorted((b.swing for b in s.bars), reverse=True)
    for b in s.bars:
        assert min(b.low_result, b.high_result) <= s.base + 1e-6 and max(b.low_result, b.high_result) >= s.base - 1e-6
    per_chip = {c: catalog.chip(c).bf16_dense_tflops.point / catalog.chip("nvidia-h100-sxm").bf16_dense_tflops.point
                for c in ("huawei-ascend-910c", "huawei-ascend-910b")}     # 752 / 989.4 = 0.76; 376 / 989.4 = 0.38
    bars = {b.key: b for b in s.bars}
    # By hand: the 2025 910C volume spans 100,000-653,000 chips, the widest range of any line, at the
    # highest H100-equivalence per chip (0.76): 553,000 x 0.76 = 420,000 H100-equivalents off the
    # growth, against 200,000 x 0.76 = 152,000 for 2026's 910C and 400,000 x 0.38 = 152,000 for
    # 2026's 910B. It counts more than that: 2025's extra 910Cs use up the die bank and HBM stockpile
    # 2026 starts from.
    top = s.bars[0]
    assert top.key == "supply.2025.huawei-ascend-910c.chips_per_year"
    assert top.label == "2025 Huawei Ascend 910C volume (chips)"
    assert (top.low_value, top.high_value) == (100_000, 653_000)
    assert top.swing > 553_000 * per_chip["huawei-ascend-910c"]
    assert top.low_result > s.base > top.high_result                # more made in 2025, less growth after
    assert top.flip_inside and 300_000 < top.flip < 653_000          # the verdict flips inside 2025's range
    # a 2026 line nothing rations at the point estimates moves the headline by volume x equivalence, exactly
    b26 = bars["supply.2026.huawei-ascend-910b.chips_per_year"]
    assert b26.high_result - b26.low_result == pytest.approx(400_000 * per_chip["huawei-ascend-910b"])
    # the point-estimate headline is near the ledger's P50s (claim 8 compares those)
    p50 = [supply_p50(model.supply.lines[sid], "total domestic", "h100_equivalents_spec") for sid in SUPPLY_YEARS]
    assert s.base == pytest.approx(p50[1] - p50[0], rel=0.15)


def test_data_date_is_the_newest_source(model, catalog):
    assert model.data_date == max(str(s.date) for s in catalog.all("source").values() if s.date)
    assert model.newest and all(n["date"] <= model.data_date for n in model.newest)
