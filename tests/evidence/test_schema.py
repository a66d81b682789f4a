"""The record schema: types, enums and cross-field checks, with messages naming id and field."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivervte.errors import InputError
from drivervte.evidence.schema import EvidenceRecord, validate_record


def base(**over):
    rec = {
        "id": "x_2024_alk_vte", "study": "x_2024", "authors": "X A", "year": 2024,
        "gene": "ALK", "comparator": "negative", "outcome": "VTE",
        "events_gene": 5, "n_gene": 20, "events_comparator": 10, "n_comparator": 100,
        "source": "primary_abstract",
    }
    rec.update(over)
    return rec


def test_valid_record_and_source_expansion():
    r = validate_record(base())
    assert r.form == "counts"
    assert r.sources == {f: "primary_abstract" for f in
                         ("events_gene", "n_gene", "events_comparator", "n_comparator")}
    assert r.comparator_family == "negative"


def test_unknown_gene_lists_accepted_labels():
    with pytest.raises(InputError) as exc:
        validate_record(base(gene="BRAF"))
    msg = str(exc.value)
    assert "x_2024_alk_vte" in msg and "gene" in msg
    for g in ("EGFR", "ALK", "ROS1", "KRAS"):
        assert g in msg
    assert exc.value.column == "gene"


def test_gene_case_is_normalised():
    assert validate_record(base(gene="alk")).gene.value == "ALK"


@pytest.mark.parametrize(
    ("over", "field", "text"),
    [
        ({"events_gene": 25}, "events_gene", "exceeds"),
        ({"events_gene": -1}, "events_gene", "greater than or equal"),
        ({"measure": "OR", "estimate": 2.0, "ci_lower": 2.5, "ci_upper": 3.0,
          "events_gene": None, "n_gene": None, "events_comparator": None,
          "n_comparator": None}, "ci_lower", "ci_lower < estimate < ci_upper"),
        ({"pvalue": 0.0}, "pvalue", "(0, 1]"),
        ({"pvalue": 1.5}, "pvalue", "(0, 1]"),
        ({"outcome": "stroke"}, "outcome", "VTE"),
        ({"design": "cohort"}, "design", "prospective"),
        ({"comparator": "ALK+"}, "comparator", "cannot compare"),
        ({"comparator": "BRAF+"}, "comparator", "accepted"),
        ({"include": False}, "exclusion_reason", "needs its exclusion_reason"),
        ({"exclusion_reason": "x"}, "exclusion_reason", "no exclusion_reason"),
        ({"source": None, "sources": {"events_gene": "primary_abstract"}}, "sources",
         "no source for n_gene"),
        ({"source": "derived"}, "derivation", "arithmetic"),
        ({"source": "the internet"}, "sources", "seed_table1"),
        ({"estimate": 2.0}, "measure", "measure"),
        ({"n_total": 50}, "n_total", "exceeds n_total"),
        ({"alternative_to": "y"}, "alternative_to", "excluded"),
    ],
)
def test_cross_field_checks_name_the_field(over, field, text):
    with pytest.raises(InputError) as exc:
        validate_record(base(**over))
    msg = str(exc.value)
    assert "x_2024_alk_vte" in msg
    assert field in msg
    assert text in msg


def test_single_arm_cannot_carry_comparison():
    rec = base(comparator="none", events_comparator=None, n_comparator=None)
    assert validate_record(rec).form == "single_arm"
    with pytest.raises(InputError, match="single-arm"):
        validate_record(base(comparator="none"))


def test_p_only_record_needs_direction():
    rec = base(events_gene=None, n_gene=None, events_comparator=None, n_comparator=None,
               pvalue=0.3)
    with pytest.raises(InputError, match="direction"):
        validate_record(rec)
    assert validate_record({**rec, "direction": "not_reported"}).form == "p_only"


def test_excluded_record_may_have_no_numbers():
    r = validate_record(base(events_gene=None, n_gene=None, events_comparator=None,
                             n_comparator=None, include=False, exclusion_reason="no data"))
    assert r.form == "none"
    with pytest.raises(InputError, match="needs numbers"):
        validate_record(base(events_gene=None, n_gene=None, events_comparator=None,
                             n_comparator=None))


def test_unknown_field_rejected():
    with pytest.raises(InputError, match="typo_field"):
        validate_record(base(typo_field=1))


def test_row_position_reported_one_based():
    with pytest.raises(InputError) as exc:
        validate_record(base(gene="XYZ"), position=4)
    assert exc.value.rows == [4]
    assert "row 5" in str(exc.value)


@settings(max_examples=60, deadline=None)
@given(n1=st.integers(1, 500), n2=st.integers(1, 500), f1=st.floats(0, 1), f2=st.floats(0, 1))
def test_counts_within_totals_always_validate(n1, n2, f1, f2):
    e1, e2 = int(f1 * n1), int(f2 * n2)
    r = validate_record(base(events_gene=e1, n_gene=n1, events_comparator=e2, n_comparator=n2))
    assert isinstance(r, EvidenceRecord)
    assert r.events_gene <= r.n_gene


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 500), extra=st.integers(1, 50))
def test_events_above_total_always_rejected(n, extra):
    with pytest.raises(InputError, match="exceeds"):
        validate_record(base(events_gene=n + extra, n_gene=n))


@settings(max_examples=60, deadline=None)
@given(est=st.floats(0.01, 100), a=st.floats(1.01, 10), b=st.floats(1.01, 10))
def test_ci_around_estimate_validates(est, a, b):
    r = validate_record(base(events_gene=None, n_gene=None, events_comparator=None,
                             n_comparator=None, measure="HR", estimate=est,
                             ci_lower=est / a, ci_upper=est * b))
    assert r.form == "ratio_ci"
