-- One row per person in private.user_contacts: whether the channel's contact ({column}) can reach them.
-- `shared`: an earlier user id has the same contact (case-insensitive) and alone gets the message.
SELECT user_id,
       CASE WHEN {column} IS NULL OR trim(CAST({column} AS VARCHAR)) = '' THEN 'missing'
            WHEN row_number() OVER (PARTITION BY lower(trim(CAST({column} AS VARCHAR))) ORDER BY user_id) > 1 THEN 'shared'
            ELSE 'ok' END AS reach
FROM private.user_contacts
