-- One row per local day from the first sign-up or purchase to the as-of date.
WITH w AS (SELECT as_of, window_end FROM core.analysis_window),
bounds AS (
    SELECT least((SELECT min(CAST(signup_at AS DATE)) FROM marts.user_profile),
                 (SELECT min(txn_date) FROM core.purchases)) AS first_day, w.as_of AS last_day
    FROM w
),
days AS (SELECT CAST(d AS DATE) AS date FROM bounds, generate_series(bounds.first_day, bounds.last_day, INTERVAL 1 DAY) t(d)),
signups AS (SELECT CAST(signup_at AS DATE) AS date, count(*) AS new_users FROM marts.user_profile GROUP BY 1),
-- core.user_activity holds one row per user per day, so its rows are the day's distinct users (a distinct
-- count over 26M rows cost seconds).
active AS (SELECT activity_date AS date, count(*) AS active_users FROM core.user_activity GROUP BY 1),
purchases AS (
    SELECT txn_date AS date, count(DISTINCT user_id) AS transacting_users, count(*) AS transactions,
           sum(amount) AS txn_amount, sum(revenue) AS revenue
    FROM core.purchases GROUP BY 1
),
spend AS (
    SELECT s.date, sum(s.spend) AS spend FROM staged.marketing_spend s, w WHERE s.date <= w.as_of GROUP BY 1
)
SELECT days.date,
       coalesce(new_users, 0) AS new_users, coalesce(active_users, 0) AS active_users,
       coalesce(transacting_users, 0) AS transacting_users, coalesce(transactions, 0) AS transactions,
       coalesce(txn_amount, 0)::DECIMAL(18, 2) AS txn_amount, coalesce(revenue, 0)::DECIMAL(18, 2) AS revenue,
       coalesce(spend, 0)::DECIMAL(18, 2) AS spend
FROM days
LEFT JOIN signups USING (date) LEFT JOIN active USING (date) LEFT JOIN purchases USING (date) LEFT JOIN spend USING (date)
ORDER BY date
