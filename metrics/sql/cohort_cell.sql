-- The two latest sign-up cohorts whose month $period is over by the as-of date and known: each one's rate there,
-- with the people it is a share of.
SELECT cohort, retained::DOUBLE AS numerator, users::DOUBLE AS denominator, {column}::DOUBLE AS value
FROM {table}
WHERE cohort_basis = 'signup' AND period = $period AND period_complete AND {column} IS NOT NULL
ORDER BY cohort DESC
LIMIT 2
