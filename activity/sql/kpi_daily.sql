-- One row per local day from the first sign-up or purchase to the as-of date.
-- A day before a source's data begins is unknown, not zero: its columns are null there (activity before the first
-- event or purchase, purchases before the first purchase, spend before the first spend row, and spend on every day
-- when there is no marketing_spend source at all). Within a source's coverage a day without rows is a true 0.
WITH w AS (SELECT as_of, window_end FROM core.analysis_window),
bounds AS (
    SELECT least((SELECT min(CAST(signup_at AS DATE)) FROM marts.user_profile),
                 (SELECT min(txn_date) FROM core.purchases)) AS first_day, w.as_of AS last_day
    FROM w
),
coverage AS (
    SELECT (SELECT min(txn_date) FROM core.purchases) AS purchases_from,
           (SELECT min(activity_date) FROM core.user_activity) AS activity_from,
           (SELECT min(s.date) FROM staged.marketing_spend s, w WHERE s.date <= w.as_of) AS spend_from
),
days AS (SELECT CAST(d AS DATE) AS date FROM bounds, generate_series(bounds.first_day, bounds.last_day, INTERVAL 1 DAY) t(d)),
signups AS (SELECT CAST(signup_at AS DATE) AS date, count(*) AS new_users FROM marts.user_profile GROUP BY 1),
-- A user's first completed purchase makes them a customer: the day they were acquired as one.
first_purchases AS (
    SELECT p.user_id, min(p.txn_date) AS first_day FROM core.purchases p SEMI JOIN marts.user_profile u USING (user_id)
    GROUP BY p.user_id
),
customers AS (SELECT first_day AS date, count(*) AS new_customers FROM first_purchases GROUP BY 1),
-- Activation: of a day's sign-ups, those who made a first purchase within 7 days (known once 7 days have passed).
activated AS (
    SELECT CAST(u.signup_at AS DATE) AS date,
           count(*) FILTER (WHERE f.first_day < CAST(u.signup_at AS DATE) + 7) AS activated_7d
    FROM marts.user_profile u LEFT JOIN first_purchases f USING (user_id) GROUP BY 1
),
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
       coalesce(new_users, 0) AS new_users,
       CASE WHEN days.date >= c.purchases_from THEN coalesce(new_customers, 0) END AS new_customers,
       CASE WHEN days.date >= c.purchases_from AND days.date + 6 <= w.as_of
            THEN coalesce(activated_7d, 0) END AS activated_7d,
       CASE WHEN days.date >= c.activity_from THEN coalesce(active_users, 0) END AS active_users,
       CASE WHEN days.date >= c.purchases_from THEN coalesce(transacting_users, 0) END AS transacting_users,
       CASE WHEN days.date >= c.purchases_from THEN coalesce(transactions, 0) END AS transactions,
       CASE WHEN days.date >= c.purchases_from THEN coalesce(txn_amount, 0)::DECIMAL(38, 2) END AS txn_amount,
       CASE WHEN days.date >= c.purchases_from THEN coalesce(revenue, 0)::DECIMAL(38, 2) END AS revenue,
       CASE WHEN days.date >= c.spend_from THEN coalesce(spend, 0)::DECIMAL(38, 2) END AS spend
FROM days CROSS JOIN coverage c CROSS JOIN w
LEFT JOIN signups USING (date) LEFT JOIN customers USING (date) LEFT JOIN activated USING (date)
LEFT JOIN active USING (date) LEFT JOIN purchases USING (date) LEFT JOIN spend USING (date)
ORDER BY date
