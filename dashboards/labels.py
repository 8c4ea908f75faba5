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
    "headline": {"en": "Headline: acquisition, activation, retention, revenue and unit economics against targets",
                 "zh": "要点：获客、激活、留存、收入与单位经济效益对比目标"},
    "details": {"en": "Details", "zh": "详细信息"},
    "details_for_engineers": {"en": "Run information and mart row counts (for data engineers)",
                              "zh": "运行信息与数据表行数（供数据工程师参考）"},
    "definitions": {"en": "How each figure is defined", "zh": "各指标的定义"},
    "about_executive": {"en": "every headline figure against its target, trends, retention, channel return",
                        "zh": "全部核心指标对比目标、趋势、留存与渠道回报"},
    "about_growth": {"en": "personas, RFM segments, lifecycle stages and funnels", "zh": "用户画像、RFM 分群、生命周期与漏斗"},
    "about_value": {"en": "lifetime value, how far the model can be trusted, value by channel and persona",
                    "zh": "用户终身价值、模型可信度、各渠道与画像的价值"},
    "about_channels": {"en": "attribution, CAC, ROAS, payback and the quality of acquired users",
                       "zh": "归因、获客成本、ROAS、回本与获客质量"},
    "about_campaigns": {"en": "audience funnels through every rule, sends and lift against the holdout",
                        "zh": "逐条规则的受众漏斗、发送情况与相对对照组的提升"},
    "no_data": {"en": "no data", "zh": "无数据"},
    "no_spend_data": {"en": "no spend data", "zh": "无支出数据"},
    "unknown": {"en": "unknown", "zh": "未知"},
    "suppressed_cell": {"en": "< {n}", "zh": "< {n}"},
    "no_like_for_like": {"en": "no like-for-like previous period in the data", "zh": "数据中没有可比的上期"},
    "change_vs": {"en": "{change} {versus}{verdict}", "zh": "{versus} {change}{verdict}"},
    "vs_previous_period": {"en": "vs the same days last month", "zh": "较上月同期"},
    "vs_previous_cohort": {"en": "vs the cohort before", "zh": "较前一同期群"},
    "better": {"en": "better", "zh": "向好"},
    "worse": {"en": "worse", "zh": "变差"},
    "target_floor": {"en": "Target ≥ {target}: {verdict}", "zh": "目标 ≥ {target}：{verdict}"},
    "target_ceiling": {"en": "Target ≤ {target} (a ceiling): {verdict}", "zh": "目标 ≤ {target}（上限）：{verdict}"},
    "target_prorated": {"en": "{target} to date of {monthly} a month", "zh": "截至目前 {target}（月目标 {monthly}）"},
    "target_better": {"en": "better than target by {amount}", "zh": "优于目标 {amount}"},
    "target_worse": {"en": "worse than target by {amount}", "zh": "差于目标 {amount}"},
    "target_unknown": {"en": "no value to compare", "zh": "无可比较的数值"},
    "explain_like_for_like": {
        "en": "Each figure compares the month to date with the same days of the previous month, so month-end days, "
              "when borrowers repay and activity peaks, face month-end days: a repayment wave is not read as growth. "
              "User counts are distinct people over the period, never averages of days.",
        "zh": "各指标均以本月至今对比上月同期，月末还款日与月末还款日相比：还款高峰不会被误读为增长。"
              "用户数为期间内的去重人数，而非日均值。"},
    "explain_ltv_vs_roas": {
        "en": "LTV:CAC and ROAS can both hold: LTV counts the revenue each new customer is expected to bring over the "
              "CLV horizon, ROAS (below and on the channel page) only the revenue of the purchase that acquired them, "
              "so ROAS below 1× beside LTV:CAC above 1× means the first purchase does not repay the spend but the "
              "customers are expected to, several times over.",
        "zh": "LTV/获客成本与 ROAS 可以同时成立：LTV 计入每位新客户在 CLV 期限内的预期收入，ROAS（见下方及渠道页）"
              "只计入获客当笔交易的收入。ROAS 低于 1×而 LTV/获客成本高于 1×，意味着首笔交易收不回支出，"
              "但客户预期会在之后数倍收回。"},
    "explain_month_end": {
        "en": "Active users jump in the last days of every month, when borrowers repay their instalments: that is "
              "the repayment calendar, not growth. The tiles compare months day for day.",
        "zh": "每月最后几天活跃用户激增，是借款人按期还款所致：这是还款日历，并非增长。核心指标按日对比各月。"},
    "explain_roas_first_purchase": {
        "en": "ROAS counts the revenue of the first purchase only ({model} credit): below 1× means the acquiring "
              "purchase did not repay the spend, not that the customers never will; LTV:CAC above and payback on "
              "the channel page count what they bring later.",
        "zh": "ROAS 只计入首笔交易的收入（{model} 归因）：低于 1× 说明获客当笔交易没有收回支出，"
              "并不代表客户永远无法收回；上方的 LTV/获客成本与渠道页的回本曲线计入之后的收入。"},
    "explain_roas_vs_ltv": {
        "en": "ROAS divides the revenue of the first purchase by spend; LTV:CAC divides the revenue the same customers "
              "are expected to bring over the next {horizon} days by CAC. A channel can have ROAS below 1× and "
              "LTV:CAC well above it.",
        "zh": "ROAS 以首笔交易收入除以支出；LTV/获客成本以同一批客户未来 {horizon} 天的预期收入除以获客成本。"
              "渠道可以 ROAS 低于 1×，而 LTV/获客成本远高于 1×。"},
    "explain_roas_vs_recovery": {
        "en": "ROAS in a cell is the revenue of the month's first purchases over the month's spend; the payback "
              "curves below add every later purchase of the same customers, which is why a cohort at 0.3× ROAS can "
              "have recovered its spend several times.",
        "zh": "单元格中的 ROAS 是当月首笔交易收入除以当月支出；下方回本曲线计入同一批客户之后的全部交易，"
              "因此 ROAS 为 0.3× 的同期群也可能已数倍收回支出。"},
    "explain_recovery_vs_roas": {
        "en": "Recovery counts every purchase of the month's customers since they were acquired, so it starts at the "
              "month's ROAS (the first purchases) and only rises; each curve is one cohort, so no cohort mix bends it.",
        "zh": "回收比例计入当月客户自获客起的全部交易，因此从当月 ROAS（首笔交易）起步且只升不降；"
              "每条曲线对应一个同期群，不受同期群结构变化影响。"},
    "explain_payback_per_signup": {
        "en": "Spend is divided by every sign-up, bought or not; each month's revenue is measured on the sign-ups old "
              "enough to have lived that month and added up, so the curve never falls. Month 0 is the sign-up month.",
        "zh": "支出按全部注册用户（无论是否交易）分摊；每个月的收入只按已经历该月的注册用户计算后累加，"
              "因此曲线不会下降。第 0 个月即注册当月。"},
    "explain_cac_vs_spend_per_signup": {
        "en": "Spend per sign-up divides a channel's spend by everyone who signed up through it, bought or not, so "
              "it is lower than the CAC above, which divides it by the customers the attribution model credits to "
              "the channel. Return here is the sign-ups' expected value over spend.",
        "zh": "单个注册成本以渠道支出除以经该渠道注册的全部用户（无论是否交易），因此低于上表按归因客户计算的获客成本。"
              "此处的回报为注册用户预期价值除以支出。"},
    "explain_holdout_bias": {
        "en": "Over the {weeks} holdout weeks {model} predicted {predicted} repeat transactions against {actual} "
              "observed ({bias}): read the CLV figures with that bias in mind.",
        "zh": "在 {weeks} 个留出周内，{model} 预测复购 {predicted} 笔，实际 {actual} 笔（{bias}）：解读 CLV 时请考虑这一偏差。"},
    "explain_bucket_bias": {
        "en": "{model}'s prediction against what happened, per bucket: {low} to {high} (the labels on the bars).",
        "zh": "{model} 的预测相对实际，各分组偏差为 {low} 至 {high}（见柱上标注）。"},
    "explain_bucket_bias_one_way": {
        "en": "{model} predicts {direction} than happened in every bucket ({low} to {high}): a level error of the "
              "model, not noise, so expected purchases and CLV are biased the same way.",
        "zh": "{model} 在每个分组的预测都{direction}实际（{low} 至 {high}）：这是模型的整体偏差而非随机误差，"
              "预期购买次数与 CLV 会有同向偏差。"},
    "direction_fewer": {"en": "fewer purchases", "zh": "低于"},
    "direction_more": {"en": "more purchases", "zh": "高于"},
    "param_population_mean": {"en": "population mean revenue per purchase", "zh": "总体单笔平均收入"},
    "param_prior_transactions": {"en": "weight of the population mean (purchases)", "zh": "总体均值权重（笔）"},
    "explain_clv_vs_realised": {
        "en": "CLV is revenue expected over the {horizon} days after the as-of date, gross of credit loss (the second "
              "bar is net of it); revenue already realised is not in it: the channel page's payback curves show "
              "realised revenue.",
        "zh": "CLV 为分析日之后 {horizon} 天的预期收入，未扣除信用损失（第二根柱为扣除后）；已实现的收入不包含在内："
              "渠道页的回本曲线展示的是已实现收入。"},
    "note_partial_month": {
        "en": "* the month was still in progress on the as-of date. Grey cells: no purchase data for that month yet.",
        "zh": "* 分析日时该月尚未结束。灰色单元格：该月尚无交易数据。"},
    "note_rfm_order": {"en": "RFM segments from the best (Champions) to the weakest.",
                       "zh": "RFM 分群从最优（重要价值客户）到最弱排列。"},
    "note_lifecycle_rules": {"en": "Stages follow the rules in docs/segments.md, with the clocks stopped at each month end.",
                             "zh": "阶段按 docs/segments.md 中的规则判定，时钟停在每个月末。"},
    "note_funnel": {"en": "Users who reached at least each step.", "zh": "至少到达各环节的用户数。"},
    # charts
    "chart_acquisition": {"en": "Acquisition and activity per day", "zh": "每日获客与活跃"},
    "chart_money": {"en": "Transaction amount and revenue per day", "zh": "每日交易金额与收入"},
    "chart_cohort": {"en": "Cohort retention", "zh": "同期群留存"},
    "chart_channel_roi": {
        "en": "Channel spend and first-purchase revenue ({model})",
        "zh": "渠道支出与首笔交易收入（{model}）",
    },
    "chart_channel": {"en": "Channel ROI", "zh": "渠道投资回报"},
    "chart_lifecycle": {"en": "Users by lifecycle stage", "zh": "各生命周期阶段用户数"},
    "chart_persona": {"en": "Persona sizes", "zh": "用户画像规模"},
    "axis_date": {"en": "Date", "zh": "日期"},
    "axis_users": {"en": "Users", "zh": "用户数"},
    "axis_money": {"en": "Amount", "zh": "金额"},
    "axis_cohort": {"en": "Cohort (first month)", "zh": "同期群（首月）"},
    "axis_period": {"en": "Months since first month", "zh": "距首月的月数"},
    "axis_channel": {"en": "Channel", "zh": "渠道"},
    "axis_stage": {"en": "Lifecycle stage", "zh": "生命周期阶段"},
    "axis_persona": {"en": "Persona", "zh": "用户画像"},
    "retention_rate": {"en": "Retention rate", "zh": "留存率"},
    "roas": {"en": "ROAS", "zh": "广告支出回报率"},
    "share": {"en": "Share", "zh": "占比"},
    # growth page
    "page_growth": {"en": "Growth: personas and segments", "zh": "增长：用户画像与分群"},
    "persona_table": {"en": "Personas", "zh": "用户画像"},
    "col_persona": {"en": "Persona", "zh": "画像"},
    "col_users": {"en": "Users", "zh": "用户数"},
    "col_share": {"en": "Share", "zh": "占比"},
    "col_description": {"en": "What is true of most of its members", "zh": "多数成员的特征"},
    "col_never_bought": {"en": "Never bought", "zh": "从未交易"},
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
    "hidden_cells": {"en": "{count} cell(s) with fewer than {n} people hidden (marked < {n}).",
                     "zh": "已隐藏 {count} 个少于 {n} 人的单元格（标记为 < {n}）。"},
    # channel page
    "page_channels": {"en": "Channels", "zh": "渠道"},
    "chart_models": {"en": "Conversions by channel under each attribution model", "zh": "各归因模型下的渠道转化数"},
    "roi_table": {"en": "Channel return ({model})", "zh": "渠道回报（{model}）"},
    "chart_payback": {"en": "Payback per sign-up: cumulative revenue per sign-up over spend per sign-up",
                      "zh": "按注册用户回本：人均累计收入与单个注册成本之比"},
    "axis_months_since_signup": {"en": "Months since sign-up (0 = the sign-up month)", "zh": "注册后月数（0 为注册当月）"},
    "paid_back": {"en": "paid back", "zh": "回本"},
    "reason_no_spend": {"en": "no marketing spend to pay back", "zh": "没有营销支出数据"},
    "quality_table": {"en": "Quality of acquired users", "zh": "获客用户质量"},
    "chart_cohort_roas": {"en": "ROAS and CAC by acquisition month ({model})",
                          "zh": "按获客月份的广告支出回报率与获客成本（{model}）"},
    "chart_cohort_payback": {"en": "Payback by acquisition month ({model}): attributed revenue to date over the month's spend",
                             "zh": "按获客月份回本（{model}）：归因累计收入与当月支出之比"},
    "axis_acquisition_month": {"en": "Acquisition month (of conversion)", "zh": "获客月份（转化月）"},
    "axis_months_since_acquisition": {"en": "Months since acquisition", "zh": "获客后月数"},
    "chart_persona_movement": {"en": "Persona movement since the previous run", "zh": "与上次运行相比的画像迁移"},
    "movement_needs_two_runs": {"en": "movement appears from the second run on a warehouse",
                                "zh": "同一数据仓库运行第二次后显示迁移"},
    "chart_credit_funnel": {"en": "Credit funnel: users reaching each step", "zh": "信贷漏斗：到达各环节的用户数"},
    "chart_wealth_funnel": {"en": "Wealth funnel: users reaching each step", "zh": "理财漏斗：到达各环节的用户数"},
    "funnel_registered": {"en": "Registered", "zh": "注册"},
    "funnel_kyc_passed": {"en": "KYC passed", "zh": "实名认证通过"},
    "funnel_applied": {"en": "Applied", "zh": "申请"},
    "funnel_approved": {"en": "Approved", "zh": "审批通过"},
    "funnel_drawn": {"en": "Drawn", "zh": "放款"},
    "funnel_repaying": {"en": "Repaying", "zh": "还款中"},
    "funnel_risk_assessed": {"en": "Risk assessed", "zh": "完成风险测评"},
    "funnel_first_purchase": {"en": "First purchase", "zh": "首次购买"},
    "funnel_repeat_purchase": {"en": "Repeat purchase", "zh": "复购"},
    # value page
    "page_value": {"en": "Lifetime value", "zh": "用户终身价值"},
    "chart_tracking": {"en": "Holdout check of {model}: cumulative repeat transactions, actual vs predicted",
                       "zh": "{model} 留出期检验：累计复购笔数，实际与预测"},
    "chart_by_frequency": {"en": "Holdout check of {model}: repeat transactions per customer by calibration frequency",
                           "zh": "{model} 留出期检验：按校准期复购次数分组的人均复购笔数"},
    "axis_frequency": {"en": "Repeat purchases in calibration period", "zh": "校准期复购次数"},
    "axis_holdout_week": {"en": "Week of the holdout period", "zh": "留出期第几周"},
    "axis_first_purchase_cohort": {"en": "Cohort (first-purchase month)", "zh": "同期群（首购月份）"},
    "axis_months_since_first_purchase": {"en": "Months since first purchase", "zh": "首购后月数"},
    "series_actual": {"en": "Actual", "zh": "实际"},
    "series_predicted_by": {"en": "Predicted by {model}", "zh": "{model} 预测"},
    "chart_value_by_channel": {"en": "Mean CLV over the next {horizon} days by acquisition channel, gross and net of credit loss",
                               "zh": "各获客渠道未来 {horizon} 天平均 CLV（含/扣除信用损失）"},
    "chart_value_by_persona": {"en": "Mean CLV over the next {horizon} days by persona, gross and net of credit loss",
                               "zh": "各画像未来 {horizon} 天平均 CLV（含/扣除信用损失）"},
    "model_table": {"en": "Fitted models", "zh": "拟合的模型"},
    "col_model": {"en": "Model", "zh": "模型"},
    "col_parameter": {"en": "Parameter", "zh": "参数"},
    "col_value": {"en": "Value", "zh": "数值"},
    "col_log_likelihood": {"en": "Log-likelihood", "zh": "对数似然"},
    "col_customers": {"en": "Customers", "zh": "客户数"},
    "col_chosen": {"en": "Scores the users", "zh": "用于计算用户价值"},
    "chosen_model": {"en": "✓ chosen", "zh": "✓ 已选用"},
    "note_model_choice": {
        "en": "The transaction model with the best log-likelihood scores the users (P(alive), expected purchases); "
              "spend per purchase comes from Gamma-Gamma, or, when spend is too heavy-tailed for it, from each "
              "user's mean shrunk towards the population mean.",
        "zh": "对数似然最优的交易模型用于计算用户指标（存活概率、预期购买次数）；单笔消费来自 Gamma-Gamma 模型，"
              "消费分布尾部过重时改用向总体均值收缩的个人均值。"},
    "model_shrunk_mean_spend": {"en": "Shrunk mean spend", "zh": "收缩均值消费模型"},
    "model_gamma_gamma": {"en": "Gamma-Gamma", "zh": "Gamma-Gamma 模型"},
    "chart_revenue_retention": {"en": "Revenue retention by first-purchase month", "zh": "按首购月份的收入留存"},
    "revenue_retention": {"en": "Revenue vs first month", "zh": "相对首月收入"},
    # campaign page
    "page_campaigns": {"en": "Campaigns", "zh": "营销活动"},
    "campaign_overview": {"en": "Campaigns: decisions, sends and provider events",
                          "zh": "营销活动：决策、发送与服务商事件"},
    "campaign_no_sends": {
        "en": "No sends yet: no campaign has been launched live, so every figure here comes from dry runs "
              "(decided and rendered, nothing sent).",
        "zh": "尚未发送：还没有任何活动正式发送，本页数据均来自试运行（已决策和渲染，未发送任何消息）。",
    },
    "campaign_counts_note": {
        "en": "Counts are people. Sent: in batches SendGrid accepted (or vendor files exported). Delivered, "
              "opened, clicked, bounced and unsubscribed: distinct people in signed webhook events.",
        "zh": "数字均为人数。已发送：SendGrid 已接受的批次（或已导出的供应商文件）中的人数；送达、打开、点击、退信、退订："
              "经签名校验的回调事件中的去重人数。",
    },
    "col_campaign": {"en": "Campaign", "zh": "活动"},
    "col_source": {"en": "Decided in", "zh": "决策来源"},
    "source_launch": {"en": "latest launch", "zh": "最近一次发送"},
    "source_dry_run": {"en": "dry run", "zh": "试运行"},
    "col_audience": {"en": "Audience", "zh": "目标人群"},
    "col_send": {"en": "To send", "zh": "可发送"},
    "col_holdout": {"en": "Holdout", "zh": "对照组"},
    "col_excluded": {"en": "Excluded by rules", "zh": "规则排除"},
    "col_recipients_sent": {"en": "Sent", "zh": "已发送"},
    "col_delivered": {"en": "Delivered", "zh": "已送达"},
    "col_open": {"en": "Opened", "zh": "已打开"},
    "col_click": {"en": "Clicked", "zh": "已点击"},
    "col_bounce": {"en": "Bounced", "zh": "退信"},
    "col_unsubscribe": {"en": "Unsubscribed", "zh": "退订"},
    "hidden_campaigns": {"en": "{count} campaign(s) with fewer than {n} people hidden.",
                         "zh": "已隐藏 {count} 个少于 {n} 人的活动。"},
    "chart_campaign_funnel": {"en": "Audience funnel through every rule: {campaign}",
                              "zh": "逐条规则的受众漏斗：{campaign}"},
    "step_audience": {"en": "Segment audience", "zh": "分群受众"},
    "step_holdout": {"en": "After holdout", "zh": "扣除对照组后"},
    "axis_people_remaining": {"en": "People remaining", "zh": "剩余人数"},
    "axis_step": {"en": "Rule", "zh": "规则"},
    "col_step": {"en": "Step (rule id)", "zh": "环节（规则编号）"},
    "col_remaining": {"en": "Remaining", "zh": "剩余"},
    "col_excluded_here": {"en": "Excluded here", "zh": "在此排除"},
    "col_failing": {"en": "Failing this rule", "zh": "未通过此规则"},
    "funnel_rules_note": {
        "en": "Rules in evaluation order; a person leaves at the first rule they fail. Reason codes per person "
              "are in campaigns.plan_decisions (launches) and campaigns.decisions (dry runs).",
        "zh": "规则按评估顺序排列；每人在其第一条未通过的规则处离开漏斗。每人的原因代码见 campaigns.plan_decisions"
              "（发送）与 campaigns.decisions（试运行）。",
    },
    "chart_campaign_lift": {"en": "Lift against holdout (95% interval)", "zh": "相对对照组的提升（95% 置信区间）"},
    "reason_no_lift": {"en": "no launched campaign with a holdout yet", "zh": "尚无设有对照组的已发送活动"},
    "series_lift": {"en": "Lift", "zh": "提升"},
    "axis_lift": {"en": "Conversion lift (treated minus holdout)", "zh": "转化率提升（实验组减对照组）"},
    "col_treated": {"en": "Treated", "zh": "实验组"},
    "col_treated_converted": {"en": "Treated converted", "zh": "实验组转化"},
    "col_treated_rate": {"en": "Treated rate", "zh": "实验组转化率"},
    "col_holdout_converted": {"en": "Holdout converted", "zh": "对照组转化"},
    "col_holdout_rate": {"en": "Holdout rate", "zh": "对照组转化率"},
    "col_lift": {"en": "Lift", "zh": "提升"},
    "col_lift_ci": {"en": "95% interval", "zh": "95% 置信区间"},
    "col_window_complete": {"en": "30-day window complete", "zh": "30 天窗口已结束"},
    "yes": {"en": "yes", "zh": "是"},
    "no": {"en": "no", "zh": "否"},
    "lift_note": {
        "en": "Intent to treat: everyone decided 'send' at the first launch is treated, whether or not delivery "
              "succeeded; a conversion is a purchase within 30 days of the decision.",
        "zh": "意向处理分析：首次发送时决策为“发送”的人均计入实验组（无论是否送达）；转化指决策后 30 天内的购买。",
    },
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
    # acquisition and marketing channels (values of acquisition_channel and touchpoints.channel)
    "channel_app_store": {"en": "App store", "zh": "应用商店"},
    "channel_search_ads": {"en": "Search ads", "zh": "搜索广告"},
    "channel_social_feed": {"en": "Social feed", "zh": "社交信息流"},
    "channel_kol_video": {"en": "KOL video", "zh": "KOL 视频"},
    "channel_referral": {"en": "Referral", "zh": "老带新推荐"},
    "channel_offline_branch": {"en": "Offline branch", "zh": "线下网点"},
    "channel_(direct)": {"en": "Direct (no touch)", "zh": "直接访问（无触点）"},
    "channel_organic": {"en": "Organic", "zh": "自然流量"},
    "channel_email": {"en": "E-mail", "zh": "电子邮件"},
    "channel_sms": {"en": "SMS", "zh": "短信"},
    "channel_push": {"en": "Push", "zh": "推送"},
    "channel_unknown": {"en": "Unknown", "zh": "未知"},
    # RFM segments (values of user_segment.rfm_segment), in the grid's order
    "segment_champions": {"en": "Champions", "zh": "重要价值客户"},
    "segment_loyal": {"en": "Loyal", "zh": "忠诚客户"},
    "segment_potential_loyalist": {"en": "Potential loyalist", "zh": "潜力忠诚客户"},
    "segment_new_customers": {"en": "New customers", "zh": "新客户"},
    "segment_promising": {"en": "Promising", "zh": "有潜力客户"},
    "segment_need_attention": {"en": "Need attention", "zh": "需要关注"},
    "segment_about_to_sleep": {"en": "About to sleep", "zh": "即将沉睡"},
    "segment_at_risk": {"en": "At risk", "zh": "流失风险"},
    "segment_cannot_lose_them": {"en": "Cannot lose them", "zh": "不能流失的客户"},
    "segment_hibernating": {"en": "Hibernating", "zh": "休眠客户"},
    "segment_lost": {"en": "Lost", "zh": "已流失客户"},
    "segment_no_purchase": {"en": "No purchase", "zh": "未交易"},
    # recipient rules of the shipped packs (campaigns/library/rules): step ids of the audience funnel
    "rule_CN-EM-01": {"en": "Prior consent for commercial e-mail", "zh": "商业电子邮件须事先同意"},
    "rule_CN-EM-04": {"en": "Honour unsubscribes, bounces and spam reports", "zh": "尊重退订、退信与垃圾邮件投诉"},
    "rule_CN-PI-02": {"en": "Separate consent for data sent abroad (PIPL Art. 39)",
                      "zh": "个人信息出境须单独同意（《个人信息保护法》第 39 条）"},
    "rule_CN-PI-01": {"en": "Personalised marketing can be refused (PIPL Art. 24)",
                      "zh": "个性化营销须可拒绝（《个人信息保护法》第 24 条）"},
    "rule_CN-LOAN-05": {"en": "No credit or investment marketing to minors", "zh": "不向未成年人营销信贷或投资"},
    "rule_CN-LOAN-04": {"en": "No credit marketing to college students", "zh": "不向在校大学生营销信贷"},
    "rule_CN-SUIT-01": {"en": "Product risk grade within the customer's risk level", "zh": "产品风险等级不超过客户风险承受能力"},
    "rule_CN-FREQ-01": {"en": "Frequency cap per person", "zh": "每人营销频次上限"},
    "rule_CN-FREQ-02": {"en": "Quiet hours in the person's time zone", "zh": "收件人所在时区的免打扰时段"},
    "rule_EU-CONS-01": {"en": "Prior consent or soft opt-in for e-mail (ePrivacy Art. 13)",
                        "zh": "电子邮件营销须事先同意或软性选择加入（ePrivacy 第 13 条）"},
    "rule_EU-CONS-03": {"en": "Unsubscribes, bounces and spam reports are honoured", "zh": "尊重退订、退信与垃圾邮件投诉"},
    "rule_EU-CONS-03-OBJ": {"en": "An objection to direct marketing is absolute (GDPR Art. 21(3))",
                            "zh": "对直接营销的反对具有绝对效力（GDPR 第 21(3) 条）"},
    "rule_EU-PROF-01": {"en": "Objection to profiling for marketing is honoured (GDPR Art. 21(2))",
                        "zh": "尊重对营销画像的反对（GDPR 第 21(2) 条）"},
    "rule_EU-CHILD-01": {"en": "No credit or investment marketing to minors", "zh": "不向未成年人营销信贷或投资"},
    "rule_EU-POL-01": {"en": "At most 3 marketing messages per person per 7 days", "zh": "每人每 7 天最多 3 条营销信息"},
    "rule_EU-POL-02": {"en": "No marketing between 21:00 and 08:00 local time", "zh": "当地时间 21:00 至 08:00 不发送营销信息"},
    "rule_US-CS-06": {"en": "Honour unsubscribes, bounces and spam reports immediately", "zh": "立即尊重退订、退信与垃圾邮件投诉"},
    "rule_US-CS-06-OPTOUT": {"en": "Honour opt-outs recorded as withdrawn consent", "zh": "尊重以撤回同意记录的退出"},
    "rule_US-FCRA-01": {"en": "Prescreened offers exclude prescreening opt-outs", "zh": "预筛选要约排除已退出预筛选的人"},
    "rule_US-AGE-01": {"en": "No credit or investment marketing to minors", "zh": "不向未成年人营销信贷或投资"},
    "rule_US-TCPA-01": {"en": "Texts only between 08:00 and 21:00 local time (TCPA)", "zh": "短信仅在当地时间 08:00 至 21:00 发送（TCPA）"},
    "rule_US-POL-01": {"en": "At most 5 marketing messages per person per 7 days", "zh": "每人每 7 天最多 5 条营销信息"},
}

