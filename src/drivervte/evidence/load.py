"""Reading evidence records: the shipped YAML file and user files (YAML or CSV).

File formats
------------
YAML, nested (the shipped file's layout)::

    studies:
      - study: smith_2024          # study-level fields apply to every estimate
        authors: Smith J
        ...
        estimates:
          - id: smith_2024_alk_vte_hr
            gene: ALK
            ...
    other_sources: [...]           # screened sources without a usable estimate

YAML, flat: ``records: [ {id: ..., study: ..., ...}, ... ]`` (or a bare list of records).

CSV: one record per row, the schema's field names as columns. ``sources`` may be written
``field:source;field:source``; a ``source`` column gives one source for every number of the
row; ``seed_discrepancy`` may hold a JSON list. Empty cells are missing values.

Every record is validated (:func:`drivervte.evidence.schema.validate_record`) and then the
set is checked as a whole (:func:`check_records`): unique ids, and at most one included
estimate per study (or overlap group) and comparison, so no patient is counted twice in
a pool.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from drivervte.errors import InputError
from drivervte.evidence.schema import EvidenceRecord, validate_record

SHIPPED_RESOURCE = "evidence.yaml"


@dataclass(frozen=True)
class OtherSource:
    """A screened source that yields no estimate (a review, a reference not yet extracted)."""

    key: str
    citation: str
    in_seed: str
    reason: str


@dataclass
class EvidenceSet:
    """Validated records plus the screened sources without estimates."""

    records: list[EvidenceRecord]
    other_sources: list[OtherSource] = field(default_factory=list)


def measure_family(rec: EvidenceRecord) -> str:
    """The family an estimate is pooled in: ``OR`` (OR and 2x2 counts), ``HR`` (HR, SHR),
    ``RR``, ``IRR``; ``none`` for p-value-only and single-arm records."""
    if rec.form == "counts":
        return "OR"
    if rec.measure is None:
        return "none"
    m = rec.measure.value
    return "HR" if m in ("HR", "SHR") else m


def _flatten(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[int]]:
    """Nested ``studies`` -> flat record dicts, with the 0-based position of each."""
    out: list[dict[str, Any]] = []
    for i, study in enumerate(doc.get("studies") or []):
        if not isinstance(study, dict):
            raise InputError("each item of 'studies' must be a mapping", column="studies", rows=[i])
        base = {k: v for k, v in study.items() if k != "estimates"}
        ests = study.get("estimates")
        if not ests:
            raise InputError(f"study '{base.get('study')}' has no estimates; add at least one "
                             "record (excluded with a reason if it has no usable numbers)",
                             column="estimates", rows=[i])
        for est in ests:
            if not isinstance(est, dict):
                raise InputError(f"study '{base.get('study')}': each estimate must be a mapping",
                                 column="estimates", rows=[i])
            out.append({**base, **est})
    return out, list(range(len(out)))


def parse_mapping(doc: Any, *, complete: bool = True) -> EvidenceSet:
    """Validate a parsed YAML document (nested, flat, or a bare list) into an EvidenceSet."""
    if isinstance(doc, list):
        flat = doc
    elif isinstance(doc, dict):
        unknown = set(doc) - {"version", "studies", "records", "other_sources"}
        if unknown:
            raise InputError(f"unknown top-level keys {sorted(unknown)}; expected 'studies' "
                             "(nested) or 'records' (flat)")
        flat, _ = _flatten(doc)
        flat = flat + list(doc.get("records") or [])
    else:
        raise InputError("an evidence file holds a mapping with 'studies' or 'records', or a list")
    if not flat:
        raise InputError("no records found in the file")
    records = [validate_record(d, position=i) for i, d in enumerate(flat)]
    others = []
    if isinstance(doc, dict):
        for i, o in enumerate(doc.get("other_sources") or []):
            try:
                others.append(OtherSource(key=str(o["key"]), citation=str(o["citation"]),
                                          in_seed=str(o.get("in_seed", "no")),
                                          reason=str(o["reason"])))
            except (KeyError, TypeError):
                raise InputError("other_sources items need key, citation and reason",
                                 column="other_sources", rows=[i]) from None
    check_records(records, complete=complete)
    return EvidenceSet(records, others)


def _csv_row(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if k is None:
            continue
        k = k.strip()
        v = (v or "").strip()
        if v == "" or v.upper() in ("NA", "NULL"):
            continue
        if k == "sources":
            pairs = [p for p in v.split(";") if p.strip()]
            try:
                out[k] = {a.strip(): b.strip() for a, b in (p.split(":", 1) for p in pairs)}
            except ValueError:
                raise InputError(f"sources '{v}' must read field:source;field:source",
                                 column="sources") from None
        elif k == "seed_discrepancy":
            out[k] = json.loads(v) if v.startswith("[") else [{"seed_says": v, "correction": ""}]
        elif k in ("include", "adjusted"):
            lv = v.lower()
            if lv not in ("true", "false", "yes", "no", "1", "0"):
                raise InputError(f"'{v}' is not true/false", column=k)
            out[k] = lv in ("true", "yes", "1")
        else:
            out[k] = v
    return out


def read_file(path: str | Path) -> EvidenceSet:
    """Read and validate a user evidence file (.yaml/.yml or .csv). Nothing is written."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    if suffix in (".yaml", ".yml"):
        try:
            doc = _yaml_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"{path.name} is not valid YAML: {exc}") from None
        return parse_mapping(doc, complete=False)
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        if not rows:
            raise InputError(f"{path.name} has no data rows")
        records = [validate_record(_csv_row(r), position=i) for i, r in enumerate(rows)]
        check_records(records, complete=False)
        return EvidenceSet(records)
    raise InputError(f"{path.name}: give a .yaml, .yml or .csv file", column="FILE")


