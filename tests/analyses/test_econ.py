"""Die economics and unit cost on the bundled catalog."""

import pytest

import chipgap
from chipgap.analyses.econ import chip_cost, die_economics, tco
from chipgap.errors import InputError


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


def test_die_economics_round_trips_a_yield():
    # A 910B die (665.61 mm2) at a reported 40 % yield implies D0 ~ 0.150 /cm2 (Murphy); feeding
    # that D0 back gives 40 % again.
    solved = die_economics(665.61, die_yield=0.4)
    assert solved["d0_per_cm2"] == pytest.approx(0.150, abs=0.001)
    again = die_economics(665.61, d0_per_cm2=solved["d0_per_cm2"])
    assert again["die_yield"] == pytest.approx(0.4) and again["gross_dies_per_wafer"] == 75


@pytest.mark.parametrize("kwargs, field", [
    (dict(die_area_mm2=900.0, d0_per_cm2=0.1), "die_area_mm2"),       # beyond the reticle
    (dict(die_area_mm2=100.0, die_yield=1.5), "die_yield"),
    (dict(die_area_mm2=100.0, d0_per_cm2=-1.0), "d0_per_cm2"),
    (dict(die_area_mm2=100.0), "d0_per_cm2 / die_yield"),             # neither given
    (dict(die_area_mm2=100.0, d0_per_cm2=0.1, model="gauss"), "model"),
])
def test_bad_die_inputs(kwargs, field):
    with pytest.raises(InputError, match=f"'{field}' must be"):
        die_economics(**kwargs)


def test_h100_cost_near_the_published_teardown_estimate(cat):
    # Raymond James (via TechSpot, 2023) put an H100's manufacturing cost at ~$3,320.
    df = chip_cost(cat, "h100", samples=2000)
    p50 = df[df["quantile"] == "P50"].iloc[0]
    assert p50.cost_per_chip_usd == pytest.approx(3320, rel=0.25)
    assert 0 < p50.break_even_yield < p50.die_yield < 1


def test_910c_costs_fall_as_yield_rises_and_missing_inputs_are_named(cat):
    df = chip_cost(cat, "910c", price_usd=28000, samples=2000)
    p50 = df[df["quantile"] == "P50"].sort_values("die_yield")
    assert p50.cost_per_chip_usd.is_monotonic_decreasing
    assert "packaging" in p50.missing.iloc[0]
    lo, hi = df[df["quantile"] == "P10"].iloc[0], df[df["quantile"] == "P90"].iloc[0]
    assert lo.cost_per_chip_usd <= hi.cost_per_chip_usd


