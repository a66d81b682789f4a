"""drivervte.report: the review report (one self-contained HTML file with inline SVG figures)."""

from drivervte.report.html import render_report, write_report

__all__ = ["render_report", "write_report"]
