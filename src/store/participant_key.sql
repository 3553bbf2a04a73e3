INSERT INTO participants (session_key, participant_id) VALUES (?1, ?2)
ON CONFLICT (session_key, participant_id) DO UPDATE SET participant_id = excluded.participant_id
RETURNING participant_key
