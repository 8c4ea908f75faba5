"""Fixed reference data of the synthetic world: planted types, channels, products, cities."""

from __future__ import annotations

import numpy as np
import polars as pl

LINES = ("credit", "wealth", "payment", "other")
CREDIT, WEALTH, PAYMENT, OTHER = range(4)

# One row per planted behavioural type; arrays below are indexed by the same position.
TYPE_NAMES = (
    "young_credit_shopper",
    "affluent_wealth_investor",
    "everyday_payer",
    "dormant_signup",
    "lapsed_credit_user",
)
TYPE_SHARE = np.array([0.22, 0.13, 0.25, 0.25, 0.15])
AGE_MEAN = np.array([26.0, 46.0, 36.0, 33.0, 31.0])
AGE_SD = np.array([4.0, 7.0, 9.0, 10.0, 6.0])
AGE_MIN = np.array([18, 30, 18, 18, 20])
AGE_MAX = np.array([40, 65, 65, 70, 50])
# P(city tier 1..5 | type)
TIER_P = np.array(
    [
        [0.40, 0.40, 0.12, 0.06, 0.02],
        [0.55, 0.35, 0.08, 0.02, 0.00],
        [0.15, 0.25, 0.30, 0.20, 0.10],
        [0.15, 0.20, 0.25, 0.25, 0.15],
        [0.08, 0.17, 0.30, 0.27, 0.18],
    ]
)
INCOME_BANDS = ("<5k", "5k-10k", "10k-20k", "20k-50k", "50k+")
INCOME_P = np.array(
    [
        [0.20, 0.40, 0.30, 0.08, 0.02],
        [0.00, 0.05, 0.20, 0.45, 0.30],
        [0.15, 0.40, 0.30, 0.12, 0.03],
        [0.30, 0.35, 0.25, 0.08, 0.02],
        [0.30, 0.45, 0.20, 0.05, 0.00],
    ]
)
# Transactions per active day (before per-user gamma noise) and product-line mix.
TXN_RATE = np.array([0.14, 0.05, 0.15, 0.0, 0.2])
DORMANT_TXN_PROBABILITY = 0.06
LINE_MIX = np.array(
    [
        [0.60, 0.00, 0.40, 0.00],
        [0.00, 0.65, 0.00, 0.35],
        [0.00, 0.00, 1.00, 0.00],
        [0.00, 0.00, 1.00, 0.00],
        [1.00, 0.00, 0.00, 0.00],
    ]
)
# Median amount in yuan per (type, line); lognormal spread per type.
AMOUNT_MEDIAN = np.array(
    [
        [700.0, 5000.0, 80.0, 150.0],
        [3000.0, 40000.0, 260.0, 600.0],
        [600.0, 3000.0, 45.0, 90.0],
        [700.0, 3000.0, 60.0, 100.0],
        [2500.0, 3000.0, 70.0, 100.0],
    ]
)
AMOUNT_SIGMA = np.array([0.55, 0.75, 0.70, 0.70, 0.55])
# App sessions per active day and events per session (bulk of the event volume).
SESSION_RATE = np.array([0.035, 0.03, 0.022, 0.25, 0.045])
EVENTS_PER_SESSION = np.array([6.0, 4.0, 2.0, 2.0, 4.0])
# Browsing event mix per type: page_view, product_view, search, share.
BROWSE_EVENTS = ("page_view", "product_view", "search", "share")
BROWSE_MIX = np.array(
    [
        [0.40, 0.35, 0.15, 0.10],
        [0.35, 0.50, 0.12, 0.03],
        [0.70, 0.15, 0.10, 0.05],
        [0.80, 0.15, 0.05, 0.00],
        [0.45, 0.35, 0.15, 0.05],
    ]
)
# Probability of a risk-suitability assessment, and P(C1..C5 | assessed).
ASSESSED_P = np.array([0.45, 1.0, 0.25, 0.10, 0.40])
RISK_LEVEL_P = np.array(
    [
        [0.15, 0.35, 0.30, 0.15, 0.05],
        [0.02, 0.10, 0.35, 0.33, 0.20],
        [0.30, 0.35, 0.25, 0.08, 0.02],
        [0.35, 0.35, 0.20, 0.08, 0.02],
        [0.20, 0.35, 0.30, 0.12, 0.03],
    ]
)
# Share of borrowers of each type who default (before the channel multiplier).
DEFAULT_BASE = np.array([0.03, 0.01, 0.02, 0.05, 0.12])
# Share of active users of each type who quietly churn at a random time inside the window.
CHURN_P = np.array([0.03, 0.03, 0.03, 0.0, 0.0])

