-- One row per user signed up by the as-of date: RFM inputs, tenure, holdings, activity, sessions, channel
-- mix and funnel stages. The lifecycle stage is added in Python (activity.profiles.user_profile).
WITH w AS (SELECT as_of, window_end FROM core.analysis_window),
users AS (
    SELECT u.* FROM staged.users u, w WHERE u.signup_at < w.window_end
),
purchases AS (
    SELECT user_id,
           count(*) AS txn_count,
           count(DISTINCT txn_date) AS purchase_days,
           min(occurred_at) AS first_txn_at, max(occurred_at) AS last_txn_at,
           min(txn_date) AS first_txn_date, max(txn_date) AS last_txn_date,
           sum(amount) AS total_amount, sum(revenue) AS total_revenue,
           count(*) FILTER (WHERE product_line = 'credit') AS credit_txn_count,
           count(*) FILTER (WHERE product_line = 'wealth') AS wealth_txn_count,
           count(*) FILTER (WHERE product_line = 'payment') AS payment_txn_count,
           coalesce(sum(amount) FILTER (WHERE product_line = 'credit'), 0) AS credit_amount,
           coalesce(sum(amount) FILTER (WHERE product_line = 'wealth'), 0) AS wealth_amount,
           coalesce(sum(amount) FILTER (WHERE product_line = 'payment'), 0) AS payment_amount
    FROM core.purchases GROUP BY user_id
),
previous_purchase AS (
    SELECT c.user_id, max(c.txn_date) AS previous_txn_date
    FROM core.purchases c JOIN purchases p USING (user_id)
    WHERE c.txn_date < p.last_txn_date GROUP BY c.user_id
),
-- Activity, sessions and funnel steps come from the per-user-per-day rows, never from raw events.
-- A session ends after 30 minutes without an event: each day counts its own
-- sessions, and a day whose first event follows the previous active day's last one within 30 minutes
-- continues that session. Both events then lie within 30 minutes of the midnight between them (an
-- earlier active day is a whole day away), so only days starting or ending that close to midnight are
-- paired, instead of ordering every user's days.
midnights AS (
    SELECT CAST(d AS DATE) AS activity_date, epoch(CAST(CAST(d AS DATE) AS TIMESTAMPTZ)) AS day_start,
           epoch(CAST(CAST(d AS DATE) + 1 AS TIMESTAMPTZ)) AS day_end
    FROM (SELECT min(activity_date) AS first_day, max(activity_date) AS last_day FROM core.user_activity) b,
         generate_series(b.first_day, b.last_day, INTERVAL 1 DAY) t(d)
),
day_edges AS (
    SELECT * FROM (
        SELECT a.user_id, a.activity_date, epoch(a.first_event_at) AS first_at, epoch(a.last_event_at) AS last_at,
               epoch(a.first_event_at) - m.day_start <= $session_gap_seconds AS starts_near_midnight,
               m.day_end - epoch(a.last_event_at) <= $session_gap_seconds AS ends_near_midnight
        FROM core.user_activity a JOIN midnights m USING (activity_date)
        WHERE a.events > 0)
    WHERE starts_near_midnight OR ends_near_midnight
),
continued AS (
    SELECT day.user_id, count(*) AS continued_days
    FROM day_edges day JOIN day_edges previous
      ON previous.user_id = day.user_id AND previous.activity_date + 1 = day.activity_date
    WHERE day.starts_near_midnight AND previous.ends_near_midnight
      AND day.first_at - previous.last_at <= $session_gap_seconds
    GROUP BY day.user_id
),
activity AS (
    SELECT a.user_id, count(*) FILTER (WHERE events > 0) AS active_days, sum(events) AS event_count,
           sum(product_views) AS product_views, max(activity_date) AS last_active_date,
           count(*) FILTER (WHERE events > 0 AND activity_date > w.as_of - 7) AS active_days_7d,
           count(*) FILTER (WHERE events > 0 AND activity_date > w.as_of - 30) AS active_days_30d,
           count(*) FILTER (WHERE events > 0 AND activity_date > w.as_of - 90) AS active_days_90d,
           sum(sessions) FILTER (WHERE events > 0) AS day_sessions,
           bool_or(kyc_passed_event) FILTER (WHERE events > 0) AS kyc_passed_event,
           bool_or(applied) FILTER (WHERE events > 0) AS applied,
           bool_or(approved) FILTER (WHERE events > 0) AS approved,
           bool_or(drawn) FILTER (WHERE events > 0) AS drawn,
           bool_or(repaying) FILTER (WHERE events > 0) AS repaying,
           bool_or(risk_assessed) FILTER (WHERE events > 0) AS risk_assessed
    FROM core.user_activity a, w
    GROUP BY a.user_id
),
channel_counts AS (
    SELECT user_id, channel, sum(events) AS n FROM core.user_channel_months GROUP BY ALL
),
channel_mix AS (
    SELECT user_id, first(channel ORDER BY n DESC, channel) AS main_event_channel,
           count(*) FILTER (WHERE channel NOT IN ('direct', '(none)')) AS marketing_channels
    FROM channel_counts GROUP BY user_id
)
SELECT u.user_id, u.signup_at, p.first_txn_at, p.last_txn_at,
       coalesce(p.txn_count, 0) AS txn_count,
       greatest(coalesce(p.purchase_days, 0) - 1, 0) AS frequency,
       (w.as_of - p.last_txn_date) AS recency_days,
       (w.as_of - CAST(u.signup_at AS DATE)) AS tenure_days,
       (w.as_of - p.first_txn_date) AS first_txn_age_days,
       (p.last_txn_date - pp.previous_txn_date) AS gap_before_last_txn_days,
       CASE WHEN p.txn_count > 0 THEN round(CAST(p.total_amount AS DOUBLE) / p.txn_count, 2) END AS monetary_avg,
       coalesce(p.total_amount, 0)::DECIMAL(38, 2) AS total_amount,
       coalesce(p.total_revenue, 0)::DECIMAL(38, 2) AS total_revenue,
       coalesce(p.credit_txn_count, 0) AS credit_txn_count,
       coalesce(p.wealth_txn_count, 0) AS wealth_txn_count,
       coalesce(p.payment_txn_count, 0) AS payment_txn_count,
       coalesce(p.credit_amount, 0)::DOUBLE AS credit_amount,
       coalesce(p.wealth_amount, 0)::DOUBLE AS wealth_amount,
       coalesce(p.payment_amount, 0)::DOUBLE AS payment_amount,
       (coalesce(p.credit_txn_count, 0) > 0) AS holds_credit,
       (coalesce(p.wealth_txn_count, 0) > 0) AS holds_wealth,
       (coalesce(p.payment_txn_count, 0) > 0) AS holds_payment,
       coalesce(a.active_days, 0) AS active_days,
       coalesce(a.event_count, 0) AS event_count,
       coalesce(a.product_views, 0) AS product_views,
       coalesce(a.active_days_7d, 0) AS active_days_7d,
       coalesce(a.active_days_30d, 0) AS active_days_30d,
       coalesce(a.active_days_90d, 0) AS active_days_90d,
       coalesce(a.day_sessions - coalesce(c.continued_days, 0), 0) AS sessions,
       cm.main_event_channel,
       coalesce(cm.marketing_channels, 0) AS marketing_channels,
       -- Funnel stages: the furthest step reached (rules in docs/segments.md).
       CASE WHEN a.repaying THEN 'repaying'
            WHEN a.drawn OR coalesce(p.credit_txn_count, 0) > 0 THEN 'drawn'
            WHEN a.approved THEN 'approved'
            WHEN a.applied THEN 'applied'
            WHEN u.kyc_status = 'passed' OR a.kyc_passed_event THEN 'kyc_passed'
            ELSE 'registered' END AS credit_funnel_stage,
       CASE WHEN coalesce(p.wealth_txn_count, 0) >= 2 THEN 'repeat_purchase'
            WHEN coalesce(p.wealth_txn_count, 0) = 1 THEN 'first_purchase'
            WHEN u.risk_assessed_at < w.window_end OR a.risk_assessed THEN 'risk_assessed'
            ELSE 'registered' END AS wealth_funnel_stage,
       CASE WHEN a.active_days > 0 THEN a.event_count / a.active_days ELSE 0 END AS events_per_active_day,
       year(w.as_of) - u.birth_year AS age,
       u.city_tier, u.province, u.gender, u.is_student, u.kyc_status, u.risk_level,
       coalesce(u.acquisition_channel, '(unknown)') AS acquisition_channel
FROM users u CROSS JOIN w
LEFT JOIN purchases p USING (user_id)
LEFT JOIN previous_purchase pp USING (user_id)
LEFT JOIN activity a USING (user_id)
LEFT JOIN continued c USING (user_id)
LEFT JOIN channel_mix cm USING (user_id)
ORDER BY u.user_id
