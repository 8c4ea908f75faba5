-- The instant by which 99.9% of the transactions and events had happened, and the latest of them.
SELECT quantile_disc(occurred_at, 0.999) AS bulk_until, max(occurred_at) AS latest
FROM (SELECT occurred_at FROM staged.transactions UNION ALL SELECT occurred_at FROM staged.events)
