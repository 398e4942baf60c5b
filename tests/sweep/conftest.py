import pytest
import yaml

FIXED = {"pp": 1, "cp": 1, "ep": 1, "vpp": 1, "mbs": 1, "zero": 1, "recompute": "none"}
"""Every layout field but tp and dp (dp is what the chips leave): a listed layout searches the
fields it leaves unset, as a question does, so these pin them."""

SMALL = {
    "kind": "train",
    "chips": ["h100", "910c"],
    "models": ["llama-3.1-8b"],
    "chip_counts": [8, 16],
    "shapes": [{"seq_len": 4096, "global_batch": 256}],
    "layouts": [{**FIXED, "tp": 1}, {**FIXED, "tp": 2, "zero": 3}, {**FIXED, "tp": 8, "recompute": "selective"}],
    "samples": 20,
    "seed": 3,
    "chunk_rows": 50,
}
"""2 chips x 1 model x 2 counts x 1 shape x 3 layouts x 20 samples = 240 rows, 5 chunks."""


@pytest.fixture
def write_spec(tmp_path):
    """Write a spec (SMALL updated with ``changes``) to a YAML file; return its path."""
    def write(name="spec.yaml", **changes):
        path = tmp_path / name
        path.write_text(yaml.safe_dump({**SMALL, **changes}, sort_keys=False))
        return path
    return write
