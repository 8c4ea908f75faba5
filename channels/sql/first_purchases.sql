-- Each user's first completed purchase (of the product line `$product_line`, or of any line when null):
-- only it can be a conversion, so DuckDB narrows the purchases to it.
SELECT user_id, txn_id, occurred_at, revenue, 'completed' AS status FROM core.purchases
WHERE $product_line IS NULL OR product_line = $product_line
QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY occurred_at, txn_id) = 1
