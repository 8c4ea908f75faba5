"""Persona names and descriptions, in English and Chinese, from what is true of most of each persona's members.

A feature distinguishes a persona by its z: the persona's mean minus the population's mean of the
feature after robust scaling (:class:`~segments.scaling.RobustFeatureScaler`: log1p for skewed
money and counts, median/IQR units, clipped), i.e. a shift measured in robust standard deviations.
Features are ranked by |z|, but a feature names or describes a persona only when its phrase holds for
most of the members: "high" when more than half of them lie above the population's median, "low" when more
than half lie below it (or, for a feature whose median is also its minimum, when more than half sit at that
minimum, more than in the population). A large mean can come from a few members; a name must not.

Purchases need care: a member who never bought has a transaction rate of 0, a ticket size of 0 and 100% idle
time, which are imputations, not small tickets. So, given who bought (`purchased`):

- a persona most of whose members never bought is named for that first ("Never bought yet"), and no
  purchase feature (`PURCHASE_FEATURES`) names or describes it;
- features that only mean something for buyers (`BUYER_FEATURES`: ticket sizes, product mix, idle time) are
  compared, named and reported among the members who bought, against all buyers.

Names join the phrases of the top ``name_features`` features that pass (|z| ≥ ``min_abs_z``); when two
personas would share a name, each gets its next distinguishing feature until names differ, and the Chinese
name uses the same features. Reported values are medians, or means for features whose population IQR is 0
(mostly-zero columns, where every median is 0 and says nothing), written in their unit and the data's currency
(`segments.phrases.FEATURE_TEXT`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import polars as pl

from metrics.units import currency_symbol
from segments.phrases import (
    BUYER_FEATURES,
    DAYS_PER_MONTH,
    FEATURE_PHRASES,
    FEATURE_TEXT,
    NEVER_BOUGHT,
    PURCHASE_FEATURES,
    phrase_for,
    phrase_for_zh,
)
from segments.scaling import RobustFeatureScaler

_LABEL = "__persona_id"
_BOUGHT = "__bought"
PERSONA_DESCRIPTION_SCHEMA = {
    "persona_id": pl.Int64, "persona_name": pl.Utf8, "persona_name_zh": pl.Utf8, "description": pl.Utf8,
    "description_zh": pl.Utf8, "users": pl.Int64, "share": pl.Float64, "never_bought_share": pl.Float64,
    "top_features": pl.Utf8,
}


def describe_personas(
    features: pl.DataFrame,
    labels: pl.Series,
    feature_columns: list[str],
    feature_phrases: dict[str, tuple[str, str]] | None = None,
    name_features: int = 2,
    min_abs_z: float = 0.25,
    top_n: int = 3,
    scaler: RobustFeatureScaler | None = None,
    *,
    purchased: pl.Series | None = None,
    currency: str = "CNY",
) -> pl.DataFrame:
    """Describe each persona against the whole population.

    Args:
        features: one row per user holding ``feature_columns``.
        labels: persona id per row of ``features`` (same length and order); nulls are ignored.
        feature_columns: features to compare.
        feature_phrases: feature -> (phrase when high, phrase when low) in English; ``FEATURE_PHRASES``
            when None (Chinese phrases come from ``segments.phrases.FEATURE_PHRASES_ZH``).
        name_features: features a name starts with (more are added only to make names unique).
        min_abs_z: smallest |z| that counts as distinguishing.
        top_n: features listed in ``description`` and ``top_features``.
        scaler: an already fitted scaler over ``feature_columns`` (e.g. the clusterer's
            ``scaler_``), which saves a pass over the data; fitted on ``features`` when None.
        purchased: per row of ``features``, whether the user ever made a completed purchase; without it
            every feature is judged over all members.
        currency: ISO code of the money features, for their symbol in descriptions.

    Returns:
        One row per persona, by ``persona_id`` (``PERSONA_DESCRIPTION_SCHEMA``): names and descriptions in
        both languages (names unique), ``users``, ``share``, ``never_bought_share`` (null without
        ``purchased``) and ``top_features`` (Utf8 JSON list of {feature, statistic, basis, persona_value,
        population_value, z}; statistic "median", "mean" or "share_at_floor" (the share of members at the
        feature's floor, e.g. no credit draw at all); basis "buyers" or "all").
    """
    if len(labels) != features.height:
        raise ValueError(f"labels has {len(labels)} rows but features has {features.height}")
    if purchased is not None and len(purchased) != features.height:
        raise ValueError(f"purchased has {len(purchased)} rows but features has {features.height}")
    phrases = FEATURE_PHRASES if feature_phrases is None else feature_phrases
    if scaler is None:
        scaler = RobustFeatureScaler().fit(features, feature_columns)
    elif list(scaler.columns_) != list(feature_columns):
        raise ValueError("the scaler was fitted on other columns than feature_columns")
    bought = pl.lit(True) if purchased is None else purchased.cast(pl.Boolean).fill_null(False)
    frame = features.select(feature_columns).with_columns(
        labels.cast(pl.Int64).alias(_LABEL), bought.alias(_BOUGHT)
    ).filter(pl.col(_LABEL).is_not_null())
    buyer_only = {f for f in feature_columns if f in BUYER_FEATURES} if purchased is not None else set()

    z_table = _z_scores(frame, scaler, feature_columns)
    values = _reported_values(frame, feature_columns, buyer_only)
    majority, at_floor = _majority_sides(frame, feature_columns, buyer_only)
    counts = frame.group_by(_LABEL).agg(pl.len().alias("users"), (~pl.col(_BOUGHT)).mean().alias("never")).sort(_LABEL)
    total = int(counts["users"].sum())
    population_never = float(frame.select((~pl.col(_BOUGHT)).mean()).item())
    never = {pid: share for pid, share in counts.select(_LABEL, "never").iter_rows()} if purchased is not None else {}

    ranked = {pid: _ranked_features(z_table, pid, feature_columns) for pid in counts[_LABEL].to_list()}
    passing = {
        pid: [(f, z > 0) for f, z in pairs
              if abs(z) >= min_abs_z and majority[(pid, f, z > 0)]
              and not (never.get(pid, 0.0) > 0.5 and f in PURCHASE_FEATURES)]
        for pid, pairs in ranked.items()
    }
    names = _unique_names(passing, phrases, name_features, {pid for pid, share in never.items() if share > 0.5})

    rows = []
    for pid, users, never_share in counts.iter_rows():
        z_of = dict(ranked[pid])
        details = [
            # A low phrase that holds because most members sit at the floor is reported as that share.
            {
                "feature": f,
                "statistic": "share_at_floor" if (pid, f) in at_floor and not high else values["statistic"][f],
                "basis": "buyers" if f in buyer_only else "all",
                "persona_value": _round(at_floor[(pid, f)][0] if (pid, f) in at_floor and not high
                                        else values["persona"].get((pid, f))),
                "population_value": _round(at_floor[(pid, f)][1] if (pid, f) in at_floor and not high
                                           else values["population"][f]),
                "z": round(z_of[f], 3),
            }
            for f, high in passing[pid][:top_n]
        ]
        shown_never = never_share if purchased is not None else None
        rows.append({
            "persona_id": pid,
            "persona_name": names[pid][0],
            "persona_name_zh": names[pid][1],
            "description": _describe_en(users, users / total, shown_never, population_never, details, currency),
            "description_zh": _describe_zh(users, users / total, shown_never, population_never, details, currency),
            "users": users,
            "share": users / total,
            "never_bought_share": shown_never,
            "top_features": json.dumps(details, ensure_ascii=False),
        })
    return pl.DataFrame(rows, schema=PERSONA_DESCRIPTION_SCHEMA)


def _z_scores(frame: pl.DataFrame, scaler: RobustFeatureScaler, columns: list[str]) -> pl.DataFrame:
    scaled = frame.select(*scaler.transform_exprs(), pl.col(_LABEL))
    population = scaled.select(pl.col(columns).mean()).row(0, named=True)
    return scaled.group_by(_LABEL).agg(
        [(pl.col(c).mean() - population[c]).alias(c) for c in columns]
    )


def _basis(column: str, buyer_only: set[str]) -> pl.Expr:
    """The values of a feature that count: every member's, or only the buyers' for buyer features."""
    x = pl.col(column).cast(pl.Float64).fill_nan(None)
    return x.filter(pl.col(_BOUGHT)) if column in buyer_only else x


def _reported_values(frame: pl.DataFrame, columns: list[str], buyer_only: set[str]) -> dict:
    x = {c: _basis(c, buyer_only) for c in columns}
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


def _majority_sides(frame: pl.DataFrame, columns: list[str], buyer_only: set[str]
                    ) -> tuple[dict[tuple[int, str, bool], bool], dict[tuple[int, str], tuple[float, float]]]:
    """(persona, feature, is_high) -> whether more than half of the persona's members are on that side; and, for a
    feature whose population median is its floor, (persona, feature) -> (share of the persona's members at the
    floor, share of the population there) where the low side holds by that rule."""
    stats = frame.select(
        *(_basis(c, buyer_only).median().alias(f"{c}__median") for c in columns),
        *(_basis(c, buyer_only).min().alias(f"{c}__min") for c in columns),
    ).row(0, named=True)
    # A feature nobody has a value for (e.g. credit tickets without any credit) is on no side for anyone.
    known = [c for c in columns if stats[f"{c}__median"] is not None]
    population_at_min = frame.select(
        (_basis(c, buyer_only) == stats[f"{c}__min"]).mean().alias(c) for c in known
    ).row(0, named=True) if known else {}
    sides = frame.group_by(_LABEL).agg(
        pl.len(),
        *((_basis(c, buyer_only) > stats[f"{c}__median"]).mean().alias(f"{c}__above") for c in known),
        *((_basis(c, buyer_only) < stats[f"{c}__median"]).mean().alias(f"{c}__below") for c in known),
        *((_basis(c, buyer_only) == stats[f"{c}__min"]).mean().alias(f"{c}__at_min") for c in known),
    )
    result: dict[tuple[int, str, bool], bool] = {}
    floors: dict[tuple[int, str], tuple[float, float]] = {}
    for row in sides.iter_rows(named=True):
        pid = row[_LABEL]
        for c in columns:
            if c not in known:
                result[(pid, c, True)] = result[(pid, c, False)] = False
                continue
            median_is_floor = stats[f"{c}__median"] == stats[f"{c}__min"]
            at_min = row[f"{c}__at_min"] or 0.0
            floor_holds = median_is_floor and at_min > 0.5 and at_min > (population_at_min[c] or 0.0)
            result[(pid, c, True)] = (row[f"{c}__above"] or 0.0) > 0.5
            result[(pid, c, False)] = (row[f"{c}__below"] or 0.0) > 0.5 or floor_holds
            if floor_holds:
                floors[(pid, c)] = (at_min, population_at_min[c] or 0.0)
    return result, floors


def _ranked_features(z_table: pl.DataFrame, pid: int, columns: list[str]) -> list[tuple[str, float]]:
    row = z_table.filter(pl.col(_LABEL) == pid).row(0, named=True)
    pairs = [(c, float(row[c] or 0.0)) for c in columns]
    # Stable sort: equal |z| keep the feature_columns order, so names are deterministic.
    return sorted(pairs, key=lambda pair: -abs(pair[1]))


def _unique_names(
    passing: Mapping[int, list[tuple[str, bool]]],
    phrases: dict[str, tuple[str, str]],
    name_features: int,
    never_bought: set[int],
) -> dict[int, tuple[str, str]]:
    """(English, Chinese) name per persona, unique in English (the Chinese follows the same features)."""
    lead = {pid: [("__never", True)] if pid in never_bought else [] for pid in passing}
    parts = {pid: lead[pid] + list(passing[pid]) for pid in passing}
    # "Never bought yet" is one of the name's features, not an extra one.
    used = {pid: max(len(lead[pid]), min(name_features, len(parts[pid]))) for pid in passing}

    def words(pid: int, language: str) -> list[str]:
        out = []
        for feature, high in parts[pid][: used[pid]]:
            if feature == "__never":
                out.append(NEVER_BOUGHT[0 if language == "en" else 1])
            else:
                out.append(phrase_for(feature, high, phrases) if language == "en" else phrase_for_zh(feature, high))
        return out

    while True:
        # Compare phrase sets, not strings: "high a, high b" and "high b, high a" are one name.
        by_name: dict[frozenset[tuple[str, bool]], list[int]] = {}
        for pid in passing:
            by_name.setdefault(frozenset(parts[pid][: used[pid]]), []).append(pid)
        clashes = [pids for pids in by_name.values() if len(pids) > 1]
        growable = [pid for pids in clashes for pid in pids if used[pid] < len(parts[pid])]
        if not growable:
            break
        for pid in growable:
            used[pid] += 1

    def name(pid: int, clash: bool) -> tuple[str, str]:
        en_words, zh_words = words(pid, "en"), words(pid, "zh")
        en = ", ".join(en_words) if en_words else "typical users"
        zh = "、".join(zh_words) if zh_words else "典型用户"
        en = en[0].upper() + en[1:]
        # Out of distinguishing features: fall back to the id, which is unique by construction.
        return (f"{en} (persona {pid})", f"{zh}（画像 {pid}）") if clash else (en, zh)

    return {pid: name(pid, len(pids) > 1) for pids in by_name.values() for pid in pids}


def _value_text(feature: str, value: float | None, currency: str, language: str) -> str:
    if value is None:
        return "n/a" if language == "en" else "无"
    kind = FEATURE_TEXT[feature].kind if feature in FEATURE_TEXT else "plain"
    if kind == "money":
        return f"{currency_symbol(currency)}{value:,.0f}" if abs(value) >= 100 else f"{currency_symbol(currency)}{value:,.2f}"
    if kind == "share":
        return f"{value:.0%}"
    if kind == "per_month":
        return f"{value * DAYS_PER_MONTH:.1f}"
    if kind == "years":
        return f"{value:.0f}" if language == "en" else f"{value:.0f} 岁"
    if kind == "tier":
        return f"{value:.1f}"
    if kind == "count":
        return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.1f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _label(feature: str, language: str) -> str:
    if feature in FEATURE_TEXT:
        return getattr(FEATURE_TEXT[feature], language)
    return feature.replace("_", " ")


def _floor_label(feature: str, language: str) -> str:
    text = FEATURE_TEXT.get(feature)
    none = (text.none_en if language == "en" else text.none_zh) if text else ""
    if none:
        return none
    return f"{_label(feature, language)} at its minimum" if language == "en" else f"{_label(feature, language)}为最小值"


def _describe_en(users: int, share: float, never: float | None, population_never: float, details: list[dict],
                 currency: str) -> str:
    text = f"{users:,} users ({share:.1%})."
    if never is not None and never > 0.5:
        text += f" {never:.0%} have never bought (all users: {population_never:.0%})."
    if not details:
        return f"{text} Close to the population on every other feature."
    parts = []
    for d in details:
        buyers = " (buyers)" if d["basis"] == "buyers" else ""
        if d["statistic"] == "share_at_floor":
            parts.append(f"{_floor_label(d['feature'], 'en')} for {d['persona_value']:.0%} vs "
                         f"{d['population_value']:.0%}{buyers}")
            continue
        parts.append(f"{d['statistic']} {_label(d['feature'], 'en')} "
                     f"{_value_text(d['feature'], d['persona_value'], currency, 'en')} vs "
                     f"{_value_text(d['feature'], d['population_value'], currency, 'en')}{buyers}")
    return f"{text} Compared with all users: {'; '.join(parts)}."


def _describe_zh(users: int, share: float, never: float | None, population_never: float, details: list[dict],
                 currency: str) -> str:
    text = f"{users:,} 位用户（{share:.1%}）。"
    if never is not None and never > 0.5:
        text += f"其中 {never:.0%} 从未交易（全体用户为 {population_never:.0%}）。"
    if not details:
        return f"{text}其他特征与整体接近。"
    statistic = {"median": "中位数", "mean": "均值"}
    parts = []
    for d in details:
        buyers = "，均为有交易用户" if d["basis"] == "buyers" else ""
        if d["statistic"] == "share_at_floor":
            parts.append(f"{d['persona_value']:.0%} {_floor_label(d['feature'], 'zh')}"
                         f"（整体 {d['population_value']:.0%}{buyers}）")
            continue
        parts.append(f"{_label(d['feature'], 'zh')}{statistic[d['statistic']]} "
                     f"{_value_text(d['feature'], d['persona_value'], currency, 'zh')}"
                     f"（整体 {_value_text(d['feature'], d['population_value'], currency, 'zh')}{buyers}）")
    return f"{text}与全体用户相比：{'；'.join(parts)}。"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
