"""Product vocabulary shared by templates and rule packs (compliance reference A.0)."""

from __future__ import annotations

PRODUCT_TYPES: frozenset[str] = frozenset({
    "deposit", "loan", "installment", "credit_card", "credit_line", "wealth_mgmt",
    "public_fund", "private_fund", "insurance", "payment",
})
CREDIT_PRODUCT_TYPES: frozenset[str] = frozenset({"loan", "installment", "credit_card", "credit_line"})
INVESTMENT_PRODUCT_TYPES: frozenset[str] = frozenset({"wealth_mgmt", "public_fund", "private_fund"})

# Product risk grades R1 (low) .. R5 (high) and customer risk levels C1 (conservative) .. C5 (aggressive).
RISK_GRADES: tuple[str, ...] = ("R1", "R2", "R3", "R4", "R5")
RISK_LEVELS: tuple[str, ...] = ("C1", "C2", "C3", "C4", "C5")

CHANNELS: frozenset[str] = frozenset({"email", "sms", "push"})
PURPOSES: frozenset[str] = frozenset({"marketing", "personalization", "cross_border"})
