-- The local date of the latest transaction or event: the default as-of date.
SELECT max(t)::DATE AS latest_data_date
FROM (SELECT max(occurred_at) AS t FROM staged.transactions
      UNION ALL SELECT max(occurred_at) FROM staged.events)
