"""Scenarios: catalog changes, questions, claims, and clean errors for bad files."""

import json
import textwrap

import pandas as pd
import pytest
from typer.testing import CliRunner

from chipgap.analyses.scenario import ask, run_scenario, scenario_catalog
from chipgap.catalog.scenario import SpecQuestion, read_scenario
from chipgap.cli import app
from chipgap.errors import CatalogError

runner = CliRunner()


@pytest.fixture(scope="module")
def d910():
    return run_scenario("ascend-910d-2026", samples=400, seed=3)


def test_bundled_910d_scenario_answers_every_question(d910):
    assert [r.question.id for r in d910.results] == ["peak", "train-llama-70b", "decode-llama-70b"]
    claims = d910.claims()
    assert len(claims) == 3 and claims.probability.between(0, 1).all()
    train = d910.results[1].table
    assert set(train.chip) == {"huawei-ascend-910d", "huawei-ascend-910c", "nvidia-h100-sxm"}
    assert (train.note == "").all()


def test_peak_claim_probability_matches_the_triangular_cdf():
    """bf16 ~ triangular(752, 1128, 1504) vs the H100's exact 989.4:
    P(X >= 989.4) = 1 - (989.4 - 752)^2 / ((1504 - 752) (1128 - 752)) = 0.8007."""
    cat = scenario_catalog(read_scenario("ascend-910d-2026"))
    q = SpecQuestion(id="p", ask="spec", chips=["huawei-ascend-910d", "nvidia-h100-sxm"],
                     fields=["bf16_dense_tflops"],
                     claim={"metric": "bf16_dense_tflops", "a": "huawei-ascend-910d", "b": "nvidia-h100-sxm"})
    got = ask(cat, q, samples=40_000, seed=1).claim["probability"]
    assert got == pytest.approx(1 - (989.4 - 752) ** 2 / (752 * 376), abs=0.01)


def test_same_seed_same_numbers(d910):
    again = run_scenario("ascend-910d-2026", samples=400, seed=3)
    for a, b in zip(d910.results, again.results):
        pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)


def test_scenario_changes_only_what_it_names(catalog, d910):
    """The 910D gains specs; the 910C and H100 are untouched, so their numbers equal the catalog's."""
    assert catalog.chip("huawei-ascend-910d").bf16_dense_tflops is None
    assert d910.catalog.chip("huawei-ascend-910d").bf16_dense_tflops.point == 1128
    for cid in ("huawei-ascend-910c", "nvidia-h100-sxm", "huawei-ascend-910b"):
        assert d910.catalog.chip(cid) == catalog.chip(cid)
    q = d910.results[0].question
    plain = ask(catalog, SpecQuestion(id="x", ask="spec", chips=["huawei-ascend-910c", "nvidia-h100-sxm"],
                                         fields=list(q.fields)), samples=400, seed=3).table
    changed = d910.results[0].table
    pd.testing.assert_frame_equal(changed[changed.chip != "huawei-ascend-910d"].reset_index(drop=True), plain)


def test_hbm_cutoff_lowers_supply():
    r = run_scenario("hbm-cutoff", samples=500)
    t = r.results[0].table
    p50 = t[(t.line == "total all") & (t["quantile"] == "P50")].set_index("scenario").chips
    assert p50["china-2026-base"] > p50["china-2026-hbm-cutoff"] > p50["china-2026-hbm-and-import-cutoff"]
    assert "huawei-ascend-910c" in set(r.results[2].table.chip)


def _write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


GOOD = """
name: t
title: T
description: D
sources: [cm384-paper]
questions:
  - {id: q, ask: spec, chips: [huawei-ascend-910c], fields: [bf16_dense_tflops]}
"""


@pytest.mark.parametrize("change, field", [
    (("questions:", "colour: red\nquestions:"), "colour"),
    (("chips: [huawei-ascend-910c]", "chips: [no-such-chip]"), "chips.0"),
    (("ask: spec", "ask: dance"), "questions.0"),
    (("sources: [cm384-paper]", "sources: [no-such-source]"), "sources.0"),
    (("fields: [bf16_dense_tflops]", "fields: [bf16_tflops]"), "fields.0"),
])
def test_bad_scenarios_name_the_field(tmp_path, change, field):
    p = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(CatalogError) as e:
        run_scenario(p, samples=100)
    assert field in str(e.value) and str(p) in str(e.value)


def test_bad_catalog_change_names_the_entry(tmp_path):
    p = _write(tmp_path, GOOD + "catalog:\n  chips:\n    - {id: huawei-ascend-910c, bf16_dense_tflops: fast}\n")
    with pytest.raises(CatalogError, match="huawei-ascend-910c.*bf16_dense_tflops"):
        run_scenario(p, samples=100)


