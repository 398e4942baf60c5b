"""Every commit that changed the bundled catalog left it loadable, with that commit's own code.

Each commit since `SINCE` that touches ``src/chipgap/catalog/data`` is written out with
``git show <commit>:<path>`` (the whole ``src/chipgap`` tree of that commit) into a temporary
folder, and one child process imports that tree's chipgap and loads its bundled catalog, commit
after commit (a fraction of a second each). Four commits before `SINCE` are known not to load
(a source id missing, a company missing, a date read as a number); history is not rewritten.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SINCE = "3a4bf523"
"""The last commit whose bundled catalog does not load; every later one must (in a shallow clone,
every one the clone holds)."""
DATA = "src/chipgap/catalog/data"

LOADER = r"""
import sys, importlib
failures = []
for line in sys.stdin.read().split():
    commit, folder = line.split("=", 1)
    for name in [m for m in sys.modules if m == "chipgap" or m.startswith("chipgap.")]:
        del sys.modules[name]
    sys.path.insert(0, folder)
    try:
        import chipgap
        assert chipgap.__file__.startswith(folder), chipgap.__file__
        importlib.import_module("chipgap.catalog.load").load_catalog()
    except Exception as e:
        failures.append(f"{commit[:10]}: {type(e).__name__}: {str(e)[:300]}")
    sys.path.pop(0)
print("\n".join(failures))
"""


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


def _write_tree(commit: str, dest: Path) -> None:
    """``src/chipgap`` at ``commit`` into ``dest``, file by file with ``git show``."""
    listing = _git("ls-tree", "-r", "--name-only", commit, "src/chipgap").split("\n")
    paths = [p for p in listing if p]
    blobs = subprocess.run(["git", "-C", str(ROOT), "cat-file", "--batch"], input="".join(
        f"{commit}:{p}\n" for p in paths).encode(), capture_output=True, check=True).stdout
    pos = 0
    for p in paths:           # the batch answers "<sha> blob <size>\n<bytes>\n" per path, in order
        end = blobs.index(b"\n", pos)
        size = int(blobs[pos:end].split()[2])
        data = blobs[end + 1:end + 1 + size]
        pos = end + 1 + size + 1
        out = dest / p
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)


def test_the_bundled_catalog_loads_at_every_commit_that_changed_it(tmp_path):
    assert (ROOT / ".git").exists(), "this test reads the repository's history: run it in a git checkout"
    try:
        _git("cat-file", "-e", f"{SINCE}^{{commit}}")
        span = [f"{SINCE}..HEAD"]
    except subprocess.CalledProcessError:
        # a shallow clone holds part of the history: every commit it holds that changed the data
        if _git("rev-parse", "--is-shallow-repository").strip() != "true":
            pytest.fail(f"commit {SINCE} is not in this repository's history")
        span = ["HEAD"]
    commits = _git("log", "--format=%H", *span, "--", DATA).split()
    assert commits, "no commit since the fixed one touches the catalog data"
    pairs = []
    for c in commits:
        _write_tree(c, tmp_path / c)
        pairs.append(f"{c}={tmp_path / c / 'src'}")
    env = {k: v for k, v in os.environ.items() if k != "CHIPGAP_CATALOG"}
    run = subprocess.run([sys.executable, "-c", LOADER], input="\n".join(pairs), capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "", "commits whose bundled catalog does not load:\n" + run.stdout
