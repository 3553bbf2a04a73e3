INSERT INTO sessions (stage_key, session_id) VALUES (?1, ?2)
ON CONFLICT (stage_key, session_id) DO UPDATE SET session_id = excluded.session_id
RETURNING session_key
