-- Every profiled user's CLV with expected credit loss (zero without loans) and the groups it is cut by.
SELECT p.user_id, s.persona_name, s.rfm_segment, p.acquisition_channel, p.lifecycle_stage,
       c.p_alive, c.expected_txns, c.clv, coalesce(l.expected_credit_loss, 0.0) AS expected_credit_loss
FROM marts.user_profile p
JOIN marts.user_clv c USING (user_id)
LEFT JOIN marts.user_segment s USING (user_id)
LEFT JOIN marts.user_credit_loss l USING (user_id)
ORDER BY p.user_id
