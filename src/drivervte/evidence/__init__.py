"""The evidence base: curated records with provenance, their schema, the store, the synthesis.

Public API
----------
- :class:`EvidenceRecord` (schema), :func:`validate_record`
- :func:`load_shipped`, :func:`read_file` (YAML/CSV user files), :func:`check_records`
- :class:`EvidenceStore` (DuckDB; :func:`default_db_path`)
- :func:`run_review`, :func:`write_review`, :class:`SynthesisOptions` (per-gene synthesis),
  :func:`required_information_size`

The shipped data live in ``drivervte/data/evidence.yaml``.
"""

import importlib
from typing import Any

_EXPORTS = {
    "EvidenceRecord": "schema", "validate_record": "schema",
    "check_records": "load", "load_shipped": "load", "read_file": "load",
    "EvidenceStore": "store", "default_db_path": "store",
    "SynthesisOptions": "synthesis", "run_review": "review", "write_review": "review",
    "required_information_size": "certainty",
}


def __getattr__(name: str) -> Any:
    """Lazy exports: the CLI imports the store without the statistics engine."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"drivervte.evidence.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'drivervte.evidence' has no attribute {name!r}")


__all__ = [
    "EvidenceRecord",
    "EvidenceStore",
    "SynthesisOptions",
    "check_records",
    "default_db_path",
    "load_shipped",
    "read_file",
    "required_information_size",
    "run_review",
    "validate_record",
    "write_review",
]
