"""Text from a user's file is data, never markup, in every output: table, JSON, CSV, Markdown."""

import io
import json

import pandas as pd
import pytest
import yaml
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from chipgap.cli import app
from chipgap.cli.output import csv_text, print_csv, print_json
from chipgap.report.document import Cell, ClaimVerdict, Report, Section, Table
from chipgap.report.render import md_text, to_html, to_markdown

runner = CliRunner()
EVIL_NAME = "\x1b[2J\x1b]0;pwned\x07Evil \x9b31m[bold]chip[/bold] [link=http://e.test]x[/link] \u202eoc"
EVIL_NOTE = "=HYPERLINK(\"http://e.test\")\n# heading <img src=http://e.test/x.png>"


@pytest.fixture(scope="module")
def hostile_catalog(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile-cat")
    (d / "chips.yaml").write_text(yaml.safe_dump({"chips": [
        {"id": "nvidia-h100-sxm", "name": EVIL_NAME, "notes": EVIL_NOTE},
        {"id": "evil-x1", "name": "=cmd|' /C calc'!A0", "vendor": "nvidia", "country": "US",
         "status": "rumoured", "notes": "@SUM(1+1)"}]}, allow_unicode=True))
    return d


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_tables_show_user_text_as_text_without_escape_sequences(hostile_catalog):
    for args in (["chips", "list"], ["chips", "show", "h100"], ["chips", "compare", "h100", "a100"]):
        r = run("--catalog", hostile_catalog, *args)
        assert r.exit_code == 0, r.output
        for bad in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert bad not in r.output, (args, repr(bad))
    r = run("--catalog", hostile_catalog, "chips", "show", "h100")
    assert "Evil 31m[bold]chip[/bold] [link=http://e.test]x[/link] oc" in r.output.replace("\n", "")
    assert "=HYPERLINK" in r.output


def test_csv_text_that_a_spreadsheet_would_run_is_quoted(hostile_catalog):
    r = run("--catalog", hostile_catalog, "chips", "list", "--format", "csv")
    df = pd.read_csv(io.StringIO(r.stdout))
    row = df[df.id == "evil-x1"].iloc[0]
    assert row["name"] == "'=cmd|' /C calc'!A0" and row["notes"] == "'@SUM(1+1)"
    h100 = df[df.id == "nvidia-h100-sxm"].iloc[0]
    assert h100["notes"].startswith("'=HYPERLINK") and h100["bf16_dense_tflops"] == 989.4
    assert csv_text("-1") == "'-1" and csv_text(-1) == -1 and csv_text("+") == "'+"


def test_json_keeps_the_text_and_escapes_raw_controls(hostile_catalog, capsys):
    r = run("--catalog", hostile_catalog, "chips", "show", "h100", "--format", "json")
    assert "\x1b" not in r.stdout and "\x9b" not in r.stdout and "\u202e" not in r.stdout
    assert json.loads(r.stdout)["name"] == EVIL_NAME  # the data is intact
    import numpy as np
    print_json({"blob": b"\x00\xff", "list": np.array([1, 2]), "nan": float("nan"),
                "when": pd.Timestamp("2025-01-02"), "nat": pd.NaT})
    assert json.loads(capsys.readouterr().out) == {"blob": "0x00ff", "list": [1, 2], "nan": None,
                                                   "when": "2025-01-02T00:00:00", "nat": None}


def test_print_csv_leaves_numbers_alone(capsys):
    print_csv(pd.DataFrame({"x": [-1.5, 2.0], "t": ["-1.5", "ok"]}))
    assert capsys.readouterr().out.splitlines() == ["x,t", "-1.5,'-1.5", "2.0,ok"]


def _hostile_report() -> Report:
    src = type("Src", (), {"title": "<script>alert(1)</script> [t](javascript:x)", "publisher": "*P*",
                           "date": "2025", "kind": "other", "url": "http://e.test/<x>"})()
    section = Section("spec-gap", 1, "Spec gap", "Which <b>chip</b>?",
                      paragraphs=["# not a heading", "- not a list", "<img src=http://e.test/p.png>"],
                      tables=[Table("T | x", ["chip", "<i>v</i>"],
                                    [[Cell("![img](http://e.test/i.png)", ("s1",)), Cell("1", (), True)]],
                                    note="_n_")],
                      missing=["`code` <iframe src=http://e.test>"], sources={"s1"})
    claim = ClaimVerdict(1, "<a href=http://e.test>c</a>", "e", "supported", "a", "spec-gap")
    return Report("Title <img src=http://e.test/t.png>", "sub", [section], [claim], {"s1": src}, {})


def test_markdown_renders_user_text_as_text():
    md, _ = to_markdown(_hostile_report())
    html = MarkdownIt("commonmark").enable("table").render(md)
    for tag in ("<img", "<script", "<iframe", "<b>", "<i>", "<h1>not", "<li>not", "href=\"http://e.test",
                "href=\"javascript"):
        assert tag not in html, tag
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "# not a heading" in html
    assert "![img](http://e.test/i.png)" in html  # shown, not fetched
    assert md_text("a\nb\r\nc") == "a b c"


def test_html_report_escapes_and_strips_controls():
    report = _hostile_report()
    report.sections[0].paragraphs.append("bell\x07 \x1b[31mred")
    page = to_html(report)
    assert "<img src=http" not in page and "<script>alert" not in page
    assert "\x07" not in page and "\x1b" not in page and "bell red" in page
