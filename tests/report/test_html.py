"""The review report's HTML: complete, self-contained, deterministic, escaped."""

from __future__ import annotations

import re

from markupsafe import escape

from drivervte import DISCLAIMER
from drivervte.report import render_report, write_report

GENES = ("EGFR", "ALK", "ROS1", "KRAS")


def test_every_gene_has_a_section_with_a_forest_plot(report_html):
    for gene in GENES:
        start = report_html.index(f'<section id="gene-{gene}"')
        end = report_html.index("</section>", start)
        section = report_html[start:end]
        assert re.search(r'<figure class="forest[^"]*" data-gene="' + gene + r'"', section), gene
        assert "<svg" in section


def test_self_contained_no_scripts_no_external_resources(report_html):
    assert "<script" not in report_html.lower()
    assert not re.search(r'(src|href)="(https?:)?//', report_html)
    assert "<?xml" not in report_html  # inline SVG carries no XML prolog


def test_disclaimer_and_seed_corrections_shown(report_html):
    assert str(escape(DISCLAIMER)) in report_html
    assert 'class="corr correction"' in report_html  # a table cell, not the legend
    # A seed error the study notes list: Zer's N is 98 ALK+ patients, not 4327.
    assert "4327" in report_html


def test_headline_numbers_match_summary(shipped_review, report_html):
    for gene, g in shipped_review.genes.items():
        h = g.to_dict()["pooled"]
        if h is None:
            continue
        assert f"{h['estimate']:.2f}" in report_html, gene


def test_deterministic(shipped_review, report_html):
    assert render_report(shipped_review) == report_html


def test_written_atomically(shipped_review, tmp_path):
    out = write_report(shipped_review, tmp_path / "r" / "report.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temp file left
