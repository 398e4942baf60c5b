"""The article's market claims against their sourced figures (catalog/data/market.yaml).

Figures from the filings: Cambricon's H1 2024 net loss of ~RMB 530 M (H1 2025 report), 2024 loss
RMB 452.34 M (2024 annual report), H1 2025 profit RMB 1,038 M, 2025 profit RMB 2,059 M (2025 annual
report); Kingsoft Cloud Q4 2024 AI revenue 34% of public cloud; Xinhua: Alibaba > RMB 380 bn
(~US$53 bn) over three years, and Alibaba Cloud's sixth quarter of triple-digit AI growth.
"""

import textwrap

import pytest
from typer.testing import CliRunner

import chipgap
from chipgap.analyses.market import cloud_access, evaluate_test, market_claims, verdict
from chipgap.catalog.market import ClaimTest, MarketFigure
from chipgap.catalog.quantity import Quantity
from chipgap.cli import app


@pytest.fixture(scope="module")
def claims():
    return market_claims(chipgap.load_catalog()).set_index("claim_id")


def q(v, **kw):
    return Quantity(value=v, source=("x",), confidence="estimate", **kw)


@pytest.mark.parametrize("claim, expected", [
    ("cambricon-record-profit-h1-2024", "contradicted"),   # H1 2024 was a loss; the record was H1 2025
    ("kingsoft-cloud-ai-share", "supported"),              # 34% of public cloud in Q4 2024
    ("kingsoft-cloud-six-quarters", "not checkable"),      # the phrase is Alibaba Cloud's
    ("alibaba-380bn-plan", "supported"),
    ("china-tech-rally-240bn", "not checkable"),
    ("cxmt-16nm-share", "supported"),
    ("cloud-access-nvidia", "supported"),
    ("ai-spending-growth-25pct", "contradicted"),          # ByteDance 80 -> 160 bn over 2 years: 41%/yr
    ("kunlun-china-mobile-contracts", "supported"),
    ("united-nova-largest-mems", "not checkable"),
])
def test_verdicts(claims, claim, expected):
    assert claims.loc[claim, "verdict"] == expected


def test_cambricon_half_years_worked_from_the_filings(claims):
    figs = {f["period"]: f["point"] for f in claims.loc["cambricon-record-profit-h1-2024", "figures"]}
    assert figs["2024-H1"] == -530
    assert figs["2024-H2"] == pytest.approx(-452.34 + 530, abs=0.1)     # 2024 total less H1
    assert figs["2025-H2"] == pytest.approx(2059 - 1038)
    assert max(figs, key=figs.get) == "2025-H1"
    assert claims.loc["cambricon-record-profit-h1-2024", "as_of"] == "2026-03-13"


def test_spending_growth_is_compounded_over_the_years_between(claims):
    detail = claims.loc["ai-spending-growth-25pct", "tests"][0]["detail"]
    assert "41% a year" in detail                                    # (160 / 80) ** (1 / 2) - 1 = 41.4%


def test_a_range_straddling_the_line_leaves_a_test_open():
    figs = [MarketFigure(metric="share_pct", period="2025", value=Quantity(low=30, high=40, source=("x",),
                                                                             confidence="estimate"))]
    t = ClaimTest(says="about 34%", metric="share_pct", period="2025", op="approx", value=34, tolerance=0.03)
    assert evaluate_test(t, figs)[0] == "open"
    assert evaluate_test(t.model_copy(update={"op": "ge", "value": 25, "tolerance": None}), figs)[0] == "holds"
    assert evaluate_test(t.model_copy(update={"op": "ge", "value": 45, "tolerance": None}), figs)[0] == "fails"
    assert verdict(["holds", "open"]) == "not checkable"


def test_max_and_growth_tests_worked_by_hand():
    figs = [MarketFigure(metric="m", period="2024", value=q(100)), MarketFigure(metric="m", period="2026", value=q(144))]
    grow = ClaimTest(says="20%/yr", metric="m", period="2026", since="2024", op="growth", value=20, tolerance=1)
    assert evaluate_test(grow, figs)[0] == "holds"                   # 1.2 ** 2 = 1.44
    assert evaluate_test(grow.model_copy(update={"value": 25}), figs)[0] == "fails"
    top = ClaimTest(says="record", metric="m", period="2026", op="max")
    assert evaluate_test(top, figs)[0] == "holds"
    assert evaluate_test(top.model_copy(update={"period": "2024"}), figs)[0] == "fails"


def test_a_test_needs_its_operands(tmp_path):
    with pytest.raises(ValueError, match="needs value"):
        ClaimTest(says="x", metric="m", period="2025", op="approx", value=3)
    with pytest.raises(ValueError, match="needs value or than"):
        ClaimTest(says="x", metric="m", period="2025", op="gt")


def test_cloud_access_is_a_documented_floor_in_h100_equivalents():
    df = cloud_access(chipgap.load_catalog())
    row = df.set_index("chip").loc["nvidia-gb200"]
    assert row.units == 2304                                            # 32 NVL72 racks x 72
    assert row.h100_equivalents_spec == pytest.approx(2304 * 2500 / 989.4)


def test_a_user_claim_gets_a_verdict_and_a_bad_reference_is_refused(tmp_path):
    entry = textwrap.dedent("""
        market_claims:
          - id: test-claim
            claim: "X doubled its revenue in 2025."
            topic: corporate results
            companies: [{company}]
            finding: "test"
            source: [epoch-ml-hardware]
            figures:
              - {{metric: revenue_rmb_million, period: 2024, company: cambricon,
                 value: {{value: 1174, source: epoch-ml-hardware, confidence: official}}}}
              - {{metric: revenue_rmb_million, period: 2025, company: cambricon,
                 value: {{value: 6497, source: epoch-ml-hardware, confidence: official}}}}
            tests:
              - {{says: "revenue at least doubled", metric: revenue_rmb_million, period: 2025, since: 2024,
                 op: growth, value: 150, tolerance: 50}}
        """)
    (tmp_path / "m.yaml").write_text(entry.format(company="cambricon"))
    df = market_claims(chipgap.load_catalog(tmp_path)).set_index("claim_id")
    assert df.loc["test-claim", "verdict"] == "contradicted"           # +453%, outside 150 +- 50
    (tmp_path / "m.yaml").write_text(entry.format(company="no-such-company"))
    r = CliRunner().invoke(app, ["catalog", "check", str(tmp_path)])
    assert r.exit_code == 2 and "no-such-company" in r.output


def test_cli_claims_market_json_contract():
    import json

    r = CliRunner().invoke(app, ["claims", "market", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = {x["claim_id"]: x for x in json.loads(r.stdout)}
    cam = rows["cambricon-record-profit-h1-2024"]
    assert cam["verdict"] == "contradicted" and cam["as_of"] == "2026-03-13"
    assert {"metric", "period", "point", "confidence", "source"} <= set(cam["figures"][0])
    assert CliRunner().invoke(app, ["claims", "market"]).exit_code == 0