def test_910c_break_even_yield_at_the_catalog_price_matches_a_hand_computation(cat):
    # The inputs the catalog holds for the 910C (checked here, so a data change forces a new hand sum):
    #   price           U[21,354, 28,571] US$ -> midpoint 24,962.5 (FT CM384 / 384; WSJ $2 bn / 70,000)
    #   wafer (SMIC N+2) U[13,000, 15,000] US$ -> 14,000
    #   HBM2E           U[10, 15] US$/GB x 128 GB -> 12.5 x 128 = 1,600 US$
    #   gross dies      665.61 mm2 die, 300 mm wafer, 3 mm edge, 0.1 mm scribe: pitch (25.80 + 0.1)^2
    #                   = 670.78 mm2; pi 147^2 / 670.78 - pi 294 / sqrt(2 x 670.78) = 101.21 - 25.22
    #                   -> floor 75
    #   2 dies per package; packaging, test, rest of the BOM missing (0); assembly yield missing (1)
    # Cost = a / y + b with a = 2 x 14,000 / 75 = 373.33 and b = 1,600, so the break-even yield is
    #   y* = a / (price - b) = 373.33 / (24,962.5 - 1,600) = 373.33 / 23,362.5 = 0.01598 (1.6%).
    # chip_cost reports quantiles of y* over the sampled inputs; the median of 4,000 draws sits within
    # 0.2% of the point computation for seeds 0-5, so the tolerance is 1% (relative).
    c, inputs = cat.chip("910c"), cat.chip_cost("910c")
    assert (c.price_usd.low, c.price_usd.high, c.price_usd.mode) == (21354, 28571, None)
    assert (inputs.hbm_price_usd_per_gb.low, inputs.hbm_price_usd_per_gb.high) == (10, 15)
    assert cat.node(c.process_node).wafer_price_usd.bounds == (13000, 15000)
    assert c.compute_die_area_mm2.point == 665.61 and c.memory_capacity_gib.point == 128
    assert inputs.packaging_usd is None and inputs.test_usd is None and inputs.other_usd is None
    assert inputs.assembly_yield is None
    hand = (2 * 14000 / 75) / ((21354 + 28571) / 2 - 12.5 * 128)
    assert hand == pytest.approx(0.01598, abs=1e-5)

    df = chip_cost(cat, "910c", samples=4000, seed=0)
    for _, part in df.groupby("case"):
        q = part.set_index("quantile")
        assert q.loc["P50", "break_even_yield"] == pytest.approx(hand, rel=0.01)
        # every quantile lies between the corner cases: cheapest wafer and HBM at the top price,
        # dearest wafer and HBM at the bottom price
        lo = (2 * 13000 / 75) / (28571 - 15 * 128)          # 0.01301
        hi = (2 * 15000 / 75) / (21354 - 10 * 128)          # 0.01993
        assert lo <= q.loc["P10", "break_even_yield"] <= q.loc["P90", "break_even_yield"] <= hi
        # the price is a catalog input now, so the margin is computed (and positive at these costs)
        assert 0 < q.loc["P50", "gross_margin"] < 1
        assert 21354 <= q.loc["P10", "price_usd"] <= q.loc["P90", "price_usd"] <= 28571


def test_chip_without_cost_inputs(cat):
    with pytest.raises(InputError, match="chip_costs"):
        chip_cost(cat, "mi300x")


def test_tco_shares_system_price_and_power_over_chips(cat):
    df = tco(cat, "nvidia-hgx-h100", electricity_usd_per_kwh=0.1, pue=1.2, life_years=5,
             tokens_per_s_per_chip=1000).set_index("quantile")
    # DGX H100 10.2 kW / 8 GPUs; $269k-356k / 8 (SemiAnalysis; Epoch AI)
    assert df.loc["P50", "power_kw_per_chip"] == pytest.approx(10.2 / 8)
    assert 269000 / 8 <= df.loc["P50", "capex_per_chip_usd"] <= 356000 / 8
    energy = 10.2 / 8 * 0.75 * 1.2 * 0.1     # average draw 0.75 of peak (Epoch AI)
    assert df.loc["P50", "energy_usd_per_chip_hour"] == pytest.approx(energy)
    assert df.loc["P50", "usd_per_million_tokens"] == pytest.approx(df.loc["P50", "usd_per_chip_hour"] / 3.6)


@pytest.mark.parametrize("kwargs, field", [
    (dict(region="eu"), "region"), (dict(utilization=0), "utilization"), (dict(pue=0.9), "pue"),
])
def test_tco_rejects_bad_inputs(cat, kwargs, field):
    with pytest.raises(InputError, match=f"'{field}' must be"):
        tco(cat, "nvidia-hgx-h100", **kwargs)


def test_cost_curve_falls_with_yield_and_brackets_the_median(cat):
    from chipgap.analyses.econ import cost_curve

    df = cost_curve(cat, "910c", yields=[0.2, 0.4, 0.8])
    assert df.cost_p50_usd.is_monotonic_decreasing
    assert (df.cost_p10_usd <= df.cost_p50_usd).all() and (df.cost_p50_usd <= df.cost_p90_usd).all()


def test_econ_and_supply_charts_are_images(cat, tmp_path):
    from typer.testing import CliRunner

    from chipgap.cli import app

    runner = CliRunner()
    for args, name in ((["econ", "chip-cost", "910c"], "cost.png"),
                       (["supply", "--year", "2025", "--samples", "300"], "supply.svg")):
        out = tmp_path / name
        r = runner.invoke(app, [*args, "--chart", str(out)])
        assert r.exit_code == 0, r.output
        head = out.read_bytes()[:400]
        assert head.startswith(b"\x89PNG") or b"<svg" in head
