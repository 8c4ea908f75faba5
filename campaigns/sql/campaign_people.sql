-- One row per staged user with the attributes recipient rules read (birth date from the private table).
SELECT u.user_id, c.birth_date, u.is_student, u.risk_level, u.risk_assessed_at, u.country, u.timezone
FROM staged.users u LEFT JOIN private.user_contacts c USING (user_id)
