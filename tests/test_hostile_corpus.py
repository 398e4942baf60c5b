"""Every command against a corpus of hostile inputs: exit 2 with one line, or a correct answer.

The corpus (``tests/hostile/corpus.json``) was generated with hypothesis by
``tests/hostile/generate.py`` and is kept as fixtures: catalog folders, config.json files,
scenarios, sweep specs, damaged sweep folders, SQL, command lines with hostile values, and
outputs that are links, FIFOs or a user's files. Each case runs in-process (Typer's CliRunner)
in a folder of its own; a few run as real processes, to prove no traceback and no hang. For every
case: no traceback, no hang (a time limit), exit status 0 with well-formed output or 2 with one
line on stderr, no terminal escape sequence in any output, and no file changed outside the
outputs the case names (nor in the bundled catalog).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from chipgap.catalog.load import bundled_dir
from chipgap.cli import app

CORPUS = json.loads((Path(__file__).parent / "hostile" / "corpus.json").read_text())["cases"]
SECONDS_PER_CASE = 30
runner = CliRunner()


def _content(spec: object) -> bytes | None:
    if isinstance(spec, str):
        return spec.encode("utf-8")
    if "b64" in spec:
        return base64.b64decode(spec["b64"])
    if "repeat" in spec:
        return "".join(text * n for text, n in spec["repeat"]).encode("utf-8")
    return None


def materialize(root: Path, files: dict[str, object]) -> None:
    """Write a case's files: text, bytes, FIFOs, links and folders."""
    for rel, spec in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.is_file():
            path.unlink()
        data = _content(spec)
        if data is not None:
            path.write_bytes(data)
        elif spec.get("fifo"):
            os.mkfifo(path)
        elif "symlink" in spec:
            path.symlink_to(spec["symlink"])
        elif spec.get("dir"):
            path.mkdir(exist_ok=True)


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every entry below ``root`` (not following links) with what it is: a file's hash, a link's
    target, 'fifo' or 'dir'. Entries under ``skip`` (the case's outputs) are left out."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if any(rel == s or rel.startswith(s + "/") for s in skip):
                continue
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_fifo():
                out[rel] = "fifo"
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def bundled_hash():
    """The bundled catalog's files, hashed before the corpus runs; checked after it."""
    before = snapshot(bundled_dir())
    yield before
    assert snapshot(bundled_dir()) == before


@pytest.fixture(scope="module")
def sweep_template(tmp_path_factory):
    """A small finished sweep (folder and spec) that sweep cases start from."""
    d = tmp_path_factory.mktemp("sweep")
    spec = {"kind": "train", "chips": ["h100", "910c"], "models": ["llama-3.1-8b"], "chip_counts": [8, 16],
            "shapes": [{"seq_len": 4096, "global_batch": 256}],
            "layouts": [{"tp": 1, "pp": 1, "cp": 1}, {"tp": 2, "pp": 1, "cp": 1, "zero": 3}],
            "samples": 5, "seed": 3, "chunk_rows": 20}
    (d / "spec.yaml").write_text(yaml.safe_dump(spec))
    r = runner.invoke(app, ["sweep", "run", str(d / "spec.yaml"), "--out", str(d / "sw")])
    assert r.exit_code == 0, r.output
    return d


class Hang(Exception):
    pass


def _alarm(signum, frame):  # noqa: ANN001, ARG001
    raise Hang(f"no answer within {SECONDS_PER_CASE} s")


def check_output(case: dict, r, root: Path) -> None:  # noqa: ANN001
    argv = case["argv"]
    for stream in (r.stdout, r.stderr):
        assert "\x1b" not in stream and "\x9b" not in stream, "an escape sequence reached the terminal"
    if r.exit_code == 2 and argv[:2] == ["catalog", "check"] and "--format" in argv:
        json.loads(r.stdout)  # the report of every problem found
        return
    if r.exit_code == 2 and argv[:2] == ["catalog", "check"]:  # one line per problem
        assert r.stderr and all(line.startswith("error: ") for line in r.stderr.splitlines()), r.stderr
        return
    if r.exit_code == 2:
        assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
        assert r.stdout == "", r.stdout
        return
    assert r.exit_code == 0, (r.exit_code, r.output)
    fmt = argv[argv.index("--format") + 1] if "--format" in argv else argv[argv.index("-f") + 1] \
        if "-f" in argv else "table"
    if fmt == "json":
        json.loads(r.stdout)
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(r.stdout)))
        for row in rows[1:]:
            assert len(row) == len(rows[0])
            assert not any(cell[:1] in ("=", "+", "@") for cell in row if not _number(cell)), row
    assert "Traceback" not in r.output


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_corpus_case(case, tmp_path, bundled_hash, sweep_template):
    root = tmp_path / "case"
    root.mkdir()
    if case.get("sweep"):
        shutil.copytree(sweep_template / "sw", root / "sw")
        shutil.copy(sweep_template / "spec.yaml", root / "spec.yaml")
    materialize(root, case.get("files", {}))
    outputs = tuple(case.get("outputs", ()))
    before = snapshot(root, outputs)
    argv = [a.replace("{dir}", str(root)) for a in case["argv"]]
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_CASE)
    try:
        r = runner.invoke(app, argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        pytest.fail("".join(traceback.format_exception(*r.exc_info)))
    check_output(case, r, root)
    assert snapshot(root, outputs) == before, "a file outside the outputs changed"


def test_corpus_covers_every_command():
    seen = {tuple(a for a in c["argv"] if not a.startswith(("-", "{")))[:2] for c in CORPUS}
    for cmd in [("catalog", "check"), ("chips", "list"), ("chips", "show"), ("chips", "compare"),
                ("systems", "list"), ("systems", "show"), ("models", "show"), ("train",), ("infer",),
                ("econ", "die"), ("econ", "chip-cost"), ("econ", "tco"), ("export", "classify"),
                ("export", "headroom"), ("export", "timeline"), ("export", "chart"), ("supply",),
                ("chain", "exposure"), ("scenario", "run"), ("sweep", "run"), ("sweep", "query"), ("report",)]:
        assert any(s[:len(cmd)] == cmd for s in seen), cmd
    assert len(CORPUS) > 400


# -- real processes: no traceback and no hang, each with a timeout ------------------------------

def chipgap(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "chipgap"
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "from chipgap.cli import main; main()"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("name", ["fifo-config", "dev-zero-scenario", "deep-json", "moe-layers", "fifo-catalog"])
def test_hostile_inputs_in_a_real_process(tmp_path, name):
    moe = json.loads((bundled_dir() / "workloads" / "configs" / "qwen3-30b-a3b.json").read_text())
    if name == "fifo-config":
        os.mkfifo(tmp_path / "m.json")
        args = ["train", "-m", str(tmp_path / "m.json"), "-c", "h100", "-n", "8"]
    elif name == "dev-zero-scenario":
        (tmp_path / "s.yaml").symlink_to("/dev/zero")
        args = ["scenario", "run", str(tmp_path / "s.yaml")]
    elif name == "deep-json":
        (tmp_path / "m.json").write_text("[" * 200_000 + "]" * 200_000)
        args = ["models", "show", str(tmp_path / "m.json")]
    elif name == "moe-layers":
        (tmp_path / "m.json").write_text(json.dumps({**moe, "num_hidden_layers": 10**12}))
        args = ["infer", "-m", str(tmp_path / "m.json"), "-c", "h100"]
    else:
        (tmp_path / "cat").mkdir()
        os.mkfifo(tmp_path / "cat" / "pipe.yaml")
        args = ["--catalog", str(tmp_path / "cat"), "chips", "list"]
    t0 = time.monotonic()
    p = chipgap(*args)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("error: ") and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert p.stdout == "" and time.monotonic() - t0 < 60


def test_a_real_process_answers_a_valid_question(tmp_path):
    p = chipgap("train", "-m", "llama-3.1-8b", "-c", "h100", "-n", "8", "--format", "json")
    assert p.returncode == 0 and p.stderr == ""
    best = json.loads(p.stdout)["results"][0]["layout"]          # every layout searched
    assert best["tp"] * best["pp"] * best["dp"] * best["cp"] == 8
