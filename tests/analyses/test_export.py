"""Published classifications against the bundled chips and rule files.

Sources: 87 FR 62186 (Oct 2022: TPP >= 4800 and >= 600 GB/s bidirectional I/O); 88 FR 73458
(Oct 2023: 3A090.a/.b with performance density); NVIDIA's A800/H800 (NVLink cut to 400 GB/s),
H20 and L20 built under the 2023 thresholds; RTX 4090 (TPP ~5,285) barred and RTX 4090D (TPP
~4,707) sold in China (Tom's Hardware, 2023-12 and 2024-04).
"""

import numpy as np
import pytest

import chipgap
from chipgap.analyses.export import classify_chips, headroom
from chipgap.errors import InputError, UnknownIdError


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


@pytest.fixture(scope="module")
def table(cat):
    chips = ["nvidia-a100-sxm", "nvidia-h100-sxm", "nvidia-a800-sxm", "nvidia-h800-sxm",
             "nvidia-rtx-4090", "nvidia-rtx-4090d", "nvidia-h20", "nvidia-l20"]
    df = classify_chips(cat, chips, ["2022-10", "2023-10"], samples=500)
    return df.set_index(["chip", "rule"])


def flag(x):
    """A DataFrame cell holding True / False / None as a Python value."""
    return None if x is None else bool(x)


@pytest.mark.parametrize("chip, r2022, r2023", [
    ("nvidia-a100-sxm", True, "3A090.a"),
    ("nvidia-h100-sxm", True, "3A090.a"),
    ("nvidia-a800-sxm", False, "3A090.a"),     # NVLink 400 GB/s kept it out of the 2022 rule
    ("nvidia-h800-sxm", False, "3A090.a"),
    ("nvidia-rtx-4090", False, "3A090.a"),     # PCIe only in 2022; TPP >= 4800 in 2023
    ("nvidia-rtx-4090d", False, "not controlled"),
    ("nvidia-h20", False, "not controlled"),
    ("nvidia-l20", False, "not controlled"),
])
def test_published_classifications(table, chip, r2022, r2023):
    assert flag(table.loc[(chip, "2022-10"), "controlled"]) is r2022
    assert table.loc[(chip, "2023-10"), "classification"] == r2023
    assert flag(table.loc[(chip, "2023-10"), "controlled"]) is (r2023 != "not controlled")


def test_tpp_values_match_published_figures(table):
    assert table.loc[("nvidia-h100-sxm", "2023-10"), "tpp"] == pytest.approx(15832, rel=1e-3)
    assert table.loc[("nvidia-h20", "2023-10"), "tpp"] == pytest.approx(2368, rel=1e-3)
    assert table.loc[("nvidia-rtx-4090", "2023-10"), "tpp"] == pytest.approx(5285, rel=1e-3)
    assert table.loc[("nvidia-rtx-4090d", "2023-10"), "tpp"] == pytest.approx(4707, rel=5e-3)
    assert table.loc[("nvidia-l20", "2023-10"), "tpp"] == pytest.approx(1912, rel=1e-3)


def test_each_status_explains_itself(table):
    h100 = table.loc[("nvidia-h100-sxm", "2023-10")]
    assert "3A090.a.1" in h100.triggered_by
    margin = next(m for m in h100.margins if m["metric"] == "tpp" and m["threshold"] == 4800)
    assert margin["margin"] == pytest.approx(15832 - 4800, rel=1e-3)
    assert margin["margin_pct"] == pytest.approx(100 * (15832 / 4800 - 1), rel=1e-3)
    h20 = table.loc[("nvidia-h20", "2023-10")]
    assert h20.triggered_by == "no test holds"
    assert h20.tpp_to_change_up == pytest.approx(2400)   # 1.35 % of headroom left


def test_h20_licence_requirement_from_april_2025(cat):
    df = classify_chips(cat, ["h20", "h100"], ["2025-04"], samples=100).set_index("chip")
    assert flag(df.loc["nvidia-h20", "controlled"]) is True
    assert df.loc["nvidia-h20", "classification"] == "licence: named part"
    assert "H20" in df.loc["nvidia-h20", "triggered_by"]
    assert df.loc["nvidia-h100-sxm", "classification"] == "3A090.a"


