"""The command line, run in-process: exit codes, formats, and one-line errors."""

import hashlib
import json
import textwrap

import pytest
from typer.testing import CliRunner

from chipgap.cli import app

runner = CliRunner()

COMMANDS = [[], ["chips"], ["chips", "list"], ["chips", "show"], ["chips", "compare"],
            ["systems"], ["systems", "list"], ["systems", "show"], ["models"], ["models", "list"],
            ["models", "show"], ["catalog"], ["catalog", "check"], ["export"],
            ["export", "classify"], ["export", "headroom"], ["export", "timeline"],
            ["export", "chart"], ["export", "rules"], ["export", "status"], ["claims"], ["claims", "market"], ["train"], ["infer"], ["econ"],
            ["econ", "die"], ["econ", "chip-cost"], ["econ", "tco"], ["supply"], ["chain"],
            ["chain", "exposure"]]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_every_command_has_help(cmd):
    r = run(*cmd, "--help")
    assert r.exit_code == 0 and "Usage" in r.output


def test_main_job_compares_910c_with_h100():
    r = run("chips", "compare", "huawei-ascend-910c", "nvidia-h100-sxm")
    assert r.exit_code == 0, r.output
    assert "910c / h100" in r.output
    assert "BF16 dense" in r.output and "scale-up link" in r.output
    assert "1.60x" in r.output  # 128 GB / 80 GB


def test_compare_json_echoes_inputs_and_gives_ratios():
    r = run("chips", "compare", "910c", "h100", "--format", "json")
    data = json.loads(r.stdout)
    assert data["chips"] == ["huawei-ascend-910c", "nvidia-h100-sxm"]
    assert data["baseline"] == "nvidia-h100-sxm"
    mem = next(x for x in data["rows"] if x["spec"] == "memory_capacity_gib" and x["chip"] == "huawei-ascend-910c")
    assert mem["ratio_point"] == pytest.approx(128 / 80)


def test_chips_list_json_has_every_required_chip_with_sources():
    required = """nvidia-a100-sxm nvidia-a800-sxm nvidia-h100-sxm nvidia-h100-pcie nvidia-h800-sxm
      nvidia-h20 nvidia-h200-sxm nvidia-b200 nvidia-gb200 nvidia-l20 nvidia-rtx-4090
      nvidia-rtx-4090d huawei-ascend-910 huawei-ascend-910b huawei-ascend-910c huawei-ascend-910d
      huawei-ascend-950pr huawei-ascend-950dt huawei-ascend-960 huawei-ascend-970 baidu-kunlun-p800
      cambricon-mlu370-x8 cambricon-mlu590 hygon-dcu-k100 biren-br100 moorethreads-mtt-s4000
      metax-c500 amd-mi300x amd-mi308x intel-gaudi-3 google-tpu-v5p zhaoxin-kh-40000
      intel-xeon-8480 amd-epyc-9654""".split()
    r = run("chips", "list", "--format", "json")
    assert r.exit_code == 0
    chips = {c["id"]: c for c in json.loads(r.stdout)}
    assert set(required) <= set(chips)
    for chip in chips.values():
        for key, v in chip.items():
            if isinstance(v, dict) and "point" in v:
                assert v["source"] and v["confidence"], (chip["id"], key)


@pytest.mark.parametrize("args", [
    ["chips", "list", "--format", "csv"], ["chips", "list", "--country", "CN"],
    ["chips", "show", "910c"], ["chips", "show", "h100", "--format", "csv"],
    ["systems", "list"], ["systems", "show", "huawei-cloudmatrix-384"],
    ["systems", "list", "--format", "json"], ["models", "list"],
    ["models", "show", "deepseek-v3", "--format", "json"], ["catalog", "check"],
])
def test_commands_succeed_on_bundled_data(args):
    r = run(*args)
    assert r.exit_code == 0, r.output


def test_unknown_id_is_one_line_exit_2_with_suggestions():
    r = run("chips", "show", "h10")
    assert r.exit_code == 2
    assert "unknown chip 'h10'" in r.output and "Closest:" in r.output
    assert "Traceback" not in r.output


def test_bad_user_catalog_is_one_line_exit_2(tmp_path):
    (tmp_path / "broken.yaml").write_text("chips:\n  - {id: x, name: X, vendor: nvidia, country: US, "
                                          "status: shipping, tdp_w: {value: -1, source: epoch-ml-hardware, "
                                          "confidence: official}}\n")
    r = run("--catalog", tmp_path, "chips", "list")
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "broken.yaml: entry 'x': field 'tdp_w': must be a positive number" in r.output


def test_catalog_check_reports_all_problems_and_writes_nothing(tmp_path):
    (tmp_path / "a.yaml").write_text("chips:\n  - {id: y}\n")
    (tmp_path / "b.yaml").write_text(textwrap.dedent("""
        sources: [{id: s1, title: T, kind: nonsense}]
    """))
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    r = run("catalog", "check", tmp_path, "--format", "json")
    assert r.exit_code == 2
    report = json.loads(r.stdout)
    assert not report["ok"] and len(report["problems"]) == 2
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    assert before == after


