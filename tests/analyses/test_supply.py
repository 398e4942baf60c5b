"""Supply scenarios worked by hand, in a user catalog, and the bundled ones.

Gross dies of the 665.61 mm2 Ascend compute die: 75 per 300 mm wafer (3 mm edge, 0.1 mm scribe);
910B: one die and 4 HBM stacks, 910C: two dies and 8 stacks (catalog chips).
"""

import json
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

import chipgap
from chipgap.analyses.sensitivity import Recorder
from chipgap.analyses.supply import (compare_estimates, domestic_h100_equivalents_draws, evaluate, input_label,
                                     shock_effect, shocked, supply, supply_inputs)
from chipgap.models.sampling import Sampler
from chipgap.cli import app
from chipgap.errors import ChipgapError, InputError

Q = "{{value: {v}, source: epoch-ml-hardware, confidence: estimate}}"


def q(v):
    return Q.format(v=v).replace("{{", "{").replace("}}", "}")


def catalog_with(tmp_path, text):
    (tmp_path / "s.yaml").write_text(textwrap.dedent(text))
    return chipgap.load_catalog(tmp_path)


def scenario(lines, extra="", sid="test-2025-base", year=2025):
    return f"""
supply:
  - id: {sid}
    name: Test
    country: CN
    year: {year}
    source: [epoch-ml-hardware]
    lines:
{textwrap.indent(textwrap.dedent(lines), '      ')}
{textwrap.indent(textwrap.dedent(extra), '    ')}
"""


def p50(df, line, col):
    return df[(df.line == line) & (df["quantile"] == "P50")][col].iloc[0]


def test_a_wafer_allocation_binds_without_other_limits(tmp_path):
    cat = catalog_with(tmp_path, scenario(f"""
        - chip: huawei-ascend-910c
          wafers_per_year: {q(10000)}
          die_yield: {q(0.4)}
        """, f"imports:\n  - {{chip: nvidia-h20, units: {q(100000)}}}"))
    # 10,000 wafers x 75 dies x 0.4 / 2 dies per 910C
    df = supply(cat, "test-2025-base", samples=200, workload_equivalents=False)
    assert p50(df, "huawei-ascend-910c", "chips") == pytest.approx(150_000)
    assert df[df.line == "total domestic"].binding_constraint.iloc[0].startswith("wafers")
    assert p50(df, "nvidia-h20", "h100_equivalents_spec") == pytest.approx(100_000 * 148 / 989.4)
    assert p50(df, "total all", "chips") == pytest.approx(250_000)


def test_reported_volumes_bind_when_every_capacity_suffices(tmp_path):
    cat = catalog_with(tmp_path, scenario(f"""
        - chip: huawei-ascend-910c
          chips_per_year: {q(100000)}
          die_yield: {q(0.5)}
        - designer: alibaba
          name: Test PPU
          chips_per_year: {q(50000)}
        """, f"hbm_stockpile_stacks: {q(1000000)}"))
    df = supply(cat, "test-2025-base", samples=100, workload_equivalents=False)
    assert p50(df, "huawei-ascend-910c", "chips") == pytest.approx(100_000)
    assert p50(df, "Test PPU", "chips") == 50_000 and p50(df, "Test PPU", "designer") == "alibaba"
    assert np.isnan(p50(df, "Test PPU", "h100_equivalents_spec") or np.nan)   # no catalog chip: no compute
    assert p50(df, "total domestic", "chips") == pytest.approx(150_000)
    assert df[df.line == "total domestic"].binding_constraint.iloc[0] == "volumes (100% of samples)"


def test_hbm_binds_and_scales_the_lines_that_use_it(tmp_path):
    cat = catalog_with(tmp_path, scenario(f"""
        - chip: huawei-ascend-910c
          chips_per_year: {q(100000)}
        - chip: baidu-kunlun-p800
          chips_per_year: {q(20000)}
        """, f"hbm_stockpile_stacks: {q(400000)}"))
    df = supply(cat, "test-2025-base", samples=100, workload_equivalents=False)
    assert p50(df, "huawei-ascend-910c", "chips") == pytest.approx(400_000 / 8)   # 8 stacks per 910C
    assert p50(df, "baidu-kunlun-p800", "chips") == 20_000                       # stack count not public
    assert df[df.line == "total domestic"].binding_constraint.iloc[0].startswith("hbm")
    inputs = supply_inputs(cat, "test-2025-base", samples=100).set_index("input")
    assert inputs.loc["hbm", "need_p50"] == pytest.approx(800_000)
    assert inputs.loc["hbm", "chips_lost_p50"] == pytest.approx(50_000)
    assert inputs.loc["hbm", "binds_share"] == 1.0


