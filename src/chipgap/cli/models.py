"""``chipgap models``: LLM architectures (workloads) from the catalog or any config.json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from chipgap.analyses.workloads import workload_summary
from chipgap.catalog.workload import Workload, load_workload
from chipgap.cli import get_catalog
from chipgap.cli.output import Format, num, print_csv, print_json, print_table

app = typer.Typer(no_args_is_help=True)

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
SHAPE = ["model_type", "n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ff",
         "vocab_size", "attention", "n_routed_experts", "n_shared_experts", "experts_per_token",
         "d_ff_expert", "first_dense_layers", "kv_lora_rank", "mtp_layers", "max_seq_len"]


def attention_label(d: dict) -> str:
    """The attention of a workload dict: 'gqa', or 'gqa+sliding' where some layers differ."""
    kinds = sorted(set(d.get("layer_types") or ()) - {"full"})
    return "+".join([d["attention"], *kinds])


@app.command("list")
def list_models(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """List the catalog's LLM architectures with parameter counts computed from their configs."""
    cat = get_catalog(ctx)
    data = [workload_summary(cat.workload(i)) for i in cat.workloads]
    if fmt is Format.json:
        return print_json(data)
    if fmt is Format.csv:
        return print_csv(pd.DataFrame(data))
    rows = [[d["id"], d["family"], attention_label(d), "moe" if d["n_routed_experts"] else "dense",
             str(d["n_layers"]), str(d["d_model"]), num(d["params_total_billion"]),
             num(d["params_active_billion"])] for d in data]
    print_table(rows, ["id", "family", "attention", "type", "layers", "d_model",
                       "params B", "active B"], numeric_from=4)


@app.command("show")
def show_model(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Workload id or alias, or a path to a config.json.")],
    fmt: FormatOpt = Format.table,
) -> None:
    """Show one architecture: its shape and parameter counts (total, active, embedding, MTP)."""
    if model.endswith(".json") or Path(model).is_file():
        w = load_workload(model)
    else:
        w = get_catalog(ctx).workload(model)
    data = workload_summary(w)
    if fmt is Format.json:
        return print_json(data)
    keys = ["id", "name", "family", *SHAPE, "params_total_billion", "params_active_billion",
            "params_embedding_billion", "params_mtp_billion"]
    rows = [[k, num(data[k]) if isinstance(data[k], float) else str(data[k])] for k in keys
            if data.get(k) not in (None, 0) or k.startswith("params_total")]
    if fmt is Format.csv:
        return print_csv(pd.DataFrame(rows, columns=["field", "value"]))
    print_table(rows, ["field", "value"], title=w.name)
