"""Supply scenarios worked by hand, in a user catalog, and the binding input."""

import json
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

import chipgap
from chipgap.analyses.supply import supply
from chipgap.cli import app
from chipgap.errors import InputError

SCENARIO = """
supply:
  - id: test-2025-base
    name: Test 2025
    country: CN
    year: 2025
    source: [epoch-ml-hardware]
    lines:
      - chip: huawei-ascend-910c
        wafers_per_year: {{value: 10000, source: epoch-ml-hardware, confidence: estimate}}
        die_yield: {{value: 0.4, source: epoch-ml-hardware, confidence: estimate}}
    {hbm}
    imports:
      - {{chip: nvidia-h20, units: {{value: 100000, source: epoch-ml-hardware, confidence: estimate}}}}
"""


def scenario(tmp_path, hbm=""):
    (tmp_path / "s.yaml").write_text(textwrap.dedent(SCENARIO.format(hbm=hbm)))
    return chipgap.load_catalog(tmp_path)


def p50(df, line, col):
    return df[(df.line == line) & (df["quantile"] == "P50")][col].iloc[0]


def test_wafers_bind_without_other_limits(tmp_path):
    # 10,000 wafers x 75 gross 665.6 mm2 dies (3 mm edge, 0.1 mm scribe) x 0.4 / 2 dies per 910C
    df = supply(scenario(tmp_path), "test-2025-base", samples=200, workload_equivalents=False)
    assert p50(df, "huawei-ascend-910c", "chips") == pytest.approx(150_000)
    assert df[df.line == "total domestic"].binding_constraint.iloc[0].startswith("wafers")
    # spec H100-equivalents: 100,000 H20 x 148 / 989.4
    assert p50(df, "nvidia-h20", "h100_equivalents_spec") == pytest.approx(100_000 * 148 / 989.4)
    assert p50(df, "total all", "chips") == pytest.approx(250_000)


def test_an_hbm_cut_binds_and_scales_the_line(tmp_path):
    hbm = "hbm_stacks: {value: 400000, source: epoch-ml-hardware, confidence: estimate}"
    df = supply(scenario(tmp_path, hbm), "test-2025-base", samples=200, workload_equivalents=False)
    assert p50(df, "huawei-ascend-910c", "chips") == pytest.approx(400_000 / 8)   # 8 stacks per 910C
    assert df[df.line == "total domestic"].binding_constraint.iloc[0].startswith("hbm")
    assert p50(df, "nvidia-h20", "chips") == pytest.approx(100_000)               # imports untouched


def test_bundled_hbm_shock_cuts_2026_domestic_supply_and_binds():
    cat = chipgap.load_catalog()
    base = supply(cat, "china-2026-base", samples=2000, workload_equivalents=False)
    shock = supply(cat, "china-2026-hbm-cutoff", samples=2000, workload_equivalents=False)
    assert p50(shock, "total domestic", "chips") < p50(base, "total domestic", "chips")
    assert shock[shock.line == "total domestic"].binding_constraint.iloc[0].startswith("hbm")
    # imports are not touched by a domestic HBM shock
    assert p50(shock, "total import", "chips") == pytest.approx(p50(base, "total import", "chips"), rel=0.05)


def test_cli_supply_json_contract():
    r = CliRunner().invoke(app, ["supply", "--year", "2025", "--samples", "500", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["chips"] > 0 and data["h100_equivalents"] > 0
    assert data["binding_constraint"].split()[0] in ("wafers", "hbm", "packaging")


def test_halving_a_node_halves_its_wafer_bound_lines():
    """With common random numbers, a line bound by wafers in every sample keeps exactly half its chips."""
    from chipgap.analyses.supply import shock_effect, shocked, supply

    cat = chipgap.load_catalog()
    sc = shocked(cat, "china-2025-base", "node:smic-n2", 0.5)
    w = {ln.chip: ln.wafers_per_year for ln in sc.lines}
    base = {ln.chip: ln.wafers_per_year for ln in cat.supply("china-2025-base").lines}
    assert w["huawei-ascend-910c"].point == pytest.approx(base["huawei-ascend-910c"].point / 2)
    assert w["huawei-ascend-910b"] == base["huawei-ascend-910b"]          # 910B is on another node
    before, after = supply(cat, "china-2025-base", 1000), supply(cat, sc, 1000)
    line = lambda df: df[(df.line == "huawei-ascend-910c")].set_index("quantile").chips  # noqa: E731
    assert "wafers (100%" in before.binding_constraint.iloc[0]
    assert np.allclose(line(after), line(before) / 2)
    e = shock_effect(cat, "china-2026-base", "foundry:smic", 0.0, 500)
    dom = e[(e.total == "domestic") & (e["quantile"] == "P50")].iloc[0]
    assert dom.chips_after == 0 and dom.chips_before > 0


def test_shock_errors():
    from chipgap.analyses.supply import shocked

    cat = chipgap.load_catalog()
    with pytest.raises(InputError, match="hbm-cutoff"):
        shocked(cat, "china-2026-base", "no-hbm-imports")
    with pytest.raises(InputError, match="remaining"):
        shocked(cat, "china-2026-base", "node:smic-n2", 1.5)


def test_a_second_source_foundry_does_not_cut_a_line():
    """TSMC made some 910C dies (a die bank), but the 910C line's wafers are SMIC N+2 wafers."""
    from chipgap.analyses.supply import shocked

    cat = chipgap.load_catalog()
    base = cat.supply("china-2026-base")
    assert tuple(shocked(cat, "china-2026-base", "foundry:tsmc", 0.0).lines) == tuple(base.lines)
    cut = shocked(cat, "china-2026-base", "foundry:smic", 0.0)
    assert all(ln.wafers_per_year.point == 0 for ln in cut.lines)
