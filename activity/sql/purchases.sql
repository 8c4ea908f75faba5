-- Completed transactions before the window end, with their local date; a missing status counts as completed.
SELECT t.txn_id, t.user_id, t.occurred_at, CAST(t.occurred_at AS DATE) AS txn_date, t.amount,
       coalesce(t.revenue, 0)::DECIMAL(18, 2) AS revenue, coalesce(t.product_line, 'other') AS product_line,
       t.product_id, t.currency
FROM staged.transactions t, core.analysis_window w
WHERE coalesce(t.status, 'completed') = 'completed' AND t.occurred_at < w.window_end
ORDER BY t.occurred_at, t.txn_id