def _yaml_load(text: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
    return yaml.load(text, Loader=loader)  # a safe loader (CSafeLoader or SafeLoader)


@functools.lru_cache(maxsize=4)
def _parse_shipped(text: str) -> EvidenceSet:
    return parse_mapping(_yaml_load(text))


def load_shipped() -> EvidenceSet:
    """The evidence base shipped with drivervte (``drivervte/data/evidence.yaml``), validated.

    Parsed once per process and file content (records are immutable); a fresh list each call.
    """
    es = _parse_shipped(shipped_text())
    return EvidenceSet(list(es.records), list(es.other_sources))


def shipped_text() -> str:
    """The shipped file's text (for fingerprints)."""
    return resources.files("drivervte").joinpath("data", SHIPPED_RESOURCE).read_text("utf-8")


def check_records(records: list[EvidenceRecord], *, complete: bool = True) -> None:
    """Checks across records: unique ids; one included estimate per comparison; with
    ``complete`` (the whole evidence base, not a user file alone) every ``alternative_to``
    names a record of the set.

    Two included records may not share study (or ``overlap_group``), gene, comparator
    family, outcome and measure family: the same patients would be counted twice in one pool.
    """
    seen: dict[str, int] = {}
    for i, r in enumerate(records):
        if r.id in seen:
            raise InputError(f"duplicate id '{r.id}' (also at row {seen[r.id] + 1})",
                             column="id", rows=[seen[r.id], i])
        seen[r.id] = i
    if complete:
        for i, r in enumerate(records):
            if r.alternative_to and r.alternative_to not in seen:
                raise InputError(f"record '{r.id}': alternative_to '{r.alternative_to}' is not "
                                 "a record id", column="alternative_to", rows=[i])
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        if not r.include or (measure_family(r) == "none" and r.form != "single_arm"):
            continue
        unit = r.overlap_group or f"{r.study}/{r.cohort}"
        key = (unit, r.gene.value, r.comparator_family, r.outcome.value, measure_family(r))
        groups[key].append(i)
    for key, rows in groups.items():
        if len(rows) > 1:
            ids = ", ".join(records[j].id for j in rows)
            raise InputError(
                f"records {ids} are all included for the same comparison {key[1:]} of "
                f"'{key[0]}'; include one and give the others include: false with a reason",
                column="include", rows=rows)
