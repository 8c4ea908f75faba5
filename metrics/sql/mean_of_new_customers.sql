-- A headline mean over the period's new customers: {column} of the per-user {table}, over the users whose first
-- completed purchase falls in the period (numerator: the total, denominator: the customers with a value).
WITH first_purchases AS (SELECT user_id, min(txn_date) AS first_day FROM core.purchases GROUP BY user_id)
SELECT sum(v.{column})::DOUBLE AS numerator, count(v.{column})::DOUBLE AS denominator,
       (SELECT min(first_day) FROM first_purchases) AS covered_from
FROM {table} v JOIN first_purchases f USING (user_id)
WHERE f.first_day BETWEEN $start AND $end
