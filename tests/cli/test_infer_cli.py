import json

import pytest

from typer.testing import CliRunner

import chipgap
from chipgap.analyses.efficiency import efficiency_for
from chipgap.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_serve_json_contract():
    r = run("infer", "-m", "llama-3.1-8b", "-c", "h100", "--input-len", 1000, "--output-len", 1000,
            "--precision", "fp8", "--kv-precision", "fp8", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["inputs"]["chip"] == "nvidia-h100-sxm" and data["inputs"]["phase"] == "serve"
    res = data["results"][0]
    for key in ("layout", "batch", "ttft_ms", "tpot_ms", "tokens_per_s", "tokens_per_s_per_chip",
                "memory_gb_per_chip", "fits", "breakdown_ms"):
        assert key in res
    assert res["memory_gb_per_chip"] <= 80 and data["pareto"]


def test_decode_cluster_with_slo_and_mtp_shows_a_breakdown():
    r = run("infer", "-m", "deepseek-r1", "-c", "h800", "-n", 144, "--phase", "decode",
            "--input-len", 4096, "--precision", "fp8", "--tpot-ms", 50, "--mtp-accept", 0.8,
            "--tp", 1, "--pp", 1)
    assert r.exit_code == 0, r.output
    assert "ep_comm" in r.output and "EP144" in r.output


def test_cpu_case_states_its_assumptions():
    r = run("infer", "-m", "deepseek-r1-distill-qwen-7b", "-c", "kh-40000", "--phase", "decode",
            "--batch", 1, "--format", "json")
    data = json.loads(r.stdout)
    assert any("DRAM assumed" in a for a in data["inputs"]["assumptions"])
    # memory-bound: 14.15 GB of bf16 weights streamed per token (7.62 B parameters less the
    # embedding) at the socket's DRAM bandwidth and the fitted x86 memory efficiency, less the
    # few per cent the KV cache and the per-layer cost take
    cat = chipgap.load_catalog()
    ceiling = cat.chip("kh-40000").memory_bw_gbps.point * efficiency_for(cat, "zhaoxin-kh-40000")[0].memory / 14.15
    assert 0.85 * ceiling < data["results"][0]["tokens_per_s"] < ceiling


def test_bad_precision_exit_2():
    r = run("infer", "-m", "llama-3.1-8b", "-c", "h100", "--precision", "fp3")
    assert r.exit_code == 2 and "weight_precision" in r.output


def test_a_cache_hit_longer_than_the_prompt_exits_2():
    r = run("infer", "-m", "llama-3.1-8b", "-c", "h100", "--input-len", 100, "--cached-len", 100)
    assert r.exit_code == 2 and "cached_len" in r.output and "Traceback" not in r.output


def test_pareto_chart_is_written_once(tmp_path):
    out = tmp_path / "front.png"
    args = ["infer", "-m", "llama-3.1-8b", "-c", "h100", "--precision", "fp8", "--chart", out]
    assert run(*args).exit_code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run(*args).exit_code == 2   # never overwritten


def test_econ_tco_with_a_served_model():
    r = run("econ", "tco", "--system", "huawei-cloudmatrix-384", "-m", "deepseek-r1",
            "--precision", "int8", "--region", "cn", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["inputs"]["tokens_per_s_per_chip"] > 0
    p50 = next(x for x in data["rows"] if x["quantile"] == "P50")
    assert 0 < p50["usd_per_million_tokens"] < p50["usd_per_chip_hour"]


def test_infer_samples_spread_meets_the_slo():
    res = runner.invoke(app, ["infer", "-m", "deepseek-r1", "-c", "910c", "-n", "16", "--phase", "decode",
                              "--input-len", "4096", "--precision", "int8", "--tpot-ms", "50",
                              "--samples", "200", "--format", "json"])
    assert res.exit_code == 0, res.output
    u = json.loads(res.output)["uncertainty"]
    assert u["tpot_ms"]["p90"] <= 50 and u["tokens_per_s_per_chip"]["p50"] > 0


def test_an_offline_job_size_is_for_phase_serve_only():
    r = run("infer", "-m", "llama-3.1-8b", "-c", "h100", "--phase", "decode", "--requests", 30)
    assert r.exit_code == 2 and "requests" in r.output and "Traceback" not in r.output
    r = run("infer", "-m", "llama-3.1-8b", "-c", "h100", "--requests", 3000, "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["inputs"]["requests"] == 3000


def test_a_serial_scheduler_shows_as_idle_time_in_the_breakdown():
    args = ("infer", "-m", "llama-3.1-8b", "-c", "a100", "--input-len", 226, "--output-len", 194,
            "--batch", 512, "--format", "json")
    fast, slow = run(*args), run(*args, "--serial-scheduler")
    assert fast.exit_code == 0 and slow.exit_code == 0, slow.output
    a, b = json.loads(fast.stdout), json.loads(slow.stdout)
    assert a["inputs"]["overlap_scheduler"] is True and b["inputs"]["overlap_scheduler"] is False
    ra, rb = a["results"][0], b["results"][0]
    assert ra["breakdown_ms"]["scheduler"] == 0
    assert rb["breakdown_ms"]["scheduler"] > 0
    assert rb["tokens_per_s"] < ra["tokens_per_s"]


def test_an_uneven_expert_load_slows_moe_decode_and_is_bounded_below_by_one():
    args = ("infer", "-m", "deepseek-r1", "-c", "h800", "-n", 144, "--phase", "decode", "--input-len", 4096,
            "--precision", "fp8", "--tp", 1, "--pp", 1, "--batch", 9216, "--format", "json")
    even, skew = run(*args), run(*args, "--ep-imbalance", 1.5)
    assert even.exit_code == 0 and skew.exit_code == 0, skew.output
    a, b = json.loads(even.stdout), json.loads(skew.stdout)
    assert b["inputs"]["ep_imbalance"] == 1.5
    assert b["results"][0]["tokens_per_s"] < a["results"][0]["tokens_per_s"]
    bad = run(*args, "--ep-imbalance", 0.5)
    assert bad.exit_code == 2 and "Traceback" not in bad.output


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
@pytest.mark.parametrize("args, field", [(["--tp", 2, "--dp", 7], "dp"), (["--tp", 16], "tp"),
                                         (["--tp", 3], "tp"), (["--ep", 2], "ep")])
def test_impossible_instance_layout_is_refused_in_every_format(fmt, args, field):
    r = run("infer", "-m", "llama-3.1-8b", "-c", "h100", "-n", 8, *args, "--format", fmt)
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "Traceback" not in r.output
    assert f"'{field}' must be" in r.output


def test_fp8_weights_on_a_chip_without_fp8_units_are_marked_as_falling_back():
    r = run("infer", "-m", "llama-3.1-8b", "-c", "a100", "--precision", "fp8", "--format", "json")
    assert r.exit_code == 0, r.output
    notes = json.loads(r.stdout)["inputs"]["assumptions"]
    assert any(n.startswith("no fp8 units: fp8 weights are computed at the bf16 rate") for n in notes)
    table = run("infer", "-m", "llama-3.1-8b", "-c", "a100", "--precision", "fp8")
    assert "no fp8 units" in table.output.replace("\n", " ").replace("  ", " ")


# -- issue 18: number formats, draft tokens, weight offload ------------------------------------

def test_nvfp4_deepseek_on_b200_and_its_fallback_on_hopper():
    r = run("infer", "-m", "deepseek-r1", "-c", "b200", "-n", 8, "--input-len", 1024, "--output-len", 2048,
            "--precision", "nvfp4", "--kv-precision", "fp8", "--tp", 1, "--dp", 8, "--ep", 8, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert not any("units" in a for a in data["inputs"]["assumptions"])
    h = run("infer", "-m", "deepseek-r1", "-c", "h200", "-n", 8, "--precision", "nvfp4", "--tp", 8, "--ep", 8)
    assert h.exit_code == 0, h.output
    assert "no nvfp4 units" in h.output.replace("\n", " ")


def test_w4a8_deepseek_on_the_910c_with_three_mtp_drafts():
    r = run("infer", "-m", "deepseek-r1", "-c", "910c", "-n", 8, "--input-len", 2048, "--output-len", 2048,
            "--precision", "int4", "--compute-precision", "int8", "--draft-tokens", 3, "--accept-length", 2.82,
            "--tp", 1, "--dp", 16, "--ep", 16, "--batch", 256, "--format", "json")
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)["results"][0]
    assert res["draft_tokens"] == 3 and res["accept_length"] == pytest.approx(2.82)
    assert res["breakdown_ms"]["draft"] > 0


def test_the_draft_count_is_searched_and_shown():
    r = run("infer", "-m", "deepseek-r1", "-c", "h200", "-n", 8, "--phase", "decode", "--precision", "fp8",
            "--tp", 8, "--ep", 8, "--batch", 1, "--accept-rates", "0.85,0.7,0.6")
    assert r.exit_code == 0, r.output
    assert "drafts" in r.output and "draft tokens" in r.output.replace("\n", " ")


@pytest.mark.parametrize("args, field", [
    (("--precision", "fp5"), "weight_precision"),
    (("--precision", "int4", "--compute-precision", "nvfp4"), "compute_precision"),
    (("--draft-tokens", 2), "accept_length"),
    (("--accept-rates", "0.9,x"), "accept_rates"),
    (("--weight-offload", "2"), "weight_offload"),
    (("--weight-offload", "lots"), "weight_offload"),
    (("--mtp-accept", 0.7, "--draft-model", "no-such-draft"), "no-such-draft"),
])
def test_bad_format_or_speculation_input_exits_2(args, field):
    r = run("infer", "-m", "llama-3.1-8b", "-c", "h100", *args)
    assert r.exit_code == 2, r.output
    assert field in r.output and "Traceback" not in r.output


def test_offload_and_mtp_refused_where_the_catalog_cannot_run_them():
    r = run("infer", "-m", "deepseek-r1", "-c", "b200", "-n", 8, "--weight-offload", 0.5)
    assert r.exit_code == 2 and "weight_offload" in r.output
    r = run("infer", "-m", "llama-3.1-8b", "-c", "h100", "--mtp-accept", 0.7)
    assert r.exit_code == 2 and "draft_model" in r.output


def test_gb200_prefill_streams_weights_from_grace():
    r = run("infer", "-m", "deepseek-r1", "-c", "gb200", "-n", 2, "--phase", "prefill", "--input-len", 2000,
            "--precision", "nvfp4", "--tp", 1, "--dp", 2, "--ep", 2, "--weight-offload", "auto", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert any("host link" in a for a in data["inputs"]["assumptions"])
