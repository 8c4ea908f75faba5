-- Users seen at both the previous and the current as-of date, counted by where they were and where they are.
WITH dates AS (
    SELECT max(as_of) FILTER (WHERE as_of < $as_of) AS from_as_of, CAST($as_of AS DATE) AS to_as_of
    FROM marts.user_segment_history
),
pairs AS (
    SELECT d.from_as_of, d.to_as_of, a.persona_id AS from_persona, b.persona_id AS to_persona,
           a.rfm_segment AS from_rfm, b.rfm_segment AS to_rfm
    FROM dates d
    JOIN marts.user_segment_history a ON a.as_of = d.from_as_of
    JOIN marts.user_segment_history b ON b.as_of = d.to_as_of AND b.user_id = a.user_id
)
SELECT 'persona' AS dimension, from_as_of, to_as_of, CAST(from_persona AS VARCHAR) AS from_segment,
       CAST(to_persona AS VARCHAR) AS to_segment, count(*) AS users
FROM pairs GROUP BY ALL
UNION ALL
SELECT 'rfm_segment', from_as_of, to_as_of, from_rfm, to_rfm, count(*) FROM pairs GROUP BY ALL
ORDER BY dimension, from_segment, to_segment
