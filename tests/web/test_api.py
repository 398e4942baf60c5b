"""The workbench's JSON API through FastAPI's test client: the same JSON as the CLI, 422s that name
the field, bounded work, uploads, and the headers every response carries."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from chipgap.analyses.assumptions import changes_from_scenario
from chipgap.cli import app as cli
from chipgap.web.app import create_app
from chipgap.web.state import Settings

YIELD_910C = "chip_costs:huawei-ascend-910c-cost:yields.1.value"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def _cli_json(args: list[str]) -> dict:
    r = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize("question, top, args", [
    ({"model": "llama-3.1-8b", "chip": "h100", "chips": 16, "seq_len": 8192},
     5, ["train", "-m", "llama-3.1-8b", "-c", "h100", "-n", "16", "--seq-len", "8192"]),
    ({"model": "llama-3.1-70b", "chip": "910c", "chips": 64, "samples": 30, "layout": {"tp": 8}},
     3, ["train", "-m", "llama-3.1-70b", "-c", "910c", "-n", "64", "--samples", "30", "--tp", "8", "--top", "3"]),
])
def test_train_is_the_cli_json(client, question, top, args):
    r = client.post(f"/api/train?top={top}", json=question)
    assert r.status_code == 200, r.text
    assert r.json() == _cli_json(args)


def test_train_one_layout_and_token_budget_is_the_cli_json(client):
    q = {"model": "llama-3.1-8b", "chip": "h100", "chips": 8,
         "layout": {"tp": 1, "pp": 1, "dp": 8, "cp": 1, "ep": 1, "vpp": 1, "mbs": 1, "zero": 1, "recompute": "none"}}
    r = client.post("/api/train?tokens=1e12", json=q)
    assert r.status_code == 200, r.text
    assert r.json() == _cli_json(["train", "-m", "llama-3.1-8b", "-c", "h100", "-n", "8", "--tp", "1", "--pp", "1",
                                  "--dp", "8", "--cp", "1", "--ep", "1", "--vpp", "1", "--mbs", "1", "--zero", "1",
                                  "--recompute", "none", "--tokens", "1e12"])
    assert "result" in r.json() and r.json()["result"]["days_to_train"] > 0


def test_serve_is_the_cli_json(client):
    q = {"model": "llama-3.1-70b", "chip": "h100", "chips": 8, "input_len": 2048, "output_len": 512,
         "tpot_ms": 50, "samples": 20}
    r = client.post("/api/serve?top=4", json=q)
    assert r.status_code == 200, r.text
    assert r.json() == _cli_json(["infer", "-m", "llama-3.1-70b", "-c", "h100", "-n", "8", "--input-len", "2048",
                                  "--output-len", "512", "--tpot-ms", "50", "--samples", "20", "--top", "4"])
    assert r.json()["pareto"] and r.json()["uncertainty"]["samples"] == 20


@pytest.mark.parametrize("path, body, loc", [
    ("/api/train", {"model": "llama-3.1-8b", "chip": "h100", "chips": -1}, ["body", "chips"]),
    ("/api/train", {"model": "llama-3.1-8b", "chip": "h100", "chips": "8"}, ["body", "chips"]),
    ("/api/train", {"model": "llama-3.1-8b", "chip": "h100", "chips": 8, "tpp": 2}, ["body", "tpp"]),
    ("/api/train", {"model": "llama-3.1-8b", "chip": "h100", "chips": 8, "layout": {"zero": 5}},
     ["body", "layout", "zero"]),
    ("/api/train", {"model": "llama-3.1-8b", "chip": "nope-9000", "chips": 8}, ["body", "chip"]),
    ("/api/serve", {"model": "llama-3.1-8b", "chip": "h100", "input_len": 100, "cached_len": 200},
     ["body", "cached_len"]),
    ("/api/serve", {"chip": "h100"}, ["body", "model"]),
    ("/api/econ/chip-cost", {"chip": "910c", "die_yield": 1.5}, ["body", "die_yield"]),
])
def test_invalid_input_is_a_422_naming_the_field(client, path, body, loc):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    problem = r.json()["detail"][0]
    assert problem["loc"][:len(loc)] == loc
    assert problem["msg"] and "Traceback" not in r.text


def test_a_search_too_large_or_too_many_samples_is_refused():
    with TestClient(create_app(Settings(max_configs=50, max_samples=100))) as c:
        r = c.post("/api/train", json={"model": "llama-3.1-70b", "chip": "h100", "chips": 1024})
        assert r.status_code == 422 and "configurations" in r.json()["detail"][0]["msg"]
        assert r.json()["detail"][0]["loc"] == ["body", "layout"]
        r = c.post("/api/serve", json={"model": "llama-3.1-8b", "chip": "h100", "samples": 1000})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "samples"]


def test_a_computation_past_its_time_is_a_504_and_a_full_queue_a_503():
    with TestClient(create_app(Settings(timeout_s=0.001))) as c:
        r = c.post("/api/train", json={"model": "deepseek-v3", "chip": "h800", "chips": 2048})
        assert r.status_code == 504 and "longer than" in r.json()["detail"]
    with TestClient(create_app(Settings(max_pending=0))) as c:
        r = c.post("/api/train", json={"model": "llama-3.1-8b", "chip": "h100", "chips": 8})
        assert r.status_code == 503 and "busy" in r.json()["detail"]


def test_an_upload_too_large_is_refused(client):
    big = "# padding\n" * 30_000
    r = client.post("/api/scenario/changes", content=big.encode(), headers={"content-type": "application/yaml"})
    assert r.status_code == 413 and "larger than" in r.json()["detail"]


def test_an_upload_is_read_with_the_safe_loader(client):
    bomb = "a: &a [1, 2]\nb: *a\n"
    r = client.post("/api/scenario/changes", content=bomb.encode(), headers={"content-type": "application/yaml"})
    assert r.status_code == 422 and "aliases" in r.json()["detail"][0]["msg"]
    r = client.post("/api/scenario/changes", content=b"!!python/object:os.system {}\n")
    assert r.status_code == 422


def test_changes_round_trip_through_a_scenario_file(client, catalog):
    changes = [{"key": YIELD_910C, "text": "0.5"},
               {"key": "assumptions:electricity-usd-per-kwh-cn:quantity", "text": "0.05-0.07 (0.06)"},
               {"key": "export_rules:2023-10:classifications.0.prongs.0.all_of.0.threshold", "value": 4000}]
    r = client.post("/api/changes/check", json={"changes": changes})
    assert r.status_code == 200, r.text
    assert "chipgap_changes" in r.headers["set-cookie"]
    text = client.post("/api/scenario/yaml", json={"changes": r.json()["changes"]}).text
    back, ignored = changes_from_scenario(catalog, text)
    assert {c.key: c.to_dict() for c in back} == {c["key"]: c for c in r.json()["changes"]}
    assert ignored == []
    r2 = client.post("/api/scenario/changes", content=text.encode(), headers={"content-type": "application/yaml"})
    assert r2.status_code == 200 and r2.json()["changes"] == r.json()["changes"]


def test_a_bad_change_names_its_key(client):
    r = client.post("/api/changes/check", json={"changes": [{"key": YIELD_910C, "text": "lots"}]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", YIELD_910C]
    r = client.post("/api/changes/check", json={"changes": [{"key": "chips:nope:price_usd", "value": 1}]})
    assert r.status_code == 422


def test_the_other_calls_mirror_the_python_api(client):
    r = client.post("/api/export/classify", json={"chips": ["h20", "h100"], "rules": ["2023-10"], "samples": 100})
    assert r.status_code == 200 and {x["chip"] for x in r.json()} == {"nvidia-h20", "nvidia-h100-sxm"}
    r = client.post("/api/econ/chip-cost", json={"chip": "910c", "samples": 200})
    assert r.status_code == 200 and r.json()[0]["chip"] == "huawei-ascend-910c"
    r = client.post("/api/econ/tco", json={"system": "cloudmatrix-384", "region": "cn", "samples": 200})
    assert r.status_code == 200 and len(r.json()) == 3
    r = client.post("/api/supply", json={"scenario": "china-2025-base", "samples": 200})
    assert r.status_code == 200 and r.json()["rows"]
    r = client.post("/api/scenario/run", json={"scenario": "hbm-cutoff", "samples": 100})
    assert r.status_code == 200 and r.json()["questions"]
    r = client.post("/api/scenario/run", json={"scenario": "../etc/passwd.yaml"})
    assert r.status_code == 422
    r = client.get("/api/schema/serve")
    assert r.status_code == 200 and "tpot_ms" in r.json()["properties"]
    spec = client.get("/api/openapi.json").json()
    assert {"/api/train", "/api/serve", "/api/export/classify", "/api/econ/chip-cost", "/api/supply",
            "/api/scenario/run", "/api/sweep/query"} <= set(spec["paths"])


def test_sweep_query_is_read_only(client, tmp_path):
    from chipgap.sweep import run_sweep
    from chipgap.sweep.spec import parse_spec

    out = tmp_path / "run"
    run_sweep(parse_spec({"kind": "train", "chips": ["h100"], "models": ["llama-3.1-8b"], "chip_counts": [8],
                          "shapes": [{"seq_len": 4096, "global_batch": 256}], "layouts": [{"tp": 1, "pp": 1}]}), out)
    r = client.post("/api/sweep/query", json={"dir": str(out), "sql": "SELECT count(*) AS n FROM results"})
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0]["n"] > 0
    r = client.post("/api/sweep/query", json={"dir": str(out), "sql": "DROP VIEW results"})
    assert r.status_code == 422
    page = client.get("/sweeps", params={"dir": str(out), "sql": "SELECT tp, dp, tokens_per_s FROM results",
                                         "x": "dp", "y": "tokens_per_s"})
    assert page.status_code == 200 and 'id="chart-sweep"' in page.text


def test_every_response_forbids_other_origins(client):
    r = client.get("/chips")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert "http://" not in r.text.split("<main>")[0] and "https://" not in r.text.split("<main>")[0]
    r = client.get("/chips", headers={"host": "evil.example"})
    assert r.status_code == 400


def test_catalog_text_is_escaped(tmp_path):
    (tmp_path / "x.yaml").write_text(
        "chips:\n  - id: nvidia-h100-sxm\n    name: \"<script>alert(1)</script>\"\n", encoding="utf-8")
    with TestClient(create_app(Settings(catalog_dir=tmp_path))) as c:
        for path in ("/chips", "/chips/compare?ids=h100"):
            r = c.get(path)
            assert r.status_code == 200
            assert "<script>alert(1)" not in r.text and "&lt;script&gt;alert(1)" in r.text


def test_pages_render(client):
    for path in ("/chips", "/chips/compare?ids=910c&ids=h100&ids=kh-40000", "/train", "/serve", "/sweeps",
                 "/apidoc", "/assumptions", "/train?model=llama-3.1-8b&chip=h100&chips=8&samples=20",
                 "/serve?model=llama-3.1-8b&chip=h100&tpot_ms=20"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
    r = client.get("/train?model=llama-3.1-8b&chip=h100&chips=0")
    assert r.status_code == 422 and "chips" in r.text


def test_a_wheel_ships_the_templates_and_scripts():
    import tomllib
    from pathlib import Path

    import chipgap.web

    conf = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    shipped = conf["tool"]["setuptools"]["package-data"]["chipgap"]
    assert {"web/templates/*.html", "web/static/*.js", "web/static/vendor/*"} <= set(shipped)
    vendor = Path(chipgap.web.__file__).parent / "static" / "vendor"
    for name in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "vega-interpreter.js",
                 "LICENSE-vega.txt", "VENDOR.md"):
        assert (vendor / name).is_file()
