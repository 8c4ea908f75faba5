-- A headline sum: {column} of {table} over the days of the period; `covered_from` is the first day the source
-- knows the column (a null column is a day the data does not cover, never a zero).
SELECT sum({column})::DOUBLE AS numerator, NULL::DOUBLE AS denominator,
       (SELECT min({date}) FROM {table} WHERE {column} IS NOT NULL) AS covered_from
FROM {table} WHERE {date} BETWEEN $start AND $end
