-- The as-of date and the days of activity history up to it (at least one).
SELECT w.as_of, w.as_of - coalesce(min(a.activity_date), w.as_of) + 1 AS history_days
FROM core.analysis_window w LEFT JOIN core.user_activity a ON a.activity_date <= w.as_of
GROUP BY w.as_of
