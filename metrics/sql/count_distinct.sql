-- A headline distinct count: distinct {column} of {table} over the days of the period (whole users, never a sum
-- of daily counts).
SELECT count(DISTINCT {column})::DOUBLE AS numerator, NULL::DOUBLE AS denominator,
       (SELECT min({date}) FROM {table}) AS covered_from
FROM {table} WHERE {date} BETWEEN $start AND $end