def test_the_die_bank_is_drawn_before_wafers_and_wafers_bind(tmp_path):
    """100,000 910Cs need 200,000 dies; the bank holds 50,000; the other 150,000 need
    150,000 / (75 x 0.5) = 4,000 wafers against 2,000: half of them, 75,000 dies, so
    (50,000 + 75,000) / 2 = 62,500 chips."""
    cat = catalog_with(tmp_path, scenario(f"""
        - chip: huawei-ascend-910c
          chips_per_year: {q(100000)}
          die_yield: {q(0.5)}
        """, f"""
        wafer_capacity: {{foundry: smic, nodes: [smic-n2], wafers_per_year: {q(2000)}}}
        die_bank: {{foundry: tsmc, chips: [huawei-ascend-910c], dies: {q(50000)}}}
        """))
    df = supply(cat, "test-2025-base", samples=100, workload_equivalents=False)
    assert p50(df, "huawei-ascend-910c", "chips") == pytest.approx(62_500)
    assert df[df.line == "total domestic"].binding_constraint.iloc[0].startswith("wafers")
    inputs = supply_inputs(cat, "test-2025-base", samples=100).set_index("input")
    assert inputs.loc["wafers", "need_p50"] == pytest.approx(4_000)
    assert inputs.loc["die bank", "left_p50"] == pytest.approx(0)


def test_a_year_starts_from_what_the_previous_one_left(tmp_path):
    """2024: 30,000 910Bs use 30,000 banked dies and 120,000 stacks of 1,000,000; 2025 starts
    with 70,000 dies and 880,000 stacks; 50,000 910Cs need 100,000 dies (30,000 from wafers,
    not modelled) and 400,000 stacks, leaving 480,000."""
    cat = catalog_with(tmp_path, scenario(f"""
        - chip: huawei-ascend-910b
          chips_per_year: {q(30000)}
        """, f"""
        die_bank: {{foundry: tsmc, chips: [huawei-ascend-910b, huawei-ascend-910c], dies: {q(100000)}}}
        hbm_stockpile_stacks: {q(1000000)}
        """, sid="t-2024", year=2024) + scenario(f"""
        - chip: huawei-ascend-910c
          chips_per_year: {q(50000)}
        """, """
        carry_from: t-2024
        die_bank: {foundry: tsmc, chips: [huawei-ascend-910c]}
        """, sid="t-2025", year=2025).replace("supply:\n", "", 1))
    run = evaluate(cat, "t-2025", samples=50)
    assert run.capacity["die bank"][0] == pytest.approx(70_000)
    assert run.capacity["hbm"][0] == pytest.approx(880_000)
    assert run.made[0, 0] == pytest.approx(50_000)
    assert run.bank_left[0] == pytest.approx(0) and run.stockpile_left[0] == pytest.approx(480_000)


def test_a_carry_loop_and_a_line_without_volume_are_refused(tmp_path):
    with pytest.raises(ChipgapError, match="carry_from|supply scenario"):
        cat = catalog_with(tmp_path, scenario(f"""
            - chip: huawei-ascend-910b
              chips_per_year: {q(1)}
            """, "carry_from: test-2025-base"))
        evaluate(cat, "test-2025-base", samples=10)
    with pytest.raises(ChipgapError, match="chips_per_year"):
        catalog_with(tmp_path, scenario("""
            - chip: huawei-ascend-910b
            """))


def test_bundled_2026_keeps_every_line_and_does_not_fall_below_2025():
    cat = chipgap.load_catalog()
    y25 = supply(cat, "china-2025-base", samples=2000, workload_equivalents=False)
    y26 = supply(cat, "china-2026-base", samples=2000, workload_equivalents=False)
    lines = lambda df: set(df[df.kind == "domestic"].line) - {"total domestic"}  # noqa: E731
    assert lines(y25) <= lines(y26)
    assert {"huawei-ascend-910c", "huawei-ascend-910b", "cambricon-mlu590", "baidu-kunlun-p800",
            "T-Head Zhenwu PPU"} <= lines(y26)
    assert p50(y26, "total domestic", "chips") > p50(y25, "total domestic", "chips")
    assert p50(y26, "total domestic", "h100_equivalents_spec") > p50(y25, "total domestic", "h100_equivalents_spec")


def test_bundled_capacities_wafers_never_bind_hbm_sometimes_and_more_without_cxmt():
    cat = chipgap.load_catalog()
    base = supply_inputs(cat, "china-2026-base", samples=2000).set_index("input")
    cut = supply_inputs(cat, "china-2026-hbm-cutoff", samples=2000).set_index("input")
    assert base.loc["wafers", "binds_share"] == 0 and base.loc["wafers", "need_over_capacity_p50"] < 0.2
    assert 0 < base.loc["hbm", "binds_share"] < cut.loc["hbm", "binds_share"]
    # the TSMC die bank, carried from 2024 through 2025, runs short in 2026 (SemiAnalysis: mid-2026)
    assert base.loc["die bank", "need_over_capacity_p50"] > 1
    s25 = supply_inputs(cat, "china-2025-base", samples=2000).set_index("input")
    assert s25.loc["die bank", "need_over_capacity_p50"] < 1 and s25.loc["hbm", "binds_share"] == 0


def test_bundled_hbm_shock_cuts_2026_domestic_supply():
    cat = chipgap.load_catalog()
    base = supply(cat, "china-2026-base", samples=2000, workload_equivalents=False)
    shock = supply(cat, "china-2026-hbm-cutoff", samples=2000, workload_equivalents=False)
    assert p50(shock, "total domestic", "chips") < p50(base, "total domestic", "chips")
    assert p50(shock, "total import", "chips") == pytest.approx(p50(base, "total import", "chips"))