# Ordered so lifecycle bars read as a journey rather than alphabetically.
LIFECYCLE_STAGES = ("new", "active", "reactivated", "at_risk", "dormant", "churned")


def label(key: str, language: str, **values: object) -> str:
    """Return the text for ``key`` in ``language``, with ``{placeholders}`` filled from ``values``."""
    return LABELS[key][language].format(**values)


def value_label(prefix: str, value: str, language: str) -> str:
    """Translate a data value such as a lifecycle stage; unknown values are shown as they are."""
    if value is None:
        return label("unknown", language)
    normalized = value.strip().lower().replace(" ", "_").replace("-", "_")
    entry = LABELS.get(f"{prefix}_{normalized}")
    return entry[language] if entry else value


def channel_label(channel: str | None, language: str) -> str:
    """A channel as readers know it (e.g. 搜索广告 for `search_ads`); unknown channels are shown as they are."""
    return value_label("channel", channel, language)


def segment_label(segment: str | None, language: str) -> str:
    """An RFM segment name in the reader's language."""
    return value_label("segment", segment, language)


def rule_label(rule_id: str, language: str) -> str:
    """A recipient rule: its id and, for the shipped packs, what it does in the reader's language."""
    entry = LABELS.get(f"rule_{rule_id}")
    return f"{rule_id} · {entry[language]}" if entry else rule_id
