"""The report's model: results computed once, published runs beside the modelled decode, the
ledger's rules fed from the results, the headline sensitivities."""

import pytest

from chipgap.analyses.claims import CANNOT, VERDICTS
from chipgap.analyses.report_model import COST_RIVALS, build_model, report_asks


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
    assert set(model.sensitivity) == {"training", "decode", "clustering", "unit-cost", "cost", "910d", "cpu"}
    for key, s in model.sensitivity.items():
        assert s.bars and (key == "unit-cost" or any(b.key == "model-error" for b in s.bars)), key
    price = next(b for b in model.sensitivity["unit-cost"].bars if b.key == "huawei-ascend-910c.price_usd")
    assert price.low_result > price.high_result     # a dearer chip breaks even at a lower yield
    train = model.sensitivity["training"]
    assert any(b.key == "huawei-ascend-910c.bf16_dense_tflops" for b in train.bars)


def test_data_date_is_the_newest_source(model, catalog):
    assert model.data_date == max(str(s.date) for s in catalog.all("source").values() if s.date)
    assert model.newest and all(n["date"] <= model.data_date for n in model.newest)
