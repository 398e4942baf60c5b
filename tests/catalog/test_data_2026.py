"""The chips, systems and models added for the 2025-26 catalog (issue 18): each loads with its key
specs and sources, rumours are marked, and the CLI lists and classifies them."""

import json

import pytest
from typer.testing import CliRunner

import chipgap
from chipgap.cli import app
from chipgap.models.params import param_count
from chipgap.models.transformer import layer_work

NEW_CHIPS = ["nvidia-b300", "nvidia-gb300", "nvidia-h20e", "nvidia-rtx-pro-6000-server",
             "nvidia-rtx-pro-6000d", "nvidia-b30a", "google-tpu-v7", "aws-trainium2", "aws-trainium3"]
NEW_SYSTEMS = ["nvidia-hgx-b300", "nvidia-gb300-nvl72", "nvidia-hgx-h20e", "google-tpu-v7-pod",
               "huawei-atlas-950-superpod", "huawei-atlas-960-superpod"]
NEW_MODELS = ["kimi-k2", "glm-4.5", "glm-4.6", "minimax-m2", "qwen3-next-80b-a3b", "deepseek-v3.1",
              "deepseek-v3.2", "gpt-oss-120b", "gpt-oss-20b", "llama-4-scout", "llama-4-maverick",
              "qwen3-coder-480b-a35b"]


@pytest.fixture(scope="module")
def cat():
    return chipgap.load_catalog()


@pytest.mark.parametrize("chip", NEW_CHIPS)
def test_new_chip_has_sourced_specs(cat, chip):
    c = cat.chip(chip)
    quantities = [q for q in (c.bf16_dense_tflops, c.fp8_dense_tflops, c.memory_capacity_gib,
                              c.memory_bw_gbps, c.tdp_w) if q is not None]
    assert quantities, chip
    for q in quantities:
        assert q.source and all(s in cat.sources for s in q.source), chip


def test_blackwell_ultra_against_epoch_and_semianalysis(cat):
    # Epoch rows 'NVIDIA B300/GB300 (Blackwell Ultra)': dense BF16 2,250 / 2,500, FP4 14,000 / 15,000,
    # 1,100 / 1,400 W; SemiAnalysis gpu-specs: GB300 288 GB at 8 TB/s, B300 FP4 13,500.
    b300, gb300 = cat.chip("b300"), cat.chip("gb300")
    assert b300.bf16_dense_tflops.value == 2250 and b300.fp8_dense_tflops.value == 4500
    assert b300.fp4_dense_tflops.bounds == (13500, 14000) and b300.tdp_w.value == 1100
    assert gb300.fp4_dense_tflops.value == 15000 and gb300.memory_capacity_gib.value == 288
    assert gb300.scaleup_bw_gbps_unidir.point == 900 and gb300.tdp_w.value == 1400


def test_trainium_and_tpu_v7_against_their_vendor_pages(cat):
    trn2, trn3, tpu = cat.chip("trainium2"), cat.chip("trainium3"), cat.chip("ironwood")
    assert (trn2.bf16_dense_tflops.value, trn2.fp8_dense_tflops.value) == (667, 1299)
    assert (trn2.memory_capacity_gib.value, trn2.memory_bw_gbps.value) == (96, 2900)
    assert (trn3.fp8_dense_tflops.value, trn3.fp4_dense_tflops.value, trn3.bf16_dense_tflops.value) == (2517, 2517, 671)
    assert (trn3.memory_capacity_gib.value, trn3.memory_bw_gbps.value) == (144, 4900)
    assert (tpu.bf16_dense_tflops.value, tpu.memory_capacity_gib.value, tpu.memory_bw_gbps.value) == (2307, 192, 7370)
    assert tpu.tdp_w.confidence == "estimate"  # Google states no TDP
    assert cat.system("google-tpu-v7-pod").chip_count.value == 9216


def test_rumours_and_unpublished_figures_are_marked(cat):
    b30a = cat.chip("b30a")
    assert b30a.status == "rumoured"
    assert all(q.confidence == "rumor" for q in (b30a.bf16_dense_tflops, b30a.fp4_dense_tflops, b30a.compute_die_count))
    d = cat.chip("b40")
    assert d.id == "nvidia-rtx-pro-6000d" and d.bf16_dense_tflops is None and d.fp4_dense_tflops is None
    assert d.memory_capacity_gib.value == 84 and d.price_usd.confidence == "rumor"
    h20e = cat.chip("h20-3e")
    assert h20e.memory_capacity_gib.value == 141 and h20e.bf16_dense_tflops.confidence == "estimate"


def test_atlas_superpods_match_the_keynote(cat):
    a950, a960 = cat.system("atlas-950-superpod"), cat.system("atlas-960-superpod")
    assert (a950.chip, a950.chip_count.value, a950.scaleup_domain_chips.value) == ("huawei-ascend-950dt", 8192, 8192)
    assert (a960.chip, a960.chip_count.value) == ("huawei-ascend-960", 15488)
    # 8 EFLOPS FP8 = 8,192 x the 950DT's 1 PFLOPS headline (the top of its FP8 range)
    assert 8192 * cat.chip("950dt").fp8_dense_tflops.bounds[1] == pytest.approx(8.192e6)


@pytest.mark.parametrize("system", NEW_SYSTEMS)
def test_new_systems_load(cat, system):
    s = cat.system(system)
    assert s.chip in cat.chips and s.chip_count.source


@pytest.mark.parametrize("model", NEW_MODELS)
def test_new_models_load_with_sources_and_counts(cat, model):
    entry, w = cat.workloads[model], cat.workload(model)
    assert all(s in cat.sources for s in entry.source)
    assert param_count(w).total > 1e10 and entry.notes


def test_models_of_every_attention_kind_are_timed_by_the_performance_models(cat):
    special = {m for m in NEW_MODELS if cat.workload(m).special_layers}
    assert special == {"qwen3-next-80b-a3b", "deepseek-v3.2", "gpt-oss-120b", "gpt-oss-20b",
                       "llama-4-scout", "llama-4-maverick"}
    for m in special:
        kinds = {a.kind for a in layer_work(cat.workload(m)).attention}
        assert kinds == {"full", *cat.workload(m).special_layers} - ({"full"} if m == "deepseek-v3.2" else set())


def test_cli_lists_and_classifies_every_new_entry():
    runner = CliRunner()
    chips = {c["id"] for c in json.loads(runner.invoke(app, ["chips", "list", "--format", "json"]).stdout)}
    assert set(NEW_CHIPS) <= chips
    systems = runner.invoke(app, ["systems", "list", "--format", "csv"])
    assert systems.exit_code == 0 and all(s in systems.stdout for s in NEW_SYSTEMS)
    models = {m["id"] for m in json.loads(runner.invoke(app, ["models", "list", "--format", "json"]).stdout)}
    assert set(NEW_MODELS) <= models
    for chip in NEW_CHIPS:
        out = runner.invoke(app, ["export", "timeline", chip, "--format", "json"])
        assert out.exit_code == 0, out.stdout
        rows = json.loads(out.stdout)
        assert [r["rule"] for r in rows][-1] == "2026-01" and len(rows) == 8


def test_cli_answers_a_model_with_sliding_window_layers():
    out = CliRunner().invoke(app, ["infer", "-m", "gpt-oss-120b", "-c", "h100", "--phase", "decode", "--batch", "8",
                                   "--format", "json"])
    assert out.exit_code == 0, out.output
