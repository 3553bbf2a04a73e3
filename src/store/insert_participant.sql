-- A participant not stored yet (find_participant.sql found none).
INSERT INTO participants (session_key, participant_id) VALUES (?1, ?2)
RETURNING participant_key
