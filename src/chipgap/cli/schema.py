"""``chipgap schema``: the JSON schema of the question records, for other tools and forms."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from chipgap.catalog.question import ServeQuestion, TrainQuestion
from chipgap.cli.output import print_json


class Kind(str, Enum):
    train = "train"
    serve = "serve"


RECORDS = {Kind.train: TrainQuestion, Kind.serve: ServeQuestion}


def schema(kind: Annotated[Kind, typer.Argument(help="train or serve.")]) -> None:
    """Print the JSON schema of a training or serving question: every field, its type, its
    default and what it means. `chipgap train`, `chipgap infer`, scenarios, sweeps and run records
    all build this one record."""
    print_json(RECORDS[kind].model_json_schema(mode="validation"))
