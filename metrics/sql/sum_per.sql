-- A headline ratio of sums: {column} over {per}, both summed over the days of the period on which {column} is
-- known (e.g. sign-ups activated within 7 days over the sign-ups who have had 7 days).
SELECT sum({column})::DOUBLE AS numerator,
       sum({per}) FILTER (WHERE {column} IS NOT NULL)::DOUBLE AS denominator,
       (SELECT min({date}) FROM {table} WHERE {column} IS NOT NULL) AS covered_from
FROM {table} WHERE {date} BETWEEN $start AND $end
