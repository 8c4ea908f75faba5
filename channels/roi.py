"""Channel spend and return: the ``marts.channel_roi`` table and daily spend by channel."""

import polars as pl

from channels._columns import require_columns
from channels.attribution import ATTRIBUTION_MODELS, AttributionSettings, assign_credit
from channels.cohorts import CREDIT_PREFIX, MONEY, credit_models

CHANNEL_ROI_COLUMNS = [
    "channel",
    "attribution_model",
    "spend",
    "conversions",
    "revenue",
    "cac",
    "roas",
    "ltv",
    "ltv_to_cac",
]


def channel_daily_spend(spend: pl.DataFrame) -> pl.DataFrame:
    """Sum marketing spend per local date and channel (campaigns folded together), exactly.

    Args:
        spend: Staged marketing spend with ``date``, ``channel``, ``spend`` (money, at most two
            decimals) and optionally ``impressions`` and ``clicks``.

    Returns:
        One row per date × channel, sorted: ``date``, ``channel``, ``spend`` (DECIMAL(18, 2), summed
        in decimal so totals reconcile to the cent with the staged rows), plus ``impressions`` and
        ``clicks`` (Int64) when the input has them.
    """
    require_columns(spend, ["date", "channel", "spend"], "marketing_spend")
    counters = [
        pl.col(name).cast(pl.Int64).sum()
        for name in ("impressions", "clicks")
        if name in spend.columns
    ]
    return (
        spend.group_by("date", "channel")
        .agg(pl.col("spend").cast(MONEY).sum().cast(MONEY), *counters)
        .sort("date", "channel")
    )


