"""Persona names and descriptions generated from what distinguishes each cluster.

A feature distinguishes a persona by its z: the persona's mean minus the population's mean of the
feature after robust scaling (:class:`~segments.scaling.RobustFeatureScaler`: log1p for skewed
money and counts, median/IQR units, clipped), i.e. a shift measured in robust standard deviations.
Names join the phrases of the top ``name_features`` features (|z| ≥ ``min_abs_z``); when two
personas would share a name, each gets its next distinguishing feature until names differ.
Reported values are medians, or means for features whose population IQR is 0 (mostly-zero
columns, where every median is 0 and says nothing).
"""

from __future__ import annotations

import json

import polars as pl

from segments.phrases import FEATURE_PHRASES, phrase_for
from segments.scaling import RobustFeatureScaler

_LABEL = "__persona_id"


def describe_personas(
    features: pl.DataFrame,
    labels: pl.Series,
    feature_columns: list[str],
    feature_phrases: dict[str, tuple[str, str]] | None = None,
    name_features: int = 2,
    min_abs_z: float = 0.25,
    top_n: int = 3,
    scaler: RobustFeatureScaler | None = None,
) -> pl.DataFrame:
    """Describe each persona against the whole population.

    Args:
        features: one row per user holding ``feature_columns``.
        labels: persona id per row of ``features`` (same length and order); nulls are ignored.
        feature_columns: features to compare.
        feature_phrases: feature -> (phrase when high, phrase when low); ``FEATURE_PHRASES``
            when None.
        name_features: features a name starts with (more are added only to make names unique).
        min_abs_z: smallest |z| that counts as distinguishing.
        top_n: features listed in ``description`` and ``top_features``.
        scaler: an already fitted scaler over ``feature_columns`` (e.g. the clusterer's
            ``scaler_``), which saves a pass over the data; fitted on ``features`` when None.

    Returns:
        One row per persona, by ``persona_id``: ``persona_id`` (Int64), ``persona_name`` (Utf8,
        unique), ``description`` (Utf8), ``users`` (Int64), ``share`` (Float64) and
        ``top_features`` (Utf8 JSON list of {feature, statistic, persona_value,
        population_value, z}).
    """
    if len(labels) != features.height:
        raise ValueError(f"labels has {len(labels)} rows but features has {features.height}")
    phrases = FEATURE_PHRASES if feature_phrases is None else feature_phrases
    if scaler is None:
        scaler = RobustFeatureScaler().fit(features, feature_columns)
    elif list(scaler.columns_) != list(feature_columns):
        raise ValueError("the scaler was fitted on other columns than feature_columns")
    frame = features.select(feature_columns).with_columns(
        labels.cast(pl.Int64).alias(_LABEL)
    ).filter(pl.col(_LABEL).is_not_null())

    z_table = _z_scores(frame, scaler, feature_columns)
    values = _reported_values(frame, feature_columns)
    counts = frame.group_by(_LABEL).len().sort(_LABEL)
    total = int(counts["len"].sum())

    ranked = {
        pid: _ranked_features(z_table, pid, feature_columns) for pid in counts[_LABEL].to_list()
    }
    names = _unique_names(ranked, phrases, name_features, min_abs_z)

    rows = []
    for pid, users in counts.iter_rows():
        top = [f for f, z in ranked[pid][:top_n] if abs(z) >= min_abs_z]
        details = [
            {
                "feature": f,
                "statistic": values["statistic"][f],
                "persona_value": _round(values["persona"][(pid, f)]),
                "population_value": _round(values["population"][f]),
                "z": round(dict(ranked[pid])[f], 3),
            }
            for f in top
        ]
        rows.append(
            {
                "persona_id": pid,
                "persona_name": names[pid],
                "description": _describe(users, users / total, details),
                "users": users,
                "share": users / total,
                "top_features": json.dumps(details, ensure_ascii=False),
            }
        )
    return pl.DataFrame(
        rows,
        schema={"persona_id": pl.Int64, "persona_name": pl.Utf8, "description": pl.Utf8,
                "users": pl.Int64, "share": pl.Float64, "top_features": pl.Utf8},
    )


