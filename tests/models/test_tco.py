import pytest

from chipgap.models import tco


def test_cost_per_chip_hour_by_hand():
    # $30,000 over 5 years of 8,766 h = $0.6845/h; 1.2 kW x 0.75 x PUE 1.25 x $0.08 = $0.09/h
    c = tco.cost_per_chip_hour(30000.0, 5.0, 1.2, 0.75, 1.25, 0.08, 1.0)
    assert c["capex_usd"] == pytest.approx(30000 / (5 * 8766))
    assert c["energy_usd"] == pytest.approx(0.09)
    assert c["total_usd"] == pytest.approx(0.684462 + 0.09, rel=1e-5)
    # half the hours busy doubles the capital per useful hour, not the energy
    half = tco.cost_per_chip_hour(30000.0, 5.0, 1.2, 0.75, 1.25, 0.08, 0.5)
    assert half["capex_usd"] == pytest.approx(2 * c["capex_usd"]) and half["energy_usd"] == pytest.approx(0.09)


def test_per_million_tokens_and_per_joule():
    assert tco.usd_per_million_tokens(0.72, 1000.0) == pytest.approx(0.2)   # 0.72 / 3.6e6 x 1e6
    assert tco.tokens_per_joule(900.0, 1.2, 0.75, 1.0) == pytest.approx(1.0)