CHANNELS = ("app_store", "search_ads", "social_feed", "kol_video", "referral", "offline_branch")
# P(acquisition channel | type): channels bring different kinds of users.
CHANNEL_GIVEN_TYPE = np.array(
    [
        [0.20, 0.20, 0.25, 0.25, 0.08, 0.02],
        [0.15, 0.25, 0.05, 0.10, 0.15, 0.30],
        [0.30, 0.15, 0.20, 0.05, 0.25, 0.05],
        [0.20, 0.10, 0.30, 0.30, 0.05, 0.05],
        [0.15, 0.15, 0.30, 0.30, 0.07, 0.03],
    ]
)
CHANNEL_DEFAULT_MULTIPLIER = np.array([1.0, 0.9, 1.8, 2.4, 0.5, 0.4])
# P(KYC passed) for types that do not need KYC to behave as planted.
CHANNEL_KYC_PASS = np.array([0.80, 0.82, 0.62, 0.50, 0.90, 0.95])
CHANNEL_CAC = np.array([55.0, 85.0, 40.0, 110.0, 30.0, 260.0])
# Daily always-on spend per channel at 50,000 users (scaled with the population).
CHANNEL_BASE_DAILY = np.array([900.0, 1500.0, 1200.0, 1000.0, 200.0, 1500.0])
CHANNEL_CPM = np.array([30.0, 40.0, 25.0, 35.0, 0.0, 0.0])
CHANNEL_CPC = np.array([3.5, 4.8, 1.6, 2.2, 0.0, 0.0])
# Effective cost per click and click-through rate, used only to derive spend-table counts.
CHANNEL_SPEND_PER_CLICK = np.array([3.5, 4.8, 1.6, 2.2, 15.0, 80.0])
CHANNEL_CTR = np.array([0.04, 0.03, 0.012, 0.02, 0.25, 0.5])
CAMPAIGNS = (
    ("asa_brand", "asa_generic"),
    ("sem_brand", "sem_credit", "sem_wealth"),
    ("feed_credit_newuser", "feed_payment_cashback"),
    ("kol_618_promo", "kol_wealth_class"),
    ("invite_friends",),
    ("branch_wealth_salon",),
)
SESSION_CHANNELS = ("direct", "push", "organic")

PLATFORMS = ("ios", "android", "web", "mini_program")
PLATFORM_P = np.array([0.35, 0.45, 0.08, 0.12])
GENDERS = ("female", "male", "other", "unknown")
GENDER_P = np.array([0.47, 0.48, 0.01, 0.04])
OCCUPATIONS = (
    "office_worker",
    "engineer",
    "self_employed",
    "civil_servant",
    "manager",
    "freelancer",
    "factory_worker",
    "retired",
)
OCCUPATION_P = np.array([0.30, 0.15, 0.15, 0.08, 0.10, 0.10, 0.10, 0.02])

