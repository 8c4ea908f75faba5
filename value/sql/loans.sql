SELECT loan_id, user_id, as_of, principal, days_past_due, charged_off_amount FROM staged.loan_performance