def _z_scores(frame: pl.DataFrame, scaler: RobustFeatureScaler, columns: list[str]) -> pl.DataFrame:
    scaled = frame.select(*scaler.transform_exprs(), pl.col(_LABEL))
    population = scaled.select(pl.col(columns).mean()).row(0, named=True)
    return scaled.group_by(_LABEL).agg(
        [(pl.col(c).mean() - population[c]).alias(c) for c in columns]
    )


def _reported_values(frame: pl.DataFrame, columns: list[str]) -> dict:
    x = {c: pl.col(c).cast(pl.Float64).fill_nan(None) for c in columns}
    spread = frame.select(
        [(x[c].quantile(0.75) - x[c].quantile(0.25)).alias(c) for c in columns]
    ).row(0, named=True)
    statistic = {c: "median" if (spread[c] or 0.0) > 0 else "mean" for c in columns}
    aggs = [(x[c].median() if statistic[c] == "median" else x[c].mean()).alias(c) for c in columns]
    population = frame.select(aggs).row(0, named=True)
    per_persona = frame.group_by(_LABEL).agg(aggs)
    persona = {
        (row[_LABEL], c): row[c] for row in per_persona.iter_rows(named=True) for c in columns
    }
    return {"statistic": statistic, "population": population, "persona": persona}


def _ranked_features(z_table: pl.DataFrame, pid: int, columns: list[str]) -> list[tuple[str, float]]:
    row = z_table.filter(pl.col(_LABEL) == pid).row(0, named=True)
    pairs = [(c, float(row[c] or 0.0)) for c in columns]
    # Stable sort: equal |z| keep the feature_columns order, so names are deterministic.
    return sorted(pairs, key=lambda pair: -abs(pair[1]))


def _unique_names(
    ranked: dict[int, list[tuple[str, float]]],
    phrases: dict[str, tuple[str, str]],
    name_features: int,
    min_abs_z: float,
) -> dict[int, str]:
    distinguishing = {
        pid: [phrase_for(f, z > 0, phrases) for f, z in pairs if abs(z) >= min_abs_z]
        for pid, pairs in ranked.items()
    }
    used = {pid: min(name_features, len(p)) for pid, p in distinguishing.items()}

    def name(pid: int) -> str:
        parts = distinguishing[pid][: used[pid]]
        text = ", ".join(parts) if parts else "typical users"
        return text[0].upper() + text[1:]

    while True:
        # Compare phrase sets, not strings: "high a, high b" and "high b, high a" are one name.
        by_name: dict[frozenset[str], list[int]] = {}
        for pid in ranked:
            by_name.setdefault(frozenset(distinguishing[pid][: used[pid]]), []).append(pid)
        clashes = [pids for pids in by_name.values() if len(pids) > 1]
        growable = [pid for pids in clashes for pid in pids if used[pid] < len(distinguishing[pid])]
        if not growable:
            break
        for pid in growable:
            used[pid] += 1

    # Out of distinguishing features: fall back to the id, which is unique by construction.
    return {
        pid: f"{name(pid)} (persona {pid})" if len(pids) > 1 else name(pid)
        for pids in by_name.values()
        for pid in pids
    }


def _describe(users: int, share: float, details: list[dict]) -> str:
    head = f"{users:,} users ({share:.1%})."
    if not details:
        return f"{head} Close to the population on every feature."
    parts = [
        f"{d['statistic']} {d['feature'].replace('_', ' ')} {_fmt(d['persona_value'])} "
        f"vs {_fmt(d['population_value'])}"
        for d in details
    ]
    return f"{head} Compared with all users: {'; '.join(parts)}."


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