def test_published_estimates_beside_the_model():
    df = compare_estimates(chipgap.load_catalog(), samples=1000).set_index("estimate")
    t_head = df.loc["idc-t-head-2025"]
    assert t_head.model_p50 == 265_000 and t_head.agreement == "within" and t_head.input
    kessler = df.loc["bis-kessler-huawei-2025"]
    assert kessler.comparator == "<=" and kessler.agreement == "model higher" and not kessler.input
    assert df.loc["semianalysis-ascend-2026-hbm", "agreement"] == "model higher"
    assert df.loc["idc-domestic-share-2025", "model_p50"] > 0.41      # imports from NVIDIA's revenue, not IDC's 2.2 M
    assert df.loc["idc-domestic-2025", "date"] == "2026-04-01"


def test_cli_supply_json_contract():
    r = CliRunner().invoke(app, ["supply", "--year", "2025", "--samples", "500", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["chips"] > 0 and data["h100_equivalents"] > 0
    assert data["binding_constraint"].split()[0] in ("volumes", "wafers", "hbm", "packaging")
    assert {x["input"] for x in data["inputs"]} == {"die bank", "wafers", "hbm", "packaging"}
    assert any(x["estimate"] == "idc-domestic-2025" for x in data["estimates"])


def test_halving_a_node_halves_the_wafer_made_dies(tmp_path):
    cat = catalog_with(tmp_path, scenario(f"""
        - chip: huawei-ascend-910c
          chips_per_year: {q(100000)}
        - chip: huawei-ascend-910b
          chips_per_year: {q(100000)}
        """))
    sc = shocked(cat, "test-2025-base", "node:smic-n2", 0.5)
    access = {ln.chip: ln.wafer_access for ln in sc.lines}
    assert access == {"huawei-ascend-910c": 0.5, "huawei-ascend-910b": 1.0}   # the 910B is on N+1
    after = supply(cat, sc, 100, workload_equivalents=False)
    assert p50(after, "huawei-ascend-910c", "chips") == pytest.approx(50_000)
    assert p50(after, "huawei-ascend-910b", "chips") == pytest.approx(100_000)
    assert after[after.line == "total domestic"].binding_constraint.iloc[0].startswith("wafers")
    e = shock_effect(chipgap.load_catalog(), "china-2026-base", "foundry:smic", 0.0, 500)
    dom = e[(e.total == "domestic") & (e["quantile"] == "P50")].iloc[0]
    assert 0 < dom.chips_after < dom.chips_before          # banked dies, Kunlun and T-Head lines remain


def test_shock_errors():
    cat = chipgap.load_catalog()
    with pytest.raises(InputError, match="hbm-cutoff"):
        shocked(cat, "china-2026-base", "no-hbm-imports")
    with pytest.raises(InputError, match="remaining"):
        shocked(cat, "china-2026-base", "node:smic-n2", 1.5)


def test_a_second_source_foundry_does_not_cut_a_line():
    """TSMC made the banked 910C dies, but the 910C line's wafers are SMIC N+2 wafers, and dies
    already banked are not touched by a shock."""
    cat = chipgap.load_catalog()
    base = cat.supply("china-2026-base")
    assert tuple(shocked(cat, "china-2026-base", "foundry:tsmc", 0.0).lines) == tuple(base.lines)
    cut = shocked(cat, "china-2026-base", "foundry:smic", 0.0)
    assert {ln.chip: ln.wafer_access for ln in cut.lines if ln.chip}["huawei-ascend-910c"] == 0


def test_the_draw_based_total_is_the_tables_total_domestic_line(catalog):
    """One definition: `supply`'s P50 of domestic H100-equivalents is the quantile of the draws
    `domestic_h100_equivalents_draws` gives for the same samples and seed (carry-over included)."""
    df = supply(catalog, "china-2026-base", 200, 3, workload_equivalents=False)
    row = df[df.line == "total domestic"].set_index("quantile").h100_equivalents_spec
    draws = domestic_h100_equivalents_draws(catalog, "china-2026-base", Sampler(200, 3))
    assert [float(np.quantile(draws, p)) for p in (0.1, 0.5, 0.9)] == pytest.approx(row[["P10", "P50", "P90"]].tolist())


def test_a_scenario_reads_the_inputs_of_the_years_it_carries_from(catalog):
    rec = Recorder()
    domestic_h100_equivalents_draws(catalog, "china-2026-base", rec)
    assert {"supply.2024.die_bank", "supply.2025.huawei-ascend-910c.chips_per_year",
            "supply.2026.huawei-ascend-910c.chips_per_year", "huawei-ascend-910c.bf16_dense_tflops"} <= set(rec.ranged)
    assert input_label(catalog, "supply.2026.wafer_capacity") == "2026 advanced-node wafers per year"
    label = input_label(catalog, "supply.2026.T-Head Zhenwu PPU.chips_per_year")
    assert label == "2026 T-Head Zhenwu PPU volume (chips)"
