"""Dashboard pages. Each module exposes ``SLUG``, ``TITLE_KEY`` and ``build_sections(marts, settings)``.

Adding a page (growth, channels, campaigns) means adding its module and one entry in ``PAGES``.
"""

from __future__ import annotations

from types import ModuleType

from dashboards.pages import campaigns, channels, executive, growth, value

PAGES: tuple[ModuleType, ...] = (executive, growth, value, channels, campaigns)
