"""The schema of one evidence record (pydantic v2), with its cross-field checks.

A record is **one estimate**: one (study, cohort, gene, comparison, outcome) and one form of
reported numbers. A study that reports an HR and an SHR for the same comparison has two
records; at most one of them is ``include: true`` (the other names it in its
``exclusion_reason``).

Reported numbers keep their original form:

- per-arm counts: ``events_gene / n_gene`` (gene-positive arm) and
  ``events_comparator / n_comparator`` (comparison arm); a single-arm cohort
  (``comparator: none``) has the gene arm only;
- a ratio (``measure`` OR, HR, SHR, RR or IRR) with ``estimate``, ``ci_lower``, ``ci_upper``
  (95 % unless ``ci_level`` says otherwise) and/or a ``pvalue`` (``pvalue_relation`` '=', '<'
  or '>' as printed);
- only a p-value, with the ``direction`` when the study gives it.

``alternative_to: <id>`` marks another estimate of the same comparison (crude vs adjusted,
SHR vs HR): excluded from the main pool, used in the sensitivity analysis that swaps it in.
``overlap_group`` ties cohorts that may share patients; only one of them is included.

``orientation: comparator_vs_gene`` marks a ratio printed the other way round (e.g. "EGFR
wild-type vs mutant SHR 1.81"): it is stored as printed and inverted only in the analysis.

Every number carries its ``source`` in ``sources`` (field -> one of ``seed_table1``,
``seed_text``, ``primary_abstract``, ``derived``); a derived number needs the arithmetic in
``derivation``. A YAML/CSV record may give one ``source`` for all its numbers.

Cross-field checks (messages name the record id and the field): ``ci_lower < estimate <
ci_upper``, ratios > 0, ``events <= n``, counts >= 0, a p-value in (0, 1], ``n_gene <=
n_total``, a measure for every ratio, ``exclusion_reason`` iff not included, an included
record has usable numbers, a comparator that is not the gene itself.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from drivervte.errors import InputError


class Gene(StrEnum):
    EGFR = "EGFR"
    ALK = "ALK"
    ROS1 = "ROS1"
    KRAS = "KRAS"


class Outcome(StrEnum):
    """VTE (DVT and/or PE), its parts, arterial events, and any TE (venous or arterial)."""

    VTE = "VTE"
    PE = "PE"
    DVT = "DVT"
    ATE = "ATE"
    TE = "TE"
    RECURRENT_VTE = "recurrent_VTE"


class Design(StrEnum):
    PROSPECTIVE = "prospective"
    RETROSPECTIVE = "retrospective"
    CASE_CONTROL = "case_control"
    TRIAL = "trial"


class Setting(StrEnum):
    SURGICAL = "surgical"
    ADVANCED = "advanced"
    MIXED = "mixed"
    UNKNOWN = "unknown"


class Ethnicity(StrEnum):
    EAST_ASIAN = "east_asian"
    WESTERN = "western"
    MIXED = "mixed"


class Measure(StrEnum):
    OR = "OR"
    HR = "HR"
    SHR = "SHR"
    RR = "RR"
    IRR = "IRR"


class Source(StrEnum):
    SEED_TABLE1 = "seed_table1"
    SEED_TEXT = "seed_text"
    PRIMARY_ABSTRACT = "primary_abstract"
    DERIVED = "derived"


class Direction(StrEnum):
    GENE_HIGHER = "gene_higher"
    GENE_LOWER = "gene_lower"
    NO_DIFFERENCE = "no_difference"
    NOT_REPORTED = "not_reported"


#: Accepted comparators. ``negative``: gene-negative patients (any other status);
#: ``wild_type``: negative for every driver tested; ``<GENE>+``: patients with another driver;
#: ``none``: single-arm cohort.
COMPARATORS = ("negative", "wild_type", "EGFR+", "ALK+", "ROS1+", "KRAS+", "none")

#: Fields holding reported numbers; each one set needs a source.
NUMBER_FIELDS = (
    "n_total", "events_gene", "n_gene", "events_comparator", "n_comparator",
    "estimate", "ci_lower", "ci_upper", "pvalue", "followup_months", "adjusted",
)


class Discrepancy(BaseModel):
    """Where the seed review's Table 1 or text is wrong or ambiguous for this record.

    ``item`` is the number in the list of errors in ``studies.md`` (None for one found
    here and not listed there).
    """

    model_config = ConfigDict(extra="forbid")
    item: int | None = None
    seed_says: str
    correction: str


class EvidenceRecord(BaseModel):
    """One estimate of the evidence base. See the module docstring for the rules."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=120)
    study: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=80)
    cohort: str = "main"
    authors: str
    year: int | None = Field(default=None, ge=1950, le=2100)
    journal: str | None = None
    pmid: str | None = Field(default=None, pattern=r"^[0-9]{1,9}$")
    doi: str | None = Field(default=None, pattern=r"^10\.\S+/\S+$")
    country: str | None = None
    ethnicity_group: Ethnicity | None = None
    design: Design | None = None
    setting: Setting = Setting.UNKNOWN
    population: str | None = None
    n_total: int | None = Field(default=None, ge=1)
    gene: Gene
    exposure_detail: str | None = None
    comparator: str
    comparator_detail: str | None = None
    outcome: Outcome
    outcome_detail: str | None = None
    followup: str | None = None
    followup_months: float | None = Field(default=None, gt=0)
    events_gene: int | None = Field(default=None, ge=0)
    n_gene: int | None = Field(default=None, ge=1)
    events_comparator: int | None = Field(default=None, ge=0)
    n_comparator: int | None = Field(default=None, ge=1)
    measure: Measure | None = None
    estimate: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    ci_level: float = Field(default=95.0, gt=0, lt=100)
    pvalue: float | None = None
    pvalue_relation: Literal["=", "<", ">"] = "="
    adjusted: bool | None = None
    orientation: Literal["gene_vs_comparator", "comparator_vs_gene"] = "gene_vs_comparator"
    direction: Direction | None = None
    sources: dict[str, Source] = Field(default_factory=dict)
    derivation: str | None = None
    in_seed: Literal["table1", "text", "no"] = "no"
    seed_discrepancy: list[Discrepancy] = Field(default_factory=list)
    quality_note: str | None = None
    overlap_group: str | None = None
    alternative_to: str | None = None
    include: bool = True
    exclusion_reason: str | None = None

    # ------------------------------------------------------------ normalisation
    @model_validator(mode="before")
    @classmethod
    def _expand_source(cls, data: Any) -> Any:
        """A single ``source`` applies to every number given without its own source."""
        if isinstance(data, dict) and "source" in data:
            data = dict(data)
            default = data.pop("source")
            sources = dict(data.get("sources") or {})
            if default is not None:
                for f in NUMBER_FIELDS:
                    if data.get(f) is not None and f not in sources:
                        sources[f] = default
            data["sources"] = sources
        return data

    @field_validator("gene", mode="before")
    @classmethod
    def _gene_upper(cls, v: Any) -> Any:
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("comparator", mode="before")
    @classmethod
    def _comparator(cls, v: Any) -> Any:
        if not isinstance(v, str):
            raise ValueError(f"comparator must be one of {', '.join(COMPARATORS)}")
        s = v.strip()
        canon = {c.lower(): c for c in COMPARATORS}
        if s.lower() not in canon:
            raise ValueError(
                f"unknown comparator {s!r}; accepted: {', '.join(COMPARATORS)} "
                "(describe the exact group in comparator_detail)"
            )
        return canon[s.lower()]

    # ------------------------------------------------------------ cross-field checks
    @model_validator(mode="after")
    def _cross_checks(self) -> EvidenceRecord:
        def bad(field: str, msg: str) -> ValueError:
            return ValueError(f"{field}: {msg}")

        if self.comparator == f"{self.gene.value}+":
            raise bad("comparator", f"a {self.gene.value} record cannot compare with {self.comparator}")
        for ev, n in (("events_gene", "n_gene"), ("events_comparator", "n_comparator")):
            e, t = getattr(self, ev), getattr(self, n)
            if (e is None) != (t is None):
                raise bad(ev, f"give both {ev} and {n}, or neither")
            if e is not None and e > t:
                raise bad(ev, f"{ev} = {e} exceeds {n} = {t}")
        if self.comparator == "none" and self.events_comparator is not None:
            raise bad("events_comparator", "a single-arm record (comparator none) has no comparator arm")
        if self.n_total is not None:
            arms = (self.n_gene or 0) + (self.n_comparator or 0)
            if arms > self.n_total:
                raise bad("n_total", f"n_gene + n_comparator = {arms} exceeds n_total = {self.n_total}")
        ratio = [self.estimate, self.ci_lower, self.ci_upper]
        if any(v is not None for v in ratio):
            if self.measure is None:
                raise bad("measure", "a ratio needs its measure (OR, HR, SHR, RR or IRR)")
            if self.comparator == "none":
                raise bad("estimate", "a single-arm record (comparator none) cannot carry a ratio")
        for name in ("estimate", "ci_lower", "ci_upper"):
            v = getattr(self, name)
            if v is not None and not v > 0:
                raise bad(name, f"a ratio must be > 0, got {v}")
        if (self.ci_lower is None) != (self.ci_upper is None):
            raise bad("ci_lower", "give both ci_lower and ci_upper, or neither")
        if self.ci_lower is not None:
            if self.estimate is None:
                raise bad("estimate", "a confidence interval needs its point estimate")
            if not self.ci_lower < self.estimate < self.ci_upper:
                raise bad("ci_lower", f"need ci_lower < estimate < ci_upper, got "
                          f"{self.ci_lower} < {self.estimate} < {self.ci_upper}")
        if self.pvalue is not None and not 0 < self.pvalue <= 1:
            raise bad("pvalue", f"a p-value must lie in (0, 1], got {self.pvalue}")
        if self.pvalue is not None and self.comparator == "none":
            raise bad("pvalue", "a single-arm record (comparator none) has no comparison p-value")
        for f in NUMBER_FIELDS:
            if getattr(self, f) is not None and f not in self.sources:
                raise bad("sources", f"no source for {f}; add sources: {{{f}: <source>}} "
                          f"(one of {', '.join(s.value for s in Source)})")
        for f in self.sources:
            if f not in NUMBER_FIELDS:
                raise bad("sources", f"'{f}' is not a number field ({', '.join(NUMBER_FIELDS)})")
            if getattr(self, f) is None:
                raise bad("sources", f"source given for {f}, which is empty")
        if Source.DERIVED in self.sources.values() and not (self.derivation or "").strip():
            raise bad("derivation", "a derived number needs its arithmetic in derivation")
        if self.include and self.exclusion_reason:
            raise bad("exclusion_reason", "an included record has no exclusion_reason")
        if not self.include and not (self.exclusion_reason or "").strip():
            raise bad("exclusion_reason", "an excluded record needs its exclusion_reason")
        if self.include and self.alternative_to:
            raise bad("alternative_to", "an alternative estimate is excluded (include: false); "
                      "the record it is an alternative to is the one included")
        if self.include and self.form == "none":
            raise bad("include", "an included record needs numbers (counts, a ratio, or a p-value)")
        if self.include and self.form == "p_only" and self.direction is None:
            raise bad("direction", "a p-value-only record needs its direction "
                      "(gene_higher, gene_lower, no_difference or not_reported)")
        return self

    # ------------------------------------------------------------ derived views
    @property
    def form(self) -> str:
        """The form of the numbers: counts, single_arm, ratio_ci, ratio_p, p_only or none."""
        if self.comparator == "none":
            return "single_arm" if self.events_gene is not None else "none"
        if self.events_gene is not None and self.events_comparator is not None:
            return "counts"
        if self.estimate is not None and self.ci_lower is not None:
            return "ratio_ci"
        if self.estimate is not None and self.pvalue is not None:
            return "ratio_p"
        if self.pvalue is not None:
            return "p_only"
        return "none"

    @property
    def comparator_family(self) -> str:
        """``negative`` (gene-negative or wild-type), ``vs_<GENE>+`` or ``single_arm``."""
        if self.comparator in ("negative", "wild_type"):
            return "negative"
        if self.comparator == "none":
            return "single_arm"
        return f"vs_{self.comparator}"

    @property
    def label(self) -> str:
        """'First author year (cohort)' for tables and plots."""
        year = f" {self.year}" if self.year else ""
        cohort = f" ({self.cohort})" if self.cohort != "main" else ""
        return f"{self.authors}{year}{cohort}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (enums as strings), keys in field order."""
        return self.model_dump(mode="json")


def validate_record(data: dict[str, Any], *, position: int | None = None) -> EvidenceRecord:
    """Validate one record; on failure raise :class:`InputError` naming the id and field.

    ``position`` is the 0-based row in the input (CSV row / YAML list item).
    """
    rid = data.get("id", "<no id>") if isinstance(data, dict) else "<not a mapping>"
    if not isinstance(data, dict):
        raise InputError(f"record {rid}: a record must be a mapping of field: value",
                         rows=None if position is None else [position])
    try:
        return EvidenceRecord.model_validate(data)
    except ValidationError as exc:
        msgs = []
        column = None
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or None
            msg = err["msg"].removeprefix("Value error, ")
            if loc is None and ":" in msg:
                loc, msg = (s.strip() for s in msg.split(":", 1))
            column = column or loc
            got = ""
            if err["type"] not in ("value_error", "missing") and "input" in err:
                got = f" (got {err['input']!r})"
            msgs.append(f"field '{loc}': {msg}{got}" if loc else msg)
        raise InputError(f"record '{rid}': " + "; ".join(msgs), column=column,
                         rows=None if position is None else [position]) from None
