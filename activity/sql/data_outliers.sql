-- The latest transaction or event before $cutoff, and how many come at or after it.
SELECT max(occurred_at) FILTER (WHERE occurred_at < $cutoff) AS latest_kept,
       count(*) FILTER (WHERE occurred_at >= $cutoff) AS outliers
FROM (SELECT occurred_at FROM staged.transactions UNION ALL SELECT occurred_at FROM staged.events)
