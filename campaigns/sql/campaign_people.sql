-- One row per staged user with the attributes recipient rules read (birth date from the private table), and
-- whether each person can be reached by e-mail and by SMS (`ok`, `missing`, or `shared`: an earlier user id has
-- the same address or number). Only that verdict leaves `private`, never the contact itself.
SELECT u.user_id, c.birth_date, u.is_student, u.risk_level, u.risk_assessed_at, u.country, u.timezone,
       CASE WHEN c.email IS NULL OR trim(c.email) = '' THEN 'missing'
            WHEN row_number() OVER (PARTITION BY lower(trim(c.email)) ORDER BY u.user_id) > 1 THEN 'shared'
            ELSE 'ok' END AS email_reach,
       CASE WHEN c.phone IS NULL OR trim(CAST(c.phone AS VARCHAR)) = '' THEN 'missing'
            WHEN row_number() OVER (PARTITION BY trim(CAST(c.phone AS VARCHAR)) ORDER BY u.user_id) > 1 THEN 'shared'
            ELSE 'ok' END AS sms_reach
FROM staged.users u LEFT JOIN private.user_contacts c USING (user_id)
