"""English and Chinese text for everything a dashboard shows."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    # pages and navigation
    "page_index": {"en": "Overview", "zh": "总览"},
    "page_executive": {"en": "Executive summary", "zh": "管理层概览"},
    "pages": {"en": "Dashboards", "zh": "仪表盘"},
    "run_info": {"en": "Run information", "zh": "运行信息"},
    "mart_row_counts": {"en": "Mart row counts", "zh": "数据集市行数"},
    "mart": {"en": "Mart", "zh": "数据表"},
    "rows": {"en": "Rows", "zh": "行数"},
    "columns": {"en": "Columns", "zh": "列数"},
    "not_provided": {"en": "not provided", "zh": "未提供"},
    "as_of": {"en": "As-of date", "zh": "分析日期"},
    "generated_at": {"en": "Generated at", "zh": "生成时间"},
    "run_id": {"en": "Run ID", "zh": "运行编号"},
    "data_dir": {"en": "Data folder", "zh": "数据目录"},
    "min_group_note": {
        "en": "Groups smaller than {n} people are never shown.",
        "zh": "少于 {n} 人的群体不予展示。",
    },
    # availability notes
    "not_available": {"en": "not available: {reason}", "zh": "暂无数据：{reason}"},
    "reason_missing_mart": {"en": "the {mart} mart was not provided", "zh": "未提供数据表 {mart}"},
    "reason_empty_mart": {"en": "the {mart} mart has no rows", "zh": "数据表 {mart} 没有数据"},
    "reason_missing_columns": {
        "en": "the {mart} mart lacks column(s) {columns}",
        "zh": "数据表 {mart} 缺少列 {columns}",
    },
    "reason_all_suppressed": {
        "en": "every group is smaller than the minimum group size ({n})",
        "zh": "所有群体均少于最小展示人数（{n}）",
    },
    "reason_no_model": {
        "en": "no rows for attribution model {model}",
        "zh": "没有归因模型 {model} 的数据",
    },
    "hidden_cohorts": {
        "en": "{count} cohort(s) smaller than {n} people hidden.",
        "zh": "已隐藏 {count} 个少于 {n} 人的同期群。",
    },
    "hidden_channels": {
        "en": "{count} channel(s) with fewer than {n} conversions hidden.",
        "zh": "已隐藏 {count} 个转化数少于 {n} 的渠道。",
    },
    "hidden_stages": {
        "en": "{count} lifecycle stage(s) with fewer than {n} people hidden.",
        "zh": "已隐藏 {count} 个少于 {n} 人的生命周期阶段。",
    },
    "hidden_personas": {
        "en": "{count} persona(s) with fewer than {n} people hidden.",
        "zh": "已隐藏 {count} 个少于 {n} 人的用户画像。",
    },
    # KPI tiles
    "kpis": {"en": "Key metrics", "zh": "核心指标"},
    "kpi_window": {
        "en": "Latest 7 days to {date}; 30-day value below; change is week over week.",
        "zh": "截至 {date} 的最近 7 天；下方为 30 天数值；变化为环比上周。",
    },
    "last_30_days": {"en": "30 days", "zh": "近 30 天"},
    "vs_previous_week": {"en": "vs previous week", "zh": "较上周"},
    "no_previous_week": {"en": "no previous week", "zh": "无上周数据"},
    "vs_previous_30_days": {"en": "vs previous 30 days", "zh": "较前 30 天"},
    "no_previous_30_days": {"en": "no previous 30 days", "zh": "无前 30 天数据"},
    "target": {"en": "target", "zh": "目标"},
    "of_target": {"en": "of target", "zh": "目标达成"},
    "kpi_new_users": {"en": "New users", "zh": "新增用户"},
    "kpi_active_users": {"en": "Active users (daily avg)", "zh": "活跃用户（日均）"},
    "kpi_transacting_users": {"en": "Transacting users (daily avg)", "zh": "交易用户（日均）"},
    "kpi_txn_amount": {"en": "Transaction amount", "zh": "交易金额"},
    "kpi_revenue": {"en": "Revenue", "zh": "收入"},
    "kpi_spend": {"en": "Marketing spend", "zh": "营销支出"},
    "kpi_cac": {"en": "CAC", "zh": "获客成本"},
    "kpi_avg_ltv": {"en": "Average LTV", "zh": "平均用户终身价值"},
    "kpi_ltv_to_cac": {"en": "LTV:CAC", "zh": "LTV/获客成本"},
    # charts
    "chart_acquisition": {"en": "Acquisition and activity per day", "zh": "每日获客与活跃"},
    "chart_money": {"en": "Transaction amount and revenue per day", "zh": "每日交易金额与收入"},
    "chart_cohort": {"en": "Cohort retention", "zh": "同期群留存"},
    "chart_channel_roi": {
        "en": "Channel spend and attributed revenue ({model})",
        "zh": "渠道支出与归因收入（{model}）",
    },
    "chart_channel": {"en": "Channel ROI", "zh": "渠道投资回报"},
    "chart_lifecycle": {"en": "Users by lifecycle stage", "zh": "各生命周期阶段用户数"},
    "chart_persona": {"en": "Persona sizes", "zh": "用户画像规模"},
    "axis_date": {"en": "Date", "zh": "日期"},
    "axis_users": {"en": "Users", "zh": "用户数"},
    "axis_amount": {"en": "Transaction amount", "zh": "交易金额"},
    "axis_revenue": {"en": "Revenue", "zh": "收入"},
    "axis_money": {"en": "Amount", "zh": "金额"},
    "axis_cohort": {"en": "Cohort (first month)", "zh": "同期群（首月）"},
    "axis_period": {"en": "Months since first month", "zh": "距首月的月数"},
    "axis_channel": {"en": "Channel", "zh": "渠道"},
    "axis_stage": {"en": "Lifecycle stage", "zh": "生命周期阶段"},
    "axis_persona": {"en": "Persona", "zh": "用户画像"},
    "retention_rate": {"en": "Retention rate", "zh": "留存率"},
    "series_new_users": {"en": "New users", "zh": "新增用户"},
    "series_active_users": {"en": "Active users", "zh": "活跃用户"},
    "series_transacting_users": {"en": "Transacting users", "zh": "交易用户"},
    "series_txn_amount": {"en": "Transaction amount", "zh": "交易金额"},
    "series_revenue": {"en": "Revenue", "zh": "收入"},
    "series_spend": {"en": "Spend", "zh": "支出"},
    "series_attributed_revenue": {"en": "Attributed revenue", "zh": "归因收入"},
    "roas": {"en": "ROAS", "zh": "广告支出回报率"},
    "share": {"en": "Share", "zh": "占比"},
    # growth page
    "page_growth": {"en": "Growth: personas and segments", "zh": "增长：用户画像与分群"},
    "persona_table": {"en": "Personas", "zh": "用户画像"},
    "col_persona": {"en": "Persona", "zh": "画像"},
    "col_users": {"en": "Users", "zh": "用户数"},
    "col_share": {"en": "Share", "zh": "占比"},
    "col_description": {"en": "What distinguishes it", "zh": "区分特征"},
    "chart_k_evidence": {"en": "Choosing the number of personas", "zh": "画像数量的选择依据"},
    "axis_k": {"en": "Number of personas (k)", "zh": "画像数量 k"},
    "axis_score": {"en": "Score", "zh": "得分"},
    "series_silhouette": {"en": "Silhouette", "zh": "轮廓系数"},
    "series_stability": {"en": "Stability under resampling", "zh": "重抽样稳定性"},
    "chosen_k": {"en": "chosen k = {k}", "zh": "选定 k = {k}"},
    "chart_rfm": {"en": "Users by RFM segment", "zh": "各 RFM 分群用户数"},
    "axis_segment": {"en": "RFM segment", "zh": "RFM 分群"},
    "chart_persona_rfm": {"en": "Personas across RFM segments", "zh": "画像 × RFM 分群"},
    "chart_lifecycle_history": {"en": "Lifecycle stages at each month end", "zh": "各月末生命周期阶段分布"},
    "hidden_cells": {"en": "{count} cell(s) with fewer than {n} people left blank.",
                     "zh": "已留空 {count} 个少于 {n} 人的单元格。"},
    # channel page
    "page_channels": {"en": "Channels", "zh": "渠道"},
    "chart_models": {"en": "Conversions by channel under each attribution model", "zh": "各归因模型下的渠道转化数"},
    "axis_conversions": {"en": "Conversions", "zh": "转化数"},
    "roi_table": {"en": "Channel return ({model})", "zh": "渠道回报（{model}）"},
    "chart_payback": {"en": "Payback: cumulative revenue per acquired user over CAC",
                      "zh": "回本：获客用户人均累计收入与获客成本之比"},
    "axis_months_since_signup": {"en": "Months since signup", "zh": "注册后月数"},
    "axis_paid_back": {"en": "Share of CAC recovered", "zh": "已收回获客成本比例"},
    "paid_back": {"en": "paid back", "zh": "回本"},
    "reason_no_spend": {"en": "no marketing spend to pay back", "zh": "没有营销支出数据"},
    "quality_table": {"en": "Quality of acquired users", "zh": "获客用户质量"},
    "col_kyc_pass": {"en": "KYC pass rate", "zh": "实名认证通过率"},
    "col_first_txn": {"en": "Transacted", "zh": "已交易比例"},
    "col_default": {"en": "Default rate (borrowers)", "zh": "违约率（借款人）"},
    "col_risk_adjusted_roi": {"en": "Risk-adjusted ROI", "zh": "风险调整后回报率"},
    "col_payback": {"en": "Payback (months)", "zh": "回本月数"},
    # value page
    "page_value": {"en": "Lifetime value", "zh": "用户终身价值"},
    "chart_tracking": {"en": "Holdout check: cumulative repeat transactions, actual vs predicted",
                       "zh": "留出期检验：累计复购笔数，实际与预测"},
    "chart_by_frequency": {"en": "Holdout check: transactions per user by calibration frequency",
                           "zh": "留出期检验：按校准期复购次数分组的人均交易"},
    "axis_week": {"en": "Week", "zh": "周"},
    "axis_transactions": {"en": "Transactions", "zh": "交易笔数"},
    "axis_frequency": {"en": "Repeat purchases in calibration period", "zh": "校准期复购次数"},
    "series_actual": {"en": "Actual", "zh": "实际"},
    "series_predicted": {"en": "Predicted", "zh": "预测"},
    "calibration_end": {"en": "end of calibration", "zh": "校准期结束"},
    "chart_value_by_channel": {"en": "Mean CLV by acquisition channel, gross and net of credit loss",
                               "zh": "各获客渠道平均 CLV（含/扣除信用损失）"},
    "chart_value_by_persona": {"en": "Mean CLV by persona, gross and net of credit loss",
                               "zh": "各画像平均 CLV（含/扣除信用损失）"},
    "series_clv": {"en": "CLV", "zh": "用户终身价值"},
    "series_risk_adjusted_clv": {"en": "CLV net of expected credit loss", "zh": "扣除预期信用损失后的 CLV"},
    "model_table": {"en": "Fitted models", "zh": "拟合的模型"},
    "col_model": {"en": "Model", "zh": "模型"},
    "col_parameter": {"en": "Parameter", "zh": "参数"},
    "col_value": {"en": "Value", "zh": "数值"},
    "col_log_likelihood": {"en": "Log-likelihood", "zh": "对数似然"},
    "col_customers": {"en": "Customers", "zh": "客户数"},
    "chart_revenue_retention": {"en": "Revenue retention by first-purchase month", "zh": "按首购月份的收入留存"},
    "revenue_retention": {"en": "Revenue vs first month", "zh": "相对首月收入"},
    # lifecycle stages (values of user_profile.lifecycle_stage)
    "stage_new": {"en": "New", "zh": "新用户"},
    "stage_active": {"en": "Active", "zh": "活跃"},
    "stage_at_risk": {"en": "At risk", "zh": "流失风险"},
    "stage_dormant": {"en": "Dormant", "zh": "沉睡"},
    "stage_churned": {"en": "Churned", "zh": "已流失"},
    "stage_reactivated": {"en": "Reactivated", "zh": "已召回"},
    "stage_never_transacted": {"en": "Never transacted", "zh": "未交易"},
    # attribution models (values of channel_roi.attribution_model)
    "model_first_touch": {"en": "first touch", "zh": "首次触点"},
    "model_last_touch": {"en": "last touch", "zh": "末次触点"},
    "model_linear": {"en": "linear", "zh": "线性"},
    "model_time_decay": {"en": "time decay", "zh": "时间衰减"},
    "model_position_based": {"en": "position based", "zh": "位置加权"},
    "model_markov": {"en": "Markov chain", "zh": "马尔可夫链"},
    "model_shapley": {"en": "Shapley", "zh": "Shapley 值"},
}

# Ordered so lifecycle bars read as a journey rather than alphabetically.
LIFECYCLE_STAGES = ("new", "active", "reactivated", "at_risk", "dormant", "churned")


def label(key: str, language: str, **values: object) -> str:
    """Return the text for ``key`` in ``language``, with ``{placeholders}`` filled from ``values``."""
    return LABELS[key][language].format(**values)


def value_label(prefix: str, value: str, language: str) -> str:
    """Translate a data value such as a lifecycle stage; unknown values are shown as they are."""
    normalized = value.strip().lower().replace(" ", "_").replace("-", "_")
    entry = LABELS.get(f"{prefix}_{normalized}")
    return entry[language] if entry else value
