"""Published classifications against the bundled chips and rule files.

Sources: 87 FR 62186 (Oct 2022: TPP >= 4800 and >= 600 GB/s bidirectional I/O); 88 FR 73458
(Oct 2023: 3A090.a/.b with performance density); NVIDIA's A800/H800 (NVLink cut to 400 GB/s),
H20 and L20 built under the 2023 thresholds; RTX 4090 (TPP ~5,285) barred and RTX 4090D (TPP
~4,707) sold in China (Tom's Hardware, 2023-12 and 2024-04).
"""

import textwrap

import numpy as np
import pytest

import chipgap
from chipgap.analyses.export import classify_chips, export_status, headroom, headroom_curves
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


# --- how an export to China is treated (review policy, named parts, fees), 2022-10 to 2026-01 ---

@pytest.fixture(scope="module")
def status(cat):
    return export_status(cat, samples=200).set_index(["chip", "rule"])


@pytest.mark.parametrize("chip, rule, treatment, fees", [
    # 88 FR 73458: 3A090.a datacenter parts, presumption of denial for D:5 / Macau
    ("nvidia-h100-sxm", "2023-10", "denial", []),
    # Note 2 to 3A090 and License Exception NAC: a consumer part caught only by TPP >= 4800
    ("nvidia-rtx-4090", "2023-10", "notification", []),
    # NVIDIA 8-K of 2025-04-15: licence for the H20 though no threshold catches it
    ("nvidia-h20", "2025-04", "licence", []),
    # NVIDIA FY2026 10-K: licences granted from August 2025, 15% of revenue expected by the USG
    ("nvidia-h20", "2025-08", "licence", ["15% fee"]),
    # 91 FR 1684: case by case for TPP < 21,000 and DRAM < 6,500 GB/s; 25% tariff (Proclamation 2026-01-14)
    ("nvidia-h200-sxm", "2026-01", "case-by-case", ["25% fee"]),
    ("nvidia-h200-sxm", "2025-08", "denial", []),
    # the envelope is parametric: the H100 (TPP 15,832, 3,350 GB/s) is inside it, outside the tariff band
    ("nvidia-h100-sxm", "2026-01", "case-by-case", []),
    # the B200 (TPP 36,000) is outside it: presumption of denial stays
    ("nvidia-b200", "2026-01", "denial", []),
    ("nvidia-rtx-4090d", "2026-01", "none", []),
])
def test_china_treatment_by_rule(status, chip, rule, treatment, fees):
    row = status.loc[(chip, rule)]
    assert row.treatment == treatment
    assert row.fees == fees


def test_status_follows_the_catalog_and_reaches_the_latest_rule(cat, status):
    """Every accelerator (none left out by a hard-coded list) under every rule version; a chip
    made in China is marked as such rather than given a US export treatment."""
    chips = {c.id for c in cat.chips.values() if c.kind == "accelerator"}
    assert set(status.index.get_level_values("chip")) == chips
    assert list(cat.rules)[-1] == "2026-01"
    assert {r for _, r in status.index} == set(cat.rules)
    assert status.loc[("huawei-ascend-910c", "2026-01"), "treatment"] == "domestic"
    assert "GP10" in status.loc[("huawei-ascend-910c", "2026-01"), "label"]
    assert status.loc[("nvidia-h200-sxm", "2026-01"), "short"] == "a: case-by-case +25% fee"
    assert status.loc[("nvidia-h20", "2025-08"), "short"] == "named: licence +15% fee"
    # MI308X: no public die area, so the thresholds cannot place it; its named-part licence can
    assert status.loc[("amd-mi308x", "2023-10"), "short"] == "?"
    assert status.loc[("amd-mi308x", "2025-04"), "treatment"] == "licence"


def test_a_user_chip_appears_in_the_status_table(tmp_path):
    (tmp_path / "c.yaml").write_text(textwrap.dedent("""
        chips:
          - id: test-china-part
            name: Test China part
            vendor: nvidia
            country: US
            status: announced
            defaults: {source: epoch-ml-hardware, confidence: estimate}
            bf16_dense_tflops: 140
            compute_die_area_mm2: 800
            memory_bw_gbps: 4000
        """))
    df = export_status(chipgap.load_catalog(tmp_path), samples=50)
    row = df[(df.chip == "test-china-part") & (df.rule == "2026-01")].iloc[0]
    assert row.treatment == "none" and row.tpp == pytest.approx(2240)


def test_headroom_curves_over_die_area(cat):
    """2022-10: TPP 4,800 at any area (no density test; links assumed fast); from 2023-10 the
    identical curve: 1,600 up to 1600/5.92 = 270 mm2 ... TPP < 2,400 or PD < 1.6 beyond."""
    h = headroom_curves(cat, [200.0, 814.0, 2000.0])
    by = h.set_index(["rule", "die_area_mm2"]).max_tpp
    assert by[("2022-10", 814.0)] == 4800
    # 200 mm2: 3A090.a.2 catches TPP >= 1,600 (PD >= 5.92 holds from TPP 1,184): ceiling 1,600
    assert by[("2023-10", 200.0)] == pytest.approx(1600)
    assert by[("2023-10", 814.0)] == pytest.approx(2400)
    # 2,000 mm2: PD < 1.6 up to TPP 3,200, so .b.1 starts at 3,200 ... and .b.2 at 6,400 (PD 3.2)
    # but 3A090.a.1 catches TPP >= 4,800 everywhere: ceiling 3,200
    assert by[("2023-10", 2000.0)] == pytest.approx(3200)
    assert set(h[h.rule != "2022-10"].same_as) == {"2023-10"}
    latest = h[h.rule == "2026-01"].iloc[0]
    assert latest.case_by_case_max_tpp == 21000 and latest.case_by_case_condition == "memory_bw_gbps < 6500"
    assert np.isnan(h[h.rule == "2025-08"].case_by_case_max_tpp).all()
