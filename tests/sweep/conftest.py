import pytest
import yaml

SMALL = {
    "kind": "train",
    "chips": ["h100", "910c"],
    "models": ["llama-3.1-8b"],
    "chip_counts": [8, 16],
    "shapes": [{"seq_len": 4096, "global_batch": 256}],
    "layouts": [{"tp": 1}, {"tp": 2, "zero": 3}, {"tp": 8, "recompute": "selective"}],
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
