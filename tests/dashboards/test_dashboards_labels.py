"""Every visible label exists in English and Chinese, and pages use the configured language."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards import DashboardSettings, write_dashboards
from dashboards.labels import LABELS, label, value_label
from dashboards.metric_text import metric_name
from dashboards.pages import executive_page as executive


def test_every_label_has_both_languages():
    incomplete = [key for key, texts in LABELS.items() if set(texts) != {"en", "zh"} or not all(texts.values())]

    assert incomplete == []


def test_chinese_labels_are_chinese():
    not_chinese = [key for key, texts in LABELS.items() if not any("\u4e00" <= ch <= "\u9fff" for ch in texts["zh"])]

    # Acronyms, symbols and proper names may stay Latin in Chinese copy.
    assert set(not_chinese) <= {"suppressed_cell", "change_vs"}  # a symbol; placeholders only


def test_unknown_language_is_rejected():
    with pytest.raises(ValueError, match="language"):
        DashboardSettings(language="fr")


def test_value_labels_translate_known_values_and_keep_unknown_ones():
    assert value_label("stage", "at risk", "zh") == "流失风险"
    assert value_label("model", "last_touch", "en") == "last touch"
    assert value_label("stage", "hibernating", "zh") == "hibernating"


def test_zh_pages_carry_chinese_titles_and_axis_labels(marts, tmp_path: Path):
    settings = DashboardSettings(language="zh")
    paths = write_dashboards(tmp_path, marts, settings)
    executive_html = next(path for path in paths if path.name == "executive.html").read_text(encoding="utf-8")
    index_html = next(path for path in paths if path.name == "index.html").read_text(encoding="utf-8")

    assert '<html lang="zh-CN">' in executive_html
    for key in ("page_executive", "kpis", "vs_previous_period", "explain_like_for_like"):
        assert label(key, "zh") in executive_html
    for metric_id in ("new_users", "ltv", "ltv_to_cac", "cac"):
        assert metric_name(metric_id, "zh") in executive_html
    for key in ("headline", "pages", "run_info", "mart_row_counts", "page_executive"):
        assert label(key, "zh") in index_html
    assert "Executive summary" not in executive_html

    figures = [s.figure for s in executive.build_sections(marts, settings) if s.figure is not None]
    assert len(figures) == 6
    for figure in figures:
        texts = [figure.layout.title.text, figure.layout.xaxis.title.text, figure.layout.yaxis.title.text]
        assert all(texts), texts
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in texts), texts


def test_en_figures_have_titles_and_axis_labels(marts):
    figures = [s.figure for s in executive.build_sections(marts, DashboardSettings()) if s.figure is not None]

    assert [f.layout.title.text for f in figures] == [
        "Acquisition and activity per day",
        "Transaction amount and revenue per day",
        "Cohort retention",
        "Channel spend and first-purchase revenue (last touch)",
        "Users by lifecycle stage",
        "Persona sizes",
    ]
    assert all(f.layout.xaxis.title.text and f.layout.yaxis.title.text for f in figures)
