-- Every profiled user with their persona and RFM segment: the columns rule-segment expressions may use.
SELECT p.*, s.persona_id, s.persona_name, s.rfm_segment
FROM marts.user_profile p LEFT JOIN marts.user_segment s USING (user_id)
ORDER BY p.user_id
