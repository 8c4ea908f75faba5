-- Every profiled user with what their acquisition channel is judged by: KYC, first transaction, borrowing,
-- default (a charge-off on the loan's last snapshot up to the as-of date) and value.
SELECT p.user_id, p.acquisition_channel, CAST(p.signup_at AS DATE) AS signup_date,
       CASE WHEN u.kyc_status = 'passed' THEN TRUE WHEN u.kyc_status IN ('failed', 'none', 'pending') THEN FALSE END
           AS kyc_passed,
       p.txn_count > 0 AS transacted,
       l.user_id IS NOT NULL AS borrower,
       coalesce(l.charged_off, 0) > 0 AS defaulted,
       v.clv, v.risk_adjusted_clv
FROM marts.user_profile p
JOIN staged.users u USING (user_id)
JOIN marts.user_value v USING (user_id)
LEFT JOIN (
    SELECT user_id, sum(charged_off_amount) AS charged_off
    FROM (SELECT loan_id, user_id, arg_max(charged_off_amount, as_of) AS charged_off_amount
          FROM staged.loan_performance WHERE as_of <= (SELECT as_of FROM core.analysis_window) GROUP BY ALL)
    GROUP BY user_id
) l USING (user_id)
