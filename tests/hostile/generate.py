"""Generate the hostile-input corpus (``corpus.json`` beside this file) with hypothesis.

Run it by hand when the strategies change, and commit the result; the test
(``tests/test_hostile_corpus.py``) only reads the fixtures, so CI runs the same inputs every time
and in bounded time::

    python tests/hostile/generate.py

Each case is a command line (``{dir}`` stands for the case's own temporary folder), the files it
needs there and the paths it may write (``outputs``). A file is text, ``{"b64": ...}`` bytes,
``{"fifo": true}``, ``{"symlink": target}``, ``{"dir": true}`` or ``{"repeat": [[text, n], ...]}``
(each text n times, for the deep-nesting payloads). Generation is derandomized: the
same strategies give the same corpus.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).parent
DATA = HERE.parents[1] / "src" / "chipgap" / "catalog" / "data"

# -- hostile atoms ------------------------------------------------------------------------------

ESCAPES = ["\x1b[2J\x1b[H", "\x1b]0;pwned\x07", "\x1b]8;;http://evil.test\x1b\\link\x1b]8;;\x1b\\", "\x9b31m",
           "\u202eevil", "\r\x08\x08", "\x00", "[bold red]markup[/]", "[link=http://evil.test]x[/link]"]
MARKUP = ["<img src=http://evil.test/x.png>", "<script>alert(1)</script>", "![x](http://evil.test/i.png)",
          "[a](javascript:alert(1))", "# heading", "- item", "| a | b |", "`code`", "=HYPERLINK(\"http://e.test\")",
          "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"]
PATHS = ["../../etc/passwd", "/etc/passwd", "/dev/zero", "", ".", "..", "x" * 300, "nul\x00l", "~/x"]
NUMBERS = [0, -1, -0.0, 1, 2, 7, 10**12, 2**63, -(2**63) - 1, 1e12, 1e308, 1.5, 1e-300, float("inf"),
           float("-inf"), float("nan"), True, False, None, "32", "1e12", "", [], {}, [1, 2], {"value": 1}]
NUMBER_TEXT = ["-1", "0", "nan", "inf", "-inf", "1e400", "99999999999999999999999", "9223372036854775808",
               "1.5", "0x10", "", "abc", "1e12", "-1e-300", "1_000", " 8", "8 ", "\x1b[2J"]

atoms = st.sampled_from(NUMBERS)
texts = st.one_of(st.sampled_from(ESCAPES + MARKUP + PATHS),
                  st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=24))
leaves = st.one_of(atoms, texts)
values = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=8)


def _dump(doc: object) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _collect(strategy: st.SearchStrategy, n: int) -> list:
    """``n`` examples of ``strategy``, the same ones every run (derandomized)."""
    out: list = []

    @settings(max_examples=n, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), deadline=None)
    @given(strategy)
    def run(x: object) -> None:
        out.append(x)

    run()
    return out[:n]


# -- catalog folders ----------------------------------------------------------------------------

CHIP_FIELDS = ["name", "vendor", "country", "status", "bf16_dense_tflops", "fp8_dense_tflops",
               "memory_capacity_gib", "memory_bw_gbps", "scaleup_bw_gbps_bidir", "tdp_w", "price_usd",
               "compute_die_count", "devices_per_package", "default_system", "notes", "aliases", "defaults"]
SYSTEM_FIELDS = ["chip", "chip_count", "scaleup_domain_chips", "power_kw", "kind", "price_usd"]
quantity = st.one_of(atoms, st.fixed_dictionaries(
    {"value": st.one_of(atoms, st.lists(atoms, min_size=2, max_size=2))},
    optional={"source": st.one_of(texts, st.just("nvidia-h100-datasheet")),
              "confidence": st.sampled_from(["official", "rumor", "certain", None]),
              "mode": atoms, "dist": st.sampled_from(["lognormal", "uniform", "gaussian"])}))
chip_override = st.builds(
    lambda cid, fields: {"chips": [{"id": cid, **fields}]},
    st.sampled_from(["nvidia-h100-sxm", "h100", "huawei-ascend-910c", "new-chip-x", "nvidia-a100-sxm"]),
    st.dictionaries(st.sampled_from(CHIP_FIELDS), st.one_of(quantity, texts), min_size=1, max_size=3))
system_override = st.builds(
    lambda sid, fields: {"systems": [{"id": sid, **fields}]},
    st.sampled_from(["nvidia-hgx-h100", "huawei-cloudmatrix-384", "new-box"]),
    st.dictionaries(st.sampled_from(SYSTEM_FIELDS), st.one_of(quantity, texts), min_size=1, max_size=3))
catalog_docs = st.one_of(chip_override, system_override, values,
                         st.dictionaries(st.sampled_from(["chips", "systems", "sources", "workloads", "widgets"]),
                                         st.lists(st.dictionaries(st.sampled_from(["id", *CHIP_FIELDS]), leaves,
                                                                  max_size=4), max_size=2), max_size=2))
RAW_YAML = ["a: &x [1]\nb: *x\n", "chips:\n  - id: h100\n    id: h100\n", {"repeat": [["[", 5000], ["]", 5000]]},
            "chips: " + "[" * 40 + "]" * 40, "chips:\n  - {id: h100, tdp_w: " + "9" * 40 + "}\n",
            "!!python/object/apply:os.system ['echo pwned']\n", "\ufeffchips: []\n", "chips: [\n",
            "chips:\n  - {id: h100, bf16_dense_tflops: 1e12}\n", "chips:\n  - {id: h100, bf16_dense_tflops: null}\n",
            "systems:\n  - {id: nvidia-hgx-h100, chip_count: null}\n"]


def catalog_cases(n: int) -> list[dict]:
    docs = [_dump(d) for d in _collect(catalog_docs, n)] + RAW_YAML
    cases = []
    for i, text in enumerate(docs):
        argv = [["catalog", "check", "{dir}/cat", "--format", "json"],
                ["--catalog", "{dir}/cat", "chips", "list", "--format", "csv"],
                ["--catalog", "{dir}/cat", "chips", "show", "h100"],
                ["--catalog", "{dir}/cat", "systems", "list"]][i % 4]
        cases.append({"id": f"catalog-{i:03d}", "argv": argv, "files": {"cat/user.yaml": text}})
    specials = {"fifo": {"cat/pipe.yaml": {"fifo": True}},
                "device": {"cat/zero.yaml": {"symlink": "/dev/zero"}},
                "outside-link": {"cat/escape.yaml": {"symlink": "../outside.yaml"},
                                 "outside.yaml": "chips:\n  - {id: h100, name: From outside}\n"},
                "outside-dir": {"cat/d": {"symlink": "/etc"}},
                "binary": {"cat/bin.yaml": {"b64": base64.b64encode(bytes(range(256))).decode()}},
                "latin1": {"cat/l.yaml": {"b64": base64.b64encode("chips: [{id: h100, name: caf\xe9}]".encode("latin-1")).decode()}},
                "config-outside": {"cat/w.yaml": "workloads:\n  - {id: mine, name: M, family: f, config: ../../m.json, source: [x]}\n"},
                "config-fifo": {"cat/w.yaml": "workloads:\n  - {id: mine, name: M, family: f, config: c.json, source: [llama3-paper]}\n",
                                "cat/c.json": {"fifo": True}}}
    for name, files in specials.items():
        cases.append({"id": f"catalog-{name}", "argv": ["catalog", "check", "{dir}/cat"], "files": files})
    return cases


# -- config.json files --------------------------------------------------------------------------

CONFIGS = {name: json.loads((DATA / "workloads" / "configs" / f"{name}.json").read_text())
           for name in ("llama-3.1-8b", "qwen3-30b-a3b", "deepseek-v3", "megatron-gpt-1.7b")}
config_mutation = st.builds(
    lambda base, changes, drop: {**{k: v for k, v in CONFIGS[base].items() if k not in drop}, **changes},
    st.sampled_from(sorted(CONFIGS)),
    st.dictionaries(st.sampled_from(["num_hidden_layers", "hidden_size", "num_attention_heads",
                                     "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size",
                                     "num_experts", "n_routed_experts", "num_experts_per_tok", "moe_intermediate_size",
                                     "first_k_dense_replace", "model_type", "max_position_embeddings",
                                     "tie_word_embeddings", "n_layer", "n_head", "n_embd", "kv_lora_rank",
                                     "num_local_experts", "decoder_sparse_step", "moe_layer_freq"]),
                    atoms, min_size=1, max_size=3),
    st.sets(st.sampled_from(["hidden_size", "num_attention_heads", "vocab_size", "model_type"]), max_size=1))


def config_cases(n: int) -> list[dict]:
    cases = []
    for i, cfg in enumerate(_collect(config_mutation, n)):
        text = json.dumps(cfg, allow_nan=True)
        argv = [["models", "show", "{dir}/m.json", "--format", "json"],
                ["train", "-m", "{dir}/m.json", "-c", "h100", "-n", "8", "--format", "json"],
                ["infer", "-m", "{dir}/m.json", "-c", "h100", "-n", "8", "--format", "csv"]][i % 3]
        cases.append({"id": f"config-{i:03d}", "argv": argv, "files": {"m.json": text}})
    raw = {"deep": {"repeat": [["[", 100_000], ["]", 100_000]]}, "nan": '{"model_type": "llama", "hidden_size": NaN}',
           "huge-int": {"repeat": [['{"model_type": "llama", "num_hidden_layers": ', 1], ["9", 5000], ["}", 1]]},
           "not-object": "[1, 2, 3]", "empty": "", "bom": "\ufeff{}"}
    for name, text in raw.items():
        cases.append({"id": f"config-{name}", "argv": ["models", "show", "{dir}/m.json"], "files": {"m.json": text}})
    cases.append({"id": "config-fifo", "argv": ["train", "-m", "{dir}/m.json", "-c", "h100", "-n", "8"],
                  "files": {"m.json": {"fifo": True}}})
    cases.append({"id": "config-dev-zero", "argv": ["models", "show", "{dir}/m.json"],
                  "files": {"m.json": {"symlink": "/dev/zero"}}})
    return cases


# -- scenarios ----------------------------------------------------------------------------------

GOOD_SCENARIO = {"name": "t", "title": "T", "description": "D", "sources": ["cm384-paper"],
                 "questions": [{"id": "q", "ask": "spec", "chips": ["huawei-ascend-910c", "nvidia-h100-sxm"],
                                "fields": ["bf16_dense_tflops"]}]}
QUESTIONS = [
    {"id": "t", "ask": "train", "model": "llama-3.1-8b", "chips": ["nvidia-h100-sxm"], "n_chips": 8,
     "seq_len": 4096, "global_batch": 64},
    {"id": "s", "ask": "serve", "model": "llama-3.1-8b", "chips": ["nvidia-h100-sxm"], "n_chips": 1,
     "input_len": 1024, "output_len": 128},
    {"id": "c", "ask": "chip-cost", "chips": ["huawei-ascend-910c"]},
    {"id": "k", "ask": "shock", "shock": "no-hbm-imports"},
    {"id": "u", "ask": "supply", "scenarios": ["china-2025-base"]},
]
question_mutation = st.builds(
    lambda q, changes: {**q, **changes},
    st.sampled_from(QUESTIONS),
    st.dictionaries(st.sampled_from(["n_chips", "seq_len", "global_batch", "input_len", "output_len", "chips",
                                     "model", "precision", "weight_precision", "ttft_ms", "tpot_ms", "claim",
                                     "id", "ask", "shock", "scenarios", "phase"]),
                    st.one_of(atoms, texts, st.just({"metric": "tokens_per_sec", "a": "nvidia-h100-sxm",
                                                     "b": "nvidia-h100-sxm"})), max_size=2))
scenario_mutation = st.builds(
    lambda qs, top, catalog: {**GOOD_SCENARIO, "questions": qs, **top, **({"catalog": catalog} if catalog else {})},
    st.lists(question_mutation, min_size=1, max_size=2),
    st.dictionaries(st.sampled_from(["name", "title", "description", "sources"]), st.one_of(atoms, texts), max_size=1),
    st.one_of(st.none(), chip_override, system_override))


def scenario_cases(n: int) -> list[dict]:
    cases = []
    for i, doc in enumerate(_collect(scenario_mutation, n)):
        fmt = ["table", "json", "csv"][i % 3]
        cases.append({"id": f"scenario-{i:03d}", "files": {"s.yaml": _dump(doc)},
                      "argv": ["scenario", "run", "{dir}/s.yaml", "--samples", "100", "--format", fmt]})
    dup = {**GOOD_SCENARIO, "questions": GOOD_SCENARIO["questions"] * 2}
    cases.append({"id": "scenario-duplicate-ids", "files": {"s.yaml": _dump(dup)},
                  "argv": ["scenario", "run", "{dir}/s.yaml", "--samples", "100"]})
    cases.append({"id": "scenario-fifo", "files": {"s.yaml": {"fifo": True}},
                  "argv": ["scenario", "run", "{dir}/s.yaml"]})
    return cases


# -- sweep specs and folders --------------------------------------------------------------------

SMALL_SPEC = {"kind": "train", "chips": ["h100", "910c"], "models": ["llama-3.1-8b"], "chip_counts": [8, 16],
              "shapes": [{"seq_len": 4096, "global_batch": 256}],
              "layouts": [{"tp": 1, "pp": 1, "cp": 1}, {"tp": 2, "pp": 1, "cp": 1, "zero": 3}],
              "samples": 5, "seed": 3, "chunk_rows": 20}
SPEC_FIELDS = ["kind", "chips", "models", "chip_counts", "shapes", "layouts", "samples", "seed", "chunk_rows",
               "systems", "precision", "instance_chips", "lengths", "batches"]
spec_mutation = st.builds(
    lambda changes: {**SMALL_SPEC, **changes},
    st.dictionaries(st.sampled_from(SPEC_FIELDS),
                    st.one_of(atoms, texts, st.lists(atoms, min_size=1, max_size=2),
                              st.just([{"tp": 2, "dp": 7}]), st.just([{"seq_len": 10**9, "global_batch": 1}])),
                    min_size=1, max_size=2))
MANIFESTS = ["", "[]", "{}", "null", '{"format": 2, "chunks": 3, "chunk_checksums": {"0": "x"}}',
             '{"format": 2, "chunks": 3, "chunk_checksums": {"-1": {"sha256": "x", "bytes": 1, "rows": 1}}}',
             '{"format": 2, "chunks": 3, "chunk_checksums": {"../../etc/passwd": {}}}',
             '{"format": 1, "done": [0, 1, 2]}', {"repeat": [["[", 100_000]]}, '{"format": 2, "chunks": 1e400}']
SQL = ["SELECT * FROM results", "SELECT count(*) AS n FROM results", "DROP TABLE results",
       "COPY (SELECT 1) TO '{dir}/leak.csv'", "SELECT * FROM read_csv('/etc/passwd')", "SELECT 1; SELECT 2",
       "ATTACH '{dir}/x.db'", "SELECT [1, 2] AS l, '\\x00'::BLOB AS b, now() AS t", "SELECT '=cmd' AS c",
       "SELECT '\x1b[2J' AS esc", "INSTALL httpfs", "SELECT * FROM results WHERE", "", "PRAGMA version"]


def sweep_cases(n: int) -> list[dict]:
    cases = []
    for i, spec in enumerate(_collect(spec_mutation, n)):
        cases.append({"id": f"spec-{i:03d}", "files": {"spec.yaml": _dump(spec)}, "outputs": ["out"],
                      "argv": ["sweep", "run", "{dir}/spec.yaml", "--out", "{dir}/out", "--format", "json"]})
    cases.append({"id": "spec-fifo", "files": {"spec.yaml": {"fifo": True}}, "outputs": ["out"],
                  "argv": ["sweep", "run", "{dir}/spec.yaml", "--out", "{dir}/out"]})
    cases.append({"id": "spec-into-user-folder", "files": {"spec.yaml": _dump(SMALL_SPEC), "mine/notes.txt": "keep"},
                  "argv": ["sweep", "run", "{dir}/spec.yaml", "--out", "{dir}/mine"]})
    cases.append({"id": "spec-out-is-file", "files": {"spec.yaml": _dump(SMALL_SPEC), "out": "a file"},
                  "argv": ["sweep", "run", "{dir}/spec.yaml", "--out", "{dir}/out"]})
    for i, text in enumerate(MANIFESTS):
        cases.append({"id": f"manifest-{i:02d}", "sweep": True, "files": {"sw/manifest.json": text},
                      "argv": ["sweep", "query", "{dir}/sw", "SELECT count(*) AS n FROM results"]})
        cases.append({"id": f"manifest-resume-{i:02d}", "sweep": True, "files": {"sw/manifest.json": text},
                      "outputs": ["sw"], "argv": ["sweep", "run", "{dir}/spec.yaml", "--out", "{dir}/sw"]})
    for i, sql in enumerate(SQL):
        for fmt in ("table", "json", "csv"):
            cases.append({"id": f"sql-{i:02d}-{fmt}", "sweep": True,
                          "argv": ["sweep", "query", "{dir}/sw", sql, "--format", fmt]})
    for name, files in {"chunk-fifo": {"sw/chunk-000001.parquet": {"fifo": True}},
                        "chunk-link": {"sw/chunk-000001.parquet": {"symlink": "/dev/zero"}},
                        "chunk-garbage": {"sw/chunk-000002.parquet": "not parquet"},
                        "lock-link": {"sw/.chipgap.lock": {"symlink": "/etc/passwd"}}}.items():
        cases.append({"id": f"sweep-{name}", "sweep": True, "files": files, "outputs": ["sw"],
                      "argv": ["sweep", "run", "{dir}/spec.yaml", "--out", "{dir}/sw", "--format", "json"]})
        cases.append({"id": f"sweep-{name}-query", "sweep": True, "files": files,
                      "argv": ["sweep", "query", "{dir}/sw", "SELECT count(*) AS n FROM results"]})
    return cases


# -- command lines ------------------------------------------------------------------------------

TEMPLATES = [
    ["train", "-m", "llama-3.1-8b", "-c", "h100", "-n", "8", "--format", "json"],
    ["train", "-m", "deepseek-v3", "-c", "910c", "-n", "64", "--search", "--format", "csv"],
    ["infer", "-m", "llama-3.1-8b", "-c", "h100", "-n", "8", "--format", "json"],
    ["infer", "-m", "qwen3-30b-a3b", "-c", "a100", "-n", "4", "--precision", "fp8"],
    ["econ", "die", "--die-area", "600", "--d0", "0.1", "--format", "json"],
    ["econ", "chip-cost", "910c", "--samples", "100", "--format", "csv"],
    ["econ", "tco", "--system", "nvidia-hgx-h100", "--format", "json"],
    ["export", "classify", "h100", "910c", "--samples", "100"],
    ["export", "headroom", "--die-area", "600", "--format", "json"],
    ["export", "timeline", "h20"],
    ["supply", "--year", "2025", "--samples", "100", "--format", "json"],
    ["chain", "exposure", "--shock", "no-hbm-imports", "--format", "csv"],
    ["chips", "compare", "910c", "h100", "--format", "json"],
    ["chips", "show", "h100"],
    ["systems", "show", "cm384", "--format", "csv"],
    ["models", "show", "deepseek-v3"],
    ["scenario", "run", "hbm-cutoff", "--samples", "100", "--format", "json"],
]
def _options(template: list[str]) -> list[str]:
    """The options the command of ``template`` declares that take a value (from the CLI itself)."""
    import typer.main

    from chipgap.cli import app

    cmd = typer.main.get_command(app)
    for word in template:
        sub = getattr(cmd, "commands", {}).get(word)
        if sub is None:
            break
        cmd = sub
    return sorted(o for p in cmd.params if not getattr(p, "is_flag", False) and p.param_type_name == "option"
                  for o in p.opts)


OPTIONS = {i: _options(t) for i, t in enumerate(TEMPLATES)}
argv_mutation = st.integers(0, len(TEMPLATES) - 1).flatmap(lambda i: st.builds(
    lambda option, value: [*TEMPLATES[i], option, value],
    st.sampled_from(OPTIONS[i]),
    st.one_of(st.sampled_from(NUMBER_TEXT), st.sampled_from(ESCAPES + PATHS + MARKUP))))


def argv_cases(n: int) -> list[dict]:
    cases = [{"id": f"argv-{i:03d}", "argv": argv} for i, argv in enumerate(_collect(argv_mutation, n))]
    for name, (argv, files, outputs) in {
        "chart-dangling-link": (["export", "chart", "-o", "{dir}/c.png", "--force"], {"c.png": {"symlink": "gone.png"}}, []),
        "chart-fifo": (["export", "chart", "-o", "{dir}/c.png", "--force"], {"c.png": {"fifo": True}}, []),
        "chart-new-folder": (["export", "chart", "-o", "{dir}/new/sub/c.png"], {}, ["new"]),
        "chart-exists": (["export", "chart", "-o", "{dir}/c.png"], {"c.png": "mine"}, []),
        "report-notes": (["report", "-o", "{dir}/notes.html"], {"notes.html": "my chipgap report notes"}, []),
        "report-link": (["report", "-o", "{dir}/r.html", "--force"], {"r.html": {"symlink": "elsewhere.html"}}, []),
        "report-fifo": (["report", "-o", "{dir}/r.html", "--force"], {"r.html": {"fifo": True}}, []),
        "report-folder": (["report", "-o", "{dir}/d"], {"d": {"dir": True}}, []),
        "report-md-folder-taken": (["report", "-f", "md", "-o", "{dir}/r.md"], {"r_files/supply.png": "mine"}, []),
        "report-bad-scenario": (["report", "--scenario", "{dir}/s.yaml", "-o", "{dir}/r.html"], {"s.yaml": "[1, 2"}, []),
        "infer-chart-link": (["infer", "-m", "llama-3.1-8b", "-c", "h100", "--chart", "{dir}/p.svg"],
                             {"p.svg": {"symlink": "/etc/passwd"}}, []),
    }.items():
        cases.append({"id": f"output-{name}", "argv": argv, "files": files, "outputs": outputs})
    return cases


def issue_cases() -> list[dict]:
    """The inputs issue 19 reported, by hand, in every output format where it matters."""
    cases = []
    for fmt in ("table", "json", "csv"):
        for name, argv in {
            "tp2-dp7": ["train", "-m", "llama-3.1-8b", "-c", "h100", "-n", "8", "--tp", "2", "--dp", "7"],
            "tp-above-chips": ["train", "-m", "llama-3.1-70b", "-c", "h100", "-n", "8", "--tp", "16"],
            "serve-tp-above-chips": ["infer", "-m", "llama-3.1-8b", "-c", "h100", "-n", "8", "--tp", "16"],
            "serve-tp2-dp7": ["infer", "-m", "llama-3.1-8b", "-c", "h100", "-n", "8", "--tp", "2", "--dp", "7"],
            "fp8-training-a100": ["train", "-m", "llama-3.1-8b", "-c", "a100", "-n", "8", "--precision", "fp8"],
            "fp8-serving-a100": ["infer", "-m", "llama-3.1-8b", "-c", "a100", "--precision", "fp8"],
            "negative-seed": ["supply", "--year", "2025", "--seed", "-1"],
            "infinite-tokens": ["train", "-m", "llama-3.1-8b", "-c", "h100", "-n", "8", "--tokens", "inf"],
            "absurd-batch": ["infer", "-m", "llama-3.1-8b", "-c", "h100", "--batch", "99999999999999999999"],
            "absurd-samples": ["train", "-m", "llama-3.1-8b", "-c", "h100", "-n", "8", "--samples", "100000000000"],
        }.items():
            cases.append({"id": f"issue-{name}-{fmt}", "argv": [*argv, "--format", fmt]})
    cases.append({"id": "issue-report-null-overlay", "files": {"cat/n.yaml": "chips:\n  - {id: h100, bf16_dense_tflops: null}\n"},
                  "argv": ["report", "--catalog", "{dir}/cat", "-o", "{dir}/r.html"]})
    cases.append({"id": "issue-sweep-new-nested-folder", "files": {"spec.yaml": _dump(SMALL_SPEC)}, "outputs": ["a"],
                  "argv": ["sweep", "run", "{dir}/spec.yaml", "--out", "{dir}/a/b/out", "--format", "json"]})
    cases.append({"id": "issue-moe-absurd-layers", "files": {"m.json": json.dumps({**CONFIGS["qwen3-30b-a3b"],
                                                                                    "num_hidden_layers": 10**12})},
                  "argv": ["infer", "-m", "{dir}/m.json", "-c", "h100"]})
    cases.append({"id": "issue-zero-heads", "files": {"m.json": json.dumps({**CONFIGS["llama-3.1-8b"],
                                                                             "num_attention_heads": 0})},
                  "argv": ["models", "show", "{dir}/m.json"]})
    return cases


def main() -> None:
    corpus = {"generated_by": "tests/hostile/generate.py", "cases": [
        *catalog_cases(60), *config_cases(60), *scenario_cases(36), *sweep_cases(30), *argv_cases(150),
        *issue_cases()]}
    path = HERE / "corpus.json"
    path.write_text(json.dumps(corpus, indent=1, ensure_ascii=True, allow_nan=True) + "\n")
    print(f"wrote {len(corpus['cases'])} cases to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
