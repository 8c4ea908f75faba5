SELECT DISTINCT hash(user_id) AS user_hash, user_id FROM staged.loan_performance
