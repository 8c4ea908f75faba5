"""Default phrases that name personas: feature -> (phrase when high, phrase when low).

Features without a phrase are named from the column name ("high wealth amount").
"""

from __future__ import annotations

FEATURE_PHRASES: dict[str, tuple[str, str]] = {
    "txn_count": ("frequent buyers", "infrequent buyers"),
    "total_amount": ("high spenders", "low spenders"),
    "monetary_avg": ("large tickets", "small tickets"),
    # Many days since the last purchase means the user has lapsed.
    "recency_days": ("lapsed", "recently active"),
    "tenure_days": ("long-tenured", "recently joined"),
    "credit_txn_count": ("frequent credit users", "rare credit users"),
    "wealth_txn_count": ("frequent investors", "rare investors"),
    "payment_txn_count": ("frequent payers", "rare payers"),
    "credit_amount": ("large borrowers", "small borrowers"),
    "wealth_amount": ("large investors", "small investors"),
    "payment_amount": ("high payment volume", "low payment volume"),
    "events_per_active_day": ("intense app sessions", "light app sessions"),
    "active_days": ("highly engaged", "rarely active"),
    "age": ("older", "young"),
    "txn_per_day": ("frequent buyers", "infrequent buyers"),
    "credit_share": ("credit-led", "little credit"),
    "wealth_share": ("wealth investors", "no wealth products"),
    "payment_share": ("payment-led", "few payments"),
    "credit_ticket": ("large loans", "small loans"),
    # A high share of the observed time since the last purchase means the user went quiet.
    "idle_share": ("gone quiet", "recently active"),
    # Tier 1 is the largest cities, so a high tier number means smaller cities.
    "city_tier": ("smaller cities", "tier-1/2 cities"),
}


def phrase_for(feature: str, is_high: bool, phrases: dict[str, tuple[str, str]]) -> str:
    """The phrase describing ``feature`` being high (or low) in a persona."""
    if feature in phrases:
        high, low = phrases[feature]
        return high if is_high else low
    readable = feature.replace("_", " ")
    return f"high {readable}" if is_high else f"low {readable}"
