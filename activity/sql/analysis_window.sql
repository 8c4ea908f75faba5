-- One row: the as-of date, the exclusive end of the window (local midnight after it), zone and currency,
-- why the as-of date is that date, the latest date in the data and the rows left out as outliers.
SELECT CAST($as_of AS DATE) AS as_of,
       (CAST($as_of AS DATE) + INTERVAL 1 DAY)::TIMESTAMP::TIMESTAMPTZ AS window_end,
       current_setting('TimeZone') AS timezone,
       $currency AS currency,
       $as_of_basis AS as_of_basis,
       CAST($latest_data_date AS DATE) AS latest_data_date,
       CAST($outlier_rows AS BIGINT) AS outlier_rows,
       CAST($outlier_cutoff AS TIMESTAMPTZ) AS outlier_cutoff
