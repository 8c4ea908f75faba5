"""Pages are self-contained: plotly.js embedded once, nothing loaded from the network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboards import DashboardSettings, write_dashboards

REMOTE_SOURCE = re.compile(
    r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*?\b(?:src|href|data)\s*=\s*[\"']?(?:https?:)?//",
    re.IGNORECASE,
)
REMOTE_CSS = re.compile(r"@import|url\(\s*[\"']?(?:https?:)?//", re.IGNORECASE)


@pytest.fixture
def pages(marts, tmp_path: Path) -> dict[str, str]:
    paths = write_dashboards(tmp_path, marts, DashboardSettings())
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


def test_no_remote_script_link_or_style_sources(pages):
    for name, html in pages.items():
        assert REMOTE_SOURCE.search(html) is None, name
        assert REMOTE_CSS.search(html) is None, name


def test_the_remote_source_check_would_catch_a_cdn_script():
    assert REMOTE_SOURCE.search('<script src="https://cdn.plot.ly/plotly-3.0.1.min.js"></script>')
    assert REMOTE_SOURCE.search("<link rel=stylesheet href=//fonts.example.com/x.css>")


def test_plotly_js_is_embedded_exactly_once_per_page_with_plots(pages):
    executive = pages["executive.html"]

    assert len(re.findall(r"plotly\.js v\d+\.\d+\.\d+", executive)) == 1
    assert executive.count("Plotly.newPlot(") == 6
    assert "Plotly.newPlot(" not in pages["index.html"]


def test_plots_never_offer_to_upload_to_plotly_cloud(pages):
    executive = pages["executive.html"]

    assert executive.count('"showSendToCloud": false') == 6
    assert executive.count('"modeBarButtonsToRemove": ["sendChartToCloud"]') == 6
