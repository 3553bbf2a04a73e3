UPDATE sessions
SET peak_participants = ?2, peak_publishers = ?3
WHERE session_key = ?1
