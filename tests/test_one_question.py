"""One question, one answer: the CLI, a scenario question and a sweep case that ask the same
training or serving question give identical numbers."""

import json
import textwrap

import pytest
from typer.testing import CliRunner

from chipgap.analyses.scenario import run_scenario
from chipgap.catalog.scenario import read_scenario
from chipgap.cli import app
from chipgap.sweep import read_results, run_sweep
from chipgap.sweep.spec import parse_spec

runner = CliRunner()


def _cli(args: list[str]) -> dict:
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _scenario(tmp_path, question: str):  # noqa: ANN202
    path = tmp_path / "one.yaml"
    path.write_text(textwrap.dedent("""
        name: one
        title: one question
        description: the same question as the CLI's
        sources: [nvidia-dgx-h100-user-guide]
        questions:
    """) + textwrap.indent(textwrap.dedent(question), "  "))
    result = run_scenario(read_scenario(path), samples=100, seed=0)
    return result.results[0].table.set_index("metric")


def test_training_question_everywhere(tmp_path):
    cli = _cli(["train", "-m", "llama-3.1-8b", "-c", "h100", "-n", "16", "--global-batch", "256", "--search"])
    best = cli["results"][0]["tokens_per_s"]
    scenario = _scenario(tmp_path, """
        - {id: t, ask: train, chips: [nvidia-h100-sxm], n_chips: 16, model: llama-3.1-8b, global_batch: 256}
    """)
    assert scenario.loc["tokens_per_s", "p50"] == best       # the H100's specs are exact: every draw alike
    spec = {"kind": "train", "chips": ["nvidia-h100-sxm"], "models": ["llama-3.1-8b"], "chip_counts": [16],
            "shapes": [{"seq_len": 4096, "global_batch": 256}], "layouts": "search"}
    run_sweep(parse_spec(spec), tmp_path / "sweep")
    rows = read_results(tmp_path / "sweep")
    assert rows[rows.valid].tokens_per_s.max() == best


def test_serving_question_everywhere(tmp_path):
    cli = _cli(["infer", "-m", "llama-3.1-8b", "-c", "h100", "-n", "2", "--input-len", "2048", "--output-len", "256",
                "--tpot-ms", "40"])
    best = cli["results"][0]["tokens_per_s_per_chip"]
    scenario = _scenario(tmp_path, """
        - {id: s, ask: serve, chips: [nvidia-h100-sxm], n_chips: 2, model: llama-3.1-8b, input_len: 2048,
           output_len: 256, tpot_ms: 40}
    """)
    assert scenario.loc["tokens_per_s_per_chip", "p50"] == pytest.approx(best, rel=1e-12)
    spec = {"kind": "serve", "chips": ["nvidia-h100-sxm"], "models": ["llama-3.1-8b"], "instance_chips": [2],
            "lengths": [{"input_len": 2048, "output_len": 256}], "tpot_ms": 40}
    run_sweep(parse_spec(spec), tmp_path / "sweep")
    rows = read_results(tmp_path / "sweep")
    ok = rows[rows.valid & (rows.tpot_ms <= 40)]
    assert ok.tokens_per_s_per_chip.max() == pytest.approx(best, rel=1e-12)
