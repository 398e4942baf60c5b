import json

from typer.testing import CliRunner

from chipgap.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_classify_json_contract():
    r = run("export", "classify", "h20", "h100", "--rule", "2023-10", "--format", "json", "--samples", "50")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["chip"] for x in rows] == ["nvidia-h20", "nvidia-h100-sxm"]
    for key in ("chip", "rule", "tpp", "performance_density", "controlled", "classification",
                "triggered_by", "margins"):
        assert key in rows[0]
    assert rows[1]["controlled"] is True and rows[0]["controlled"] is False


def test_classify_all_table_and_csv():
    assert run("export", "classify", "--all", "--samples", "20").exit_code == 0
    r = run("export", "classify", "--all", "--format", "csv", "--samples", "20")
    assert r.exit_code == 0 and r.stdout.startswith("chip,rule,")


def test_classify_needs_ids_or_all():
    assert run("export", "classify").exit_code == 2


def test_headroom_json_contract():
    r = run("export", "headroom", "--rule", "2023-10", "--die-area", 814, "--format", "json")
    data = json.loads(r.stdout)
    assert data["max_tpp"] == 2400 and data["binding_test"] == "3A090.b.1"
    assert data["max_dense_tflops"]["bf16"] == 150 and data["die_area_mm2"] == 814


def test_timeline_lists_every_rule_in_order():
    r = run("export", "timeline", "h20", "--format", "json", "--samples", "20")
    rules = [x["rule"] for x in json.loads(r.stdout)]
    assert rules == sorted(rules) and {"2022-10", "2023-10", "2025-04"} <= set(rules)


def test_unknown_rule_is_one_line_exit_2():
    r = run("export", "headroom", "--rule", "1999-01", "--die-area", 100)
    assert r.exit_code == 2 and "unknown rule '1999-01'" in r.output


def test_chart_writes_png_and_never_overwrites(tmp_path):
    out = tmp_path / "c.png"
    r = run("export", "chart", "-o", out)
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out.write_bytes(b"mine")
    assert run("export", "chart", "-o", out).exit_code == 2
    assert out.read_bytes() == b"mine"
    svg = tmp_path / "c.svg"
    assert run("export", "chart", "-o", svg).exit_code == 0 and b"<svg" in svg.read_bytes()[:500]


def test_status_json_reaches_the_latest_rule_with_the_h200_case_by_case():
    r = run("export", "status", "h200", "h20", "--samples", "20", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = {(x["chip"], x["rule"]): x for x in json.loads(r.stdout)}
    h200 = rows[("nvidia-h200-sxm", "2026-01")]
    assert h200["treatment"] == "case-by-case" and h200["fees"] == ["25% fee"]
    assert rows[("nvidia-h20", "2025-08")]["label"] == "named part: licence required; 15% fee"
    table = run("export", "status", "--samples", "20")
    assert table.exit_code == 0 and "denial" in table.stdout   # a narrow terminal wraps the rule headers
    csv = run("export", "status", "h20", "--samples", "20", "--format", "csv")
    assert csv.exit_code == 0 and csv.stdout.startswith("chip,rule,classification,treatment,fees,")


def test_chart_never_writes_through_a_symbolic_link_and_makes_its_folder(tmp_path):
    target = tmp_path / "target.png"
    link = tmp_path / "link.png"
    link.symlink_to(target)  # dangling
    r = run("export", "chart", "-o", link, "--force")
    assert r.exit_code == 2 and "symbolic link" in r.output and "Traceback" not in r.output
    assert not target.exists() and link.is_symlink()
    fifo = tmp_path / "pipe.png"
    import os
    os.mkfifo(fifo)
    r = run("export", "chart", "-o", fifo, "--force")
    assert r.exit_code == 2 and "FIFO" in r.output
    deep = tmp_path / "new" / "folder" / "c.png"
    assert run("export", "chart", "-o", deep).exit_code == 0 and deep.read_bytes()[:4] == b"\x89PNG"
