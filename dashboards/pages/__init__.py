"""Dashboard pages. Each module exposes ``SLUG``, ``TITLE_KEY`` and ``build_sections(marts, settings)``.

Adding a page means adding its module (`<name>_page.py`) and one entry in ``PAGES``.
"""

from __future__ import annotations

from types import ModuleType

from dashboards.pages import campaigns_page, channels_page, executive_page, growth_page, value_page

PAGES: tuple[ModuleType, ...] = (executive_page, growth_page, value_page, channels_page, campaigns_page)