def test_ranged_chip_gets_a_probability(cat):
    df = classify_chips(cat, ["huawei-ascend-910d", "huawei-ascend-910c"], ["2023-10"], samples=400)
    for p in df.probability_controlled.dropna():
        assert 0.0 <= p <= 1.0
    row = df.set_index("chip").loc["huawei-ascend-910c"]
    assert flag(row.controlled) is True and row.tpp_low <= row.tpp <= row.tpp_high


def test_same_seed_same_probabilities(cat):
    a = classify_chips(cat, rules=["2023-10"], samples=300, seed=7)
    b = classify_chips(cat, rules=["2023-10"], samples=300, seed=7)
    assert a.probability_controlled.equals(b.probability_controlled)


def test_headroom_at_the_h20_die_area(cat):
    h = headroom(cat, "2023-10", 814.0)
    assert h.max_tpp[0] == 2400 and h.binding_test[0] == "3A090.b.1"
    assert h.max_dense_bf16[0] == 150 and h.max_dense_fp8[0] == 300
    assert headroom(cat, "2023-10", 608.5, market="consumer").max_tpp[0] == 4800
    assert np.isinf(headroom(cat, "2022-10", 814.0, io_bw_gbps_bidir=400).max_tpp[0])


@pytest.mark.parametrize("kwargs, field", [
    ({"die_area_mm2": -5}, "die_area_mm2"), ({"die_area_mm2": 100, "market": "home"}, "market"),
    ({"die_area_mm2": 100, "io_bw_gbps_bidir": -1}, "io_bw_gbps_bidir"),
])
def test_headroom_rejects_bad_input(cat, kwargs, field):
    with pytest.raises(InputError, match=f"'{field}' must be"):
        headroom(cat, "2023-10", **kwargs)


def test_unknown_rule(cat):
    with pytest.raises(UnknownIdError, match="unknown rule '2021-01'"):
        headroom(cat, "2021-01", 100.0)


def test_a_range_straddling_a_threshold_is_uncertain_with_its_probability(tmp_path):
    # A consumer card whose fp8 peak is known only as [550, 650] TOPS: TPP [4400, 5200]
    # straddles 4800 (3A090.a.1); uniform sampling puts half the mass above.
    (tmp_path / "x.yaml").write_text(
        "sources: [{id: note, title: T, kind: analyst}]\n"
        "chips:\n"
        "  - {id: test-card, name: Test, vendor: nvidia, country: US, status: rumoured,\n"
        "     market: consumer, fp8_dense_tflops: {value: [550, 650], source: note, confidence: rumor}}\n")
    cat = chipgap.load_catalog(tmp_path)
    row = classify_chips(cat, ["test-card"], ["2023-10"], samples=4000, seed=1).iloc[0]
    assert row.classification.startswith("uncertain")
    assert row.controlled is None
    assert row.probability_controlled == pytest.approx(0.5, abs=0.03)
    assert (row.tpp_low, row.tpp_high) == (4400, 5200)


def test_a_rule_file_with_a_bad_field_gets_a_one_line_error(tmp_path):
    (tmp_path / "2027-01.yaml").write_text(
        "export_rules:\n"
        "  - id: '2027-01'\n"
        "    name: Future rule\n"
        "    citation: none\n"
        "    effective: 2027-01-01\n"
        "    status: in-force\n"
        "    destinations: CN\n"
        "    source: [epoch-ml-hardware]\n"
        "    classifications:\n"
        "      - eccn: 3A090.a\n"
        "        effect: licence\n"
        "        prongs: [{id: a1, all_of: [{metric: tpp, op: above, threshold: 4800}]}]\n")
    with pytest.raises(chipgap.CatalogError) as e:
        chipgap.load_catalog(tmp_path)
    msg = str(e.value)
    assert "2027-01.yaml: entry '2027-01': field 'classifications.0.prongs.0.all_of.0.op'" in msg
    assert "\n" not in msg
