INSERT INTO intervals (session_key, participant_key, ordinal, kind, remote_participant_id,
                       started_at_us, stopped_at_us, closed_by)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
