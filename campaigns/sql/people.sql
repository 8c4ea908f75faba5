-- One row per user with the attributes the recipient rules read (birth date from the private contacts).
SELECT u.user_id, c.birth_date, u.is_student, u.risk_level, u.risk_assessed_at, u.country, u.timezone
FROM staged.users u LEFT JOIN private.user_contacts c USING (user_id)
