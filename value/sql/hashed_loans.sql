-- Loan and user ids as 64-bit hashes: a tenth of the memory of tens of millions of strings.
SELECT hash(loan_id) AS loan_id, hash(user_id) AS user_id, as_of, principal, days_past_due, charged_off_amount
FROM staged.loan_performance
