import json

import pytest
from typer.testing import CliRunner

from chipgap.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_one_layout_json_contract():
    r = run("train", "-m", "llama-3.1-70b", "-c", "h100", "-n", 64, "--seq-len", 4096,
            "--global-batch", 256, "--tp", 8, "--pp", 2, "--cp", 1, "--ep", 1, "--vpp", 1, "--mbs", 1,
            "--zero", 1, "--recompute", "none", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["inputs"]["chip"] == "nvidia-h100-sxm" and data["inputs"]["system"] == "nvidia-hgx-h100"
    res = data["result"]
    assert res["layout"]["dp"] == 4
    for key in ("step_time_s", "tokens_per_s", "tflops_per_chip", "mfu", "hfu", "memory_gb_per_chip",
                "fits", "breakdown_s", "memory_breakdown_gb"):
        assert key in res
    parts = res["breakdown_s"]
    assert res["step_time_s"] >= parts["bubble"] + parts["optimizer"]
    assert 0 < res["mfu"] <= res["hfu"] < 1


def test_layout_options_left_out_are_searched():
    r = run("train", "-m", "llama-3.1-70b", "-c", "h100", "-n", 64, "--seq-len", 4096,
            "--global-batch", 256, "--tp", 8, "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    set_fields = {k: v for k, v in data["inputs"]["layout"].items() if v is not None}
    assert data["layouts_evaluated"] > 100 and set_fields == {"tp": 8}   # null: searched
    assert all(res["layout"]["tp"] == 8 for res in data["results"])
    layouts = {tuple(res["layout"].values()) for res in data["results"]}
    assert len(layouts) == len(data["results"]) > 1                      # different layouts
    rates = [res["tokens_per_s"] for res in data["results"]]
    assert rates == sorted(rates, reverse=True)


def test_search_table_and_days():
    r = run("train", "-m", "llama-3.1-8b", "-c", "h100", "-n", 8, "--seq-len", 8192,
            "--global-batch", 128, "--search", "--top", 2, "--tokens", 1e12)
    assert r.exit_code == 0, r.output
    assert "layouts evaluated" in r.output and "days" in r.output


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
@pytest.mark.parametrize("args, field, says", [
    (["-n", 64, "--tp", 16], "tp", "tp must divide the scale-up domain and the attention heads"),
    (["-n", 8, "--tp", 2, "--dp", 7], "dp", "tp 2 x pp 1 x dp 7 x cp 1 on 8 devices"),
    (["-n", 8, "--tp", 16], "tp", "from 1 to the job's 8 devices"),
])
def test_impossible_layout_is_refused_in_every_format(fmt, args, field, says):
    r = run("train", "-m", "llama-3.1-70b", "-c", "h100", *args, "--format", fmt)
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "Traceback" not in r.output
    assert f"'{field}' must be" in r.output and says in r.output and "fits" not in r.output


def test_layout_that_does_not_fit_is_an_answer():
    r = run("train", "-m", "llama-3.1-70b", "-c", "h100", "-n", 8, "--tp", 8, "--pp", 1, "--cp", 1, "--ep", 1,
            "--vpp", 1, "--mbs", 1, "--zero", 0, "--recompute", "none", "--format", "json")
    assert r.exit_code == 0
    res = json.loads(r.stdout)["result"]
    assert res["fits"] is False and res["reason"] == "does not fit in memory"


def test_fp8_training_needs_fp8_units():
    r = run("train", "-m", "llama-3.1-8b", "-c", "a100", "-n", 8, "--precision", "fp8")
    assert r.exit_code == 2 and "nvidia-a100-sxm has no fp8 units" in r.output
    assert run("train", "-m", "llama-3.1-8b", "-c", "h100", "-n", 8, "--precision", "fp8").exit_code == 0


def test_block_scaled_training_needs_its_units():
    # MXFP8 and NVFP4 recipes need Blackwell's block-scaled MMA; a Hopper has fp8 units only
    r = run("train", "-m", "llama-3.1-8b", "-c", "h100", "-n", 8, "--precision", "nvfp4")
    assert r.exit_code == 2 and "precision" in r.output and "nvidia-h100-sxm has no nvfp4 units" in r.output
    assert run("train", "-m", "llama-3.1-8b", "-c", "h100", "-n", 8, "--precision", "fp4").exit_code == 2
    ok = run("train", "-m", "llama-3.1-8b", "-c", "b200", "-n", 8, "--precision", "mxfp8", "--format", "json")
    assert ok.exit_code == 0, ok.output
    fp8 = run("train", "-m", "llama-3.1-8b", "-c", "b200", "-n", 8, "--precision", "fp8", "--format", "json")
    best = [json.loads(x.stdout)["results"][0]["tokens_per_s"] for x in (ok, fp8)]
    assert best[0] <= best[1]       # MXFP8 quantizes twice and carries scales: never faster than fp8


def test_unknown_model_exit_2():
    r = run("train", "-m", "gpt-9", "-c", "h100", "-n", 8)
    assert r.exit_code == 2 and "unknown workload 'gpt-9'" in r.output


def test_chips_needed_json():
    r = run("train", "-m", "llama-3.1-70b", "-c", "h100", "-n", 8, "--seq-len", 4096,
            "--global-batch", 1024, "--target-tokens-per-s", 1e5, "--format", "json")
    data = json.loads(r.stdout)
    answer = next(t for t in data["tried"] if t["chips"] == data["chips_needed"])
    assert answer["tokens_per_s"] >= 1e5
    assert all(t["tokens_per_s"] < 1e5 for t in data["tried"] if t["chips"] < data["chips_needed"])


def test_samples_add_a_spread_from_the_spec_ranges():
    res = runner.invoke(app, ["train", "-m", "llama-3.1-8b", "-c", "910c", "-n", "64", "--seq-len", "4096",
                              "--global-batch", "256", "--search", "--samples", "300", "--format", "json"])
    assert res.exit_code == 0, res.output
    u = json.loads(res.output)["uncertainty"]
    assert u["samples"] == 300
    assert u["tokens_per_s"]["p10"] < u["tokens_per_s"]["p50"] < u["tokens_per_s"]["p90"]
    best = json.loads(res.output)["results"][0]["tokens_per_s"]
    assert u["tokens_per_s"]["p10"] < best * 1.01 and best < u["tokens_per_s"]["p90"] * 1.01
