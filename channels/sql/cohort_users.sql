-- KYC and defaults as marts.channel_quality reads them: a borrower has loans; a default has a charge-off.
SELECT v.user_id, v.clv, v.risk_adjusted_clv,
       CASE WHEN u.kyc_status = 'passed' THEN TRUE WHEN u.kyc_status IN ('failed', 'none', 'pending') THEN FALSE END
           AS kyc_passed,
       l.user_id IS NOT NULL AS borrower,
       coalesce(l.charged_off, 0) > 0 AS defaulted,
       coalesce(l.charged_off, 0.0) AS charged_off
FROM marts.user_value v
JOIN staged.users u USING (user_id)
LEFT JOIN marts.user_credit_loss l USING (user_id)
SEMI JOIN marts.channel_conversion_credit c ON c.user_id = v.user_id
