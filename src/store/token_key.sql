INSERT INTO tokens (capabilities, user_id, attributes, expiration_time_us, extra_json, identity)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (identity) DO UPDATE SET identity = excluded.identity
RETURNING token_key
