"""Dashboards: self-contained, offline Plotly HTML pages built from the marts (no Dagster here)."""

from dashboards.page_settings import DashboardSettings
from dashboards.writer import write_dashboards

__all__ = ["DashboardSettings", "write_dashboards"]
