"""Metric definitions and the headline figures computed from them (no Dagster here).

`metrics/registry.yaml` defines every metric once (names in zh and en, what it reads, grain, unit, window,
direction, how a target reads); `metrics.values.metric_values` computes the headline ones per period for
`marts.metric_values`; the dashboards take names, units and windows from the registry.
"""

from metrics.periods import HeadlinePeriods, Period, headline_periods
from metrics.registry import Metric, Registry, RegistryError, default_registry, load_registry
from metrics.values import METRIC_VALUES_SCHEMA, metric_values

__all__ = ["METRIC_VALUES_SCHEMA", "HeadlinePeriods", "Metric", "Period", "Registry", "RegistryError",
           "default_registry", "headline_periods", "load_registry", "metric_values"]
