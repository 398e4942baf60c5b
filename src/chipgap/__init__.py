"""chipgap: a sourced, quantitative model of the AI-chip race.

The Python API is the product; the CLI is one view of it::

    >>> import chipgap
    >>> cat = chipgap.load_catalog()
    >>> cat.chip("910c").compute_die_count.value
    2.0
"""

from chipgap.catalog import (Catalog, Chip, Quantity, System, Workload, load_catalog,
                             load_workload)
from chipgap.errors import CatalogError, ChipgapError, UnknownIdError

__version__ = "0.1.0"

__all__ = ["Catalog", "CatalogError", "Chip", "ChipgapError", "Quantity", "System",
           "UnknownIdError", "Workload", "load_catalog", "load_workload", "__version__"]
