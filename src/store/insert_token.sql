-- A token content not stored yet (find_token.sql found none); ?1 is its identity.
INSERT INTO tokens (identity, capabilities, user_id, attributes, expiration_time_us, extra_json)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
RETURNING token_key
