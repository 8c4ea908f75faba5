-- channels.cohorts.revenue_since_conversion in SQL: each converted user's revenue by month since the
-- conversion's month, from the conversion instant on (tests/channels hold the two to the same answer).
WITH converted AS (
    SELECT user_id, converted_at, CAST(converted_at AS DATE) AS conversion_date
    FROM (SELECT DISTINCT user_id, converted_at FROM marts.channel_conversion_credit)
)
SELECT p.user_id,
       CAST((year(p.txn_date) - year(c.conversion_date)) * 12 + month(p.txn_date) - month(c.conversion_date)
            AS BIGINT) AS month,
       CAST(sum(p.revenue) AS DOUBLE) AS revenue,
       bool_or(p.occurred_at > c.converted_at) AS repeat
FROM core.purchases p JOIN converted c USING (user_id)
WHERE p.occurred_at >= c.converted_at AND p.txn_date <= (SELECT as_of FROM core.analysis_window)
GROUP BY ALL
