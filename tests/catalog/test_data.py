"""The bundled data against its sources: values checked by hand, and consistency across records."""

import pytest

import chipgap
from chipgap.catalog.schema import PRECISIONS
from chipgap.models.params import param_count


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


def test_h100_sxm_against_the_nvidia_datasheet(cat):
    # NVIDIA H100 Tensor Core GPU datasheet: BF16 1,979 TFLOPS "with sparsity" -> 989.4 dense;
    # 80 GB HBM3 at 3.35 TB/s; NVLink 900 GB/s (both directions); 700 W.
    h = cat.chip("nvidia-h100-sxm")
    assert h.bf16_dense_tflops.value == pytest.approx(989.4)
    assert h.fp8_dense_tflops.value == pytest.approx(1978.9, abs=0.2)
    assert h.memory_capacity_gib.value == 80 and h.memory_bw_gbps.value == 3350
    assert h.scaleup_bw_gbps_bidir.value == 900 and h.scaleup_bw_gbps_unidir.value == 450
    assert h.tdp_w.value == 700 and h.bf16_dense_tflops.confidence == "official"


def test_910c_is_two_dies_with_128_gb(cat):
    c = cat.chip("910c")
    assert c.id == "huawei-ascend-910c"
    assert c.compute_die_count.value == 2 and c.memory_capacity_gib.value == 128
    lo, hi = c.bf16_dense_tflops.bounds
    assert lo <= 752 and hi >= 780  # CloudMatrix paper 2 x 376 .. SemiAnalysis 780


def test_china_specific_parts_are_cut_where_reported(cat):
    h20, h100 = cat.chip("h20"), cat.chip("h100")
    assert h20.bf16_dense_tflops.value == pytest.approx(148)          # vs 989.4 on H100
    assert h20.memory_bw_gbps.value == 4000 and h20.memory_capacity_gib.value == 96
    for cut in ("nvidia-a800-sxm", "nvidia-h800-sxm"):                 # NVLink cut to 400 GB/s
        assert cat.chip(cut).scaleup_bw_gbps_bidir.point == 400
    assert cat.chip("h800").bf16_dense_tflops.value == h100.bf16_dense_tflops.value


@pytest.mark.parametrize("alias, chip_id", [
    ("h100", "nvidia-h100-sxm"), ("H100 SXM", "nvidia-h100-sxm"), ("910c", "huawei-ascend-910c"),
    ("Ascend_910C", "huawei-ascend-910c"), ("h20", "nvidia-h20"), ("mi300x", "amd-mi300x"),
])
def test_aliases_resolve(cat, alias, chip_id):
    assert cat.chip(alias).id == chip_id


def test_every_chip_has_some_sourced_spec_and_ranges_only_where_uncertain(cat):
    for chip in cat.chips.values():
        specs = [getattr(chip, f) for f in PRECISIONS.values()] + [chip.memory_bw_gbps]
        known = [q for q in specs if q is not None]
        assert known or chip.notes, f"{chip.id}: no throughput or memory figure and no note why"
        for q in known:
            if q.is_range:
                assert q.confidence in ("estimate", "rumor", "official"), chip.id


def test_rumoured_and_roadmap_chips_are_not_presented_as_shipping(cat):
    assert cat.chip("huawei-ascend-910d").status == "rumoured"
    for roadmap in ("huawei-ascend-960", "huawei-ascend-970"):
        assert cat.chip(roadmap).status == "announced"


def test_systems_agree_with_their_chips(cat):
    for s in cat.systems.values():
        assert cat.chip(s.chip).id == s.chip  # systems name chips by canonical id
    assert cat.system("huawei-cloudmatrix-384").scaleup_domain_chips.value == 384
    assert cat.system("nvidia-gb200-nvl72").scaleup_domain_chips.value == 72
    assert cat.system("nvidia-hgx-h100").chip_count.value == 8


def test_default_systems_use_their_chip(cat):
    for chip in cat.chips.values():
        if chip.default_system:
            assert cat.system(chip.default_system).chip == chip.id, chip.id
    for accel in ("nvidia-h100-sxm", "nvidia-h20", "huawei-ascend-910b", "huawei-ascend-910c"):
        assert cat.default_system(accel) is not None


def test_computed_parameter_counts_match_reported_ones(cat):
    # Each workload's config.json must reproduce the parameter count its model card reports.
    checked = 0
    for wid, entry in cat.workloads.items():
        p = param_count(cat.workload(wid))
        if entry.params_total_billion is not None:
            assert p.total / 1e9 == pytest.approx(entry.params_total_billion.point, rel=0.03), wid
            checked += 1
        if entry.params_active_billion is not None:
            # cards count the input embedding (a lookup, not a matmul) in or out of "active"
            w = cat.workload(wid)
            lookup = w.vocab_size * w.d_model
            reported = entry.params_active_billion.point
            assert any(a / 1e9 == pytest.approx(reported, rel=0.05)
                       for a in (p.active, p.active - lookup)), wid
    assert checked >= 8


def test_required_workloads_exist(cat):
    for wid in ("llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "llama-2-70b", "deepseek-v3",
                "deepseek-r1", "deepseek-r1-distill-qwen-7b", "qwen3-32b", "qwen3-235b-a22b",
                "gpt3-175b"):
        cat.workload(wid)


def test_process_nodes_link_chips_to_foundries(cat):
    h100 = cat.chip("h100")
    assert cat.company(cat.node(h100.process_node).foundry).id == "tsmc"
    assert cat.node(cat.chip("910b").process_node).foundry == "smic"
    for node in cat.nodes.values():
        assert "foundry" in cat.company(node.foundry).roles


def test_frames_have_one_row_per_record(cat):
    df = cat.to_frame("chip")
    assert len(df) == len(cat.chips) and df.loc["nvidia-h100-sxm", "memory_bw_gbps"] == 3350
    lows = cat.to_frame("chip", value="low")
    assert lows.loc["huawei-ascend-910c", "bf16_dense_tflops"] <= df.loc["huawei-ascend-910c", "bf16_dense_tflops"]
