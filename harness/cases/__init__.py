"""Case sources: curated YAML files and aws-c-auth style suite folders."""

from harness.cases.errors import CaseError
from harness.cases.sources import Loaded, load_cases

__all__ = ["CaseError", "Loaded", "load_cases"]
