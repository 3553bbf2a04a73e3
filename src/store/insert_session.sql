-- A session not stored yet (find_session.sql found none).
INSERT INTO sessions (stage_key, session_id) VALUES (?1, ?2)
RETURNING session_key
