"""Loading a user's catalog folder on top of the bundled one: precedence and error paths."""

import json
import textwrap

import pytest

import chipgap
from chipgap.catalog import load_catalog, read_catalog
from chipgap.errors import CatalogError, UnknownIdError

BASE = """
sources:
  - {id: my-note, title: "My analyst note", kind: analyst, date: 2026-01-15}
companies:
  - {id: acme-ai, name: Acme AI, country: CN, roles: [designer], source: [my-note]}
chips:
  - id: acme-x1
    name: Acme X1
    vendor: acme-ai
    country: CN
    status: rumoured
    aliases: [x1]
    defaults: {source: my-note, confidence: rumor}
    bf16_dense_tflops: [400, 600]
    memory_capacity_gib: {value: 96, confidence: estimate}
    scaleup_bw_gbps_bidir: 400
"""


def folder(tmp_path, text=BASE, name="mine.yaml"):
    (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def test_user_entries_are_added_with_defaults_applied(tmp_path):
    cat = load_catalog(folder(tmp_path))
    x1 = cat.chip("X1")
    assert x1.bf16_dense_tflops.bounds == (400, 600) and x1.bf16_dense_tflops.confidence == "rumor"
    assert x1.memory_capacity_gib.confidence == "estimate" and x1.memory_capacity_gib.source == ("my-note",)
    assert x1.scaleup_bw_gbps_unidir.value == 200  # derived from bidir
    assert cat.origin("chip", "x1") == f"{tmp_path.as_posix()}/mine.yaml"


def test_environment_variable_names_the_user_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIPGAP_CATALOG", str(folder(tmp_path)))
    assert chipgap.load_catalog().chip("acme-x1").name == "Acme X1"


def test_override_replaces_named_fields_and_keeps_the_rest(tmp_path):
    bundled = load_catalog().chip("nvidia-h100-sxm")
    folder(tmp_path, BASE + (
        "  - id: h100          # an alias of a bundled chip: overrides nvidia-h100-sxm\n"
        "    tdp_w: {value: 650, source: my-note, confidence: estimate}\n"))
    h100 = load_catalog(tmp_path).chip("nvidia-h100-sxm")
    assert h100.tdp_w.value == 650 and h100.tdp_w.source == ("my-note",)
    assert h100.bf16_dense_tflops == bundled.bf16_dense_tflops
    assert load_catalog().chip("h100").tdp_w == bundled.tdp_w  # bundled data untouched


@pytest.mark.parametrize("snippet, expected", [
    ("fp16_dense_tflops: {value: -5}", "field 'fp16_dense_tflops': must be a positive number. Got -5 instead"),
    ("fp16_dense_tflops: {value: 5, confidence: sure}", "field 'fp16_dense_tflops.confidence'"),
    ("fp16_dense_tflops: {value: 5, source: nowhere, confidence: official}",
     "names source 'nowhere', which the catalog does not hold"),
    ("bf16_tflops: 5", "field 'bf16_tflops': is not a known field"),
    ("compute_die_count: 2.5", "must be a whole number"),
    ("memory_bw_gbps: [3000, 2000]", "a range needs low < high"),
    ("scaleup_bw_gbps_unidir: 300", "must be twice scaleup_bw_gbps_unidir"),
    ("default_system: no-such-system", "names system 'no-such-system'"),
])
def test_bad_fields_name_file_entry_and_field(tmp_path, snippet, expected):
    text = BASE.replace("    scaleup_bw_gbps_bidir: 400\n", "    scaleup_bw_gbps_bidir: 400\n    " + snippet + "\n")
    with pytest.raises(CatalogError) as e:
        load_catalog(folder(tmp_path, text))
    msg = str(e.value)
    assert "mine.yaml: entry 'acme-x1'" in msg and expected in msg, msg


def test_missing_source_without_defaults_is_an_error(tmp_path):
    text = BASE.replace("    defaults: {source: my-note, confidence: rumor}\n", "")
    with pytest.raises(CatalogError, match="field 'bf16_dense_tflops.source': is required"):
        load_catalog(folder(tmp_path, text))


@pytest.mark.parametrize("text, expected", [
    ("chips: {id: x}\n", "section 'chips' must be a list"),
    ("widgets: []\n", "unknown section 'widgets'"),
    ("- 1\n- 2\n", "must be a mapping of sections"),
    ("chips:\n  - name: no id\n", "must be a mapping with a string 'id'"),
    ("chips: [\n", "is not valid YAML"),
])
def test_malformed_files(tmp_path, text, expected):
    with pytest.raises(CatalogError, match=expected):
        load_catalog(folder(tmp_path, text, name="bad.yaml"))


def test_duplicate_id_in_one_folder(tmp_path):
    folder(tmp_path)
    folder(tmp_path, "sources:\n  - {id: my-note, title: again, kind: press}\n", name="other.yaml")
    with pytest.raises(CatalogError, match="is defined twice"):
        load_catalog(tmp_path)


def test_every_problem_is_listed_by_read_catalog(tmp_path):
    text = BASE.replace("bf16_dense_tflops: [400, 600]", "bf16_dense_tflops: [600, 400]")
    folder(tmp_path, text)
    folder(tmp_path, "nodes: 5\n", name="nodes.yaml")
    _, problems = read_catalog(tmp_path)
    assert len(problems) == 2
    with pytest.raises(CatalogError, match=r"\(\+1 more; run 'chipgap catalog check"):
        load_catalog(tmp_path)


def test_workload_config_must_stay_inside_the_folder(tmp_path):
    (tmp_path / "outside.json").write_text(json.dumps({"model_type": "llama"}))
    inner = tmp_path / "cat"
    inner.mkdir()
    folder(inner, BASE + textwrap.dedent("""
    workloads:
      - {id: sneaky, name: S, family: x, config: ../outside.json, source: [my-note]}
    """))
    with pytest.raises(CatalogError, match="must be a path inside the catalog folder"):
        load_catalog(inner)


def test_user_workload_from_its_config(tmp_path):
    cfg = {"model_type": "llama", "hidden_size": 1024, "intermediate_size": 4096,
           "num_attention_heads": 8, "num_hidden_layers": 4, "vocab_size": 1000}
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny.json").write_text(json.dumps(cfg))
    folder(tmp_path, BASE + textwrap.dedent("""
    workloads:
      - {id: tiny-llama, name: Tiny, family: test, config: configs/tiny.json, source: [my-note]}
    """))
    assert load_catalog(tmp_path).workload("tiny-llama").n_layers == 4


def test_unknown_id_lists_closest(tmp_path):
    with pytest.raises(UnknownIdError) as e:
        load_catalog(folder(tmp_path)).chip("acme-x2")
    assert "acme-x1" in e.value.suggestions


def test_an_invalid_entry_is_reported_once_not_by_everything_naming_it(tmp_path):
    (tmp_path / "x.yaml").write_text("chips: [{id: nvidia-h100-sxm, bf16_dense_tflops: -3}]\n")
    cat, problems = read_catalog(tmp_path)
    assert len(problems) == 1
    assert problems[0].entry == "nvidia-h100-sxm" and "bf16_dense_tflops" in problems[0].field


def test_links_that_leave_the_catalog_folder_are_refused_and_never_read(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("chips: [{id: nvidia-h100-sxm, name: From outside}]\n")
    cat = tmp_path / "cat"
    folder(cat.mkdir() or cat)
    (cat / "sub").mkdir()
    (cat / "sub" / "real.yaml").write_text("sources: [{id: inner-note, title: Inner, kind: other}]\n")
    (cat / "escape.yaml").symlink_to(outside / "secret.yaml")
    (cat / "dir-link").symlink_to(outside, target_is_directory=True)
    (cat / "inner.yaml").symlink_to(cat / "sub" / "real.yaml")  # inside: read (its entry twice)
    catalog, problems = read_catalog(cat)
    messages = [str(p) for p in problems]
    assert any(m.startswith(f"{cat.as_posix()}/escape.yaml: is a symbolic link to a file outside") for m in messages)
    assert any(m.startswith(f"{cat.as_posix()}/dir-link: is a symbolic link to a folder outside") for m in messages)
    assert any("inner-note" in m and "defined twice" in m for m in messages)
    assert not any("From outside" in m for m in messages)
    (cat / "inner.yaml").unlink()
    (cat / "dir-link").unlink()
    with pytest.raises(CatalogError, match="escape.yaml: is a symbolic link to a file outside the catalog folder"):
        load_catalog(cat)


def test_fifo_and_device_in_a_catalog_folder_are_refused_without_blocking(tmp_path):
    import os

    cat = folder(tmp_path)
    os.mkfifo(cat / "pipe.yaml")
    (cat / "zero.yaml").symlink_to("/dev/zero")  # outside the folder too
    catalog, problems = read_catalog(cat)
    text = " | ".join(str(p) for p in problems)
    assert "pipe.yaml: is a FIFO, not a regular file" in text and "zero.yaml: is a symbolic link" in text


@pytest.mark.parametrize("field, value, says", [
    ("bf16_dense_tflops", 1e12, "must lie between 0.001 and 1e+06, the range of anything built or announced. Got 1e+12"),
    ("memory_bw_gbps", [1, 1e9], "must lie between 0.001 and 1e+08"),
    ("tdp_w", 1e9, "must lie between 0.1 and 100000"),
    ("compute_die_count", 1000, "must lie between 1 and 64"),
])
def test_absurd_but_positive_chip_specs_are_refused(tmp_path, field, value, says):
    lines = [x for x in BASE.splitlines() if not x.startswith(f"    {field}:")]
    text = "\n".join(lines).replace("    scaleup_bw_gbps_bidir: 400", f"    scaleup_bw_gbps_bidir: 400\n    {field}: {value}")
    catalog, problems = read_catalog(folder(tmp_path, text))
    assert [(p.entry, p.field) for p in problems] == [("acme-x1", field)]
    assert says in problems[0].message


def test_a_wafer_scale_engine_is_plausible(tmp_path):
    text = BASE.replace("    bf16_dense_tflops: [400, 600]\n",
                        "    bf16_dense_tflops: 62500\n    compute_die_area_mm2: 46225\n"
                        "    memory_bw_gbps: 21000000\n    tdp_w: 23000\n    transistors_billion: 4000\n")
    assert load_catalog(folder(tmp_path, text)).chip("x1").memory_bw_gbps.value == 21e6


def test_exponent_numbers_in_yaml_are_numbers(tmp_path):
    text = BASE.replace("    bf16_dense_tflops: [400, 600]\n", "    bf16_dense_tflops: 5e2\n")
    assert load_catalog(folder(tmp_path, text)).chip("x1").bf16_dense_tflops.value == 500.0


def test_an_overlay_cannot_null_a_value_the_catalog_holds(tmp_path):
    text = """
    chips:
      - {id: h100, bf16_dense_tflops: null}
    systems:
      - {id: nvidia-hgx-h100, chip_count: null}
    """
    catalog, problems = read_catalog(folder(tmp_path, text))
    assert [(p.entry, p.field) for p in problems] == [("h100", "bf16_dense_tflops"),
                                                      ("nvidia-hgx-h100", "chip_count")]
    assert problems[0].message.startswith("is null, which would remove a value the catalog holds")
    r = __import__("typer.testing", fromlist=["CliRunner"]).CliRunner().invoke(
        __import__("chipgap.cli", fromlist=["app"]).app, ["catalog", "check", str(tmp_path)])
    assert r.exit_code == 2 and "bf16_dense_tflops" in r.output


def test_a_new_system_needs_its_chip_count(tmp_path):
    text = BASE + """
systems:
  - {id: acme-box, name: Box, vendor: acme-ai, kind: server, chip: acme-x1, chip_count: null,
     scaleup_domain_chips: {value: 8, source: my-note, confidence: rumor}}
"""
    catalog, problems = read_catalog(folder(tmp_path, text))
    assert [(p.entry, p.field, p.message) for p in problems] == [
        ("acme-box", "chip_count", "is required: give a value, not null")]
