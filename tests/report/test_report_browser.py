"""Open the review report in headless Chromium and check that the four genes' plots render.

Needs Debian's chromium (``/usr/bin/chromium``; ``.ci/run`` installs it). Without it the test
is skipped on a developer's machine but fails under ``CI=true``: CI must exercise the browser.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from drivervte.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags for a closed network and root: no sandbox, no background connections, fresh profile.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _require_browser():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed; .ci/run must install it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        pytest.fail("playwright is not installed: pip install -e '.[test]'")
    return sync_playwright


def test_report_renders_four_genes_plots(shipped_review, tmp_path):
    sync_playwright = _require_browser()
    report = write_report(shipped_review, tmp_path / "report.html")
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900})
        try:
            page = browser.new_page()
            page.goto(report.as_uri())
            assert "venous thromboembolism" in page.title()
            for gene in ("EGFR", "ALK", "ROS1", "KRAS"):
                figs = page.locator(f"#gene-{gene} figure.forest svg")
                assert figs.count() >= 1, f"no forest plot for {gene}"
                box = figs.first.bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 100, gene
                # The plot draws its study labels as text: the browser must lay them out.
                assert figs.first.locator("text").count() > 5, gene
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000
        finally:
            browser.close()
