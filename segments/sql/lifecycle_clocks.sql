-- The same clocks as marts.user_profile, taken at each snapshot date (every month end, and the as-of
-- date) instead of the as-of date; users with the same clocks at a snapshot are counted together.
-- Stages are read from purchases, so month ends start with the purchase history: before it, every user would
-- look as if they had never bought (a year of "churned" that the data cannot show).
WITH w AS (SELECT as_of FROM core.analysis_window),
bounds AS (SELECT min(txn_date) AS first_day FROM core.purchases),
snapshots AS (
    -- Month ends are the days before month starts: stepping month ends directly drifts (Feb 28 -> Mar 28).
    SELECT CAST(d - INTERVAL 1 DAY AS DATE) AS snapshot_date
    FROM bounds, w, generate_series(date_trunc('month', bounds.first_day) + INTERVAL 1 MONTH,
                                    w.as_of + INTERVAL 1 DAY, INTERVAL 1 MONTH) t(d)
    UNION SELECT as_of FROM w
),
-- Each purchase day knows the one before and after it, so a snapshot joins just the user's last purchase
-- day on or before it (one row per user and snapshot, not one per purchase day before it).
purchase_days AS (
    SELECT user_id, txn_date, lag(txn_date) OVER by_user AS previous_day,
           coalesce(lead(txn_date) OVER by_user, DATE '9999-12-31') AS next_day,
           min(txn_date) OVER (PARTITION BY user_id) AS first_day
    FROM (SELECT DISTINCT user_id, txn_date FROM core.purchases)
    WINDOW by_user AS (PARTITION BY user_id ORDER BY txn_date)
),
clocks AS (
    SELECT s.snapshot_date, d.user_id, d.first_day, d.txn_date AS last_day, d.previous_day
    FROM snapshots s JOIN purchase_days d ON d.txn_date <= s.snapshot_date AND d.next_day > s.snapshot_date
)
-- The stage depends on the clocks alone, so users with the same clocks at a snapshot are counted together.
SELECT s.snapshot_date,
       s.snapshot_date - CAST(u.signup_at AS DATE) AS tenure_days,
       s.snapshot_date - c.last_day AS recency_days,
       s.snapshot_date - c.first_day AS first_txn_age_days,
       c.last_day - c.previous_day AS gap_before_last_txn_days,
       count(*) AS users
FROM snapshots s
JOIN staged.users u ON CAST(u.signup_at AS DATE) <= s.snapshot_date
LEFT JOIN clocks c ON c.snapshot_date = s.snapshot_date AND c.user_id = u.user_id
GROUP BY ALL
