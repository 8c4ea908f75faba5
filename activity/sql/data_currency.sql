-- The currency most transactions are recorded in (CNY when none says).
SELECT coalesce(mode(currency), 'CNY') AS currency FROM staged.transactions WHERE currency IS NOT NULL