# (country, timezone, share); non-CN users keep Chinese-language labels for province and city.
COUNTRIES = ("CN", "HK", "SG", "US")
COUNTRY_P = np.array([0.94, 0.03, 0.02, 0.01])
COUNTRY_TIMEZONE = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Singapore", "America/New_York")
COUNTRY_PLACE = (None, ("香港", "香港"), ("新加坡", "新加坡"), ("美国", "纽约"))
COUNTRY_ENGLISH_P = np.array([0.02, 0.5, 0.8, 0.9])
COUNTRY_PHONE_PREFIX = ("+86 1", "+852 9", "+65 8", "+1 212")
COUNTRY_PHONE_DIGITS = (10, 7, 7, 7)

CITIES = (
    ("北京", "北京", 1), ("上海", "上海", 1), ("广东", "广州", 1), ("广东", "深圳", 1),
    ("四川", "成都", 2), ("浙江", "杭州", 2), ("湖北", "武汉", 2), ("江苏", "南京", 2),
    ("重庆", "重庆", 2), ("陕西", "西安", 2), ("江苏", "苏州", 2), ("天津", "天津", 2),
    ("湖南", "长沙", 2), ("河南", "郑州", 2), ("山东", "青岛", 2), ("福建", "厦门", 2),
    ("广东", "佛山", 3), ("浙江", "宁波", 3), ("山东", "济南", 3), ("安徽", "合肥", 3),
    ("辽宁", "大连", 3), ("云南", "昆明", 3), ("福建", "福州", 3), ("江西", "南昌", 3),
    ("广西", "柳州", 4), ("河北", "保定", 4), ("湖南", "岳阳", 4), ("江苏", "盐城", 4),
    ("四川", "绵阳", 4), ("山东", "潍坊", 4), ("河南", "洛阳", 4),
    ("甘肃", "天水", 5), ("贵州", "六盘水", 5), ("黑龙江", "鹤岗", 5), ("河南", "周口", 5),
    ("云南", "曲靖", 5), ("湖北", "十堰", 5),
)

# Products ordered by line, and wealth products by ascending risk grade (suitability lookup relies on it).
PRODUCTS = pl.DataFrame(
    {
        "product_id": [
            "CR01", "CR02", "CR03", "CR04", "CR05", "CR06",
            "WM01", "WM02", "WM03", "WM04", "WM05", "WM06", "WM07",
            "PY01", "PY02", "PY03", "PY04",
            "OT01", "OT02", "OT03",
        ],
        "product_line": ["credit"] * 6 + ["wealth"] * 7 + ["payment"] * 4 + ["other"] * 3,
        "risk_grade": [
            "R3", "R3", "R3", "R4", "R4", "R4",
            "R1", "R1", "R2", "R3", "R3", "R4", "R5",
            "R1", "R1", "R1", "R1",
            "R2", "R2", "R2",
        ],
        "apr_min": [0.072, 0.096, 0.108, 0.12, 0.144, 0.18] + [None] * 14,
        "apr_max": [0.18, 0.18, 0.216, 0.24, 0.24, 0.24] + [None] * 14,
        "term_months": [3, 6, 12, 6, 12, 3] + [0] * 14,
        "issuer": [
            "汇通消费金融有限公司", "汇通消费金融有限公司", "安信小额贷款有限公司",
            "安信小额贷款有限公司", "华融信汇消费金融有限公司", "华融信汇消费金融有限公司",
            "安盈基金管理有限公司", "嘉泰理财有限责任公司", "安盈基金管理有限公司",
            "博远基金管理有限公司", "嘉泰理财有限责任公司", "博远基金管理有限公司",
            "恒星私募基金管理有限公司",
            "汇通支付科技有限公司", "汇通支付科技有限公司", "易付通网络科技有限公司",
            "易付通网络科技有限公司",
            "平信保险代理有限公司", "平信保险代理有限公司", "众康保险经纪有限公司",
        ],
    }
)
PRODUCT_COLUMNS = ("product_id", "product_line", "risk_grade", "apr_min", "apr_max", "issuer")
# Share of a transaction's amount that the company books as revenue, per line (credit uses APR instead).
REVENUE_RATE = np.array([0.0, 0.008, 0.006, 0.05])
