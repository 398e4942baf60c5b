"""The catalog: sourced facts about chips, systems, workloads, companies and process nodes."""

from chipgap.catalog.catalog import Catalog
from chipgap.catalog.load import bundled_dir, load_catalog, read_catalog
from chipgap.catalog.quantity import Quantity
from chipgap.catalog.question import Layout, ServeLayout, ServeQuestion, TrainQuestion
from chipgap.catalog.schema import Chip, Company, ProcessNode, Source, System, WorkloadEntry
from chipgap.catalog.serving_job import ServingJob
from chipgap.catalog.workload import Workload, load_workload

__all__ = ["Catalog", "Chip", "Company", "Layout", "ProcessNode", "Quantity", "ServeLayout", "ServeQuestion",
           "ServingJob", "Source", "System", "TrainQuestion", "Workload", "WorkloadEntry", "bundled_dir",
           "load_catalog", "load_workload", "read_catalog"]
