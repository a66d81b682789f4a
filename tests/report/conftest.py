"""A review of the shipped evidence base, built once per test session for the report tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def shipped_review(tmp_path_factory):
    from drivervte.evidence.review import run_review
    from drivervte.evidence.store import EvidenceStore
    from drivervte.evidence.synthesis import SynthesisOptions

    store = EvidenceStore(tmp_path_factory.mktemp("store") / "evidence.duckdb")
    return run_review(store.records(), SynthesisOptions(),
                      other_sources=store.shipped.other_sources)


@pytest.fixture(scope="session")
def report_html(shipped_review) -> str:
    from drivervte.report import render_report

    return render_report(shipped_review)
