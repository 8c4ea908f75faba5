"""Words for personas: feature -> phrase when high or low (en, zh), and how a feature's value is written.

Features without a phrase are named from the column name ("high wealth amount"); features without a
`FeatureText` are described by the column name with a plain number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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

FEATURE_PHRASES_ZH: dict[str, tuple[str, str]] = {
    "txn_count": ("高频交易", "低频交易"),
    "total_amount": ("高消费", "低消费"),
    "monetary_avg": ("大额交易", "小额交易"),
    "recency_days": ("久未交易", "近期活跃"),
    "tenure_days": ("老用户", "新近注册"),
    "credit_txn_count": ("常用信贷", "少用信贷"),
    "wealth_txn_count": ("常买理财", "少买理财"),
    "payment_txn_count": ("常用支付", "少用支付"),
    "credit_amount": ("大额借款", "小额借款"),
    "wealth_amount": ("大额理财", "小额理财"),
    "payment_amount": ("支付金额高", "支付金额低"),
    "events_per_active_day": ("重度使用应用", "轻度使用应用"),
    "active_days": ("高度活跃", "很少活跃"),
    "age": ("年龄较大", "年轻"),
    "txn_per_day": ("高频交易", "低频交易"),
    "credit_share": ("以信贷为主", "少用信贷"),
    "wealth_share": ("理财投资者", "不买理财"),
    "payment_share": ("以支付为主", "支付较少"),
    "credit_ticket": ("大额借款", "小额借款"),
    "idle_share": ("已沉寂", "近期活跃"),
    "city_tier": ("低线城市", "一二线城市"),
}

# The phrase that leads the name of a persona most of whose members never made a purchase.
NEVER_BOUGHT = ("never bought yet", "注册未交易")

# Features computed from purchases: for a persona of people who never bought they say nothing new.
PURCHASE_FEATURES = frozenset({
    "txn_count", "total_amount", "monetary_avg", "recency_days", "credit_txn_count", "wealth_txn_count",
    "payment_txn_count", "credit_amount", "wealth_amount", "payment_amount", "txn_per_day", "credit_share",
    "wealth_share", "payment_share", "credit_ticket", "idle_share",
})
# Features that only mean something for buyers (a non-buyer's 0 ticket or 100% idle time is an imputation,
# not a small ticket): compared, named and reported among the members who bought.
BUYER_FEATURES = frozenset({"monetary_avg", "credit_share", "wealth_share", "payment_share", "credit_ticket",
                            "idle_share"})

Kind = Literal["money", "share", "per_month", "years", "tier", "count", "plain"]


@dataclass(frozen=True)
class FeatureText:
    """How a feature's value is written: its label in both languages, the kind of number it is, and how members
    at the feature's floor (usually 0) are described."""

    en: str
    zh: str
    kind: Kind
    none_en: str = ""
    none_zh: str = ""


FEATURE_TEXT: dict[str, FeatureText] = {
    "txn_per_day": FeatureText("purchases a month", "每月交易笔数", "per_month"),
    "credit_share": FeatureText("share of purchases that are credit draws", "信贷交易占比", "share",
                                "no credit draw", "没有信贷交易"),
    "wealth_share": FeatureText("share of purchases that are wealth products", "理财交易占比", "share",
                                "no wealth product", "没有理财交易"),
    "payment_share": FeatureText("share of purchases that are payments", "支付交易占比", "share",
                                 "no payment", "没有支付交易"),
    "monetary_avg": FeatureText("purchase size", "单笔交易金额", "money"),
    "credit_ticket": FeatureText("credit draw", "单笔借款金额", "money"),
    "age": FeatureText("age", "年龄", "years"),
    "idle_share": FeatureText("share of the observed days since the last purchase", "距上次交易天数占观察期比例",
                              "share"),
    "txn_count": FeatureText("purchases", "交易笔数", "count"),
    "total_amount": FeatureText("total spent", "累计交易金额", "money"),
    "recency_days": FeatureText("days since the last purchase", "距上次交易天数", "count"),
    "tenure_days": FeatureText("days since sign-up", "注册天数", "count"),
    "credit_txn_count": FeatureText("credit draws", "借款笔数", "count"),
    "wealth_txn_count": FeatureText("wealth purchases", "理财购买笔数", "count"),
    "payment_txn_count": FeatureText("payments", "支付笔数", "count"),
    "credit_amount": FeatureText("total borrowed", "累计借款金额", "money"),
    "wealth_amount": FeatureText("total invested", "累计理财金额", "money"),
    "payment_amount": FeatureText("total paid", "累计支付金额", "money"),
    "events_per_active_day": FeatureText("app events per active day", "每个活跃日的应用事件数", "plain"),
    "active_days": FeatureText("active days", "活跃天数", "count"),
    "city_tier": FeatureText("city tier", "城市等级", "tier"),
}

DAYS_PER_MONTH = 30.4


def phrase_for(feature: str, is_high: bool, phrases: dict[str, tuple[str, str]]) -> str:
    """The phrase describing ``feature`` being high (or low) in a persona."""
    if feature in phrases:
        high, low = phrases[feature]
        return high if is_high else low
    readable = feature.replace("_", " ")
    return f"high {readable}" if is_high else f"low {readable}"


def phrase_for_zh(feature: str, is_high: bool) -> str:
    """The Chinese phrase for ``feature`` being high (or low); the column name with 高/低 when none is known."""
    if feature in FEATURE_PHRASES_ZH:
        high, low = FEATURE_PHRASES_ZH[feature]
        return high if is_high else low
    return f"{feature} {'高' if is_high else '低'}"
