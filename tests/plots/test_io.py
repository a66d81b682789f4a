"""Saving: deterministic SVG, PNG written, formats, inline SVG, nothing left open."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from drivervte.errors import InputError
from drivervte.plots import (
    cumulative_incidence_plot,
    figure_to_png,
    figure_to_svg,
    forest_plot,
    funnel_plot,
)


def test_svg_is_byte_identical_across_renders(tmp_path, vte_result):
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    forest_plot(vte_result, a, title="VTE")
    forest_plot(vte_result, b, title="VTE")
    assert a.read_bytes() == b.read_bytes()
    assert b"<dc:date>" not in a.read_bytes()  # no timestamp
    f1, f2 = tmp_path / "f1.svg", tmp_path / "f2.svg"
    funnel_plot(vte_result, f1)
    funnel_plot(vte_result, f2)
    assert f1.read_bytes() == f2.read_bytes()
    assert figure_to_svg(forest_plot(vte_result)) == figure_to_svg(forest_plot(vte_result))


def test_svg_file_text_as_glyph_paths_keeps_labels_in_comments(tmp_path, vte_result):
    out = tmp_path / "f.svg"
    forest_plot(vte_result, out)
    svg = out.read_text()
    assert "<text" not in svg  # glyph outlines: same look in every viewer
    assert "<!-- Wang 2019 -->" in svg


def test_png_written_and_non_empty(tmp_path, vte_result):
    out = tmp_path / "sub" / "forest.png"
    forest_plot(vte_result, out)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert figure_to_png(funnel_plot(vte_result))[:4] == b"\x89PNG"


def test_fmt_overrides_suffix_and_bad_suffix(tmp_path, vte_result):
    out = tmp_path / "forest.figure"
    forest_plot(vte_result, out, fmt="svg")
    assert out.read_text().lstrip().startswith("<?xml")
    with pytest.raises(InputError, match="format"):
        forest_plot(vte_result, tmp_path / "forest.jpg")
    with pytest.raises(InputError, match="unknown figure format"):
        forest_plot(vte_result, tmp_path / "f.svg", fmt="bmp")


def test_inline_svg_has_no_xml_header_and_real_text(vte_result):
    svg = figure_to_svg(forest_plot(vte_result))
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert "<text" in svg and "Wang 2019" in svg


def test_no_figure_left_open_in_pyplot(vte_result, tmp_path):
    before = plt.get_fignums()
    forest_plot(vte_result, tmp_path / "a.png")
    funnel_plot(vte_result, tmp_path / "b.svg")
    cumulative_incidence_plot({"A": {"time": [1.0], "estimate": [0.1]}}, tmp_path / "c.png")
    assert plt.get_fignums() == before


def test_pdf_output(tmp_path):
    out = tmp_path / "f.pdf"
    cumulative_incidence_plot({"A": {"time": [1.0], "estimate": [0.1]}}, out)
    assert out.read_bytes()[:5] == b"%PDF-"


def test_svg_identical_across_processes(tmp_path):
    """A separate interpreter with another hash seed writes the same bytes as this one."""
    import os
    import subprocess
    import sys

    curves = "{'ALK+': {'time': [2.0, 5.0], 'estimate': [0.05, 0.12], 'variance': [1e-4, 4e-4]}}"
    code = ("import sys\nfrom drivervte.plots import cumulative_incidence_plot\n"
            f"cumulative_incidence_plot({curves}, sys.argv[1], title='VTE')\n")
    child = tmp_path / "child.svg"
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(child)], check=True, env=env, timeout=300)
    here = tmp_path / "here.svg"
    cumulative_incidence_plot(eval(curves), here, title="VTE")  # the literal above
    assert child.read_bytes() == here.read_bytes() and len(here.read_bytes()) > 10_000


def test_id_prefix_makes_ids_unique_and_keeps_references(vte_result):
    import re

    plain = figure_to_svg(forest_plot(vte_result))
    svg = figure_to_svg(forest_plot(vte_result), id_prefix="fig2-")
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("fig2-") for i in ids)
    assert 'id="fig2-forest-study-1"' in svg
    assert len(ids) == len(re.findall(r'\bid="([^"]+)"', plain))
    refs = re.findall(r'href="#([^"]+)"', svg) + re.findall(r"url\(#([^)]+)\)", svg)
    assert refs and set(refs) <= set(ids)  # every reference still resolves
    with pytest.raises(InputError, match="id_prefix"):
        figure_to_svg(forest_plot(vte_result), id_prefix="1 bad")
