-- The value of a transaction is the company's revenue when the source records any, else the amount paid.
SELECT CASE WHEN count(revenue) > 0 THEN 'revenue' ELSE 'amount' END AS value_basis FROM staged.transactions
