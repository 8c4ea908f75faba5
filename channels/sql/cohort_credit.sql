-- Converted users only, with the local date of the conversion (the session zone is the business zone).
SELECT * EXCLUDE (conversion_id, converted_at), CAST(converted_at AS DATE) AS conversion_date
FROM marts.channel_conversion_credit