def test_claim_must_name_question_chips(tmp_path):
    p = _write(tmp_path, GOOD.replace("fields: [bf16_dense_tflops]}",
                                      "fields: [bf16_dense_tflops], claim: {metric: bf16_dense_tflops, "
                                      "a: huawei-ascend-910c, b: nvidia-h100-sxm}}"))
    with pytest.raises(CatalogError, match="claim.b"):
        run_scenario(p, samples=100)


def test_cli_runs_and_fails_cleanly(tmp_path):
    ok = runner.invoke(app, ["scenario", "run", str(_write(tmp_path, GOOD)), "--samples", "200",
                             "--format", "json"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["scenario", "run", str(_write(tmp_path, "a: &x 1\nb: *x\n", "b.yaml"))])
    assert bad.exit_code == 2 and "alias" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(app, ["scenario", "run", "no-such-scenario"])
    assert missing.exit_code == 2 and "ascend-910d-2026" in missing.output


def test_read_scenario_by_name_and_list():
    assert read_scenario("hbm-cutoff").name == "hbm-cutoff"
    out = runner.invoke(app, ["scenario", "list", "--format", "json"])
    assert out.exit_code == 0 and "ascend-910d-2026" in out.output


def test_duplicate_question_ids_are_refused(tmp_path):
    p = _write(tmp_path, GOOD + "  - {id: q, ask: spec, chips: [nvidia-h100-sxm], fields: [tdp_w]}\n")
    with pytest.raises(CatalogError, match=r"field 'questions': ids must be unique: questions 0 and 1 are both 'q'"):
        run_scenario(p, samples=100)


@pytest.mark.parametrize("question, metrics", [
    ("{id: q, ask: spec, chips: [huawei-ascend-910c, nvidia-h100-sxm], fields: [bf16_dense_tflops], "
     "claim: {metric: tdp_w, a: huawei-ascend-910c, b: nvidia-h100-sxm}}", "bf16_dense_tflops"),
    ("{id: q, ask: train, model: llama-3.1-8b, chips: [huawei-ascend-910c, nvidia-h100-sxm], n_chips: 8, "
     "seq_len: 4096, global_batch: 64, claim: {metric: tokens_per_second, a: huawei-ascend-910c, "
     "b: nvidia-h100-sxm}}", "tokens_per_s, tflops_per_chip, mfu, step_time_s, memory_gb"),
])
def test_unknown_claim_metric_is_an_error_not_a_null_probability(tmp_path, question, metrics):
    p = _write(tmp_path, GOOD.split("questions:")[0] + "questions:\n  - " + question + "\n")
    with pytest.raises(CatalogError, match=rf"entry 'q': field 'claim.metric': must be one of the question's "
                                           rf"metrics \({metrics}\)"):
        run_scenario(p, samples=100)


def test_chip_cost_question_renders_as_a_table(tmp_path):
    p = _write(tmp_path, GOOD.replace("{id: q, ask: spec, chips: [huawei-ascend-910c], fields: [bf16_dense_tflops]}",
                                      "{id: cost, ask: chip-cost, chips: [huawei-ascend-910c]}"))
    r = runner.invoke(app, ["scenario", "run", str(p), "--samples", "200"])
    assert r.exit_code == 0, r.output
    j = runner.invoke(app, ["scenario", "run", str(p), "--samples", "200", "--format", "json"])
    rows = json.loads(j.stdout)["questions"]["cost"]
    p50 = [x for x in rows if x["quantile"] == "P50"]
    from chipgap.text import num
    assert p50 and all(num(x["cost_per_chip_usd"]) in r.output for x in p50)


def test_a_question_names_the_published_runs_of_its_instances(tmp_path):
    from chipgap.analyses.scenario import scenario_catalog
    from chipgap.catalog.scenario import read_scenario
    from chipgap.errors import CatalogError

    sc = read_scenario("report")
    q = next(q for q in sc.questions if q.id == "decode-r1-910c")
    assert q.published == ["cm384-r1-decode-tpot50"] and q.question(q.chips[0]).mtp_accept == 0.7
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntitle: t\ndescription: d\nsources: [cm384-paper]\nquestions:\n"
                   "  - {id: d, ask: serve, chips: [910c], n_chips: 16, model: deepseek-r1, published: [no-such-run]}\n")
    with pytest.raises(CatalogError, match="published.0"):
        scenario_catalog(read_scenario(bad))
