SELECT participant_key FROM participants WHERE session_key = ?1 AND participant_id = ?2
