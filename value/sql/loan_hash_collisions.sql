-- Ids that share a 64-bit hash with another id (then plain ids are used instead).
SELECT count(DISTINCT loan_id) - count(DISTINCT hash(loan_id)) + count(DISTINCT user_id) - count(DISTINCT hash(user_id))
FROM staged.loan_performance