def test_models_show_reads_any_config_json(tmp_path):
    cfg = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
           "num_attention_heads": 32, "num_key_value_heads": 8, "num_hidden_layers": 32,
           "vocab_size": 128256}
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg))
    data = json.loads(run("models", "show", p, "--format", "json").stdout)
    assert data["params_total_billion"] == pytest.approx(8.030261248)
    r = run("models", "show", tmp_path / "missing.json")
    assert r.exit_code == 2 and "cannot be read" in r.output


def test_compare_needs_two_chips():
    r = run("chips", "compare", "h100")
    assert r.exit_code == 2


def test_chip_cost_of_the_910c_shows_margin_and_break_even_at_the_sourced_price():
    r = run("econ", "chip-cost", "huawei-ascend-910c")
    assert r.exit_code == 0, r.output
    assert "price n/a" not in r.output and "P10-P90" in r.output
    rows = [line for line in r.output.splitlines() if "│ P50 │" in line]
    assert len(rows) == 3 and not any("n/a" in line for line in rows)     # margin and break-even for each yield
    assert "1.6%" in rows[0]          # break-even yield, see test_econ's hand computation
    assert "ft-cm384-price-2025-04" in r.output and "wsj-910c-orders-2024-08" in r.output
    data = json.loads(run("econ", "chip-cost", "910c", "--format", "json").output)
    assert data["price_sources"] == ["ft-cm384-price-2025-04", "wsj-910c-orders-2024-08"]
    assert all(row["break_even_yield"] is not None for row in data["rows"])
    given = json.loads(run("econ", "chip-cost", "910c", "--price", "20000", "--format", "json").output)
    assert given["price_sources"] == [] and {row["price_usd"] for row in given["rows"]} == {20000.0}


# -- one error path: every failure is one line on stderr, exit 2, no traceback ----------------

def one_line_error(r, *says):
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and r.output.startswith("error: ") and "Traceback" not in r.output
    for s in says:
        assert s in r.output, (s, r.output)


@pytest.mark.parametrize("args, says", [
    (["train", "-m", "llama-3.1-8b", "-c", "h100", "-n", 8, "--seed", -1], ["'--seed'", "greater than or equal to 0"]),
    (["econ", "chip-cost", "910c", "--seed", -5], ["'--seed'"]),
    (["scenario", "run", "hbm-cutoff", "--seed", -1], ["'--seed'"]),
    (["report", "--seed", -1], ["'--seed'"]),
    (["train", "-m", "llama-3.1-8b", "-c", "h100", "-n", 8, "--tokens", "inf"], ["chipgap train: ", "'--tokens'"]),
    (["train", "-m", "llama-3.1-8b", "-c", "h100", "-n", 8, "--tokens", "nan"], ["'--tokens'"]),
    (["infer", "-m", "llama-3.1-8b", "-c", "h100", "--tpot-ms", "inf"], ["'--tpot-ms'", "not a finite number"]),
    (["econ", "die", "--die-area", "1e400", "--d0", "0.1"], ["'--die-area'"]),
    (["train", "-m", "llama-3.1-8b", "-c", "h100", "-n", 10**30], ["'--chips'"]),
    (["trian"], ["No such command 'trian'", "Did you mean 'train'"]),
    (["train", "-c", "h100", "-n", 8], ["Missing option '--model'"]),
    (["chips", "list", "--format", "xml"], ["'--format'"]),
    (["--catalog", "/etc/hostname", "chips", "list"], ["'--catalog'"]),
])
def test_bad_parameters_are_one_line(args, says):
    one_line_error(run(*args), *says)


@pytest.mark.parametrize("error, says", [
    (OverflowError("int too large to convert to C long"), "a number is too large to compute with"),
    (MemoryError(), "need more memory than this machine has"),
    (RecursionError("maximum recursion depth exceeded"), "nests too deeply"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "not valid UTF-8"),
    (PermissionError(13, "Permission denied", "/root/x.yaml"), "cannot read or write /root/x.yaml: Permission denied"),
])
def test_library_errors_are_one_line_naming_the_command(monkeypatch, error, says):
    from chipgap.cli import chips as chips_cli

    def boom(*a, **k):
        raise error

    monkeypatch.setattr(chips_cli, "compare_chips", boom)
    one_line_error(run("chips", "compare", "910c", "h100"), says, "(in: chipgap chips compare 910c h100)")


def test_duckdb_and_arrow_errors_are_one_line(monkeypatch):
    import duckdb
    import pyarrow as pa

    from chipgap.cli import chips as chips_cli

    for error, says in ((duckdb.InvalidInputException("bad\nsecond line"), "duckdb failed: bad"),
                        (pa.ArrowInvalid("broken file"), "pyarrow failed: broken file")):
        monkeypatch.setattr(chips_cli, "compare_chips", lambda *a, e=error, **k: (_ for _ in ()).throw(e))
        one_line_error(run("chips", "compare", "910c", "h100"), says)


def test_a_bug_still_shows_its_traceback(monkeypatch):
    """Only known failures are turned into a line: a genuine bug must stay visible."""
    from chipgap.cli import chips as chips_cli

    monkeypatch.setattr(chips_cli, "compare_chips", lambda *a, **k: {}["missing"])
    r = run("chips", "compare", "910c", "h100")
    assert r.exit_code == 1 and isinstance(r.exception, KeyError)


def test_groups_without_a_command_still_show_their_help():
    r = run("chips")
    assert "Usage" in r.output and "list" in r.output