def channel_roi(
    attributed: pl.DataFrame,
    spend: pl.DataFrame,
    user_value: pl.DataFrame | None,
    journeys: pl.DataFrame,
    *,
    settings: AttributionSettings | None = None,
    credit: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Combine attributed conversions with spend and customer value, per channel and model.

    Rules:
        - ``spend``: total of ``spend`` for the channel over the whole frame passed in (filter
          it to the analysis period first); 0.0 for channels with none, e.g. ``(direct)``.
        - ``cac = spend / conversions``; null when conversions == 0 or the channel has no spend (a channel
          nobody paid for, such as ``(direct)``, has no acquisition cost to state, not a cost of 0).
        - ``roas = revenue / spend``; null when spend == 0.
        - ``ltv``: mean ``user_value.clv`` of the converting users, weighted by the credit the
          model gives the channel for each of their touches; users without a clv are left out;
          null when ``user_value`` is None, the model is not registered, or no credited user
          has a clv.
        - ``ltv_to_cac = ltv / cac``; null when either is null or cac == 0.
        A channel with spend but no touches appears with conversions = revenue = 0.

    Args:
        attributed: Output of :func:`channels.attribution.attribute` / ``attribute_all``.
        spend: Marketing spend with ``channel`` and ``spend`` (any grain).
        user_value: ``user_id`` and ``clv`` (e.g. ``marts.user_clv``), or None.
        journeys: The journeys ``attributed`` was computed from (for credit-weighted ltv).
        settings: The model knobs ``attributed`` was computed with.
        credit: Output of :func:`channels.cohorts.conversion_credit` for ``journeys``, when the caller
            has it: the credit-weighted ltv is then read from it instead of running the models again.

    Returns:
        One row per channel × attribution model, sorted by model then channel, with columns
        ``channel``, ``attribution_model`` (str) and ``spend``, ``conversions``, ``revenue``,
        ``cac``, ``roas``, ``ltv``, ``ltv_to_cac`` (all Float64).
    """
    require_columns(
        attributed, ["channel", "attribution_model", "conversions", "revenue"], "attributed"
    )
    require_columns(spend, ["channel", "spend"], "marketing_spend")

    spend_by_channel = spend.group_by("channel").agg(
        pl.col("spend").cast(pl.Float64).sum()
    ).with_columns(pl.col("channel").cast(pl.String))
    models = attributed.select(pl.col("attribution_model").unique())
    # Channels that spent without converting must still show up, once per model.
    grid = pl.concat(
        [
            attributed.select(pl.col("channel").cast(pl.String), "attribution_model"),
            spend_by_channel.select("channel").join(models, how="cross"),
        ]
    ).unique()

    model_names = models.to_series().to_list()
    if credit is not None:
        ltv = _ltv_from_credit(credit, user_value, model_names)
    else:
        ltv = _credit_weighted_ltv(journeys, user_value, model_names, settings)
    roi = (
        grid.join(
            attributed.with_columns(pl.col("channel").cast(pl.String)),
            on=["channel", "attribution_model"],
            how="left",
        )
        .join(spend_by_channel, on="channel", how="left")
        .join(ltv, on=["channel", "attribution_model"], how="left")
        .with_columns(
            pl.col("spend").fill_null(0.0),
            pl.col("conversions").cast(pl.Float64).fill_null(0.0),
            pl.col("revenue").cast(pl.Float64).fill_null(0.0),
        )
        .with_columns(
            pl.when((pl.col("conversions") > 0) & (pl.col("spend") > 0))
            .then(pl.col("spend") / pl.col("conversions"))
            .alias("cac"),
            pl.when(pl.col("spend") > 0).then(pl.col("revenue") / pl.col("spend")).alias("roas"),
        )
        .with_columns(
            pl.when(pl.col("cac") > 0).then(pl.col("ltv") / pl.col("cac")).alias("ltv_to_cac")
        )
    )
    return roi.select(CHANNEL_ROI_COLUMNS).sort("attribution_model", "channel")


def _ltv_from_credit(credit: pl.DataFrame, user_value: pl.DataFrame | None, models: list[str]) -> pl.DataFrame:
    """As :func:`_credit_weighted_ltv`, from per conversion × channel credit already computed."""
    schema = {"channel": pl.String, "attribution_model": pl.String, "ltv": pl.Float64}
    present = [name for name in models if name in credit_models(credit)]
    if user_value is None or not present:
        return pl.DataFrame(schema=schema)
    require_columns(user_value, ["user_id", "clv"], "user_value")
    valued = credit.join(user_value.select("user_id", pl.col("clv").cast(pl.Float64)), on="user_id", how="left")
    sums = valued.group_by(pl.col("channel").cast(pl.String)).agg(
        *((pl.col(CREDIT_PREFIX + m) * pl.col("clv")).sum().alias(f"_weighted_{m}") for m in present),
        *(pl.col(CREDIT_PREFIX + m).filter(pl.col("clv").is_not_null()).sum().alias(f"_weight_{m}") for m in present),
    )
    return pl.concat([
        sums.select("channel", pl.lit(m, dtype=pl.String).alias("attribution_model"),
                    pl.when(pl.col(f"_weight_{m}") > 0).then(pl.col(f"_weighted_{m}") / pl.col(f"_weight_{m}")).alias("ltv"))
        for m in present
    ])


def _credit_weighted_ltv(
    journeys: pl.DataFrame,
    user_value: pl.DataFrame | None,
    models: list[str],
    settings: AttributionSettings | None,
) -> pl.DataFrame:
    """Per channel × model, the credit-weighted mean clv of the users the channel converted.

    Markov credit is even over the journeys a channel appears in, whatever the non-converting paths
    make its total, so its weights here need only the converting journeys.
    """
    schema = {"channel": pl.String, "attribution_model": pl.String, "ltv": pl.Float64}
    registered = [name for name in models if name in ATTRIBUTION_MODELS]
    if user_value is None or not registered:
        return pl.DataFrame(schema=schema)
    require_columns(user_value, ["user_id", "clv"], "user_value")
    values = user_value.select("user_id", pl.col("clv").cast(pl.Float64))
    frames = []
    for name in registered:
        credited = assign_credit(journeys, name, settings=settings).select("channel", "user_id", "credit")
        frames.append(
            credited.join(values, on="user_id", how="left")
            .group_by("channel")
            .agg(
                (pl.col("credit") * pl.col("clv")).sum().alias("_weighted"),
                pl.col("credit").filter(pl.col("clv").is_not_null()).sum().alias("_weight"),
            )
            .select(
                pl.col("channel").cast(pl.String),
                pl.lit(name, dtype=pl.String).alias("attribution_model"),
                pl.when(pl.col("_weight") > 0)
                .then(pl.col("_weighted") / pl.col("_weight"))
                .alias("ltv"),
            )
        )
    return pl.concat(frames)
