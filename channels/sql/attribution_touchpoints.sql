-- Touches before the window end: only the columns attribution reads (campaign and cost would be millions
-- of values carried for nothing).
SELECT touchpoint_id, user_id, anonymous_id, occurred_at, channel, touch_type
FROM staged.touchpoints WHERE occurred_at < (SELECT window_end FROM core.analysis_window)
