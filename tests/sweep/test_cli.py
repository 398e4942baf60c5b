import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from chipgap.cli import app
from chipgap.sweep import read_results

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The SMALL sweep, run through the command line."""
    import yaml

    from .conftest import SMALL
    d = tmp_path_factory.mktemp("cli")
    (d / "spec.yaml").write_text(yaml.safe_dump(SMALL))
    r = run("sweep", "run", d / "spec.yaml", "--out", d / "out", "--format", "json")
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["complete"] and summary["chunks"] == 5 and summary["rows"] == 240
    return d / "out"


@pytest.mark.parametrize("changes, field, says", [
    ({"chipz": ["h100"]}, "chipz", "is not a known field"),
    ({"samples": "many"}, "samples", "valid integer"),
    ({"chip_counts": [8, -4]}, "chip_counts.1", "greater than or equal to 1"),
    ({"models": []}, "models", "at least 1 item"),
    ({"chips": ["h100", "nvidia-h1000"]}, "chips.1", "unknown chip 'nvidia-h1000'"),
    ({"models": ["llama-9"]}, "models.0", "unknown workload 'llama-9'"),
    ({"layouts": [{"tp": 2, "zero": 5}]}, "layouts.0.zero", "Input should be 0, 1, 2 or 3"),
    ({"kind": "fine-tune"}, "kind", "must be 'train' or 'serve'"),
    ({"systems": ["huawei-cloudmatrix-384"], "chips": ["h100"]}, "systems.0", "which 'chips' does not list"),
    ({"chip_counts": [8, 10**20]}, "chip_counts.1", "less than or equal to 1048576"),
    ({"samples": 10**7}, "samples", "less than or equal to 1000000"),
    ({"seed": -1}, "seed", "greater than or equal to 0"),
    ({"shapes": [{"seq_len": 1e12, "global_batch": 8}]}, "shapes.0.seq_len", "valid integer"),
    ({"chip_counts": list(range(1, 1001)), "shapes": [{"seq_len": k, "global_batch": 64} for k in range(1, 1001)]},
     "chips", "at most 1,000,000 are allowed"),
    ({"samples": 1_000_000, "chunk_rows": 1}, "chunk_rows", "rows in 400,000 chunks are allowed"),
])
def test_bad_spec_is_one_line_naming_file_and_field(write_spec, tmp_path, changes, field, says):
    spec = write_spec(**changes)
    r = run("sweep", "run", spec, "--out", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert r.output.strip().count("\n") == 0 and "Traceback" not in r.output
    assert f"{spec}: field '{field}'" in r.output and says in r.output
    assert not (tmp_path / "out").exists()


def test_unreadable_and_malformed_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: train\nchips: [h100\n")
    for path in (bad, tmp_path / "missing.yaml"):
        r = run("sweep", "run", path, "--out", tmp_path / "out")
        assert r.exit_code == 2 and r.output.strip().count("\n") == 0 and str(path) in r.output


def test_other_spec_into_the_folder_exits_2(swept, write_spec):
    r = run("sweep", "run", write_spec(seed=9), "--out", swept)
    assert r.exit_code == 2 and "another spec" in r.output and r.output.strip().count("\n") == 0


def test_address_needs_ray(write_spec, tmp_path):
    r = run("sweep", "run", write_spec(), "--out", tmp_path / "o", "--address", "auto")
    assert r.exit_code == 2 and "--backend ray" in r.output


def test_query_aggregate_matches_pandas(swept):
    sql = ("SELECT chip, chips, count(*) AS n, avg(tokens_per_s) AS mean_tps, "
           "min(usd_per_million_tokens) AS best_usd FROM results WHERE valid "
           "GROUP BY chip, chips ORDER BY chip, chips")
    r = run("sweep", "query", swept, sql, "--format", "json")
    assert r.exit_code == 0, r.output
    got = pd.DataFrame(json.loads(r.stdout)["rows"])
    df = read_results(swept)
    ref = (df[df.valid].groupby(["chip", "chips"])
           .agg(n=("row", "size"), mean_tps=("tokens_per_s", "mean"),
                best_usd=("usd_per_million_tokens", "min")).reset_index())
    assert got.chip.tolist() == ref.chip.tolist() and got.n.tolist() == ref.n.tolist()
    assert got.mean_tps.to_numpy() == pytest.approx(ref.mean_tps.to_numpy(), rel=1e-12)
    assert got.best_usd.to_numpy() == pytest.approx(ref.best_usd.to_numpy(), rel=1e-12)
    assert len(got) == 4 and got.n.sum() == df.valid.sum() > 0


def test_query_table_csv_and_errors(swept, tmp_path):
    r = run("sweep", "query", swept, "SELECT chip, count(*) AS n FROM results GROUP BY chip ORDER BY chip")
    assert r.exit_code == 0 and "huawei-ascend-910c" in r.output and "120" in r.output
    r = run("sweep", "query", swept, "SELECT count(*) AS n FROM results", "--format", "csv")
    assert r.stdout.splitlines() == ["n", "240"]
    r = run("sweep", "query", swept, "SELECT nope FROM results")
    assert r.exit_code == 2 and "nope" in r.output and r.output.strip().count("\n") == 0
    r = run("sweep", "query", tmp_path, "SELECT 1")
    assert r.exit_code == 2 and "manifest.json" in r.output


def test_help_names_the_view():
    r = run("sweep", "query", "--help")
    assert r.exit_code == 0 and "'results'" in r.output


def test_query_is_read_only_and_confined_to_the_sweep(swept, tmp_path):
    target = tmp_path / "written.csv"
    r = run("sweep", "query", swept, f"COPY (SELECT 1) TO '{target}'")
    assert r.exit_code == 2 and "one SELECT" in r.output and not target.exists()
    r = run("sweep", "query", swept, "SELECT 1; SELECT 2")
    assert r.exit_code == 2
    r = run("sweep", "query", swept, "SELECT * FROM read_csv('/etc/passwd')")
    assert r.exit_code == 2 and "Traceback" not in r.output
    r = run("sweep", "query", swept, "EXPLAIN SELECT count(*) FROM results")
    assert r.exit_code == 0
