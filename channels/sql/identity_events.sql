-- Each (anonymous id, user) pair's earliest event stands for all of its events: stitching picks the
-- earliest, so the map is the same from millions fewer rows.
SELECT anonymous_id, user_id, min(occurred_at) AS occurred_at FROM staged.events
WHERE user_id IS NOT NULL AND anonymous_id IS NOT NULL AND occurred_at < (SELECT window_end FROM core.analysis_window)
GROUP BY ALL
